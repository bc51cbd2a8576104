"""The adapter's own tables: verification codes and links to МойСклад counterparties.

Created by the migration hub/migrations/versions/0004_moysklad.py.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, TenantScoped, UTCDateTime, new_id, utcnow


class VerificationCode(TenantScoped, Base):
    """A one-time code sent to a customer: to confirm a new registration at a till
    (purpose "counterparty", subject = phone in E.164) or a bonus spending
    (purpose "spending", subject = customer id). Only a hash of the code is kept."""
    __tablename__ = "verification_codes"
    __table_args__ = (Index("ix_verification_codes_lookup", "connection_id", "purpose", "subject"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("connections.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)


class CounterpartyLink(TenantScoped, Base):
    """МойСклад's counterparty id (msId) of one of our customers, per connected account."""
    __tablename__ = "moysklad_counterparties"
    __table_args__ = (UniqueConstraint("connection_id", "ms_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("connections.id", ondelete="CASCADE"))
    ms_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
