"""Bonus accounts, lots and postings (written only by hub.ledger)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.orm import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow

POSTING_KINDS = ("accrual", "gift", "manual_credit", "manual_debit", "spend", "expiry",
                 "reversal", "restore", "hold", "hold_release")
LOT_KINDS = ("purchase", "gift", "referral", "manual", "restore", "debt")


class Account(TenantScoped, Base):
    """A customer's bonus account; `balance` caches the sum of its postings."""
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("customer_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36), ForeignKey("customers.id", ondelete="CASCADE"))
    balance: Mapped[int] = mapped_column(Kopecks, default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __mapper_args__ = {"version_id_col": version}


class Posting(TenantScoped, Base):
    """One append-only movement of bonuses; never updated or deleted."""
    __tablename__ = "postings"
    __table_args__ = (Index("ix_postings_account_moment", "account_id", "moment"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Kopecks)               # signed
    moment: Mapped[datetime] = mapped_column(UTCDateTime)      # business time
    receipt_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    return_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Lot(TenantScoped, Base):
    """Bonuses from one accrual: what is left of them, when they start and burn."""
    __tablename__ = "lots"
    __table_args__ = (Index("ix_lots_account_expiry", "account_id", "expires_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("accounts.id", ondelete="CASCADE"))
    posting_id: Mapped[str] = mapped_column(String(36), ForeignKey("postings.id"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Kopecks)
    remaining: Mapped[int] = mapped_column(Kopecks)           # negative only for a debt lot
    active_from: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    follows_purchases: Mapped[bool] = mapped_column(default=False)  # since_last_purchase redates it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Relationships only order the inserts of one flush (posting before its lots and draws).
    posting: Mapped[Posting] = relationship(lazy="raise")


class LotDraw(TenantScoped, Base):
    """How much a posting took from (negative) or gave back to (positive) one lot."""
    __tablename__ = "lot_draws"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    posting_id: Mapped[str] = mapped_column(String(36), ForeignKey("postings.id"), index=True)
    lot_id: Mapped[str] = mapped_column(String(36), ForeignKey("lots.id"), index=True)
    amount: Mapped[int] = mapped_column(Kopecks)
    posting: Mapped[Posting] = relationship(lazy="raise")
    lot: Mapped[Lot] = relationship(lazy="raise")


class Hold(TenantScoped, Base):
    """Bonuses reserved by a quote at a till: not spendable elsewhere, not yet spent.

    The hold posting draws lots like a spend; releasing it (cleared receipt, timeout, or the
    commit that turns it into the spend) gives exactly those lots back.
    """
    __tablename__ = "holds"
    __table_args__ = (Index("ix_holds_ref", "tenant_id", "source", "reference"),
                      Index("ix_holds_due", "status", "expires_at"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("accounts.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(60))
    reference: Mapped[str] = mapped_column(String(200))      # the till's receipt id
    amount: Mapped[int] = mapped_column(Kopecks)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active|released|expired|committed
    posting_id: Mapped[str] = mapped_column(String(36), ForeignKey("postings.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    posting: Mapped[Posting] = relationship(lazy="raise")
