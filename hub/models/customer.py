from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow


class Customer(TenantScoped, Base):
    """A loyalty-program participant; the phone is the identity, a card is optional."""
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),
                      UniqueConstraint("tenant_id", "card_number"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    phone: Mapped[str] = mapped_column(String(20))            # E.164
    card_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    middle_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    gender: Mapped[str | None] = mapped_column(String(10), nullable=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    relatives: Mapped[list] = mapped_column(JSON, default=list)   # [{name, relation, birth_date}]
    consents: Mapped[dict] = mapped_column(JSON, default=dict)    # {sms: {given, at, source}}
    source: Mapped[str] = mapped_column(String(30), default="api")
    # Purchase statistics, kept with each sale and return in the same transaction.
    level_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    total_purchases: Mapped[int] = mapped_column(Kopecks, default=0)
    purchase_count: Mapped[int] = mapped_column(default=0)
    last_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
