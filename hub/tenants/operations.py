"""Tenants, their API keys, stores and cashiers."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hub.errors import Invalid, NotFound
from hub.extensions import unit_of_work
from hub.staff.operations import Actor, record
from hub.tenants.models import ApiKey, Cashier, Store, Tenant
from hub.orm import new_id, utcnow


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


def issue_api_key(session: Session, tenant_id: str, name: str, by: Actor) -> str:
    """A new key issued by a person, with its audit entry, in one committed transaction."""
    with unit_of_work(session):
        raw = create_api_key(session, tenant_id, name=name)
        record(session, tenant_id, by, "apikey.create", "apikey", raw[:10], {"name": name, "prefix": raw[:10]})
    return raw


def tenant_for_key(session: Session, raw_key: str) -> str | None:
    row = key_for(session, raw_key)
    return row.tenant_id if row else None


def key_for(session: Session, raw_key: str):
    """(id, tenant_id, last_used_at, prefix) of a live (not revoked) key, or None; the prefix
    names the key in the audit log."""
    return session.execute(select(ApiKey.id, ApiKey.tenant_id, ApiKey.last_used_at, ApiKey.prefix).where(
        ApiKey.key_hash == _hash(raw_key), ApiKey.revoked_at.is_(None))).first()


# "Last used" is kept to the minute: at most one write per key per minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_use_stale(last_used_at: datetime | None, now: datetime | None = None) -> bool:
    return last_used_at is None or (now or utcnow()) - last_used_at >= LAST_USED_RESOLUTION


def touch_api_key(session: Session, key_id: str, now: datetime | None = None) -> None:
    """Record that the key was used (a short transaction of its own, run after the request's
    work so it never holds a lock on the key row during a sale)."""
    now = now or utcnow()
    session.execute(update(ApiKey).where(
        ApiKey.id == key_id,
        or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USED_RESOLUTION))
        .values(last_used_at=now))


def list_api_keys(session: Session, tenant_id: str) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant_id)
                                .order_by(ApiKey.created_at, ApiKey.id)))


def revoke_api_key(session: Session, tenant_id: str, ref: str, by: Actor | None = None) -> tuple[ApiKey, bool]:
    """Revoke a tenant's key named by its id, its prefix or the key itself (commits; `by`:
    the person, audited when the key was live). Returns the key and whether it was live until
    now (False: it was revoked already)."""
    with unit_of_work(session):
        key, was_live = _revoke(session, tenant_id, ref)
        if was_live and by is not None:
            record(session, tenant_id, by, "apikey.revoke", "apikey", key.prefix,
                   {"name": key.name, "prefix": key.prefix})
    return key, was_live


def _revoke(session: Session, tenant_id: str, ref: str) -> tuple[ApiKey, bool]:
    ref = (ref or "").strip()
    keys = list_api_keys(session, tenant_id)
    matches = [k for k in keys if k.id == ref or k.key_hash == _hash(ref)]
    if not matches:
        matches = [k for k in keys if k.prefix == ref or (len(ref) >= 6 and k.prefix.startswith(ref))]
    if not matches:
        raise NotFound("api_key_not_found", f"Ключ «{ref}» у этой организации не найден "
                                            f"(список: kopilka apikey list --tenant …).")
    if len(matches) > 1:
        raise Invalid("api_key_ambiguous", f"Под «{ref}» подходят несколько ключей: "
                      f"{', '.join(k.id for k in matches)}; укажите id.")
    key = matches[0]
    if key.revoked_at is not None:
        return key, False
    key.revoked_at = utcnow()
    session.flush()
    return key, True


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.created_at, Tenant.id)))


def resolve_tenant(session: Session, ref: str) -> Tenant:
    """A tenant named by its id or by its name (exact, then ignoring case).
    Unknown: NotFound; a name several tenants share: Invalid listing their ids."""
    ref = (ref or "").strip()
    tenant = session.get(Tenant, ref) if ref else None
    if tenant is not None:
        return tenant
    named = list(session.scalars(select(Tenant).where(Tenant.name == ref)))
    if not named and ref:
        folded = ref.casefold()
        named = [t for t in list_tenants(session) if t.name.casefold() == folded]
    if not named:
        raise NotFound("tenant_not_found", f"Организация «{ref}» не найдена "
                                           f"(все организации: kopilka tenant list).")
    if len(named) > 1:
        raise Invalid("tenant_ambiguous", f"Организаций с названием «{ref}» несколько: "
                      f"{', '.join(t.id for t in named)}; укажите id.")
    return named[0]


def _remember_point(session: Session, model, tenant_id: str, code: str | None) -> None:
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


def list_points(session: Session, tenant_id: str, model) -> list:
    """The tenant's stores or cashiers, by code."""
    return list(session.scalars(select(model).where(model.tenant_id == tenant_id).order_by(model.code)))


def save_store(session: Session, tenant_id: str, code: str, name: str):
    """Create or rename a store known by the POS's own code (commits)."""
    return save_point(session, tenant_id, Store, code, name)


def save_cashier(session: Session, tenant_id: str, code: str, name: str):
    """Create or rename a cashier known by the POS's own code (commits)."""
    return save_point(session, tenant_id, Cashier, code, name)


POINT_KINDS = {Store: "store", Cashier: "cashier"}


def save_point(session: Session, tenant_id: str, model, code: str, name: str, by: Actor | None = None):
    """Create or rename a store or cashier known by the POS's own code (commits; `by`: the
    person, audited in the same transaction)."""
    with unit_of_work(session):
        row = session.scalar(select(model).where(model.tenant_id == tenant_id, model.code == code))
        created = row is None
        if created:
            row = model(tenant_id=tenant_id, code=code, name=name or code)
            session.add(row)
        else:
            row.name = name or row.name
        if by is not None:
            session.flush()
            kind = POINT_KINDS[model]
            record(session, tenant_id, by, f"{kind}.save", kind, row.id,
                   {"code": code, "name": row.name, "created": created})
    return row, created
