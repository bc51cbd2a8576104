"""The 1С adapter's own tables (migration hub/migrations/versions/0008_onec.py).

A 1С base is a `Connection` of kind "onec": its external_account is the base's name, its
encrypted credentials hold the login and password the cash desk (and the exchange) present.
None of these tables holds money or balances: bonuses move only through hub services.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow


def _connection_fk() -> Mapped[str]:
    return mapped_column(String(36), ForeignKey("connections.id", ondelete="CASCADE"))


class OnecCard(TenantScoped, Base):
    """A card as the 1С cash desks of one base see it: locked or not (the lock is a hold in
    the ledger under `reference`), and the last receipt calculated with it."""
    __tablename__ = "onec_cards"
    __table_args__ = (UniqueConstraint("connection_id", "customer_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = _connection_fk()
    customer_id: Mapped[str] = mapped_column(String(36))
    lock_no: Mapped[int] = mapped_column(default=0)                   # the reference's counter
    status: Mapped[str] = mapped_column(String(20), default="idle")  # idle|locked|written_off
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    held: Mapped[int] = mapped_column(Kopecks, default=0)
    positions: Mapped[list] = mapped_column(JSON, default=list)       # the last calculation
    store: Mapped[str | None] = mapped_column(String(100), nullable=True)
    calculated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_writeoff_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OnecWriteoff(TenantScoped, Base):
    """Bonuses a cash desk wrote off (writeoffclientbonuses): committed at once as the sale
    `receipt_external_id`; the receipt pulled later by OData claims it (never spent twice)."""
    __tablename__ = "onec_writeoffs"
    __table_args__ = (Index("ix_onec_writeoffs_open", "connection_id", "customer_id", "claimed_by"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = _connection_fk()
    customer_id: Mapped[str] = mapped_column(String(36))
    amount: Mapped[int] = mapped_column(Kopecks)
    receipt_external_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OnecDocument(TenantScoped, Base):
    """A 1С receipt (Document_ЧекККМ Ref_Key) and the hub receipt it was applied as."""
    __tablename__ = "onec_documents"
    __table_args__ = (UniqueConstraint("connection_id", "document_key"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = _connection_fk()
    document_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))                  # sale | return
    receipt_external_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OnecSync(TenantScoped, Base):
    """The periodic OData pull of one 1С base: how far its receipts were read (the sweep
    reads on from there, minus an overlap for late offline receipts) and its last error."""
    __tablename__ = "onec_sync"
    __table_args__ = (UniqueConstraint("connection_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = _connection_fk()
    synced_through: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class OnecExchange(TenantScoped, Base):
    """A CommerceML exchange session («Обмен с сайтом»): its cookie and, per file, how far
    the import got (so `mode=import` can answer `progress` and continue)."""
    __tablename__ = "onec_exchanges"
    __table_args__ = (UniqueConstraint("cookie"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = _connection_fk()
    cookie: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict] = mapped_column(JSON, default=dict)        # name -> {"size", "done", "status"}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
