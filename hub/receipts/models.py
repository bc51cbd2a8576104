from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow


class Receipt(TenantScoped, Base):
    """A committed sale with the quote it was committed with."""
    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("tenant_id", "source", "external_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(30))
    external_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("customers.id"),
                                                    nullable=True, index=True)
    moment: Mapped[datetime] = mapped_column(UTCDateTime)
    store: Mapped[str | None] = mapped_column(String(100), nullable=True)
    cashier: Mapped[str | None] = mapped_column(String(100), nullable=True)
    payment_method: Mapped[str | None] = mapped_column(String(20), nullable=True)
    amount: Mapped[int] = mapped_column(Kopecks)
    level_discount: Mapped[int] = mapped_column(Kopecks, default=0)
    bonus_spent: Mapped[int] = mapped_column(Kopecks, default=0)
    bonus_earned: Mapped[int] = mapped_column(Kopecks, default=0)
    amount_to_pay: Mapped[int] = mapped_column(Kopecks)
    level_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    lines: Mapped[list] = mapped_column(JSON)        # positions with their quote, kopecks
    returned: Mapped[dict] = mapped_column(JSON, default=dict)  # position id -> quantity (str)
    response: Mapped[dict] = mapped_column(JSON)     # the answer given at commit
    # The reference prefix of the certificate payments this sale took (None: none); a return
    # of the sale refunds them first (hub.receipts.operations.return_sale).
    certificate_prefix: Mapped[str | None] = mapped_column(String(240), nullable=True)
    # What analytics reads of the sale (specs/analytics.md D3), written once at commit by
    # hub.analytics.operations.record_sale; NULL on sales committed before it existed.
    gross: Mapped[int | None] = mapped_column(Kopecks, nullable=True)          # amount - certificates sold
    promo_discount: Mapped[int | None] = mapped_column(Kopecks, nullable=True)
    bonus_paid: Mapped[int | None] = mapped_column(Kopecks, nullable=True)     # roubles paid with bonuses
    paid: Mapped[int | None] = mapped_column(Kopecks, nullable=True)           # amount_to_pay - certificates sold
    cogs: Mapped[int | None] = mapped_column(Kopecks, nullable=True)           # NULL: no cost or margin known
    line_count: Mapped[int | None] = mapped_column(Integer, nullable=True)     # positions but certificates
    first_purchase: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    member: Mapped[str | None] = mapped_column(String(12), nullable=True)      # participant | anonymous
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReceiptReturn(TenantScoped, Base):
    __tablename__ = "receipt_returns"
    __table_args__ = (UniqueConstraint("tenant_id", "source", "external_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(30))
    external_id: Mapped[str] = mapped_column(String(200))
    receipt_id: Mapped[str] = mapped_column(String(36), ForeignKey("receipts.id"), index=True)
    moment: Mapped[datetime] = mapped_column(UTCDateTime)
    quantities: Mapped[dict] = mapped_column(JSON)
    amount: Mapped[int] = mapped_column(Kopecks)
    amount_returned: Mapped[int] = mapped_column(Kopecks)
    bonus_spent_restored: Mapped[int] = mapped_column(Kopecks)
    bonus_earned_reversed: Mapped[int] = mapped_column(Kopecks)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Operation(TenantScoped, Base):
    """The idempotency record of a POS call: same key again returns the first answer."""
    __tablename__ = "operations"
    __table_args__ = (UniqueConstraint("tenant_id", "source", "external_id", "kind"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(30))
    external_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(default=201)
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
