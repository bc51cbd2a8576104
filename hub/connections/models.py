"""Connections to outside systems and the inbox of what they send."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, TenantScoped, UTCDateTime, new_id, utcnow


class Connection(TenantScoped, Base):
    """A tenant's link to a МойСклад account, an Evotor user/store or a 1С base."""
    __tablename__ = "connections"
    # Unique per tenant: another tenant's connection to the same account is neither
    # confirmed nor blocked (the vendor's token decides whose a call is). An Evotor user is
    # linked by Evotor's own flow (user/create, user/verify) to one tenant at a time.
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "external_account"),
                      UniqueConstraint("inbound_token_hash"),
                      Index("uq_connections_evotor_user", "external_account", unique=True,
                            postgresql_where=text("kind = 'evotor'"),
                            sqlite_where=text("kind = 'evotor'")))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))                 # moysklad | evotor | onec
    name: Mapped[str] = mapped_column(String(200), default="")
    external_account: Mapped[str] = mapped_column(String(200))    # their account / user id
    credentials: Mapped[str | None] = mapped_column(Text, nullable=True)  # Fernet token
    # "ok", or "needs_new" when the stored credentials can no longer be decrypted with any
    # configured key (connectors.registry.credentials_of): the owner must enter them again.
    credentials_state: Mapped[str] = mapped_column(String(20), default="ok", server_default="ok")
    inbound_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # SHA-256 of the secret in the МойСклад webhook URL (kopilka moysklad subscribe).
    webhook_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundEvent(TenantScoped, Base):
    """A webhook or callback, stored before anything is done with it."""
    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("source", "dedupe_key"),
                      Index("ix_inbound_events_due", "status", "next_attempt_at"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("connections.id", ondelete="SET NULL"), nullable=True)
    source: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(50))
    dedupe_key: Mapped[str] = mapped_column(String(300))
    body: Mapped[dict | list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="received")  # received|done|retry|failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class VerificationCode(TenantScoped, Base):
    """A one-time code sent to a customer's phone through a connection: to confirm a new
    registration at a till (subject = phone in E.164) or a bonus spending (subject =
    customer id). Only a hash of the code is kept. Used through connectors.verification."""
    __tablename__ = "verification_codes"
    __table_args__ = (Index("ix_verification_codes_lookup", "connection_id", "purpose", "subject"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("connections.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
