"""The participant's cabinet: reviews of purchases and the tenant's Apple Wallet pass settings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, TenantScoped, UTCDateTime, new_id, utcnow

REVIEW_TEXT_MAX = 2000


class Review(TenantScoped, Base):
    """A customer's rating (1–5) and words about one of their receipts; one per receipt and
    customer (sending the form again edits it)."""
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("receipt_id", "customer_id"),
                      CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),
                      Index("ix_reviews_newest", "tenant_id", "created_at", "id"),
                      Index("ix_reviews_rating", "tenant_id", "rating", "created_at"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36), ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    receipt_id: Mapped[str] = mapped_column(String(36), ForeignKey("receipts.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


