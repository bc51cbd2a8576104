"""hub.wallet.models: split out of hub.reviews.models (issue 18)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, TenantScoped, UTCDateTime, new_id, utcnow


class WalletPassConfig(TenantScoped, Base):
    """A tenant's Apple Wallet pass identity: the pass type id and team id of its Apple
    developer account, and the pass certificate, its private key and Apple's WWDR
    intermediate (PEM, encrypted together as one Fernet token)."""
    __tablename__ = "wallet_pass_configs"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    pass_type_id: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[str] = mapped_column(String(20))
    credentials: Mapped[str] = mapped_column(Text)         # Fernet token of {"cert", "key", "wwdr"}
    cert_subject: Mapped[str] = mapped_column(String(300), default="")
    cert_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
