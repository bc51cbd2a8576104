"""A tenant's connections to outside systems."""
from __future__ import annotations

import secrets as pysecrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.secrets import decrypt, encrypt, token_hash
from hub.errors import Conflict, Invalid, NotFound
from hub.models import Connection
from hub.models.base import utcnow

KINDS = ("moysklad", "evotor", "onec")


def create_connection(session: Session, tenant_id: str, *, kind: str, external_account: str,
                      name: str = "", credentials: dict | None = None,
                      settings: dict | None = None) -> tuple[Connection, str]:
    """A new connection and the token the outside system will present to the hub (shown once)."""
    if kind not in KINDS:
        raise Invalid("unknown_kind", f"Неизвестный тип подключения «{kind}».", {"kind": list(KINDS)})
    inbound = pysecrets.token_urlsafe(32)
    conn = Connection(tenant_id=tenant_id, kind=kind, name=name or external_account,
                      external_account=external_account, settings=settings or {},
                      credentials=encrypt(credentials) if credentials else None,
                      inbound_token_hash=token_hash(inbound))
    session.add(conn)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("connection_exists",
                       f"Подключение {kind} для «{external_account}» уже существует.") from exc
    return conn, inbound


def list_connections(session: Session, tenant_id: str, kind: str | None = None) -> list[Connection]:
    stmt = select(Connection).where(Connection.tenant_id == tenant_id)
    if kind:
        stmt = stmt.where(Connection.kind == kind)
    return list(session.scalars(stmt.order_by(Connection.created_at)))


def get_connection(session: Session, tenant_id: str, connection_id: str) -> Connection:
    conn = session.scalar(select(Connection).where(Connection.tenant_id == tenant_id,
                                                   Connection.id == connection_id))
    if conn is None:
        raise NotFound("connection_not_found", "Подключение не найдено.")
    return conn


def connection_by_account(session: Session, kind: str, external_account: str) -> Connection | None:
    return session.scalar(select(Connection).where(Connection.kind == kind,
                                                   Connection.external_account == external_account))


def connection_by_token(session: Session, kind: str, token: str | None) -> Connection | None:
    if not token:
        return None
    return session.scalar(select(Connection).where(
        Connection.kind == kind, Connection.inbound_token_hash == token_hash(token),
        Connection.status == "active"))


def credentials_of(conn: Connection) -> dict:
    return decrypt(conn.credentials)


def set_credentials(conn: Connection, credentials: dict) -> None:
    conn.credentials = encrypt(credentials)
    conn.updated_at = utcnow()


def describe(conn: Connection) -> dict:
    """What may be shown: never the credentials themselves, only which are set."""
    return {"id": conn.id, "kind": conn.kind, "name": conn.name,
            "external_account": conn.external_account, "status": conn.status,
            "settings": conn.settings or {}, "credentials_set": sorted(credentials_of(conn)),
            "created_at": conn.created_at.isoformat()}
