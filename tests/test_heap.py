"""heap: the collector paused while long-lived data is built, frozen only in a console-script run."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from campaign_sync import heap


@pytest.fixture
def frozen_after() -> Iterator[None]:
    """Whatever a test freezes is given back to the collector, and freezing is turned off again."""
    try:
        yield
    finally:
        heap.keep_long_lived(False)
        gc.unfreeze()
        gc.enable()


def _build() -> list[dict[str, int]]:
    return [{"n": n} for n in range(1000)]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_inside_and_resumed_as_found(enabled: bool) -> None:
    if not enabled:
        gc.disable()
    try:
        with heap.long_lived():
            assert not gc.isenabled()
            _build()
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError, match="a failed load"), heap.long_lived():
            raise ValueError("a failed load")
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_in_process_nothing_is_frozen(frozen_after: None) -> None:
    before = gc.get_freeze_count()
    with heap.long_lived():
        kept = _build()
    assert gc.get_freeze_count() == before
    assert kept


def test_a_command_process_freezes_what_it_built(frozen_after: None) -> None:
    heap.keep_long_lived()
    before = gc.get_freeze_count()
    with heap.long_lived():
        kept = _build()
    assert gc.get_freeze_count() >= before + len(kept)
    assert gc.isenabled()


def test_a_paused_collector_is_left_alone_even_when_freezing(frozen_after: None) -> None:
    """A caller that paused the collector owns it: nothing is frozen or resumed behind its back."""
    heap.keep_long_lived()
    gc.disable()
    before = gc.get_freeze_count()
    with heap.long_lived():
        _build()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == before


def test_the_console_script_turns_freezing_on_and_the_test_runner_does_not() -> None:
    """The console script's process ends with its command; click's runner (in-process) never freezes."""
    from click.testing import CliRunner

    from campaign_sync.cli import cli

    assert CliRunner().invoke(cli, ["--version"]).exit_code == 0
    assert heap._freeze is False
    probe = (
        "import atexit, sys\n"
        "from campaign_sync import heap\n"
        "atexit.register(lambda: print('freezing', heap._freeze))\n"
        "sys.argv = ['campaign-sync', '--version']\n"
        "from campaign_sync.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("freezing True")


def test_a_command_process_keeps_its_results_and_in_process_nothing_is_kept(frozen_after: None) -> None:
    """What a command built is held to the process's end there (freeing it is pure cost before
    ``os._exit``); in-process it is released as soon as nobody needs it."""
    import weakref

    class Result:
        pass

    dropped = Result()
    gone = weakref.ref(dropped)
    heap.keep(dropped)
    del dropped
    assert gone() is None

    heap.keep_long_lived()
    held = Result()
    alive = weakref.ref(held)
    heap.keep(held)
    del held
    assert alive() is not None
    heap.keep_long_lived(False)
    assert alive() is None


def test_a_pause_never_freezes_even_in_a_command_process(frozen_after: None) -> None:
    """For parses whose result is thrown away (a save's check of the stored copy): freezing there
    would take the cyclic garbage of every request before it out of the collector's reach."""
    heap.keep_long_lived()
    before = gc.get_freeze_count()
    with heap.paused() as collecting:
        assert collecting
        assert not gc.isenabled()
        _build()
    assert gc.isenabled()
    assert gc.get_freeze_count() == before


def test_a_function_that_builds_long_lived_data_runs_inside_long_lived(frozen_after: None) -> None:
    seen: list[bool] = []

    @heap.builds_long_lived
    def load(count: int) -> list[dict[str, int]]:
        """Builds the run's data."""
        seen.append(gc.isenabled())
        return [{"n": n} for n in range(count)]

    heap.keep_long_lived()
    before = gc.get_freeze_count()
    assert len(load(500)) == 500
    assert (seen, gc.isenabled()) == ([False], True)
    assert gc.get_freeze_count() >= before + 500
    assert (load.__name__, load.__doc__) == ("load", "Builds the run's data.")
