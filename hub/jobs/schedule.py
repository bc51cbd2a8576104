"""One schedule for the whole fleet (with Redis).

Every `kopilka worker` (and `kopilka automation schedule`, the scheduler unit) is a candidate;
one of them holds a Redis lease (SET NX with a TTL, renewed by its holder every third of the
TTL) and only the holder enqueues the periodic automation run. The moment of the next run
lives in Redis too, so a new holder, after the old one died and its lease ran out, keeps the
same rhythm instead of starting its own. A holder that stalls past its TTL may overlap a
successor for one enqueue at most; the sweeps' advisory locks (hub.sweeps) keep even that run
from doing any tenant's work twice.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any, Callable

from redis.exceptions import RedisError

from hub.clock import utcnow

KEY_PREFIX = "kopilka:"
LEASE_TTL = 60.0             # seconds a scheduler that stopped answering keeps the lease
log = logging.getLogger(__name__)

# Renew or release only a lease that is still ours (another host may hold it by now).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def identity() -> str:
    """Who holds the lease, as an operator reads it in Redis: host, process, a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Election:
    """A lease in Redis under `key`: hold() takes it when free, renews it when ours."""

    def __init__(self, client: Any, key: str, ttl: float = LEASE_TTL, me: str | None = None):
        self.client, self.key, self.me = client, key, me or identity()
        self.ttl_ms = int(ttl * 1000)

    def hold(self) -> bool:
        if self.client.eval(_RENEW, 1, self.key, self.me, self.ttl_ms):
            return True
        return bool(self.client.set(self.key, self.me, nx=True, px=self.ttl_ms))

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.me)

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value


def run_scheduler(client: Any, stop: threading.Event, enqueue: Callable[[], object], *,
                  every: float, prefix: str = KEY_PREFIX, ttl: float = LEASE_TTL,
                  me: str | None = None) -> None:
    """Until `stop` is set: stand for the lease every ttl/3 seconds and, while holding it,
    call `enqueue` whenever the fleet's next run (`<prefix>schedule:next`) is due. A Redis
    that is down is logged and tried again on the next tick; the lease is given up on stop
    so another candidate takes over at once rather than after the TTL."""
    election = Election(client, f"{prefix}scheduler", ttl, me)
    next_key = f"{prefix}schedule:next"
    leading = False
    while not stop.is_set():
        try:
            holds = election.hold()
            if holds != leading:
                leading = holds
                log.info("scheduler %s: %s", election.me, "elected" if holds else "standing by")
            if holds:
                now = utcnow().timestamp()
                due = client.get(next_key)
                if due is None or float(due) <= now:
                    enqueue()       # then the mark: a failed enqueue is retried next tick
                    client.set(next_key, repr(now + every))
        except RedisError as exc:
            log.warning("scheduler %s: Redis unavailable (%s)", election.me, exc)
        except Exception:  # a scheduler has nobody to raise to; the next tick comes as usual
            log.exception("scheduler %s: enqueue failed", election.me)
        stop.wait(ttl / 3)
    try:
        election.release()
    except RedisError:
        log.warning("scheduler %s: could not give up the lease; it ends in %s s", election.me, ttl)
