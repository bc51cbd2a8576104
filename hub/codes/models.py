"""hub.codes.models: split out of hub.staff.models (issue 18)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, TenantScoped, UTCDateTime, new_id


class WebCode(TenantScoped, Base):
    """A one-time code sent to a phone (participant's login, registration at the cashier's
    workplace). Only a hash is kept."""
    __tablename__ = "web_codes"
    __table_args__ = (Index("ix_web_codes_lookup", "tenant_id", "phone", "purpose"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(30))
    code_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
