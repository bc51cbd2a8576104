"""Messaging: the outbox of customer messages, per-tenant templates and channel settings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow


class OutboxMessage(TenantScoped, Base):
    """One message to one recipient, written in the transaction of what caused it and
    delivered later by the worker / sweep (hub.notify.delivery)."""
    __tablename__ = "notify_outbox"
    __table_args__ = (UniqueConstraint("tenant_id", "dedupe_key"),
                      Index("ix_notify_outbox_due", "status", "next_attempt_at"),
                      Index("ix_notify_outbox_provider", "channel", "provider_message_id"),
                      Index("ix_notify_outbox_client_ip", "tenant_id", "client_ip", "created_at"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True)
    topic: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str | None] = mapped_column(String(20), nullable=True)  # sms|telegram|max|email
    provider: Mapped[str | None] = mapped_column(String(20), nullable=True)  # smsru|smsaero|...
    recipient: Mapped[str | None] = mapped_column(String(200), nullable=True)  # phone/chat/email
    advertising: Mapped[bool] = mapped_column(default=False)
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(300))
    # queued | sending | sent | delivered | failed | suppressed
    status: Mapped[str] = mapped_column(String(20), default="queued")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)   # Russian, shown to the owner
    reason_code: Mapped[str | None] = mapped_column(String(40), nullable=True)  # machine code of `reason`
    client_ip: Mapped[str | None] = mapped_column(String(45), nullable=True)   # who asked for a code
    provider_message_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    parts: Mapped[int] = mapped_column(default=1)
    expected_cost: Mapped[int] = mapped_column(Kopecks, default=0)
    cost: Mapped[int | None] = mapped_column(Kopecks, nullable=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotifyTemplate(TenantScoped, Base):
    """A tenant's override of one topic's text (per channel or for all), and topic on/off."""
    __tablename__ = "notify_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "topic", "channel"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    topic: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20), default="*")     # * = every channel
    text: Mapped[str | None] = mapped_column(Text, nullable=True)     # None = default text
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotifyChannel(TenantScoped, Base):
    """A tenant's configured channel: SMS gateway, Telegram/MAX bot or SMTP mailbox."""
    __tablename__ = "notify_channels"
    __table_args__ = (UniqueConstraint("tenant_id", "channel"),
                      UniqueConstraint("webhook_id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(20))                  # sms|telegram|max|email
    provider: Mapped[str] = mapped_column(String(20))                 # smsru|smsaero|telegram|max|smtp
    enabled: Mapped[bool] = mapped_column(default=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)        # sender, quiet hours, ...
    credentials: Mapped[str | None] = mapped_column(Text, nullable=True)  # Fernet token
    webhook_id: Mapped[str] = mapped_column(String(36), default=new_id)   # in callback URLs
    webhook_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatLink(TenantScoped, Base):
    """A messenger chat bound to a customer after the contact button showed their phone."""
    __tablename__ = "notify_chats"
    __table_args__ = (UniqueConstraint("tenant_id", "channel", "chat_id"),
                      Index("ix_notify_chats_customer", "customer_id", "channel"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("customers.id", ondelete="CASCADE"), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)                # False after the bot is blocked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotifySettings(TenantScoped, Base):
    """A tenant's messaging rules: quiet hours, SMS fallback, price per SMS part."""
    __tablename__ = "notify_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
