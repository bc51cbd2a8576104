"""hub.certificates.models: split out of hub.promotions.models (issue 18)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow


CERTIFICATE_STATUSES = ("issued", "active", "blocked")


CERTIFICATE_POSTINGS = ("activation", "redeem", "restore", "expiry")


class GiftCertificate(TenantScoped, Base):
    """A gift certificate: its own account (a liability of the tenant). `balance` caches the
    sum of its postings and changes only under the row lock (SELECT … FOR UPDATE)."""
    __tablename__ = "gift_certificates"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(40))
    nominal: Mapped[int] = mapped_column(Kopecks)
    balance: Mapped[int] = mapped_column(Kopecks, default=0)
    status: Mapped[str] = mapped_column(String(20), default="issued")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    valid_days: Mapped[int | None] = mapped_column(Integer, nullable=True)   # counted from the sale
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sale_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __mapper_args__ = {"version_id_col": version}


class CertificatePosting(TenantScoped, Base):
    """One append-only movement of a certificate's money; never updated or deleted."""
    __tablename__ = "certificate_postings"
    __table_args__ = (UniqueConstraint("certificate_id", "kind", "reference"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    certificate_id: Mapped[str] = mapped_column(String(36), ForeignKey("gift_certificates.id",
                                                                       ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Kopecks)          # signed
    moment: Mapped[datetime] = mapped_column(UTCDateTime)
    # The idempotency key of the operation; a refund's is the redemption's reference, \x1f and
    # "return:<source>:<return external id>" (hub.certificates.operations.return_reference).
    reference: Mapped[str] = mapped_column(String(600))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
