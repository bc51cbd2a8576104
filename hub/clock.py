"""The one clock: every service, job and command reads the time here, and tests set it.

The engine never reads the clock (it is given a moment); everything else calls `utcnow()`.
`frozen(moment)` pins the clock for a block (tests, `kopilka automation run --at`), and
`advance(delta)` moves a pinned clock on, so a test can walk through days without sleeping.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator

_pinned = threading.local()
_global: list[datetime | None] = [None]


def utcnow() -> datetime:
    """Now, aware and in UTC — or the pinned moment when a test or command pinned one."""
    moment = getattr(_pinned, "moment", None) or _global[0]
    return moment if moment is not None else datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the clock takes aware datetimes only")
    return moment.astimezone(timezone.utc)


@contextmanager
def frozen(moment: datetime, *, all_threads: bool = False) -> Iterator[None]:
    """Pin the clock at `moment` for the block (this thread, or every thread when asked:
    a test that runs a real server in a thread)."""
    if all_threads:
        previous, _global[0] = _global[0], _aware(moment)
        try:
            yield
        finally:
            _global[0] = previous
        return
    previous = getattr(_pinned, "moment", None)
    _pinned.moment = _aware(moment)
    try:
        yield
    finally:
        _pinned.moment = previous


def advance(delta: timedelta) -> datetime:
    """Move a pinned clock on by `delta` (this thread's pin first, else the global one)."""
    if getattr(_pinned, "moment", None) is not None:
        _pinned.moment = _pinned.moment + delta
        return _pinned.moment
    if _global[0] is None:
        raise RuntimeError("advance() needs a pinned clock (use frozen())")
    _global[0] = _global[0] + delta
    return _global[0]
