"""A save that dies or fails at any point leaves the previous state intact; leftovers are cleaned next time."""

from __future__ import annotations

import errno
import json
import os
import signal
from pathlib import Path

import pytest
from state_support import dead_pid, record, run, sample_state

from campaign_sync.errors import StateError
from campaign_sync.state import FAULT_ENV, StateStore


def temps(store: StateStore) -> list[str]:
    return sorted(p.name for p in store.path.parent.iterdir() if ".tmp-" in p.name)


def test_a_failed_rename_leaves_the_old_state_and_no_temp_file(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = store.save(sample_state(1))
    old_bytes = store.path.read_bytes()
    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == store.path:
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StateError, match="Input/output error; the state file on disk is unchanged"):
        store.save(old.with_campaign("campaign-2", record(2)))
    monkeypatch.undo()

    assert store.path.read_bytes() == old_bytes
    assert store.load() == old
    assert temps(store) == []
    assert store.save(old.with_campaign("campaign-2", record(2))).serial == 2


def test_a_full_disk_leaves_the_old_state(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    old = store.save(sample_state(1))
    old_bytes = store.path.read_bytes()

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(StateError, match="No space left on device"):
        store.save(old.with_flows({}))
    monkeypatch.undo()
    assert store.path.read_bytes() == old_bytes
    assert temps(store) == []


def test_an_interrupt_during_the_write_propagates_and_removes_the_temp_file(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = store.save(sample_state(1))
    old_bytes = store.path.read_bytes()

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save(old.with_flows({}))
    monkeypatch.undo()
    assert store.path.read_bytes() == old_bytes
    assert temps(store) == []


def test_leftover_temp_files_are_ignored_by_load_and_removed_by_the_next_save(store: StateStore) -> None:
    old = store.save(sample_state(1))
    directory = store.path.parent
    gone = dead_pid()
    stale = [
        directory / f"prod.state.json.tmp-{gone}-0a1b2c3d",
        directory / f"prod.state.json.backup.tmp-{gone}-deadbeef",
        directory / f"prod.state.json.tmp-{os.getpid()}-00ff00ff",  # same pid, earlier process (containers)
    ]
    for path in stale:
        path.write_bytes(store.path.read_bytes()[:30])
    live_writer = directory / f"prod.state.json.tmp-{os.getppid()}-12345678"
    live_writer.write_bytes(b"{")
    unrelated = directory / "notes.tmp-1-ab"
    unrelated.write_bytes(b"x")

    assert store.load() == old
    saved = store.save(old.with_flows({}))
    assert saved.serial == 2
    assert temps(store) == sorted([live_writer.name, unrelated.name])


def test_the_unchanged_save_leaves_temp_files_alone_and_writes_nothing(store: StateStore) -> None:
    old = store.save(sample_state(1))
    leftover = store.path.parent / f"prod.state.json.tmp-{dead_pid()}-0a1b2c3d"
    leftover.write_bytes(b"{")
    assert store.save(old) == old
    assert leftover.exists()


def test_a_process_killed_in_the_middle_of_writing_loses_nothing(store: StateStore) -> None:
    """Reliability row S2: SIGKILL after half the temp file is written."""
    old = store.save(sample_state(1))
    old_bytes = store.path.read_bytes()
    script = (
        "import sys\n"
        "from campaign_sync.state import StateStore\n"
        "from state_support import record\n"
        "store = StateStore(sys.argv[1])\n"
        "store.save(store.load().with_campaign('campaign-2', record(2)))\n"
        "print('not killed')\n"
    )
    env = {**os.environ, FAULT_ENV: "kill-during-state-write", "PYTHONPATH": str(Path(__file__).parent)}
    result = run("-c", script, str(store.path), env=env)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "not killed" not in result.stdout

    assert store.path.read_bytes() == old_bytes
    assert store.backup_path.read_bytes() == old_bytes
    [partial] = temps(store)
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads((store.path.parent / partial).read_text())
    assert store.load() == old

    finished = store.save(store.load().with_campaign("campaign-2", record(2)))
    assert finished.serial == old.serial + 1
    assert temps(store) == []
    assert store.load() == finished
