"""The Evotor cloud API as a client (api.evotor.ru, `X-Authorization: <cloud token>`):
the user's stores, terminals, employees, products with their groups, and documents.

Lists come in pages ({"items": [...], "paging": {"next_cursor": "…"}}; old answers are a bare
array). 429 and 5xx are retried by connectors.http.HttpClient honouring Retry-After; besides,
when X-RateLimit-Remaining reaches 0 the client waits for X-RateLimit-Reset before the next call.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterator

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.http import HttpClient
from connectors.registry import credentials_of
from hub.config import Config
from hub.clock import utcnow
from hub.tenants.operations import save_cashier, save_store
from evotor.common import first
from connectors.inbox import dispatch
from evotor.documents import ingest
from evotor.models import EvotorDevice
from evotor.store import save_devices, save_products

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection

log = logging.getLogger("kopilka.evotor.client")

SLEEP = time.sleep       # the wait between retries and for the rate limit; tests replace it
ACCEPT = "application/vnd.evotor.v2+json"
MAX_PAGES = 10_000


class NotConfigured(Exception):
    """The connection has no cloud token (the cloud has not called /user/token yet)."""


def _sleep(seconds: float) -> None:
    SLEEP(seconds)


def api_base() -> str:
    if has_app_context():
        return str(current_app.config.get("EVOTOR_API_BASE") or "https://api.evotor.ru").rstrip("/")
    return Config().EVOTOR_API_BASE.rstrip("/")


class EvotorCloud:
    def __init__(self, conn: Connection, base: str | None = None, http: HttpClient | None = None):
        token = credentials_of(conn).get("cloud_token")
        if not token and http is None:
            raise NotConfigured(f"у пользователя Эвотор {conn.external_account} нет токена облака "
                                "(облако Эвотор ещё не вызывало /user/token)")
        self.base = (base or api_base()).rstrip("/")
        self.http = http or HttpClient(self.base, headers={"X-Authorization": token, "Accept": ACCEPT},
                                       timeout=15.0, retries=5, backoff=1.0, max_wait=60.0, sleep=_sleep)

    def _get(self, path: str, params: dict | None = None):
        response = self.http.get(path, params=params or {})
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is not None and remaining.strip() == "0":
            reset = response.headers.get("X-RateLimit-Reset") or "1"
            try:
                wait = float(reset)
            except ValueError:
                wait = 1.0
            if wait > 10 ** 9:                  # an epoch moment, not seconds
                wait -= utcnow().timestamp()
            _sleep(min(max(wait, 0.0), 60.0))
        return json.loads(response.content or b"null")   # bytes: UTF-8 whatever the charset says

    def pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        params = dict(params or {})
        for _ in range(MAX_PAGES):
            data = self._get(path, params)
            if isinstance(data, list):
                yield from (x for x in data if isinstance(x, dict))
                return
            yield from (x for x in (data.get("items") or []) if isinstance(x, dict))
            cursor = (data.get("paging") or {}).get("next_cursor")
            if not cursor:
                return
            params = {**params, "cursor": cursor}

    def stores(self) -> Iterator[dict]:
        return self.pages("/stores")

    def devices(self) -> Iterator[dict]:
        return self.pages("/devices")

    def employees(self) -> Iterator[dict]:
        return self.pages("/employees")

    def products(self, store_id: str) -> Iterator[dict]:
        return self.pages(f"/stores/{store_id}/products")

    def product_groups(self, store_id: str) -> Iterator[dict]:
        return self.pages(f"/stores/{store_id}/product-groups")

    def documents(self, store_id: str, since_ms: int, until_ms: int | None = None) -> Iterator[dict]:
        params = {"since": since_ms, "types": "SELL,PAYBACK"}
        if until_ms:
            params["until"] = until_ms
        return self.pages(f"/stores/{store_id}/documents", params)


def _id(item: dict) -> str | None:
    value = first(item, "id", "uuid")
    return str(value)[:100] if value is not None else None


def _name(item: dict) -> str:
    parts = [first(item, "last_name", "lastName"), first(item, "name"),
             first(item, "patronymic_name", "patronymicName")]
    return " ".join(str(p) for p in parts if p)[:200]


def sync_catalog(session: Session, conn: Connection, cloud: EvotorCloud, store_ids: list[str] | None = None) -> dict:
    """Stores, terminals, employees (as cashiers), products and their groups."""
    tenant_id, conn_id = conn.tenant_id, conn.id
    counts = {"stores": 0, "devices": 0, "employees": 0, "products": 0}
    stores = []
    for item in cloud.stores():
        sid = _id(item)
        if sid and (not store_ids or sid in store_ids):
            save_store(session, tenant_id, sid, str(first(item, "name") or sid)[:200])
            stores.append(sid)
            counts["stores"] += 1
    for sid in store_ids or []:
        if sid not in stores:
            stores.append(sid)
    devices = []
    for item in cloud.devices():
        did = _id(item)
        if not did:
            continue
        devices.append({"device_uuid": did,
                        "store_uuid": str(first(item, "store_id", "storeUuid", "store_uuid") or "")[:100] or None,
                        "name": str(first(item, "name") or did)[:200],
                        "details": {k: item[k] for k in ("imei", "serial_number", "timezone_offset", "model")
                                    if k in item}})
    counts["devices"] += save_devices(session, tenant_id, conn_id, devices)
    for item in cloud.employees():
        eid = _id(item)
        if eid:
            save_cashier(session, tenant_id, eid, _name(item) or eid)
            counts["employees"] += 1
    for sid in stores:
        groups = {}
        for item in cloud.product_groups(sid):
            if _id(item):
                groups[_id(item)] = item
        products = []
        for item in cloud.products(sid):
            if item.get("group") is True or item.get("isGroup") is True:
                groups[_id(item)] = item
            else:
                products.append(item)

        def chain(group_id, groups=groups):     # this pass's groups
            out, seen = [], set()
            while group_id and group_id in groups and group_id not in seen:
                seen.add(group_id)
                g = groups[group_id]
                out += [group_id] + ([str(g["name"])[:100]] if g.get("name") else [])
                group_id = first(g, "parent_id", "parentUuid", "parent_uuid")
            if group_id and group_id not in seen and group_id not in groups:
                out.append(str(group_id)[:100])
            return out

        rows = []
        for item in products:
            pid = _id(item)
            if not pid:
                continue
            parent = first(item, "parent_id", "parentUuid", "parent_uuid")
            rows.append({"product_id": pid, "name": str(first(item, "name") or "")[:300],
                         "parent_id": str(parent)[:100] if parent else None,
                         "groups": chain(parent) if parent else []})
        counts["products"] += save_products(session, tenant_id, conn_id, sid, rows)
    counts["store_ids"] = stores
    return counts


def to_ms(moment: datetime) -> int:
    return int(moment.astimezone(timezone.utc).timestamp() * 1000)


def sync_documents(session: Session, conn: Connection, cloud: EvotorCloud, store_ids: list[str],
                   since: datetime, until: datetime | None = None) -> dict:
    """Documents of the stores in the window, into the inbox and applied like webhooks."""
    seen = fresh_total = 0
    for sid in store_ids:
        batch = list(cloud.documents(sid, to_ms(since), to_ms(until) if until else None))
        accepted, fresh = ingest(session, conn, batch, sid)
        seen += accepted
        fresh_total += len(fresh)
        for event in fresh:
            dispatch(session, event)
    return {"documents": seen, "new": fresh_total}


def known_stores(session: Session, conn: Connection) -> list[str]:
    """The stores the tenant's Evotor terminals stand in (from the last catalog sync)."""
    from_devices = session.scalars(select(EvotorDevice.store_uuid).where(
        EvotorDevice.connection_id == conn.id, EvotorDevice.store_uuid.is_not(None)).distinct())
    return sorted(set(from_devices))
