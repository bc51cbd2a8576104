"""What a load balancer asks a hub host: /ready (database, Redis, migrations at head), and the
request id every response echoes and every log line of the request carries."""
from __future__ import annotations

import logging
import socket
from contextlib import contextmanager

import pytest
from sqlalchemy import text

import os

from hub.app import _readiness
from hub.config import Config
from hub.db import _scripts, code_heads, upgrade
from hub.extensions import db, make_engine
from hub.logs import JsonFormatter

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@contextmanager
def app_database(engine):
    """The app's session on `engine` for the block (as a host configured with it)."""
    previous = db.engine
    db.session.remove()
    db.engine = engine
    db.session.configure(bind=engine)
    try:
        yield
    finally:
        db.session.remove()
        db.engine = previous
        db.session.configure(bind=previous)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory):
    """A SQLite database of its own at head, whose recorded revision the tests move."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('ready')}/hub.db")
    upgrade(engine)
    yield engine
    engine.dispose()


def _set_revision(engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


def test_ready_when_the_database_is_at_head(client):
    r = client.get("/ready")
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"status": "ready", "database": "up", "migrations": "head"}


def test_not_ready_while_a_migration_is_pending(app, migrated_file):
    """New code on a host whose database was not migrated yet: out of the load balancer."""
    head = code_heads()[0]
    older = _scripts().get_revision(head).down_revision
    _set_revision(migrated_file, older)
    try:
        with app_database(migrated_file):
            r = app.test_client().get("/ready")
    finally:
        _set_revision(migrated_file, head)
    assert r.status_code == 503 and r.headers["Retry-After"].isdigit()
    body = r.get_json()
    assert body["database"] == "up" and body["migrations"] == "pending"
    assert any("kopilka db upgrade" in p and head in p for p in body["problems"]), body


def test_a_database_migrated_by_the_next_release_keeps_old_hosts_ready(app, migrated_file):
    """During a rolling upgrade the database runs ahead of the hosts not yet upgraded; its
    migrations keep them working (DEPLOY.md), so they stay in service."""
    _set_revision(migrated_file, "9999_from_the_next_release")
    try:
        with app_database(migrated_file):
            r = app.test_client().get("/ready")
    finally:
        _set_revision(migrated_file, code_heads()[0])
    assert r.status_code == 200, r.get_json()


def test_not_ready_when_the_database_is_down(app):
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/kopilka")
    with app_database(engine):
        r = app.test_client().get("/ready")
    engine.dispose()
    assert r.status_code == 503 and r.headers["Retry-After"].isdigit()
    body = r.get_json()
    assert body["status"] == "unavailable" and body["database"] == "down"
    assert "база данных недоступна" in body["problems"]


def test_not_ready_when_the_configured_redis_is_down(app, client):
    """A host configured with Redis (queues, the schedule) is not ready without it."""
    with app.app_context():     # what /ready of a host with this configuration answers
        body, problems = _readiness(Config(REDIS_URL=f"redis://127.0.0.1:{_free_port()}/0"))
        up, none = _readiness(Config(REDIS_URL=REDIS_URL))
    assert body["redis"] == "down" and "Redis недоступен" in problems
    assert up == {"database": "up", "migrations": "head", "redis": "up"} and not none


def test_the_request_id_is_echoed_or_made_up(client):
    assert client.get("/health", headers={"X-Request-ID": "lb-7f3a.1"}).headers["X-Request-ID"] == "lb-7f3a.1"
    made = client.get("/health").headers["X-Request-ID"]
    other = client.get("/health").headers["X-Request-ID"]
    assert len(made) == 32 and made != other
    # a header that is not a sane token does not reach the logs: a new id instead
    odd = client.get("/health", headers={"X-Request-ID": "x" * 500}).headers["X-Request-ID"]
    assert odd != "x" * 500 and len(odd) == 32


def test_every_log_line_of_a_request_carries_its_id(app, caplog):
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/kopilka")
    with app_database(engine), caplog.at_level(logging.WARNING, logger="kopilka"):
        r = app.test_client().get("/api/v1/program", headers={"X-Request-ID": "req-42",
                                                               "Authorization": "Bearer kp_x"})
    engine.dispose()
    assert r.status_code == 503 and r.headers["X-Request-ID"] == "req-42"
    lines = [rec for rec in caplog.records if rec.name == "kopilka"]
    assert lines and all(rec.request_id == "req-42" for rec in lines)
    line = JsonFormatter().format(lines[0])
    assert '"request_id": "req-42"' in line and '"level": "WARNING"' in line
    # outside a request the id is "-"
    assert logging.getLogger("x").makeRecord("x", logging.INFO, "f", 1, "m", (), None).request_id == "-"
