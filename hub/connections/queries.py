"""What the adapters read about their connections, so they never query the table themselves
(ARCHITECTURE.md: adapters reach the hub only through its operations and queries)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.connections.models import Connection


def connection_row(session: Session, connection_id: str, *, fresh: bool = False) -> Connection | None:
    """The connection with this id, whatever its tenant, kind or status (None when deleted);
    `fresh` reads it again from the database even when the session holds it."""
    return session.get(Connection, connection_id, populate_existing=fresh)


def active_connection_ids(session: Session, kind: str, tenant_id: str | None = None, *,
                          with_setting: str | None = None) -> list[str]:
    """Ids of the active connections of `kind` (one tenant's, when given), optionally only
    those whose settings hold a non-empty `with_setting`. Ends the read transaction."""
    stmt = select(Connection).where(Connection.kind == kind, Connection.status == "active")
    if tenant_id is not None:
        stmt = stmt.where(Connection.tenant_id == tenant_id)
    ids = [c.id for c in session.scalars(stmt)
           if with_setting is None or (c.settings or {}).get(with_setting)]
    session.rollback()
    return ids
