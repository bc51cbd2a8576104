"""Declarative base, UTC timestamps and the tenant column every table carries."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, ForeignKey, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from hub.clock import utcnow as now

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC out; stored as naive UTC on every backend."""
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


Kopecks = BigInteger


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return now()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TenantScoped:
    """Every row carries its tenant (DESIGN.md, invariant 7)."""

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:  # noqa: N805 - a SQLAlchemy declared_attr takes the class
        return mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"),
                             index=True, nullable=False)
