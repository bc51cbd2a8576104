"""Process-wide objects: the database engine and session, set up by the app factory."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Foreign keys on; WAL so the cabinet can read while a till writes.
            # SQLite's own transaction handling is replaced by explicit BEGIN IMMEDIATE
            # so a write transaction takes the database lock up front (SQLite's form of
            # the account row lock).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # A database that does not answer fails a request (503) or a command (one line) within
    # seconds instead of hanging on the operating system's TCP timeout.
    connect_args: dict = {} if "connect_timeout" in url else {"connect_timeout": 5}
    parsed = make_url(url)
    if parsed.query.get("pooler") == "pgbouncer":
        # PgBouncer in transaction mode hands each transaction any server connection: a
        # statement psycopg prepared on one is unknown on the next. Never prepare (DEPLOY.md).
        parsed = parsed.difference_update_query(["pooler"])
        connect_args["prepare_threshold"] = None
    return create_engine(parsed, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args=connect_args)


class Database:
    """The engine and a scoped session; one session per request or job."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._made: tuple[str, Engine] | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))

    def configure(self, url: str, echo: bool = False) -> None:
        # Compared with the URL it was made from: the engine's own hides the password and
        # drops `pooler=`, and a job calls this at every run.
        if self.engine is not None and (str(self.engine.url) == url or self._made == (url, self.engine)):
            return
        if self.engine is not None:
            self.engine.dispose()
        self.engine = make_engine(url, echo)
        self._made = (url, self.engine)
        self.session.remove()
        self.session.configure(bind=self.engine)

    @property
    def is_postgres(self) -> bool:
        return self.engine is not None and self.engine.dialect.name == "postgresql"

    def new_session(self) -> Session:
        return sessionmaker(bind=self.engine, expire_on_commit=False)()


db = Database()


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """One transaction around a business act: commit when the block ends, roll back on any
    exception (BaseException too: a worker stopped mid-operation leaves no half-written rows
    and no open transaction holding an account's lock). Operations own their transaction
    through this; faces and adapters never commit (ARCHITECTURE.md, "Transactions")."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
