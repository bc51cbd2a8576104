"""The ledger tests run on a pinned clock: what can be spent is what the ledger holds when
the hub processes an operation (hub.clock.utcnow), so each test moves the clock along with
the moments of its operations (`clock.set(moment)`)."""
from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime

import pytest

from hub.clock import frozen
from tests.ledger.helpers import T0


class Clock:
    """hub.clock pinned for every thread (the PostgreSQL concurrency tests use threads)."""

    def __init__(self) -> None:
        self._stack = ExitStack()

    def set(self, moment: datetime) -> datetime:
        self._stack.close()
        self._stack = ExitStack()
        self._stack.enter_context(frozen(moment, all_threads=True))
        return moment

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(autouse=True)
def clock():
    c = Clock()
    c.set(T0)
    try:
        yield c
    finally:
        c.close()
