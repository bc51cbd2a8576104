"""The tenant's product catalog: bulk upserts from any source, and the groups a product is in.

One catalog for every source: 1С's CommerceML exchange fills it today; the Evotor sync and
the API can call the same `upsert_products` / `upsert_groups`. `groups_of` answers, for
product ids named on receipt lines, the groups the program's rules can match: each direct
group and its ancestors, by external id and by name.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.cache import VersionedCache
from hub.extensions import unit_of_work
from hub.orm import new_id, utcnow
from hub.catalog.models import CatalogGroup, CatalogProduct, CatalogVersion

# groups_of answers from a per-process cache per (tenant, catalog version): a till's hot path
# (1С's calculatediscounts) then costs one primary-key read of the version and no catalog query
# for products already seen. Every upsert bumps the version in its own transaction, so once it
# commits every process reads the new version and answers from the new catalog.
_MAX_CACHED = 50_000
_groups = VersionedCache[dict]("catalog.groups")

MAX_ID = 100
MAX_NAME = 300
PRODUCT_FIELDS = ("name", "article", "barcodes", "groups", "price")


def _insert(session: Session, model):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def _upsert(session: Session, model, rows: list[dict], fields: Iterable[str]) -> int:
    """INSERT … ON CONFLICT (tenant_id, external_id) DO UPDATE, one statement per batch.

    The last row wins when a batch names one id twice (a partial export may repeat it)."""
    if not rows:
        return 0
    unique = {}
    for row in rows:
        unique[(row["tenant_id"], row["external_id"])] = row
    rows = list(unique.values())
    stmt = _insert(session, model.__table__)
    update = {f: getattr(stmt.excluded, f) for f in fields}
    update["updated_at"] = stmt.excluded.updated_at
    # One compiled (cached) statement executed for many rows: the driver batches them.
    session.connection().execute(stmt.on_conflict_do_update(
        index_elements=["tenant_id", "external_id"], set_=update), rows)
    return len(rows)


def _clip(value, limit: int) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value[:limit] or None


def _bump(session: Session, tenant_id: str) -> None:
    """A new catalog version, in the caller's transaction (one statement, no race on the row)."""
    _groups.invalidate(tenant_id)
    stmt = _insert(session, CatalogVersion.__table__).values(id=new_id(), tenant_id=tenant_id, version=1)
    session.connection().execute(stmt.on_conflict_do_update(
        index_elements=["tenant_id"], set_={"version": CatalogVersion.__table__.c.version + 1}))


def catalog_version(session: Session, tenant_id: str) -> int:
    return session.scalar(select(CatalogVersion.version).where(CatalogVersion.tenant_id == tenant_id)) or 0


def upsert_groups(session: Session, tenant_id: str, groups: list[dict], *, source: str) -> int:
    """Groups as {"id", "name", "parent"}; the caller commits (batches of any size)."""
    _bump(session, tenant_id)
    now = utcnow()
    rows = [{"id": new_id(), "tenant_id": tenant_id, "external_id": _clip(g["id"], MAX_ID),
             "name": _clip(g.get("name"), MAX_NAME) or "", "parent_id": _clip(g.get("parent"), MAX_ID),
             "source": source, "updated_at": now} for g in groups if _clip(g.get("id"), MAX_ID)]
    return _upsert(session, CatalogGroup, rows, ("name", "parent_id", "source"))


def upsert_products(session: Session, tenant_id: str, products: list[dict], *, source: str,
                    fields: Iterable[str] = PRODUCT_FIELDS) -> int:
    """Products as {"id", "name", "article", "barcodes", "groups", "price"}; only `fields`
    are overwritten on a known product (prices from offers leave names alone)."""
    _bump(session, tenant_id)
    now = utcnow()
    rows = []
    for p in products:
        ext = _clip(p.get("id"), MAX_ID)
        if not ext:
            continue
        rows.append({"id": new_id(), "tenant_id": tenant_id, "external_id": ext,
                     "name": _clip(p.get("name"), MAX_NAME) or "",
                     "article": _clip(p.get("article"), 100),
                     "barcodes": [str(b)[:64] for b in (p.get("barcodes") or []) if str(b).strip()][:20],
                     "groups": [str(g)[:MAX_ID] for g in (p.get("groups") or []) if str(g).strip()][:50],
                     "price": p.get("price"), "source": source, "updated_at": now})
    return _upsert(session, CatalogProduct, rows, tuple(fields) + ("source",))


def import_groups(session: Session, tenant_id: str, groups: list[dict], *, source: str) -> int:
    """One batch of an import's groups (upsert_groups), committed on its own."""
    with unit_of_work(session):
        return upsert_groups(session, tenant_id, groups, source=source)


def import_products(session: Session, tenant_id: str, products: list[dict], *, source: str,
                    fields: Iterable[str] = PRODUCT_FIELDS) -> int:
    """One batch of an import's products (upsert_products), committed on its own."""
    with unit_of_work(session):
        return upsert_products(session, tenant_id, products, source=source, fields=fields)


def _ancestors(session: Session, tenant_id: str, group_ids: set[str]) -> dict[str, CatalogGroup]:
    """The groups named and all their ancestors, by external id."""
    known: dict[str, CatalogGroup] = {}
    wanted = set(group_ids)
    for _ in range(32):                       # a tree deeper than 32 levels is cut off
        wanted -= set(known)
        if not wanted:
            break
        found = list(session.scalars(select(CatalogGroup).where(
            CatalogGroup.tenant_id == tenant_id, CatalogGroup.external_id.in_(wanted))))
        for g in found:
            known[g.external_id] = g
        wanted = {g.parent_id for g in found if g.parent_id}
        if not found:
            break
    return known


def groups_of(session: Session, tenant_id: str, product_ids: Iterable[str]) -> dict[str, list[str]]:
    """{product external id: its groups with their ancestors, ids and names} for known ones."""
    ids = {p for p in product_ids if p}
    if not ids:
        return {}
    version = catalog_version(session, tenant_id)
    known = _groups.get(tenant_id, version, dict)
    if len(known) > _MAX_CACHED:
        _groups.invalidate(tenant_id)
        known = _groups.get(tenant_id, version, dict)
    missing = ids - known.keys()
    if missing:
        found = _load_groups(session, tenant_id, missing)
        for ext in missing:
            known[ext] = found.get(ext)
    return {ext: list(known[ext]) for ext in ids if known.get(ext) is not None}


def _load_groups(session: Session, tenant_id: str, ids: set[str]) -> dict[str, list[str]]:
    rows = session.execute(select(CatalogProduct.external_id, CatalogProduct.groups).where(
        CatalogProduct.tenant_id == tenant_id, CatalogProduct.external_id.in_(ids))).all()
    direct = {ext: list(groups or []) for ext, groups in rows}
    tree = _ancestors(session, tenant_id, {g for gs in direct.values() for g in gs})
    out: dict[str, list[str]] = {}
    for ext, groups in direct.items():
        names: list[str] = []
        for gid in groups:
            seen = set()
            current = gid
            while current and current not in seen:
                seen.add(current)
                if current not in names:
                    names.append(current)
                group = tree.get(current)
                if group is None:
                    break
                if group.name and group.name not in names:
                    names.append(group.name)
                current = group.parent_id
        out[ext] = names
    return out


def with_groups(session: Session, tenant_id: str, positions: list[dict]) -> list[dict]:
    """Positions ({"product", "groups", …}) whose product is in the catalog get its groups
    added to the ones the till sent."""
    found = groups_of(session, tenant_id, [p.get("product") for p in positions])
    if not found:
        return positions
    out = []
    for p in positions:
        extra = found.get(p.get("product") or "")
        if extra:
            groups = list(p.get("groups") or [])
            groups += [g for g in extra if g not in groups]
            p = {**p, "groups": groups}
        out.append(p)
    return out


def count_products(session: Session, tenant_id: str) -> int:
    return session.scalar(select(func.count()).select_from(CatalogProduct)
                          .where(CatalogProduct.tenant_id == tenant_id)) or 0
