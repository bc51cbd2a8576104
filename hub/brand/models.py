"""The shop's brand: its colour and logo, shown on the participant's cabinet, the Wallet pass and
the counter poster."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, UTCDateTime, utcnow


class Brand(Base):
    """One row per tenant; no row means the hub's own colour and no logo."""
    __tablename__ = "brands"
    tenant_id: Mapped[str] = mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"),
                                           primary_key=True)
    color: Mapped[str | None] = mapped_column(String(7), nullable=True)         # "#1f6feb"
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)      # re-encoded PNG
    logo_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
