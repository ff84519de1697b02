"""StateStore load and save: round trip, serial and lineage rules, backup, modes, forbidden values, plans."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from state_support import mode, record, sample_state

from campaign_sync.errors import StateConflictError, StateError
from campaign_sync.state import State, StateStore


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 0: any file or directory not explicitly made private would be world-writable."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def fingerprint(path: Path) -> tuple[int, int, bytes]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, path.read_bytes()


def test_missing_file_loads_as_a_new_state_and_is_not_written(store: StateStore) -> None:
    state = store.load()
    assert state.serial == 0
    assert state.campaigns == {}
    assert not store.exists()
    assert not store.path.parent.exists()


def test_save_then_load_round_trips(store: StateStore) -> None:
    state = sample_state(3).with_campaign(
        "voice-1", record(9, campaignType="voice", cached=None, contentHash=None)
    )
    saved = store.save(state)
    loaded = store.load()
    assert loaded == saved
    assert loaded.content_equal(state)
    assert loaded.campaigns["voice-1"].campaignType == "voice"


def test_first_save_is_serial_one_and_the_lineage_is_kept_for_life(store: StateStore) -> None:
    state = store.load()
    first = store.save(state.with_campaign("a", record(1)))
    assert first.serial == 1
    assert first.lineage == state.lineage
    second = store.save(store.load().with_campaign("b", record(2)))
    assert second.lineage == state.lineage
    assert StateStore(store.path).load().lineage == state.lineage


def test_serial_grows_by_exactly_one_per_content_change(store: StateStore) -> None:
    state = store.save(sample_state(1))
    assert state.serial == 1
    for expected, change in enumerate(
        [
            lambda s: s.with_campaign("campaign-2", record(2)),
            lambda s: s.with_flows({"Other": "cf-9"}),
            lambda s: s.without_campaign("campaign-1"),
        ],
        start=2,
    ):
        state = store.save(change(state))
        assert state.serial == expected
        assert store.load().serial == expected
    assert store.save(state).serial == 4


def test_identical_content_writes_nothing(store: StateStore) -> None:
    saved = store.save(sample_state())
    before = fingerprint(store.path)
    assert not store.backup_path.exists()
    again = store.save(dataclasses.replace(saved))
    rebuilt = store.save(
        State(
            lineage=saved.lineage,
            serial=saved.serial,
            campaigns=dict(saved.campaigns),
            flows=dict(saved.flows),
        )
    )
    assert again.serial == rebuilt.serial == saved.serial == 1
    assert fingerprint(store.path) == before
    assert not store.backup_path.exists()
    assert sorted(p.name for p in store.path.parent.iterdir()) == [
        "prod.state.json",
        "prod.state.json.lock.serial",
    ]


def test_a_new_tool_version_alone_does_not_rewrite_the_file(store: StateStore) -> None:
    saved = store.save(sample_state())
    data = json.loads(store.path.read_text())
    data["toolVersion"] = "0.0.1"
    store.path.write_text(json.dumps(data))
    before = fingerprint(store.path)
    loaded = store.load()
    assert loaded.toolVersion == "0.0.1"
    assert store.save(loaded).serial == saved.serial
    assert fingerprint(store.path) == before


def test_backup_holds_the_previous_file(store: StateStore) -> None:
    store.save(sample_state(1))
    first = store.path.read_bytes()
    store.save(store.load().with_campaign("campaign-2", record(2)))
    second = store.path.read_bytes()
    assert store.backup_path.read_bytes() == first
    store.save(store.load().without_campaign("campaign-1"))
    assert store.backup_path.read_bytes() == second
    assert StateStore(store.backup_path).load().serial == 2


def test_files_are_private_whatever_the_umask(store: StateStore, open_umask: None) -> None:
    store.save(sample_state(1))
    store.save(store.load().with_campaign("campaign-2", record(2)))
    assert mode(store.path) == 0o600
    assert mode(store.backup_path) == 0o600
    assert mode(store.path.parent) == 0o700


def test_serialization_is_deterministic_sorted_and_readable(store: StateStore, tmp_path: Path) -> None:
    lineage = str(uuid.uuid4())
    one = State(lineage=lineage).with_campaign("b", record(2)).with_campaign("a", record(1, name="Campaña ☎"))
    two = State(lineage=lineage).with_campaign("a", record(1, name="Campaña ☎")).with_campaign("b", record(2))
    other = StateStore(tmp_path / "other" / "prod.state.json")
    store.save(one)
    other.save(two)
    text = store.path.read_text(encoding="utf-8")
    assert store.path.read_bytes() == other.path.read_bytes()
    assert text.endswith("}\n")
    assert "Campaña ☎" in text
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_save_creates_the_directory(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "a" / "b" / "prod.state.json")
    store.save(sample_state())
    assert store.load().serial == 1


@pytest.mark.parametrize(
    ("secret", "where"),
    [
        ("s3cr3t-client-secret-value-0123456789", "campaigns.campaign-1.applied.description"),
        ('eyJh"bGci\\Oi', "campaigns.campaign-1.live.token"),
    ],
)
def test_forbidden_values_are_refused_and_nothing_is_written(
    store: StateStore, secret: str, where: str
) -> None:
    store.save(sample_state())
    before = fingerprint(store.path)
    state = store.load()
    rec = state.campaigns["campaign-1"]
    if where.endswith("description"):
        bad = dataclasses.replace(rec, applied={**rec.applied, "description": f"x {secret} y"})
    else:
        bad = dataclasses.replace(rec, cached={**(rec.cached or {}), "token": secret})
    with pytest.raises(StateError) as caught:
        store.save(state.with_campaign("campaign-1", bad), forbidden=["", "unrelated-value-zz", secret])
    message = str(caught.value)
    assert where in message
    assert "secret" in message
    assert secret not in message
    assert fingerprint(store.path) == before
    assert not store.backup_path.exists()
    store.save(state, forbidden=[secret])  # the same state without the value is fine


def test_forbidden_values_are_refused_even_when_the_content_is_already_on_disk(store: StateStore) -> None:
    state = store.save(sample_state())
    with pytest.raises(StateError, match="secret"):
        store.save(state, forbidden=["Campaign 1"])


@pytest.mark.parametrize("value", [float("nan"), {1, 2}, b"bytes"])
def test_values_that_are_not_plain_json_are_refused(store: StateStore, value: object) -> None:
    state = sample_state().with_campaign("x", record(5, applied={"bad": value}))
    with pytest.raises(StateError, match="not plain JSON"):
        store.save(state)
    assert not store.exists()


def test_save_refuses_a_state_of_another_lineage(store: StateStore) -> None:
    mine = store.save(sample_state())
    before = fingerprint(store.path)
    foreign = sample_state(1)
    with pytest.raises(StateError) as caught:
        store.save(foreign)
    assert mine.lineage in str(caught.value)
    assert foreign.lineage in str(caught.value)
    assert fingerprint(store.path) == before


def test_save_refuses_a_state_read_before_another_run_wrote(store: StateStore) -> None:
    store.save(sample_state(1))
    ours = store.load()
    theirs = store.load()
    store.save(theirs.with_campaign("theirs", record(7)))
    before = fingerprint(store.path)
    with pytest.raises(StateError, match=r"changed since it was read \(serial 2 on disk, 1 here\)"):
        store.save(ours.with_campaign("ours", record(8)))
    assert fingerprint(store.path) == before


def test_load_warns_when_only_the_backup_is_left(store: StateStore, caplog: pytest.LogCaptureFixture) -> None:
    store.save(sample_state(1))
    store.save(store.load().with_campaign("campaign-2", record(2)))
    store.path.unlink()
    with caplog.at_level(logging.WARNING, logger="campaign_sync.state"):
        state = store.load()
    assert state.serial == 0
    assert f"cp {store.backup_path} {store.path}" in caplog.text


class TestCheckCompatible:
    def test_same_lineage_and_serial_pass(self, store: StateStore) -> None:
        saved = store.save(sample_state())
        store.check_compatible(saved.lineage, saved.serial)

    def test_a_higher_serial_is_left_to_the_caller(self, store: StateStore) -> None:
        saved = store.save(sample_state())
        store.save(saved.with_flows({}))
        store.check_compatible(saved.lineage, saved.serial)

    def test_another_lineage_is_refused_naming_both(self, store: StateStore) -> None:
        saved = store.save(sample_state())
        other = str(uuid.uuid4())
        with pytest.raises(StateError) as caught:
            store.check_compatible(other, saved.serial)
        message = str(caught.value)
        assert f"state lineage {saved.lineage} differs from the plan's {other}" in message
        assert "another state file" in message

    def test_an_older_serial_is_refused_naming_both(self, store: StateStore) -> None:
        saved = store.save(sample_state())
        with pytest.raises(StateError, match=r"state serial 1 is older than the plan's 5"):
            store.check_compatible(saved.lineage, 5)

    def test_a_plan_made_without_state_matches_a_missing_file(self, store: StateStore) -> None:
        store.check_compatible(State.new().lineage, 0)

    def test_a_missing_file_does_not_match_a_plan_made_against_one(self, store: StateStore) -> None:
        lineage = str(uuid.uuid4())
        with pytest.raises(StateError, match=r"missing, but the plan was made against serial 3"):
            store.check_compatible(lineage, 3)

    def test_a_state_created_after_a_plan_made_without_one_is_refused(self, store: StateStore) -> None:
        plan_lineage = store.load().lineage
        store.save(sample_state())
        with pytest.raises(StateError, match="made when there was no state file"):
            store.check_compatible(plan_lineage, 0)

    def test_a_corrupt_file_is_reported(self, store: StateStore) -> None:
        saved = store.save(sample_state())
        store.path.write_text("{")
        with pytest.raises(StateError, match="unreadable"):
            store.check_compatible(saved.lineage, saved.serial)


def test_a_state_that_load_would_refuse_is_never_written(store: StateStore) -> None:
    store.save(sample_state(1))
    before = fingerprint(store.path)
    bad = store.load().with_campaign("fax", record(3, campaignType="fax"))
    with pytest.raises(
        StateError, match=r'refusing to save an invalid state .*campaigns\["fax"\]\.campaignType'
    ):
        store.save(bad)
    assert fingerprint(store.path) == before
    assert not store.backup_path.exists()


def test_opaque_live_versions_may_be_any_string(store: StateStore) -> None:
    state = sample_state(1).with_campaign("odd", record(2, updatedAt="", contentHash="", name=""))
    store.save(state)
    assert store.load().campaigns["odd"] == record(2, updatedAt="", contentHash="", name="")


def test_a_save_after_another_store_wrote_reads_the_new_bytes(store: StateStore) -> None:
    store.save(sample_state(1))
    ours = store.load()
    other = StateStore(store.path)
    other.save(other.load().with_campaign("theirs", record(7)))
    before = fingerprint(store.path)
    with pytest.raises(StateError, match=r"changed since it was read \(serial 2 on disk, 1 here\)"):
        store.save(ours.with_campaign("ours", record(8)))
    assert fingerprint(store.path) == before
    saved = store.save(store.load().with_campaign("ours", record(8)))
    assert saved.serial == 3
    assert sorted(store.load().campaigns) == sorted({*sample_state(1).campaigns, "theirs", "ours"})


def test_the_file_backend_reads_its_own_last_write_without_parsing_it(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An apply saves after every write; the stored copy it checks before each one is then the very
    bytes it wrote last, whose lineage and serial it knows: no parse of the whole state. Bytes
    another writer left there are parsed, and a conflict is still refused."""
    from campaign_sync.state.backends import file as file_backend

    state = store.save(sample_state(3))
    parses: list[int] = []
    real = file_backend.parse_state

    def counting(data: Any) -> Any:
        parses.append(1)
        return real(data)

    monkeypatch.setattr(file_backend, "parse_state", counting)
    for n in range(4, 7):
        state = store.save(state.with_campaign(f"key-{n}", record(n)))
    assert (state.serial, parses) == (4, [])

    backend = store.backend
    assert isinstance(backend, file_backend.FileBackend)
    other = file_backend.FileBackend(backend.path)
    theirs = store.path.read_bytes().replace(b'"serial": 4', b'"serial": 5')
    other.write(theirs, serial=5, lineage=state.lineage, expected_serial=4)
    with pytest.raises(StateConflictError, match="serial 5 stored now"):
        backend.write(b"{}", serial=5, lineage=state.lineage, expected_serial=4)
    assert parses == [1, 1], "the other writer's check of our bytes, then ours of its bytes"
    assert store.path.read_bytes() == theirs
