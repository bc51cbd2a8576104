"""Test set-up: one PostgreSQL database per run (schema migrated once), one SQLite file,
each test inside a transaction rolled back at its end. Under pytest-xdist (`-n 2` in
pyproject.toml) every worker is a run of its own: its own PostgreSQL database, its own SQLite
file (tmp_path_factory is per worker) and its own Redis database number."""
from __future__ import annotations

import os
import uuid

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisDown
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from hub.config import Config
from hub.db import upgrade
from hub.extensions import db, make_engine

# The server the tests use; every run creates (and drops) a database of its own there.
# The URL's database is only where CREATE DATABASE is issued: when it does not exist (a stock
# server has only `postgres`), the `postgres` maintenance database is used instead.
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# The real Redis of the rq tests. Each xdist worker takes a database number of its own (gw0 -> 15,
# gw1 -> 14, ...): the tests empty the queue, and a worker must not drain the other's jobs.
REDIS_BASE_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _worker_redis_url(base: str = REDIS_BASE_URL) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(base.rsplit("/", 1)[1] or 0) - int(worker.removeprefix("gw") or 0)
    return base.rsplit("/", 1)[0] + f"/{number % 16}"


def _pg_url(name: str, base: str = PG_ADMIN_URL) -> str:
    return base.rsplit("/", 1)[0] + "/" + name


def admin_engine(url: str = PG_ADMIN_URL):
    """An AUTOCOMMIT engine on `url`'s database, or on `postgres` when that one is missing."""
    from sqlalchemy.exc import OperationalError
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            return engine
    except OperationalError as exc:
        engine.dispose()
        if "does not exist" not in str(exc) or url.rsplit("/", 1)[-1] == "postgres":
            raise
    engine = create_engine(_pg_url("postgres", url), isolation_level="AUTOCOMMIT")
    with engine.connect():
        return engine


@pytest.fixture(scope="session")
def pg_engine():
    name = f"kopilka_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    engine = make_engine(_pg_url(name))
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "kopilka.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


# The rq queue of this run: runs started side by side on one machine (several checkouts) share
# Redis's 16 databases, and an rq worker of one run must not take another run's jobs (a message
# job without that run's HTTP mocks waits on a real gateway).
RUN_QUEUE = f"kopilka-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def redis_url(monkeypatch):
    """This worker's database on the real Redis, and a queue of this run's own (skipped without
    Redis, except under CI)."""
    url = _worker_redis_url()
    try:
        Redis.from_url(url).ping()
    except RedisDown as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not reachable: {exc}")
    monkeypatch.setattr("hub.jobs.QUEUE_NAME", RUN_QUEUE)
    monkeypatch.setattr("hub.notify.delivery.QUEUE_NAME", RUN_QUEUE)
    return url


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """Cabinet users' passwords hashed with one PBKDF2 round instead of scrypt: the web tests
    create five users each, and scrypt was most of their set-up. Production keeps scrypt
    (tests/web/test_auth.py checks the default)."""
    from hub.web.ui import auth
    default = auth.PASSWORD_METHOD
    auth.PASSWORD_METHOD = "pbkdf2:sha256:1"
    yield
    auth.PASSWORD_METHOD = default


@pytest.fixture(scope="session")
def app():
    from hub.app import create_app
    return create_app(Config(DATABASE_URL=os.environ.get("KOPILKA_TEST_APP_URL", "sqlite://")))


def _bind(engine):
    """Bind the app's scoped session to one connection inside an outer transaction;
    services' commits become savepoints, and everything is rolled back afterwards."""
    connection = engine.connect()
    outer = connection.begin()
    previous = db.engine
    db.engine = engine
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    return connection, outer, previous


def _unbind(connection, outer, previous):
    db.session.remove()
    if outer.is_active:
        outer.rollback()
    connection.close()
    db.engine = previous
    db.session.configure(bind=previous, join_transaction_mode="conditional_savepoint")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    return request.param


@pytest.fixture
def engine_for(request):
    def get(name: str):
        return request.getfixturevalue("pg_engine" if name == "postgres" else "sqlite_engine")
    return get


@pytest.fixture
def session(backend, engine_for, app):
    """The scoped session of the app, on the parametrised backend, rolled back at the end."""
    connection, outer, previous = _bind(engine_for(backend))
    try:
        yield db.session
    finally:
        _unbind(connection, outer, previous)


@pytest.fixture
def pg_session(pg_engine, app):
    connection, outer, previous = _bind(pg_engine)
    try:
        yield db.session
    finally:
        _unbind(connection, outer, previous)


@pytest.fixture
def pg_sessions(pg_engine):
    """Real, committing sessions on the run's PostgreSQL database (for concurrency)."""
    return sessionmaker(bind=pg_engine, expire_on_commit=False)


@pytest.fixture
def client(app, session):
    return app.test_client()


@pytest.fixture
def tenant(session):
    from hub.tenants.operations import create_tenant
    t, key = create_tenant(session, "Тестовый магазин")
    session.commit()
    return {"id": t.id, "key": key}


class Api:
    """A thin client that speaks JSON with a tenant's key."""

    def __init__(self, client, key: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def _call(self, method, url, json=None, headers=None):
        return getattr(self.client, method)(url, json=json, headers={**self.headers, **(headers or {})})

    def get(self, url, **kw):
        return self._call("get", url, **kw)

    def post(self, url, json=None, **kw):
        return self._call("post", url, json, **kw)

    def put(self, url, json=None, **kw):
        return self._call("put", url, json, **kw)

    def patch(self, url, json=None, **kw):
        return self._call("patch", url, json, **kw)


@pytest.fixture
def api(client, tenant):
    return Api(client, tenant["key"])


@pytest.fixture
def database_down(app):
    """The app's session bound to a PostgreSQL port nobody listens on (the database is down)."""
    import socket
    from hub.extensions import make_engine
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/kopilka")
    previous = db.engine
    db.session.remove()
    db.engine = engine
    db.session.configure(bind=engine)
    try:
        yield app
    finally:
        db.session.remove()
        engine.dispose()
        db.engine = previous
        db.session.configure(bind=previous)
