"""The plan digest (SPEC 4) and how apply explains a saved plan that differs from the plan now."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from campaign_sync.core.diff import FieldChange
from campaign_sync.core.plan import Action, Change, Plan, Summary, plan_digest
from campaign_sync.engine.approval import explain
from campaign_sync.report import render_plan
from campaign_sync.state.planfile import SavedChange

UPDATE = Change(
    "bill-reminder",
    Action.UPDATE,
    "sms",
    "Bill Reminder",
    campaign_id="cd-2",
    fields=(FieldChange("priority", "3", "4"),),
    body={"priority": "4", "description": "carried over from live"},
    live_updated_at="2026-01-01T00:00:00.000Z",
)
CREATE = Change("welcome", Action.CREATE, "sms", "Welcome", fields=(FieldChange("name", None, "Welcome"),))


def plan(*changes: Change, environment: str = "prod") -> Plan:
    return Plan(environment, changes, Summary())


def test_the_digest_is_sha256_over_the_canonical_json_spec_4_defines() -> None:
    canonical = json.dumps(
        {
            "changes": [
                {
                    "action": "create",
                    "campaignId": None,
                    "campaignType": "sms",
                    "fields": [{"after": "Welcome", "before": None, "path": "name"}],
                    "key": "welcome",
                },
                {
                    "action": "update",
                    "campaignId": "cd-2",
                    "campaignType": "sms",
                    "fields": [{"after": "4", "before": "3", "path": "priority"}],
                    "key": "bill-reminder",
                },
            ],
            "environment": "prod",
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    expected = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert plan(CREATE, UPDATE).digest == expected
    assert plan_digest("prod", [CREATE, UPDATE]) == expected


@pytest.mark.parametrize(
    "edit",
    [
        {"action": Action.DELETE},
        {"key": "other"},
        {"campaign_type": "voice"},
        {"campaign_id": "cd-99"},
        {"fields": (FieldChange("description", "3", "4"),)},
        {"fields": (FieldChange("priority", "2", "4"),)},
        {"fields": (FieldChange("priority", "3", "5"),)},
        {"fields": ()},
    ],
    ids=["action", "key", "type", "id", "path", "before", "after", "no-fields"],
)
def test_everything_a_reviewer_sees_is_in_the_digest(edit: dict[str, object]) -> None:
    assert plan(dataclasses.replace(UPDATE, **edit)).digest != plan(UPDATE).digest  # type: ignore[arg-type]


def test_the_environment_and_the_order_are_in_the_digest() -> None:
    assert plan(UPDATE, environment="staging").digest != plan(UPDATE).digest
    assert plan(UPDATE, CREATE).digest != plan(CREATE, UPDATE).digest


@pytest.mark.parametrize(
    "edit",
    [
        {"body": {"priority": "4", "description": "another live value"}},
        {"name": "Renamed"},
        {"blocked": "campaign is Active"},
        {"note": "a note"},
        {"live_updated_at": "2027-01-01T00:00:00.000Z"},
    ],
    ids=["carried-over-live-values", "name", "blocked", "note", "live-version"],
)
def test_what_a_reviewer_does_not_approve_is_not_in_the_digest(edit: dict[str, object]) -> None:
    assert plan(dataclasses.replace(UPDATE, **edit)).digest == plan(UPDATE).digest  # type: ignore[arg-type]


def test_a_create_has_no_id_in_the_digest() -> None:
    assert plan(dataclasses.replace(CREATE, campaign_id="cd-1")).digest == plan(CREATE).digest


def test_every_plan_format_prints_the_digest() -> None:
    digest = plan(UPDATE).digest
    assert json.loads(render_plan(plan(UPDATE), "json"))["digest"] == digest
    assert f"Plan digest: {digest}\n" in render_plan(plan(UPDATE), "text")
    assert f"Plan digest: `{digest}`" in render_plan(plan(UPDATE), "markdown")
    assert f"Plan digest: {plan().digest}" in render_plan(plan(), "text")  # no changes: a digest too


def saved(change: Change, **edit: object) -> SavedChange:
    value = SavedChange(
        change.key, change.action.value, change.campaign_type, change.campaign_id, change.fields
    )
    return dataclasses.replace(value, **edit)  # type: ignore[arg-type]


def test_explain_names_a_field_that_moved_live() -> None:
    now = dataclasses.replace(
        UPDATE, fields=(FieldChange("description", "Edited in the UI", "Due date reminder"), *UPDATE.fields)
    )
    (line,) = explain([saved(UPDATE)], plan(now))
    assert line == (
        'bill-reminder (cd-2) changed live since the plan was made: description: "Due date reminder" -> '
        '"Edited in the UI"'
    )


def test_explain_names_another_id_another_action_and_changes_on_one_side_only() -> None:
    lines = explain(
        [saved(UPDATE, campaign_id="cd-outsider"), SavedChange("intruder", "delete", "sms", "cd-x")],
        plan(UPDATE, CREATE),
    )
    assert lines == [
        "bill-reminder: the saved plan would update sms cd-outsider; now: update sms cd-2",
        "intruder: the saved plan would delete it (sms cd-x); it needs no change now",
        "welcome: now to create (sms (new campaign)); the saved plan has no change for it",
    ]


def test_explain_names_a_value_edited_in_the_file() -> None:
    (line,) = explain([saved(UPDATE, fields=(FieldChange("priority", "3", "1"),))], plan(UPDATE))
    assert (
        line
        == 'bill-reminder (cd-2) the saved plan wanted other values: priority: the manifest value "1" -> "4"'
    )


def test_explain_escapes_what_the_file_says() -> None:
    (line,) = explain([SavedChange("k\n\x1b[2Jfake", "delete", "sms", "cd-\u202e")], plan())
    assert "\n" not in line
    assert "\x1b" not in line
    assert "\u202e" not in line
    assert "k\\u000a\\u001b[2Jfake" in line
