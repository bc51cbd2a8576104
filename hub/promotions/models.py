"""Promotions, promo codes and gift certificates (issue 12)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow


class Promotion(TenantScoped, Base):
    """A promotion as the owner set it up; `settings` is its stored form (kopecks, decimal
    strings, "HH:MM", ISO moments), turned into the engine's Promotion by hub.promotions.operations."""
    __tablename__ = "promotions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PromotionRevision(TenantScoped, Base):
    """Bumped with every change of a tenant's promotions: the parsed set is cached per revision."""
    __tablename__ = "promotion_revisions"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class PromotionUse(TenantScoped, Base):
    """A promotion applied to a committed sale (per-customer limits count these)."""
    __tablename__ = "promotion_uses"
    __table_args__ = (UniqueConstraint("receipt_id", "promotion_id"),
                      Index("ix_promotion_uses_customer", "tenant_id", "customer_id", "promotion_id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    promotion_id: Mapped[str] = mapped_column(String(36), ForeignKey("promotions.id", ondelete="CASCADE"))
    customer_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    receipt_id: Mapped[str] = mapped_column(String(36), ForeignKey("receipts.id", ondelete="CASCADE"))
    discount: Mapped[int] = mapped_column(Kopecks, default=0)
    bonus: Mapped[int] = mapped_column(Kopecks, default=0)
    # What a return needs of a promotion whose discount depends on other goods of the receipt
    # (N+M, a gift): its terms and which lines it counted and discounted.
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # Set when a return gave the use back (the customer may use a limited promotion again).
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PromoCode(TenantScoped, Base):
    """One code of a batch, bound to a promotion; `uses` counts redemptions (locked to redeem)."""
    __tablename__ = "promo_codes"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),
                      Index("ix_promo_codes_batch", "tenant_id", "batch"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    promotion_id: Mapped[str] = mapped_column(String(36), ForeignKey("promotions.id", ondelete="CASCADE"),
                                              index=True)
    batch: Mapped[str] = mapped_column(String(36))
    code: Mapped[str] = mapped_column(String(40))
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)        # None: unlimited
    per_customer_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PromoCodeRedemption(TenantScoped, Base):
    __tablename__ = "promo_code_redemptions"
    __table_args__ = (UniqueConstraint("code_id", "receipt_id"),
                      Index("ix_promo_code_redemptions_customer", "code_id", "customer_id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code_id: Mapped[str] = mapped_column(String(36), ForeignKey("promo_codes.id", ondelete="CASCADE"))
    customer_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    receipt_id: Mapped[str] = mapped_column(String(36), ForeignKey("receipts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


