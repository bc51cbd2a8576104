"""The Evotor adapter's own tables (migration hub/migrations/versions/0005_evotor.py).

An Evotor user (account "01-000000000000001") is a `Connection` of kind "evotor": its
external_account is the Evotor user id, its inbound token hash is the user token's, and its
encrypted credentials hold the user token and the cloud token. These tables keep what the
adapter needs around it; none of them holds money or balances.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow


def _connection_fk() -> Mapped[str]:
    return mapped_column(String(36), ForeignKey("connections.id", ondelete="CASCADE"))


class EvotorCloudEvent(TenantScoped, Base):
    """An installation or subscription event already applied (Evotor re-sends them)."""
    __tablename__ = "evotor_cloud_events"
    __table_args__ = (UniqueConstraint("connection_id", "event_key"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = _connection_fk()
    event_key: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(60))
    body: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvotorSubscription(TenantScoped, Base):
    """The state of one subscription to the app, as the newest event (by sequence) says."""
    __tablename__ = "evotor_subscriptions"
    __table_args__ = (UniqueConstraint("subscription_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = _connection_fk()
    subscription_id: Mapped[str] = mapped_column(String(100))
    product_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    plan_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(20))          # active | cancelled | terminated
    last_event: Mapped[str] = mapped_column(String(60))
    sequence_number: Mapped[int] = mapped_column(BigInteger, default=0)
    event_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvotorDevice(TenantScoped, Base):
    """A smart terminal of the user and the store it stands in (the till of a store)."""
    __tablename__ = "evotor_devices"
    __table_args__ = (UniqueConstraint("connection_id", "device_uuid"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = _connection_fk()
    device_uuid: Mapped[str] = mapped_column(String(100))
    store_uuid: Mapped[str | None] = mapped_column(String(100), nullable=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvotorProduct(TenantScoped, Base):
    """A product of a store with the groups it belongs to (its group and their parents, by id
    and by name), so group rules work when a receipt arrives without groups."""
    __tablename__ = "evotor_products"
    __table_args__ = (UniqueConstraint("connection_id", "store_uuid", "product_id"),
                      Index("ix_evotor_products_lookup", "connection_id", "product_id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = _connection_fk()
    store_uuid: Mapped[str] = mapped_column(String(100))
    product_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300), default="")
    is_group: Mapped[bool] = mapped_column(default=False)
    parent_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    groups: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvotorReceipt(TenantScoped, Base):
    """An open receipt the terminal app asked about: what the last quote saw and held, so
    commit, release and the document path know the customer and the bonuses held."""
    __tablename__ = "evotor_receipts"
    __table_args__ = (UniqueConstraint("tenant_id", "receipt_uuid"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = _connection_fk()
    receipt_uuid: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    store_uuid: Mapped[str | None] = mapped_column(String(100), nullable=True)
    device_uuid: Mapped[str | None] = mapped_column(String(100), nullable=True)
    employee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    positions: Mapped[list] = mapped_column(JSON, default=list)   # kopecks, as quoted
    spend: Mapped[int] = mapped_column(Kopecks, default=0)        # bonuses held by the last quote
    hold_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="quoted")  # quoted|released|committed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvotorPendingEvent(Base):
    """An installation or subscription event for an Evotor user not linked to any tenant yet.

    Evotor re-sends an unanswered event for three days; answering 404 until the user links
    helps nobody, so the event is kept here (acknowledged with 200) and applied when
    /user/create or /user/verify links the user. The one table without a tenant: the
    tenant is exactly what is not known yet. Rows are deleted once applied.
    """
    __tablename__ = "evotor_pending_events"
    __table_args__ = (UniqueConstraint("user_id", "event_key"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(100), index=True)
    event_key: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(60))
    body: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
