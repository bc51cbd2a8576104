"""Tenants, their API keys, stores and cashiers."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.models import ApiKey, Cashier, Store, Tenant
from hub.models.base import new_id, utcnow


def _hash(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough and lookups stay O(1).
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_tenant(session: Session, name: str) -> tuple[Tenant, str]:
    """A new tenant and its first API key (the key is returned once, never stored)."""
    tenant = Tenant(name=name)
    session.add(tenant)
    session.flush()
    key = create_api_key(session, tenant.id, name="default")
    return tenant, key


def create_api_key(session: Session, tenant_id: str, name: str = "") -> str:
    if session.get(Tenant, tenant_id) is None:
        raise NotFound("tenant_not_found", f"Организация {tenant_id} не найдена.")
    raw = "kp_" + secrets.token_urlsafe(32)
    session.add(ApiKey(tenant_id=tenant_id, name=name, prefix=raw[:10], key_hash=_hash(raw)))
    session.flush()
    return raw


def tenant_for_key(session: Session, raw_key: str) -> str | None:
    row = session.execute(select(ApiKey.tenant_id).where(
        ApiKey.key_hash == _hash(raw_key), ApiKey.revoked_at.is_(None))).first()
    return row[0] if row else None


def _remember_point(session: Session, model, tenant_id: str, code: str | None) -> None:  # noqa: ANN001
    """POS systems name stores and cashiers by their own codes; remember each on first sight.

    INSERT … ON CONFLICT DO NOTHING: two tills whose first receipts at a new store arrive
    together both go through (the second waits for the first and inserts nothing).
    """
    if not code or session.scalar(select(model.id).where(model.tenant_id == tenant_id,
                                                         model.code == code)) is not None:
        return
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).values(id=new_id(), tenant_id=tenant_id, code=code, name=code,
                                         created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["tenant_id", "code"]))


def ensure_store(session: Session, tenant_id: str, code: str | None) -> None:
    _remember_point(session, Store, tenant_id, code)


def ensure_cashier(session: Session, tenant_id: str, code: str | None) -> None:
    _remember_point(session, Cashier, tenant_id, code)


def list_points(session: Session, tenant_id: str, model) -> list:  # noqa: ANN001
    """The tenant's stores or cashiers, by code."""
    return list(session.scalars(select(model).where(model.tenant_id == tenant_id).order_by(model.code)))


def save_point(session: Session, tenant_id: str, model, code: str, name: str):  # noqa: ANN001, ANN201
    """Create or rename a store or cashier known by the POS's own code."""
    row = session.scalar(select(model).where(model.tenant_id == tenant_id, model.code == code))
    created = row is None
    if created:
        row = model(tenant_id=tenant_id, code=code, name=name or code)
        session.add(row)
    else:
        row.name = name or row.name
    session.commit()
    return row, created
