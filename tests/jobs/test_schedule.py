"""One scheduler across the fleet: workers on several hosts stand for election in Redis and
only the elected one enqueues the periodic runs (hub.jobs.schedule)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from redis import Redis
from rq import Queue, Worker
from redis.exceptions import ConnectionError as RedisDown

from hub.cli import main as cli
from hub.jobs import QUEUE_NAME
from hub.jobs.schedule import Election, run_scheduler

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# A worker process as far as the schedule goes: it stands for election and "enqueues" by
# appending its name to a list, where the test reads who enqueued when.
WORKER = """
import sys, threading
from redis import Redis
from hub.jobs.schedule import run_scheduler
url, prefix, me = sys.argv[1:4]
client = Redis.from_url(url)
run_scheduler(client, threading.Event(), lambda: client.rpush(prefix + "runs", me),
              every=0.3, prefix=prefix, ttl=0.6, me=me)
"""


@pytest.fixture
def redis():
    try:
        client = Redis.from_url(REDIS_URL)
        client.ping()
    except RedisDown as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not reachable: {exc}")
    prefix = f"test-{uuid.uuid4().hex[:8]}:"          # this test's keys only
    yield client, prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_the_lease_is_held_by_one_and_passes_on_when_given_up(redis):
    client, prefix = redis
    a, b = (Election(client, f"{prefix}scheduler", ttl=5, me=name) for name in ("a", "b"))
    assert a.hold() and not b.hold() and a.hold()       # a renews; b stands by
    assert a.holder() == "a"
    b.release()                                         # not b's to give up
    assert a.holder() == "a"
    a.release()
    assert b.hold() and not a.hold()


def test_two_workers_enqueue_one_schedule_and_the_survivor_takes_over(redis):
    """Two worker processes share one Redis: every 0.3 s one run is enqueued, not two. When
    the elected one is killed (no goodbye), the other takes over once its lease (0.6 s) ends,
    keeping the same schedule."""
    client, prefix = redis
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    workers = {name: subprocess.Popen([sys.executable, "-c", WORKER, REDIS_URL, prefix, name], env=env)
               for name in ("w1", "w2")}
    try:
        time.sleep(2.5)
        runs = [r.decode() for r in client.lrange(f"{prefix}runs", 0, -1)]
        assert 3 <= len(runs) <= 9, runs                 # at most 2.5 s / 0.3 s: never two at a time
        assert len(set(runs)) == 1, runs                 # one scheduler enqueued them all
        leader = runs[0]
        survivor = next(name for name in workers if name != leader)
        workers[leader].send_signal(signal.SIGKILL)
        workers[leader].wait()
        time.sleep(2.5)
        after = [r.decode() for r in client.lrange(f"{prefix}runs", len(runs), -1)]
        assert after and set(after) == {survivor}, after
        assert len(after) <= 9, after                    # the same rhythm, not a burst
    finally:
        for proc in workers.values():
            proc.kill()
            proc.wait()


def test_a_stopped_scheduler_gives_up_its_lease(redis):
    client, prefix = redis
    stop, runs = threading.Event(), []
    thread = threading.Thread(target=run_scheduler, args=(client, stop, lambda: runs.append(1)),
                              kwargs={"every": 60, "prefix": prefix, "ttl": 30, "me": "w1"})
    thread.start()
    deadline = time.monotonic() + 5
    while not runs and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runs == [1]                                   # a fresh fleet runs at once
    assert Election(client, f"{prefix}scheduler").holder() == "w1"
    stop.set()
    thread.join(5)
    assert Election(client, f"{prefix}scheduler").holder() is None


def test_a_worker_stands_for_election_instead_of_starting_a_chain(redis, pg_engine, monkeypatch):
    """`kopilka worker` used to enqueue a self-rescheduling run at every start: two workers,
    two chains. Now it enqueues nothing itself and runs the election beside the rq worker."""
    client, _prefix = redis
    monkeypatch.setenv("DATABASE_URL", pg_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv("KOPILKA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    Queue(QUEUE_NAME, connection=client).empty()
    stood = []

    def election(config, stop, **_kwargs):
        stood.append(config.REDIS_URL)
        stop.wait(5)
    monkeypatch.setattr(cli, "schedule_with_redis", election)
    monkeypatch.setattr(Worker, "work", lambda self, **_kwargs: True)
    result = CliRunner().invoke(cli.main, ["worker"])
    assert result.exit_code == 0, result.output
    assert stood == [REDIS_URL]
    assert Queue(QUEUE_NAME, connection=client).count == 0
