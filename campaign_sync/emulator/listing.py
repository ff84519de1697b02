"""The list endpoint's query language (reference §3.2, §5.4): paging, filters and sorting.

* ``skip`` wins over ``page`` when both are given; ``limit`` defaults to 10 and is capped at 100.
* Default order: ``createdAt`` ascending, then id (stable). ``sortBy`` keys apply in the order given.
* ``filters.status`` / ``filters.priority`` (numbers or strings) / ``filters.dialingMode`` (voice
  only); ``startDate`` / ``endDate`` bound ``createdAt`` (inclusive).
"""

from __future__ import annotations

from typing import Any

from .clock import parse_iso_ms
from .store import Doc
from .validation import as_int
from .wire import ApiError

SORT_FIELDS = ("name", "createdAt", "updatedAt")
DEFAULT_LIMIT = 10
MAX_LIMIT = 100


def paging(body: dict[str, Any], key: str) -> int | None:
    """``skip``/``page``/``limit``: a number or ``""`` (absent); negative or non-integer is a 400."""
    value = body.get(key)
    if value is None or value == "":
        return None
    number = as_int(value)
    if number is None and isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    if number is None or number < 0:
        raise ApiError(400, f"{key} must be a non-negative integer or an empty string")
    return number


def filtered(body: dict[str, Any]) -> bool:
    """Whether a list request filters at all (then every campaign's status must be settled first)."""
    return bool(body.get("filters")) or any(body.get(k) not in (None, "") for k in ("startDate", "endDate"))


def filter_docs(docs: list[Doc], body: dict[str, Any], kind: str) -> list[Doc]:
    filters = body.get("filters") or {}
    if not isinstance(filters, dict):
        raise ApiError(400, "filters must be an object")
    for key in ("status", "priority", "dialingMode"):
        wanted = filters.get(key)
        if wanted in (None, ""):
            continue
        if not isinstance(wanted, list):
            raise ApiError(400, f"filters.{key} must be an array")
        if not wanted or (key == "dialingMode" and kind == "sms"):
            continue  # SMS campaigns have no dialing mode: the documented SMS sample sends one anyway
        allowed = {str(v) for v in wanted}
        docs = [d for d in docs if str(d.get(key)) in allowed]
    for key in ("startDate", "endDate"):
        value = body.get(key)
        if value in (None, ""):
            continue
        bound = parse_iso_ms(value) if isinstance(value, str) else None
        if bound is None:
            raise ApiError(400, f"{key} must be an ISO 8601 date-time")
        after = key == "startDate"
        docs = [d for d in docs if _within(parse_iso_ms(str(d.get("createdAt"))) or 0, bound, after=after)]
    return docs


def _within(created: int, bound: int, *, after: bool) -> bool:
    return created >= bound if after else created <= bound


def sort_docs(docs: list[Doc], sort_by: Any) -> list[Doc]:
    """Stable multi-key sort in the order the keys are given; ``docs`` come in the default order
    (createdAt asc, then id: ``CampaignStore.ordered``), which breaks the remaining ties."""
    if sort_by in (None, ""):
        return docs
    docs = list(docs)
    if not isinstance(sort_by, dict):
        raise ApiError(400, 'sortBy must be an object such as {"createdAt": "desc"}')
    keys = [(k, v) for k, v in sort_by.items() if k in SORT_FIELDS]
    for key, direction in keys:
        if direction not in ("asc", "desc"):
            raise ApiError(400, f"sortBy.{key} must be asc or desc")
    for key, direction in reversed(keys):

        def sort_key(doc: Doc, key: str = key) -> Any:
            if key == "name":
                return doc.get("lname") or ""
            return parse_iso_ms(str(doc.get(key))) or 0

        docs.sort(key=sort_key, reverse=direction == "desc")
    return docs
