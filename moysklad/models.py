"""The adapter's own table: links to МойСклад counterparties.

Created by the migration hub/migrations/versions/0004_moysklad.py.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, TenantScoped, UTCDateTime, new_id, utcnow


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
    # The counterparty's name as the till registered it (search answers it unchanged).
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
