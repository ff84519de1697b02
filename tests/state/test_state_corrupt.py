"""A corrupt state file is refused by load and save, named with its backup, and never written over."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from state_support import sample_state

from campaign_sync.errors import StateError
from campaign_sync.state import StateStore


def valid() -> dict[str, Any]:
    return dict(sample_state(2).to_json(), serial=4)


def edited(change: Callable[[dict[str, Any]], None]) -> bytes:
    data = valid()
    change(data)
    return json.dumps(data, indent=2).encode()


GOOD = json.dumps(valid(), indent=2).encode()

CORRUPT: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "the file is empty"),
    "whitespace": (b"  \n", "the file is empty"),
    "truncated": (GOOD[: len(GOOD) // 2], "truncated JSON"),
    "not json": (b"serial = 4\n", "not valid JSON"),
    "not utf-8": (b'{"version": 1, "lineage": "\xff\xfe"}', "not UTF-8"),
    "top level array": (b"[1, 2]", "top level must be a JSON object, not an array"),
    "no version": (edited(lambda d: d.pop("version")), 'no "version" field'),
    "unknown version": (edited(lambda d: d.update(version=99)), "unknown state format version 99"),
    "version as text": (edited(lambda d: d.update(version="1")), "version must be an integer"),
    "serial negative": (edited(lambda d: d.update(serial=-1)), "serial must be an integer >= 0, not -1"),
    "serial as text": (edited(lambda d: d.update(serial="4")), "serial must be an integer >= 0"),
    "serial boolean": (edited(lambda d: d.update(serial=True)), "serial must be an integer >= 0"),
    "lineage not a uuid": (edited(lambda d: d.update(lineage="prod")), "lineage must be a uuid"),
    "campaigns missing": (edited(lambda d: d.pop("campaigns")), 'no "campaigns" field'),
    "campaigns a list": (
        edited(lambda d: d.update(campaigns=[])),
        "campaigns must be a JSON object, not an array",
    ),
    "campaigns null": (
        edited(lambda d: d.update(campaigns=None)),
        "campaigns must be a JSON object, not null",
    ),
    "record id a number": (
        edited(lambda d: d["campaigns"]["campaign-1"].update(id=12)),
        'campaigns["campaign-1"].id must be a non-empty string, not 12',
    ),
    "record type unknown": (
        edited(lambda d: d["campaigns"]["campaign-2"].update(campaignType="fax")),
        'campaigns["campaign-2"].campaignType must be sms or voice',
    ),
    "record applied a string": (
        edited(lambda d: d["campaigns"]["campaign-1"].update(applied="x")),
        'campaigns["campaign-1"].applied must be a JSON object, not a string',
    ),
    "flows value a number": (
        edited(lambda d: d.update(flows={"F": 1})),
        'flows["F"] must be a non-empty string',
    ),
    "unknown top field": (edited(lambda d: d.update(secrets={})), 'unknown field "secrets"'),
    "duplicate key": (GOOD.replace(b'"serial": 4', b'"serial": 4, "serial": 5'), 'duplicate key "serial"'),
    "nan": (GOOD.replace(b'"serial": 4', b'"serial": NaN'), "NaN is not a JSON value"),
}


@pytest.fixture(params=[True, False], ids=["with-backup", "no-backup"])
def with_backup(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize(("content", "what"), CORRUPT.values(), ids=CORRUPT.keys())
def test_corrupt_state_is_refused_and_left_untouched(
    store: StateStore, with_backup: bool, content: bytes, what: str
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content)
    if with_backup:
        store.backup_path.write_bytes(GOOD)
    before = snapshot(store.path.parent)

    with pytest.raises(StateError) as loading:
        store.load()
    message = str(loading.value)
    assert message.startswith(f"state file {store.path} is unreadable (")
    assert what in message
    if with_backup:
        assert f"the previous copy is at {store.backup_path}" in message
        assert f"`cp {store.backup_path} {store.path}`" in message
    else:
        assert ".backup" not in message
        assert "no backup copy" in message

    with pytest.raises(StateError) as saving:
        store.save(sample_state())
    assert "refusing to write over it" in str(saving.value)
    assert snapshot(store.path.parent) == before


def test_the_backup_named_in_the_message_restores_a_good_state(store: StateStore) -> None:
    store.save(sample_state(1))
    saved = store.save(store.load().with_flows({}))
    store.path.write_bytes(store.path.read_bytes()[:40])
    with pytest.raises(StateError, match="previous copy"):
        store.load()
    store.path.write_bytes(store.backup_path.read_bytes())
    with pytest.raises(
        StateError, match=rf"at serial {saved.serial - 1}, but serial {saved.serial} .* --force"
    ):
        store.load()  # an older copy is noticed, never taken silently
    restored = store.load(accept_older=True)
    assert restored.serial == saved.serial - 1
    assert restored.lineage == saved.lineage
    resaved = store.save(restored)
    assert resaved.serial == saved.serial + 1  # never a serial that was written before
    assert StateStore(store.path).load().serial == saved.serial + 1


def test_a_byte_order_mark_is_accepted(store: StateStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b"\xef\xbb\xbf" + GOOD)
    assert store.load().serial == 4


def test_an_unreadable_file_is_an_error_not_a_new_state(store: StateStore) -> None:
    store.path.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(StateError, match="cannot read state file"):
        store.load()
