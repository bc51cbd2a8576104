"""The 1С adapter's writes to its own tables (onec/models.py): each one act, committed here
through hub.extensions.unit_of_work, so the adapter's views and its pull never commit
(ARCHITECTURE.md, "Transactions"; issue 18)."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.extensions import unit_of_work
from hub.moments import utcnow
from onec.models import OnecCard, OnecDocument, OnecExchange, OnecSync, OnecWriteoff

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection


# --- the CommerceML exchange ---------------------------------------------------------------

def open_exchange(session: Session, conn: Connection) -> OnecExchange:
    """A new exchange session (checkauth) with its cookie."""
    with unit_of_work(session):
        ex = OnecExchange(tenant_id=conn.tenant_id, connection_id=conn.id, cookie=secrets.token_hex(24),
                          files={})
        session.add(ex)
    return ex


def save_exchange_files(session: Session, ex: OnecExchange, files: dict) -> None:
    """What the exchange has received, unpacked and imported so far."""
    with unit_of_work(session):
        ex.files, ex.updated_at = files, utcnow()


# --- the loyalty server's cards ------------------------------------------------------------

def save_card(session: Session, card: OnecCard, positions: list[dict], store: str | None) -> None:
    """The receipt a card was last calculated for (what its write-off will commit)."""
    with unit_of_work(session):
        card.positions, card.store, card.status = positions, store, "idle"
        card.calculated_at = card.updated_at = utcnow()


# --- pulled documents ----------------------------------------------------------------------

def _document(conn: Connection, key: str, kind: str, receipt_external_id: str) -> OnecDocument:
    return OnecDocument(tenant_id=conn.tenant_id, connection_id=conn.id, document_key=key,
                        kind=kind, receipt_external_id=receipt_external_id[:100])


def record_document(session: Session, conn: Connection, key: str, kind: str,
                    receipt_external_id: str) -> None:
    """A pulled document applied (to the receipt it made or reversed)."""
    with unit_of_work(session):
        session.add(_document(conn, key, kind, receipt_external_id))


def claim_writeoff(session: Session, conn: Connection, key: str, kind: str, customer_id: str,
                   amount: int) -> tuple[str, bool] | None:
    """The oldest open write-off of this card and amount, claimed by the pulled receipt (locked)
    and the document recorded with it; (write-off id, was it flagged for review), or None
    (nothing written) when no such write-off is open."""
    with unit_of_work(session):
        stmt = (select(OnecWriteoff).where(OnecWriteoff.tenant_id == conn.tenant_id,
                                           OnecWriteoff.connection_id == conn.id,
                                           OnecWriteoff.customer_id == customer_id,
                                           OnecWriteoff.claimed_by.is_(None),
                                           OnecWriteoff.amount == amount)
                .order_by(OnecWriteoff.created_at, OnecWriteoff.id).limit(1).with_for_update())
        writeoff = session.scalar(stmt)
        if writeoff is None:
            session.rollback()
            return None
        writeoff.claimed_by, writeoff.claimed_at = key[:200], utcnow()
        session.add(_document(conn, key, kind, writeoff.receipt_external_id))
        found = (writeoff.id, writeoff.flagged_at is not None)
    return found


def flag_writeoff(session: Session, writeoff_id: str, at: datetime) -> None:
    """A write-off no receipt claimed in time, sent for review."""
    with unit_of_work(session):
        writeoff = session.get(OnecWriteoff, writeoff_id)
        if writeoff is not None:
            writeoff.flagged_at = at


# --- the periodic pull's cursor ------------------------------------------------------------

def sync_state(session: Session, conn: Connection) -> OnecSync:
    """The connection's pull cursor, created (and committed) on its first run."""
    state = session.scalar(select(OnecSync).where(OnecSync.connection_id == conn.id))
    if state is None:
        with unit_of_work(session):
            session.add(OnecSync(tenant_id=conn.tenant_id, connection_id=conn.id))
        state = session.scalar(select(OnecSync).where(OnecSync.connection_id == conn.id))
    return state


def finish_sync(session: Session, connection_id: str, at: datetime, error: str | None) -> None:
    """One pull run done: when, its error, and (when it succeeded) how far it got."""
    with unit_of_work(session):
        state = session.scalar(select(OnecSync).where(OnecSync.connection_id == connection_id))
        state.last_run_at, state.last_error = at, error
        if error is None:
            state.synced_through = at
