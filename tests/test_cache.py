"""hub.cache: what the processes cache of a tenant's data is keyed by (tenant, version), so a
change committed by one process is what every other process answers with from then on; the
engine keeps no cache of its own."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from hub.cache import VersionedCache
from hub.catalog import operations as catalog
from hub.catalog.models import CatalogVersion
from hub.engine import promotions as engine
from hub.promotions import operations as promotions

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def _next_request(session) -> None:
    session.commit()
    for key in ("programs", "program_versions", "promotions"):
        session.info.pop(key, None)


def test_versioned_cache_keeps_the_newest_version_per_tenant():
    cache, built = VersionedCache[str]("t", max_tenants=2), []

    def build(value):
        return lambda: built.append(value) or value
    assert cache.get("a", 1, build("a1")) == "a1"
    assert cache.get("a", 1, build("again")) == "a1"
    assert cache.get("a", 2, build("a2")) == "a2" and cache.peek("a", 1) is None
    cache.invalidate("a")
    assert cache.peek("a", 2) is None and cache.get("a", 2, build("a2'")) == "a2'"
    cache.get("b", 1, build("b1"))
    cache.get("c", 1, build("c1"))                    # over max_tenants: starts afresh
    assert cache.peek("a", 2) is None and cache.peek("c", 1) == "c1"
    assert built == ["a1", "a2", "a2'", "b1", "c1"]


def test_a_catalog_change_in_another_process_is_seen_at_once(session, tenant, monkeypatch):
    """No time to live: the groups of a product come from the catalog version read now. A change
    committed by another process (which cannot drop this process's entry) bumps the version, and
    the next receipt here is priced with the new groups — not up to a minute later."""
    t = tenant["id"]
    catalog.upsert_groups(session, t, [{"id": "g-coffee", "name": "Кофе"}, {"id": "g-tea", "name": "Чай"}],
                          source="api")
    catalog.upsert_products(session, t, [{"id": "p-1", "name": "Латте", "groups": ["g-coffee"]}], source="api")
    session.commit()
    assert catalog.groups_of(session, t, ["p-1"]) == {"p-1": ["g-coffee", "Кофе"]}
    assert session.get(CatalogVersion, session.query(CatalogVersion.id).filter_by(tenant_id=t).scalar()).version == 2
    monkeypatch.setattr(catalog._groups, "invalidate", lambda tenant_id: None)     # "another process"
    catalog.upsert_products(session, t, [{"id": "p-1", "name": "Латте", "groups": ["g-tea"]}], source="api",
                            fields=("groups",))
    session.commit()
    assert catalog.catalog_version(session, t) == 3
    assert catalog.groups_of(session, t, ["p-1"]) == {"p-1": ["g-tea", "Чай"]}


def test_promotions_are_indexed_once_per_version_outside_the_engine(session, tenant, monkeypatch):
    """The engine builds an index per call and keeps nothing (no cache keyed on id()); the
    service hands it the index it keeps per version of the tenant's promotions."""
    t = tenant["id"]
    assert not hasattr(engine, "_indexes")
    pair = (engine.Promotion(id="x", name="x", reward="percent_off", percent=Decimal(5)),)
    assert engine.promotion_index(pair) is not engine.promotion_index(pair)
    first = promotions.create_promotion(session, t, {"name": "Кофе −10%", "reward": "percent_off",
                                                     "percent": "10", "when": {"groups": ["coffee"]}})
    _next_request(session)
    one = promotions.promotion_context(session, t, None, NOW)
    assert one.index is not None and one.index.ordered == one.promotions
    _next_request(session)
    two = promotions.promotion_context(session, t, None, NOW)
    assert two.index is one.index                                       # the same version: kept
    monkeypatch.setattr(promotions._sets, "invalidate", lambda tenant_id: None)   # "another process"
    promotions.update_promotion(session, t, first["id"], {"name": "Кофе −20%", "reward": "percent_off",
                                                          "percent": "20", "when": {"groups": ["coffee"]}})
    _next_request(session)
    three = promotions.promotion_context(session, t, None, NOW)
    assert three.index is not one.index and [p.name for p in three.index.ordered] == ["Кофе −20%"]
