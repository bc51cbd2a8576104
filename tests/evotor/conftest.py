"""Fixtures of the Evotor adapter tests: the app token configured, an Evotor user linked to a
tenant with a program, a terminal speaking the app's API, and a fake Evotor cloud."""
from __future__ import annotations

import copy
import json
import re

import pytest
import responses
from sqlalchemy import func, select

from hub.connections.models import Connection, InboundEvent, VerificationCode
from hub.customers.models import Customer
from hub.ledger.models import Hold, Posting
from hub.receipts.models import Operation, Receipt, ReceiptReturn
from hub.tenants.models import Tenant
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from evotor import client as evotor_client
from evotor.models import (
    EvotorCloudEvent, EvotorDevice, EvotorProduct, EvotorReceipt, EvotorSubscription,
)

APP_TOKEN = "evotor-app-token-0123456789"
USER_ID = "01-000000000000001"
STORE = "20170222-d7c7-4049-80c8-b3d1c4e3b2a1"
DEVICE = "20170222-0000-4000-8000-00000000d001"
CLOUD = "https://api.evotor.test"

PROGRAM = {
    **DEFAULT_SETTINGS,
    "levels": [{"code": "base", "name": "Стандарт", "threshold": 0,
                "accrual": {"scheme": "percent", "percent": "10"}, "discount": None,
                "max_spend_percent": "50", "bonus_lifetime_days": None},
               {"code": "gold", "name": "Золотая", "threshold": 1000000,
                "accrual": {"scheme": "percent", "percent": "15"}, "discount": None,
                "max_spend_percent": "50", "bonus_lifetime_days": None}],
}


@pytest.fixture(autouse=True)
def evotor_config(app, monkeypatch):
    monkeypatch.setitem(app.config, "EVOTOR_APP_TOKEN", APP_TOKEN)
    monkeypatch.setitem(app.config, "EVOTOR_API_BASE", CLOUD)


class Cloud:
    """The Evotor cloud calling the hub with the app token."""

    def __init__(self, client):
        self.client = client

    def post(self, path: str, body, token: str | None = APP_TOKEN, raw: str | None = None):
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False)
        return self.client.post(f"/evotor{path}", data=data, content_type="application/json", headers=headers)


class Terminal:
    """The terminal app, through Evotor's proxy (user token and X-Evotor-* headers)."""

    def __init__(self, client, token: str, store: str | None = STORE, device: str | None = DEVICE):
        self.client, self.token, self.store, self.device = client, token, store, device

    def headers(self, token: str | None = ...) -> dict:
        token = self.token if token is ... else token
        out = {"X-Evotor-User-Id": USER_ID}
        if token is not None:
            out["Authorization"] = f"Bearer {token}"
        if self.store:
            out["X-Evotor-Store-Uuid"] = self.store
        if self.device:
            out["X-Evotor-Device-UUID"] = self.device
        return out

    def post(self, path: str, body, token: str | None = ..., raw: str | None = None):
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False)
        return self.client.post(f"/evotor/app/v1{path}", data=data, content_type="application/json",
                                headers=self.headers(token))

    def ok(self, path: str, body, status: int = 200) -> dict:
        r = self.post(path, body)
        assert r.status_code == status, r.get_data(as_text=True)
        return r.get_json()


@pytest.fixture
def cloud(client):
    return Cloud(client)


@pytest.fixture
def linked(session, tenant, client, cloud):
    """A tenant with a 10 % / 50 % program whose API key linked the Evotor user (/user/verify)."""
    put_program(session, tenant["id"], copy.deepcopy(PROGRAM))
    from hub.notify.registry import configure
    configure(session, tenant["id"], "console")     # codes reach the phone (the demo channel)
    session.commit()
    r = cloud.post("/api/v1/user/verify", {"userId": USER_ID, "username": "owner", "password": tenant["key"]})
    assert r.status_code == 200, r.get_data(as_text=True)
    token = r.get_json()["token"]
    term = Terminal(client, token)
    term.tenant_id = tenant["id"]
    term.connection_id = session.scalar(select(Connection.id).where(Connection.external_account == USER_ID))
    session.rollback()
    return term


def set_settings(session, connection_id: str, **values) -> None:
    conn = session.get(Connection, connection_id)
    conn.settings = {**(conn.settings or {}), **values}
    session.commit()


TABLES = (Tenant, Connection, Customer, Receipt, ReceiptReturn, Operation, Posting, Hold, InboundEvent,
          EvotorCloudEvent, EvotorSubscription, EvotorDevice, EvotorProduct, EvotorReceipt,
          VerificationCode)


def counts(session) -> dict:
    out = {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in TABLES}
    out["connections_state"] = sorted(
        (c.status, c.inbound_token_hash or "", c.credentials or "", json.dumps(c.settings, sort_keys=True))
        for c in session.scalars(select(Connection).execution_options(populate_existing=True)))
    session.rollback()
    return out


def assert_error(response, status: int) -> dict:
    """A 4xx with a Russian message, in either of the adapter's formats."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict), response.get_data(as_text=True)
    message = body["error"]["message"] if "error" in body else body["errors"][0]["message"]
    assert re.search("[а-яА-Я]", message), message
    return body


class FakeEvotorCloud:
    """api.evotor.ru through `responses`: pages of documents, 429 on demand."""

    def __init__(self, rsps: responses.RequestsMock):
        self.rsps = rsps
        self.documents: dict[str, list[dict]] = {}
        self.page_size = 2
        self.throttle: list[dict] = []      # headers of 429 answers served before the next page
        self.calls: list = []
        self.catalog = {"stores": [], "devices": [], "employees": [], "products": {}, "groups": {}}
        rsps.add_callback(responses.GET, re.compile(re.escape(CLOUD) + r"/stores/([^/]+)/documents.*"),
                          callback=self._documents)
        for name in ("stores", "devices", "employees"):
            rsps.add_callback(responses.GET, re.compile(re.escape(CLOUD) + rf"/{name}(\?.*)?$"),
                              callback=lambda req, name=name: self._list(req, self.catalog[name]))
        rsps.add_callback(responses.GET, re.compile(re.escape(CLOUD) + r"/stores/([^/]+)/products(\?.*)?$"),
                          callback=lambda req: self._list(req, self.catalog["products"].get(self._store(req), [])))
        rsps.add_callback(responses.GET, re.compile(re.escape(CLOUD) + r"/stores/([^/]+)/product-groups(\?.*)?$"),
                          callback=lambda req: self._list(req, self.catalog["groups"].get(self._store(req), [])))

    @staticmethod
    def _store(request) -> str:
        return request.url.split("/stores/", 1)[1].split("/", 1)[0]

    def _check(self, request) -> None:
        self.calls.append(request)
        assert request.headers["X-Authorization"] == "cloud-token-1"
        assert request.headers["Accept"] == "application/vnd.evotor.v2+json"

    def _list(self, request, items):
        self._check(request)
        return 200, {}, json.dumps({"items": items, "paging": {}}, ensure_ascii=False)

    def _documents(self, request):
        self._check(request)
        from urllib.parse import parse_qs, urlparse
        query = parse_qs(urlparse(request.url).query)
        assert query["types"] == ["SELL,PAYBACK"] and query["since"]
        if self.throttle:
            return 429, self.throttle.pop(0), json.dumps({"errors": [{"code": 429}]})
        docs = self.documents.get(self._store(request), [])
        start = int(query.get("cursor", ["0"])[0])
        page = docs[start:start + self.page_size]
        paging = {"next_cursor": str(start + self.page_size)} if start + self.page_size < len(docs) else {}
        return 200, {"X-RateLimit-Remaining": "5"}, json.dumps({"items": page, "paging": paging}, ensure_ascii=False)


@pytest.fixture
def fake_cloud(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr(evotor_client, "SLEEP", sleeps.append)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeEvotorCloud(rsps)
        fake.sleeps = sleeps
        yield fake
