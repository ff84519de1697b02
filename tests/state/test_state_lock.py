"""The state lock across processes: refusal naming the holder, waiting, dead holders, stale info, force-unlock."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable

import pytest
from state_support import Holder, dead_pid, mode

from campaign_sync.errors import LockError
from campaign_sync.state import LockInfo, StateStore

StartHolder = Callable[..., Holder]


def write_info(store: StateStore, **fields: object) -> None:
    info = {
        "id": "0b7a3f52-1111-4222-8333-444455556666",
        "operation": "apply",
        "user": "ci",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "created": "2026-11-27T16:01:02Z",
        "version": "0.1.0",
    }
    info.update(fields)
    store.lock_info_path.parent.mkdir(parents=True, exist_ok=True)
    store.lock_info_path.write_text(json.dumps(info))


def can_lock(store: StateStore) -> bool:
    try:
        with store.lock(operation="probe"):
            return True
    except LockError:
        return False


class WaitingSeen(logging.Handler):
    """Sets an event when the lock logs that it is waiting."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "waiting" in record.getMessage():
            self.seen.set()


def test_holding_records_who_holds_and_release_removes_it(store: StateStore) -> None:
    with store.lock(operation="apply") as info:
        assert info.pid == os.getpid()
        assert info.operation == "apply"
        assert info.host == socket.gethostname()
        assert info.created.endswith("Z")
        on_disk = json.loads(store.lock_info_path.read_text())
        assert on_disk == info.to_json()
        assert set(on_disk) == {"user", "host", "pid", "operation", "created", "version", "id"}
        assert store.lock_info() == info
        assert mode(store.lock_info_path) == 0o600
        assert mode(store.lock_path) == 0o600
    assert not store.lock_info_path.exists()
    assert store.lock_info() is None


def test_another_process_is_refused_at_once_with_the_holder_named(
    store: StateStore, holder: StartHolder
) -> None:
    held = holder("drift")
    started = time.monotonic()
    with pytest.raises(LockError) as caught, store.lock(operation="apply"):
        pytest.fail("took a held lock")
    assert time.monotonic() - started < 3
    message = str(caught.value)
    assert message.startswith(f"state is locked by drift (pid {held.pid} on {socket.gethostname()}, user ")
    assert f"lock id {held.lock_id})" in message
    assert "pass --lock-timeout SECONDS to wait" in message
    assert "`campaign-sync force-unlock`" in message
    held.release()
    assert can_lock(store)


def test_a_second_lock_in_the_same_process_is_refused(store: StateStore) -> None:
    with (
        store.lock(operation="apply"),
        pytest.raises(LockError, match=f"pid {os.getpid()} "),
        StateStore(store.path).lock(operation="apply"),
    ):
        pytest.fail("took a held lock")


def test_a_timeout_waits_for_the_holder_to_release(
    store: StateStore, holder: StartHolder, caplog: pytest.LogCaptureFixture
) -> None:
    held = holder()
    caplog.set_level(logging.INFO, logger="campaign_sync.state")
    watcher = WaitingSeen()
    logging.getLogger("campaign_sync.state").addHandler(watcher)

    def release_once_waiting() -> None:
        if watcher.seen.wait(timeout=20):
            held.release()

    releaser = threading.Thread(target=release_once_waiting)
    releaser.start()
    try:
        with store.lock(operation="apply", timeout=30) as info:
            assert watcher.seen.is_set()
            assert info.pid == os.getpid()
            assert store.lock_info() == info
    finally:
        logging.getLogger("campaign_sync.state").removeHandler(watcher)
        watcher.seen.set()
        releaser.join()
    assert held.proc.returncode == 0
    assert f"state is locked by apply (pid {held.pid}" in caplog.text


def test_a_timeout_that_expires_fails_naming_the_holder(store: StateStore, holder: StartHolder) -> None:
    held = holder()
    started = time.monotonic()
    with pytest.raises(LockError) as caught, store.lock(operation="apply", timeout=0.3):
        pytest.fail("took a held lock")
    assert time.monotonic() - started >= 0.3
    assert f"state is locked by apply (pid {held.pid} " in str(caught.value)
    assert "after waiting 0.3 s" in str(caught.value)


def test_a_killed_holder_leaves_its_info_and_the_next_run_warns_and_proceeds(
    store: StateStore, holder: StartHolder, caplog: pytest.LogCaptureFixture
) -> None:
    held = holder("apply")
    held.kill()
    assert json.loads(store.lock_info_path.read_text())["pid"] == held.pid
    left = store.lock_info()
    assert left is not None
    assert left.stale

    with (
        caplog.at_level(logging.WARNING, logger="campaign_sync.state"),
        store.lock(operation="apply") as info,
    ):
        assert info.pid == os.getpid()
        assert info.id != held.lock_id
        assert json.loads(store.lock_info_path.read_text())["id"] == info.id
    assert f"a previous apply (pid {held.pid} on this host" in caplog.text
    assert "ended without releasing the lock; its process is gone; continuing" in caplog.text
    assert not store.lock_info_path.exists()


def test_lock_info_is_none_when_nothing_was_recorded(store: StateStore) -> None:
    assert store.lock_info() is None


def test_lock_info_of_a_live_holder_is_not_stale(store: StateStore, holder: StartHolder) -> None:
    held = holder("import")
    info = store.lock_info()
    assert info is not None
    assert (info.pid, info.operation, info.id, info.stale) == (held.pid, "import", held.lock_id, False)


def test_lock_info_is_stale_when_the_os_lock_is_free(store: StateStore) -> None:
    write_info(store, pid=os.getpid())  # a live pid, but nobody holds the OS lock
    info = store.lock_info()
    assert info is not None
    assert info.stale
    assert info.pid == os.getpid()


def test_lock_info_is_stale_when_the_recorded_process_is_gone(store: StateStore, holder: StartHolder) -> None:
    holder()
    write_info(store, pid=dead_pid())
    info = store.lock_info()
    assert info is not None
    assert info.stale


def test_lock_info_of_another_host_with_the_os_lock_held_is_not_stale(
    store: StateStore, holder: StartHolder
) -> None:
    holder()
    write_info(store, host="build-agent-7", pid=dead_pid())
    info = store.lock_info()
    assert info is not None
    assert not info.stale


def test_an_unreadable_info_file_reads_as_unknown(store: StateStore) -> None:
    store.lock_info_path.parent.mkdir(parents=True)
    store.lock_info_path.write_text("{not json")
    info = store.lock_info()
    assert info == LockInfo(
        id="unknown",
        operation="unknown",
        user="unknown",
        host="unknown",
        pid=0,
        created="unknown",
        version="unknown",
        stale=True,
    )


def test_force_unlock_removes_a_stale_lock(store: StateStore, holder: StartHolder) -> None:
    held = holder()
    held.kill()
    removed = store.force_unlock()
    assert removed is not None
    assert (removed.pid, removed.id, removed.stale) == (held.pid, held.lock_id, True)
    assert not store.lock_info_path.exists()
    assert not store.lock_path.exists()
    assert store.force_unlock() is None


def test_force_unlock_refuses_a_live_lock(store: StateStore, holder: StartHolder) -> None:
    held = holder("apply")
    with pytest.raises(LockError) as caught:
        store.force_unlock()
    message = str(caught.value)
    assert f"pid {held.pid}" in message
    assert "not stale" in message
    assert store.lock_info_path.exists()
    assert not can_lock(store)
    held.release()
    assert can_lock(store)


def test_force_unlock_with_nothing_to_remove_returns_none(store: StateStore) -> None:
    assert store.force_unlock() is None


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()], ids=["exception", "ctrl-c"])
def test_the_lock_is_released_when_the_body_raises(store: StateStore, error: BaseException) -> None:
    with pytest.raises(type(error)), store.lock(operation="apply"):
        raise error
    assert not store.lock_info_path.exists()
    assert can_lock(store)


def test_a_negative_timeout_is_refused(store: StateStore) -> None:
    with pytest.raises(ValueError, match="timeout"), store.lock(timeout=-1):
        pass
