"""The error tree's own behaviour: an API error restated keeps the call it describes."""

from __future__ import annotations

from campaign_sync.errors import BudgetExceeded, ServerError


def test_restated_keeps_the_type_the_call_and_the_servers_words() -> None:
    try:
        try:
            raise ValueError("inner")
        except ValueError as cause:
            raise ServerError(
                "boom", method="PUT", path="/campaign/cd-1", status=503, kore_message="busy", retry_after=7
            ) from cause
    except ServerError as caught:
        original = caught
    again = original.restated("boom; gave up after 3 attempts")
    assert type(again) is ServerError
    assert (again.method, again.path, again.status, again.kore_message, again.retry_after) == (
        "PUT",
        "/campaign/cd-1",
        503,
        "busy",
        7,
    )
    assert str(again) == "server error: boom; gave up after 3 attempts: busy (PUT /campaign/cd-1 -> HTTP 503)"
    assert again.__cause__ is None
    assert again.__traceback__ is None
    assert str(original) == "server error: boom: busy (PUT /campaign/cd-1 -> HTTP 503)", (
        "the original is untouched"
    )


def test_restated_keeps_what_a_subclass_adds() -> None:
    error = BudgetExceeded("out of time", method="PUT", path="/campaign/cd-1", write_in_doubt=True)
    again = error.restated("out of time; run plan")
    assert isinstance(again, BudgetExceeded)
    assert again.write_in_doubt
    assert str(again).startswith("run budget exhausted: out of time; run plan")
