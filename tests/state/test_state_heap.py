"""The state and the collector (``heap``): the run's state is frozen once loaded (in a
campaign-sync process), while the parses a save makes to check the stored copy never freeze.

Freezing takes whatever the collector tracks out of its reach, cyclic garbage included, so a
freeze on every save would make a long apply hold on to the garbage of each of its requests."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from state_support import record, sample_state

from campaign_sync import heap
from campaign_sync.state import StateStore
from campaign_sync.state.format import loads


@pytest.fixture
def command_process() -> Iterator[None]:
    """Freezing on, as in the console script's process; undone (and unfrozen) afterwards."""
    heap.keep_long_lived()
    try:
        yield
    finally:
        heap.keep_long_lived(False)
        gc.unfreeze()


def test_loading_the_runs_state_freezes_it(store: StateStore, command_process: None) -> None:
    saved = store.save(sample_state())
    before = gc.get_freeze_count()
    loaded = store.load()
    assert loaded.serial == saved.serial
    assert gc.get_freeze_count() > before
    assert gc.isenabled()


def test_saves_and_parses_never_freeze(store: StateStore, command_process: None) -> None:
    state = store.save(sample_state())
    before = gc.get_freeze_count()
    for n in range(2, 6):  # each save reads the stored copy back to check it was not replaced
        state = store.save(state.with_campaign(f"key-{n}", record(n)))
    loads(store.backend.read() or b"")
    assert gc.get_freeze_count() == before
    assert gc.isenabled()
    assert sorted(store.load().campaigns)[-1] == "key-5"
