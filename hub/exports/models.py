"""hub.exports.models: split out of hub.staff.models (issue 18)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, TenantScoped, UTCDateTime, new_id, utcnow


class Export(TenantScoped, Base):
    """An Excel export (clients, or transactions for a period) built by a background job; the
    job keeps its progress here and the file beside the database (hub/web/cabinet/exports.py)."""
    __tablename__ = "web_exports"
    __table_args__ = (Index("ix_web_exports_tenant_created", "tenant_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))                     # clients | transactions
    params: Mapped[dict] = mapped_column(JSON, default=dict)          # {"date_from", "date_to"} (local dates)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued|running|done|failed
    rows_total: Mapped[int | None] = mapped_column(nullable=True)
    rows_done: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    file_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    user_email: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
