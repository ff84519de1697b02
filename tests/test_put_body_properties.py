"""A PUT never drops a field: property-based, over every campaign type and mode.

For random valid live documents (with server fields and fields nobody documented) and random
manifests declaring random subsets of the optional fields, the PUT body carries every writable
live field the manifest leaves out with its live value, carries every declared value, holds no
read-only field and no field of another type or mode. A value the API never shows comes from
the state when the manifest leaves it out, and is named as "may reset" when nothing knows it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_sync.core.bodies import build_put, create_body
from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.fields import MISSING, READ_ONLY, ReadBack, Role, get_path
from campaign_sync.core.normalize import FlowBook
from campaign_sync.manifests.parse import parse_campaign
from tests.documents import FLOW_IDS, MODES, list_item, live_document, manifest

PROPERTIES = settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
FLOWS = FlowBook(FLOW_IDS)


def leaves(doc: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every leaf of nested mappings (a list is a leaf)."""
    if isinstance(doc, dict) and doc:
        out: dict[tuple[str, ...], Any] = {}
        for key, value in doc.items():
            out.update(leaves(value, (*prefix, key)))
        return out
    return {prefix: doc}


def under(path: tuple[str, ...], paths: set[tuple[str, ...]]) -> bool:
    return any(path[: len(p)] == p for p in paths)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Any, dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    ctype, mode = draw(st.sampled_from(MODES))
    live_mode = draw(st.sampled_from([m for t, m in MODES if t == ctype])) if draw(st.booleans()) else mode
    raw = draw(manifest(ctype, mode))
    campaign = parse_campaign(raw, "m.yaml", raw, ("campaigns", 0))
    assert not isinstance(campaign, list), campaign
    doc = draw(live_document(ctype, live_mode))
    queue = draw(st.sampled_from([None, "Default Queue"]))
    item = list_item(ctype, live_mode, doc, queue)
    applied = draw(
        st.sampled_from([None, {"enableMachineDetect": "disconnect"}, {"enableMachineDetect": "no"}])
    )
    return campaign, doc, item, applied


@PROPERTIES
@given(cases())
def test_a_put_carries_every_writable_live_field_and_every_declared_value(case: Any) -> None:
    campaign, doc, item, applied = case
    ctype, mode = REGISTRY.of(campaign)
    put = build_put(campaign, doc, item, FLOWS, applied)
    body = put.body
    shown = leaves(body)

    # no read-only field, whatever live holds
    for path in READ_ONLY:
        assert get_path(body, path) is MISSING, path

    # no field of another type or mode
    own_rows = [r for r in mode.fields if r.role is not Role.KEY]
    own = {p for r in own_rows for p in (r.api_path, *r.read_paths)}
    for path in REGISTRY.field_paths - own:
        assert get_path(body, path) is MISSING, path

    # every declared value, as the API takes it
    declared = create_body(campaign)
    for path, value in leaves(declared).items():
        assert shown.get(path, MISSING) == value, path

    # every writable live field the manifest leaves out, with its live value
    declared_paths = set(leaves(declared))
    known = REGISTRY.field_paths
    spelled = {p: r.api_path for r in own_rows for p in r.read_paths if p != r.api_path}
    for path, value in leaves(doc).items():
        if under(path, set(READ_ONLY)) or path in declared_paths:
            continue
        if path in known and path not in own:
            continue  # another mode's field: never sent
        row = next((r for r in own_rows if path in (r.api_path, *r.read_paths)), None)
        if row is not None and row.read_back is not ReadBack.SHOWN:
            continue  # rebuilt from its read-back rule (checked below)
        target = spelled.get(path, path)
        if target in declared_paths:
            continue
        assert shown.get(target, MISSING) == value, path

    # a value the API never shows: from the manifest, else the state, else named as "may reset"
    for row in own_rows:
        if row.read_back is not ReadBack.NEVER:
            continue
        if row.api_path in declared_paths:
            continue
        kept = get_path(applied or {}, row.path)
        if kept is not MISSING:
            assert get_path(body, row.api_path) == kept
            assert row in put.from_state
        else:
            assert get_path(body, row.api_path) is MISSING
            assert row in put.may_reset
    assert body["campaignType"] == ctype.name
