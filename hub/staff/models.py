"""The web cabinets' own tables: cabinet users with roles, the audit log, one-time codes of
the participant's cabinet and the cashier's registration form (hub/web/ui)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, TenantScoped, UTCDateTime, new_id, utcnow
from hub.receipts.models import Receipt

ROLES = ("owner", "manager", "readonly", "cashier")


class WebUser(TenantScoped, Base):
    """A person who signs in to the owner's cabinet or the cashier's workplace."""
    __tablename__ = "web_users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(200), unique=True)      # stored lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(TenantScoped, Base):
    """Who changed what in the cabinets (settings, manual operations, users, sales)."""
    __tablename__ = "web_audit"
    __table_args__ = (Index("ix_web_audit_tenant_created", "tenant_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    user_email: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(30), default="")
    object_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Keyset pagination of the receipts list (newest first) at a million rows; the clients list
# uses ix_customers_tenant_created (hub/automation/models.py).
Index("ix_receipts_tenant_moment", Receipt.tenant_id, Receipt.moment, Receipt.id)


