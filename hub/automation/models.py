"""Automation: trigger settings, mechanic events (what each mechanic granted or sent),
win-back chains, segments, referrals and mailings (issue 10)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow
from hub.customers.models import Customer
from hub.ledger.models import Lot


class AutomationSettings(TenantScoped, Base):
    """The tenant's triggers, expiry warnings, segment thresholds and referral program."""
    __tablename__ = "automation_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    settings: Mapped[dict] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    # The typical interval between purchases (segments' T), recomputed at most daily.
    interval_days: Mapped[int | None] = mapped_column(nullable=True)
    interval_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The recency segments' last pass, its last full pass and the parameters it used (T:F:tz).
    segments_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    segments_full_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    segments_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MechanicEvent(TenantScoped, Base):
    """One occurrence of a mechanic for one customer: claimed first (the unique key makes
    every trigger idempotent), then done with the posting it wrote and the message it queued.
    Analytics count conversion, revenue and cost per mechanic from these rows."""
    __tablename__ = "mechanic_events"
    __table_args__ = (UniqueConstraint("tenant_id", "mechanic", "customer_id", "occurrence"),
                      Index("ix_mechanic_events_status", "tenant_id", "status"),
                      Index("ix_mechanic_events_receipt", "receipt_id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    mechanic: Mapped[str] = mapped_column(String(30))
    rule_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    customer_id: Mapped[str] = mapped_column(String(36), ForeignKey("customers.id", ondelete="CASCADE"),
                                             index=True)
    occurrence: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(Kopecks, default=0)          # bonuses granted (or taken back)
    valid_days: Mapped[int | None] = mapped_column(nullable=True)
    delay_days: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="claimed")   # claimed|done|skipped
    receipt_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    posting_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    active_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    moment: Mapped[datetime] = mapped_column(UTCDateTime)            # when it was due
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WinbackChain(TenantScoped, Base):
    """Steps "N days without a purchase -> gift valid K days -> message" for an audience."""
    __tablename__ = "winback_chains"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    audience: Mapped[dict] = mapped_column(JSON, default=dict)       # segment filters
    steps: Mapped[list] = mapped_column(JSON, default=list)          # [{days, amount, valid_days, delay_days}]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)   # enabled at
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Segment(TenantScoped, Base):
    """A custom segment: filters over the customer base, evaluated set-based on demand."""
    __tablename__ = "segments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerSegment(TenantScoped, Base):
    """The recency (RFM) segment of each customer, recomputed set-based by the sweep."""
    __tablename__ = "customer_segments"
    __table_args__ = (Index("ix_customer_segments_tenant_segment", "tenant_id", "segment"),)
    customer_id: Mapped[str] = mapped_column(String(36), ForeignKey("customers.id", ondelete="CASCADE"),
                                             primary_key=True)
    segment: Mapped[str] = mapped_column(String(20))
    valuable: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReferralCode(TenantScoped, Base):
    __tablename__ = "referral_codes"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    customer_id: Mapped[str] = mapped_column(String(36), ForeignKey("customers.id", ondelete="CASCADE"),
                                             primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Referral(TenantScoped, Base):
    """Who invited whom (level 1); higher levels follow the inviter's own referral."""
    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("invitee_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    invitee_id: Mapped[str] = mapped_column(String(36), ForeignKey("customers.id", ondelete="CASCADE"))
    inviter_id: Mapped[str] = mapped_column(String(36), ForeignKey("customers.id", ondelete="CASCADE"),
                                            index=True)
    via: Mapped[str] = mapped_column(String(10))                     # phone|card|code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Mailing(TenantScoped, Base):
    """A one-off (or scheduled) message to a segment, optionally with gift bonuses."""
    __tablename__ = "mailings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    text: Mapped[str] = mapped_column(Text)
    gift: Mapped[dict | None] = mapped_column(JSON, nullable=True)   # {amount, valid_days, delay_days}
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft|scheduled|sent
    recipients: Mapped[int] = mapped_column(default=0)
    estimated_cost: Mapped[int] = mapped_column(Kopecks, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Indexes the sweeps need on tables owned elsewhere, declared here so Alembic sees them:
# "N days without a purchase" is a range scan per tenant (registrations use the cabinets'
# ix_customers_tenant_created, hub/staff/models.py), expiry
# warnings (and the expiry sweep) look up lots by tenant and burn moment.
Index("ix_customers_tenant_last_purchase", Customer.tenant_id, Customer.last_purchase_at)
Index("ix_lots_tenant_expires", Lot.tenant_id, Lot.expires_at)
