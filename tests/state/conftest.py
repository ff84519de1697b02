"""Fixtures for the state tests: a store in a temporary directory, and lock holders in other processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from state_support import Holder

from campaign_sync.state import StateStore


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / ".campaign-sync" / "prod.state.json"


@pytest.fixture
def store(state_path: Path) -> StateStore:
    return StateStore(state_path)


@pytest.fixture
def holder(state_path: Path) -> Iterator[Callable[..., Holder]]:
    """Starts processes that hold the state lock; kills whatever is left at the end of the test."""
    started: list[Holder] = []

    def start(operation: str = "apply") -> Holder:
        h = Holder(state_path, operation)
        started.append(h)
        return h

    yield start
    for h in started:
        h.close()
