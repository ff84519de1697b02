"""How a run's long-lived data meets the garbage collector.

A command builds a few million small containers that live to its end (manifest values and
models, the state with every cached document, the list's items) and none of them in a cycle.
The cyclic collector would walk each of them at least once, for nothing: about 0.1 s of a
10,000-campaign plan. So they are built with the collector paused (``long_lived``), and, in a
``campaign-sync`` process, moved out of its sight when built (``gc.freeze``: the permanent
generation, never walked again; reference counting still frees them).

Such a process ends without tearing down its heap (``cli.main``: ``os._exit``), so a command's
results are also ``kept`` to its end: returning from the function that built them would
otherwise free them one by one (0.1 s after a 10,000-campaign plan), for nothing.

Freezing and keeping are for a process that ends with the command: the console script turns
them on (``keep_long_lived``). In-process callers (the tests, a program importing the engine) only
get the pause; the collector is resumed as it was found, on success and on every error, and
nothing is kept.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

#: The collector's thresholds for a command's run (``cli`` sets them): the young generation is
#: collected rarely, so the collector does not keep walking the objects a run keeps (a third of a
#: 10,000-campaign plan with the defaults). Benchmarks of the engine in-process use them too.
THRESHOLDS = (100_000, 50, 100)

_freeze = False
_kept: list[Any] = []


def keep_long_lived(enabled: bool = True) -> None:
    """Whether ``long_lived`` freezes what it built and ``keep`` holds what it is given (the
    console script's process only); turned off, what was kept is let go."""
    global _freeze
    _freeze = enabled
    if not enabled:
        _kept.clear()


def keep(*objects: Any) -> None:
    """Hold ``objects`` to the process's end when it ends with the command (else nothing)."""
    if _freeze:
        _kept.extend(objects)


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """The collector paused while the block builds containers that live to the run's end, and (in
    the console script's process) everything it tracks frozen afterwards.

    Only for what a command builds once (its manifests, state, list, plan): freezing also takes
    any cyclic garbage not yet collected out of the collector's reach, so a block run once per
    write would make a long apply hold on to the garbage of each of its requests. A parse whose
    result is thrown away uses ``paused``.
    """
    with paused() as collecting:
        yield
    if collecting and _freeze:
        gc.freeze()


def builds_long_lived(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` run inside ``long_lived``: a function whose result lives to the run's end."""

    @functools.wraps(func)
    def building(*args: P.args, **kwargs: P.kwargs) -> R:
        with long_lived():
            return func(*args, **kwargs)

    return building


@contextlib.contextmanager
def paused() -> Iterator[bool]:
    """The collector paused while the block builds many containers, none in a cycle; resumed as
    found, on success and on every error. Yields whether it was running."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield collecting
    finally:
        if collecting:
            gc.enable()
