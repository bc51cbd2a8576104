"""A tenant's connections to outside systems."""
from __future__ import annotations

import logging
import secrets as pysecrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.secrets import Undecryptable, decrypt, encrypt, token_hash
from hub.errors import Conflict, Invalid, NotFound
from hub.extensions import unit_of_work
from hub.staff.operations import Actor, record
from hub.connections.models import Connection
from hub.orm import utcnow

log = logging.getLogger("kopilka.connections")

KINDS = ("moysklad", "evotor", "onec")


# Kinds whose accounts are linked only by the vendor's own flow, which proves ownership
# (Evotor: user/create and user/verify through the Evotor cloud); a tenant cannot claim them.
VENDOR_LINKED = ("evotor",)


def create_connection(session: Session, tenant_id: str, *, kind: str, external_account: str,
                      name: str = "", credentials: dict | None = None,
                      settings: dict | None = None, vendor_flow: bool = False) -> tuple[Connection, str]:
    """A new connection and the token the outside system will present to the hub (shown once).

    Connections are unique per tenant: another tenant's connection to the same account is
    neither confirmed nor blocked by this call (which connection a vendor's call belongs to
    is decided by the vendor's token, never by the account id alone).
    """
    if kind not in KINDS:
        raise Invalid("unknown_kind", f"Неизвестный тип подключения «{kind}».", {"kind": list(KINDS)})
    if kind in VENDOR_LINKED and not vendor_flow:
        raise Invalid("vendor_linked", "Подключение Эвотор создаётся установкой приложения в "
                      "Эвотор.Маркете (облако Эвотор само связывает пользователя с организацией).",
                      {"kind": ["создаётся из Эвотор.Маркета"]})
    external_account = (external_account or "").strip()
    if not external_account:
        raise Invalid("account_required", "Укажите идентификатор учётной записи.",
                      {"external_account": ["Обязательное поле."]})
    if session.scalar(select(Connection.id).where(Connection.tenant_id == tenant_id,
                                                  Connection.kind == kind,
                                                  Connection.external_account == external_account)):
        raise Conflict("connection_exists",
                       f"У организации уже есть подключение {kind} для «{external_account}».")
    inbound = pysecrets.token_urlsafe(32)
    conn = Connection(tenant_id=tenant_id, kind=kind, name=name or external_account,
                      external_account=external_account, settings=settings or {},
                      credentials=encrypt(credentials) if credentials else None,
                      inbound_token_hash=token_hash(inbound))
    session.add(conn)
    try:
        session.flush()
    except IntegrityError as exc:
        # The tenant's own duplicate created at the same moment, or (vendor flow only) the
        # vendor's account linked by a concurrent call: the caller's flow decides what to say.
        session.rollback()
        raise Conflict("connection_exists",
                       f"У организации уже есть подключение {kind} для «{external_account}».") from exc
    return conn, inbound


def add_connection(session: Session, tenant_id: str, by: Actor, **fields) -> tuple[Connection, str]:
    """A person adds a connection in the cabinet: create_connection and its audit entry,
    committed together (the token or password is shown once, after the commit)."""
    with unit_of_work(session):
        conn, inbound = create_connection(session, tenant_id, **fields)
        record(session, tenant_id, by, "connection.create", "connection", conn.id,
               {"kind": conn.kind, "name": conn.name})
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


def connection_by_account(session: Session, kind: str, external_account: str,
                          tenant_id: str | None = None) -> Connection | None:
    """The connection to an outside account: the tenant's own (with `tenant_id`), or — for
    the kinds the vendor links itself (Evotor), whose accounts belong to one tenant at a
    time — the one linked by the vendor's flow. For other kinds an account id alone proves
    nothing (any tenant may name any account), so without a tenant there is no answer."""
    stmt = select(Connection).where(Connection.kind == kind,
                                    Connection.external_account == external_account)
    if tenant_id is not None:
        return session.scalar(stmt.where(Connection.tenant_id == tenant_id))
    if kind not in VENDOR_LINKED:
        return None
    return session.scalar(stmt)


def connection_by_id(session: Session, kind: str, connection_id: str) -> Connection | None:
    """A connection of `kind` by its id (the id in a vendor's callback URL); the caller
    still checks the vendor's proof (token, secret) before trusting the call."""
    if not connection_id or len(connection_id) > 36:
        return None
    conn = session.get(Connection, connection_id)
    return conn if conn is not None and conn.kind == kind else None


def connection_by_token(session: Session, kind: str, token: str | None, *,
                        active_only: bool = True) -> Connection | None:
    """The connection whose inbound token the vendor presents (the proof of whose call it is)."""
    if not token:
        return None
    stmt = select(Connection).where(Connection.kind == kind,
                                    Connection.inbound_token_hash == token_hash(token))
    if active_only:
        stmt = stmt.where(Connection.status == "active")
    return session.scalar(stmt)


# The connection's credentials_state when its stored credentials no longer open.
NEEDS_NEW_CREDENTIALS = "needs_new"


class CredentialsUnreadable(Conflict):
    """The connection's stored credentials cannot be decrypted with any configured key:
    the connection is marked `needs_new` and its owner must enter them again."""

    def __init__(self, conn: Connection):
        super().__init__("credentials_unreadable",
                         "Учётные данные подключения не расшифровываются текущими ключами "
                         "шифрования: введите их заново.", {"connection": conn.id})
        self.connection_id = conn.id


def credentials_of(conn: Connection, *, required: bool = False) -> dict:
    """The connection's credentials, decrypted.

    Credentials no configured key opens (the key was lost or replaced) never raise a bare
    error: the connection is marked as needing new credentials (persisted when the caller
    commits) and the answer is {} — every reader treats that as "no token set" — or, with
    required=True, CredentialsUnreadable (a Conflict, 409) is raised."""
    try:
        return decrypt(conn.credentials)
    except Undecryptable:
        if conn.credentials_state != NEEDS_NEW_CREDENTIALS:
            log.warning("connection %s: stored credentials cannot be decrypted; "
                        "marked as needing new credentials", conn.id)
            conn.credentials_state = NEEDS_NEW_CREDENTIALS
        if required:
            raise CredentialsUnreadable(conn) from None
        return {}


def mark_unreadable(conn: Connection) -> None:
    conn.credentials_state = NEEDS_NEW_CREDENTIALS





# --- an adapter's writes to its own connection: each one act, committed here (issue 18:
# adapters never commit) -------------------------------------------------------------------

def new_webhook_secret(conn: Connection) -> str:
    """A fresh random secret for the connection's webhook URL (only its hash is stored)."""
    secret = pysecrets.token_urlsafe(32)
    conn.webhook_secret_hash = token_hash(secret)
    conn.updated_at = utcnow()
    return secret


def rotate_webhook_secret(session: Session, conn: Connection) -> str:
    """A new webhook secret, its hash committed before the caller shows it to the vendor
    (the vendor never holds a URL the hub does not know)."""
    with unit_of_work(session):
        return new_webhook_secret(conn)


def rotate_inbound_token(session: Session, conn: Connection) -> tuple[str, str | None]:
    """A new inbound token for the connection, its hash committed (replacing the old one)
    before the vendor is told; returns (token, the previous hash) so a failed registration
    can put it back (restore_inbound_token)."""
    with unit_of_work(session):
        token = pysecrets.token_urlsafe(32)
        previous = conn.inbound_token_hash
        conn.inbound_token_hash = token_hash(token)
        conn.updated_at = utcnow()
    return token, previous


def restore_inbound_token(session: Session, connection_id: str, previous: str | None) -> None:
    """Put back the inbound token hash a refused registration replaced."""
    with unit_of_work(session):
        conn = session.get(Connection, connection_id, populate_existing=True)
        conn.inbound_token_hash = previous


def update_connection_settings(session: Session, conn: Connection, **values) -> None:
    """Merge `values` into the connection's settings and commit them."""
    with unit_of_work(session):
        conn.settings = {**(conn.settings or {}), **values}   # a new dict: JSON change detected


def set_credentials(conn: Connection, credentials: dict) -> None:
    conn.credentials = encrypt(credentials)
    conn.credentials_state = "ok"
    conn.updated_at = utcnow()


def describe(conn: Connection) -> dict:
    """What may be shown: never the credentials themselves, only which are set."""
    credentials = credentials_of(conn)
    return {"id": conn.id, "kind": conn.kind, "name": conn.name,
            "external_account": conn.external_account, "status": conn.status,
            "settings": conn.settings or {}, "credentials_set": sorted(credentials),
            "credentials_state": conn.credentials_state or "ok",
            "created_at": conn.created_at.isoformat()}
