"""Fixtures of the МойСклад adapter tests: a tenant with a program and a moysklad connection,
a client speaking the Loyalty API with the connection's token, and a fake JSON API."""
from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import responses
from sqlalchemy import func, select

from connectors.registry import create_connection
from connectors.registry import new_webhook_secret
from hub.connections.models import Connection, InboundEvent
from hub.customers.models import Customer
from hub.receipts.models import Operation, Receipt, ReceiptReturn
from hub.ledger.models import Posting
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from moysklad.jsonapi import client as jsonapi_client
from hub.connections.models import VerificationCode
from moysklad.models import CounterpartyLink

ACCOUNT = "b8b74698-9128-11e6-8a84-bae500000001"
STORE_ID = "2b5eb22f-139e-11e6-9464-e4de00000073"
RETAIL_STORE = {
    "meta": {"href": f"https://api.moysklad.ru/api/remap/1.2/entity/retailstore/{STORE_ID}",
             "id": STORE_ID},
    "name": "Магазин №1",
}
JSON_API = "https://api.moysklad.ru/api/remap/1.2"

PROGRAM = {
    **DEFAULT_SETTINGS,
    "levels": [{"code": "base", "name": "Стандарт", "threshold": 0,
                "accrual": {"scheme": "percent", "percent": "10"}, "discount": None,
                "max_spend_percent": "50", "bonus_lifetime_days": None}],
}


def local_moment(dt: datetime | None = None) -> str:
    """A moment as МойСклад writes it: the tenant's local time, "YYYY-MM-DD HH:MM:SS"."""
    dt = dt or datetime.now(timezone.utc)
    return dt.astimezone(ZoneInfo("Europe/Moscow")).strftime("%Y-%m-%d %H:%M:%S")


def product(pid: str) -> dict:
    return {"meta": {"href": f"{JSON_API}/entity/product/{pid}", "id": pid, "type": "product",
                     "idType": "native"}}


def position(pid: str, price, quantity, **extra) -> dict:
    return {"assortment": product(pid), "quantity": quantity, "price": price, **extra}


def agent(ms_id: str, **fields) -> dict:
    return {"meta": {"href": f"{JSON_API}/entity/counterparty/{ms_id}", "id": ms_id}, **fields}


class MoySkladTill:
    """The Loyalty API as the МойСклад till calls it."""

    def __init__(self, client, connection_id: str, token: str):
        self.client = client
        self.connection_id = connection_id
        self.token = token

    def url(self, path: str) -> str:
        return f"/moysklad/loyalty/{self.connection_id}{path}"

    def headers(self, token: str | None = ...) -> dict:
        token = self.token if token is ... else token
        return {} if token is None else {"Lognex-Discount-API-Auth-Token": token}

    def post(self, path: str, body, token: str | None = ...):
        return self.client.post(self.url(path), data=json.dumps(body, ensure_ascii=False),
                                content_type="application/json", headers=self.headers(token))

    def get(self, path: str, query: dict | None = None, token: str | None = ...):
        return self.client.get(self.url(path), query_string=query or {}, headers=self.headers(token))


@pytest.fixture
def ms(session, tenant, client):
    """(till, connection id, tenant id) with a 10%-accrual, 50%-spend program."""
    put_program(session, tenant["id"], copy.deepcopy(PROGRAM))
    conn, token = create_connection(
        session, tenant["id"], kind="moysklad", external_account=ACCOUNT, name="Тестовый МойСклад",
        credentials={"token": "json-api-token", "app_uid": "kopilka.test-vendor",
                     "secret_key": "vendor-secret"})
    secret = new_webhook_secret(conn)      # what `kopilka moysklad subscribe` puts in the URL
    from hub.notify.registry import configure
    configure(session, tenant["id"], "console")     # codes reach the phone (the demo channel)
    session.commit()
    till = MoySkladTill(client, conn.id, token)
    till.tenant_id = tenant["id"]
    till.webhook_secret = secret
    return till


def set_settings(session, connection_id: str, **values) -> None:
    conn = session.get(Connection, connection_id)
    conn.settings = {**(conn.settings or {}), **values}
    session.commit()


def counts(session, tenant_id: str | None = None) -> dict:
    """How many rows every table a МойСклад call could write has (of one tenant if given:
    the run's PostgreSQL database also holds what the concurrency tests committed)."""
    out = {}
    for model in (Customer, Receipt, ReceiptReturn, Operation, Posting, InboundEvent,
                  VerificationCode, CounterpartyLink):
        stmt = select(func.count()).select_from(model)
        if tenant_id is not None:
            stmt = stmt.where(model.tenant_id == tenant_id)
        out[model.__tablename__] = session.scalar(stmt)
    session.rollback()
    return out


def assert_ms_error(response, status: int, parameter: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"], body
    err = body["errors"][0]
    assert isinstance(err["error"], str) and err["error"]
    assert isinstance(err["code"], int)
    assert isinstance(err["error_message"], str) and err["error_message"]
    assert re.search("[а-яА-Я]", err["error_message"]), "cashier messages are Russian"
    if parameter is not None:
        assert err.get("parameter") == parameter, err
    return err


class FakeMoySklad:
    """JSON API documents served through `responses`, with failures on demand."""

    def __init__(self, rsps: responses.RequestsMock):
        self.rsps = rsps
        self.documents: dict[str, dict] = {}
        self.failures: list[tuple[int, dict]] = []   # (status, headers) served before the document
        self.calls: list = []
        self.webhooks: list[dict] = []
        pattern = re.compile(re.escape(JSON_API) + r"/entity/(retaildemand|retailsalesreturn)/([0-9a-f-]{36})(\?.*)?$")
        rsps.add_callback(responses.GET, pattern, callback=self._document)

    def _document(self, request):
        self.calls.append(request)
        assert request.headers["Authorization"] == "Bearer json-api-token"
        assert request.headers["Accept-Encoding"] == "gzip"
        assert "expand=positions,agent" in request.url
        if self.failures:
            status, headers = self.failures.pop(0)
            return status, headers, json.dumps({"errors": [{"error": "fail", "code": 1}]})
        doc_id = request.url.split("?", 1)[0].rsplit("/", 1)[-1]
        if doc_id not in self.documents:
            return 404, {}, json.dumps({"errors": [{"error": "not found", "code": 1021}]})
        return 200, {}, json.dumps(self.documents[doc_id], ensure_ascii=False)

    def retaildemand(self, doc_id: str, *, agent: dict, positions: list[dict], moment: str | None = None,
                     cash: int = 0, card: int = 0) -> dict:
        doc = {"meta": {"href": f"{JSON_API}/entity/retaildemand/{doc_id}", "type": "retaildemand"},
               "id": doc_id, "accountId": ACCOUNT, "name": "00042", "moment": moment or local_moment(),
               "agent": agent, "retailStore": {"meta": {"href": f"{JSON_API}/entity/retailstore/{STORE_ID}",
                                                        "type": "retailstore"}},
               "positions": {"meta": {"href": f"{JSON_API}/entity/retaildemand/{doc_id}/positions",
                                      "type": "demandposition", "size": len(positions)},
                             "rows": positions},
               "sum": sum(p["price"] * p["quantity"] for p in positions),
               "cashSum": cash, "noCashSum": card, "qrSum": 0}
        self.documents[doc_id] = doc
        return doc

    def retailsalesreturn(self, doc_id: str, demand_id: str, *, agent: dict, positions: list[dict],
                          moment: str | None = None) -> dict:
        doc = {"meta": {"href": f"{JSON_API}/entity/retailsalesreturn/{doc_id}", "type": "retailsalesreturn"},
               "id": doc_id, "accountId": ACCOUNT, "name": "00007", "moment": moment or local_moment(),
               "agent": agent,
               "demand": {"meta": {"href": f"{JSON_API}/entity/retaildemand/{demand_id}", "type": "retaildemand"}},
               "positions": {"meta": {"size": len(positions)}, "rows": positions}}
        self.documents[doc_id] = doc
        return doc


@pytest.fixture
def fake_ms(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr(jsonapi_client, "SLEEP", sleeps.append)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeMoySklad(rsps)
        fake.sleeps = sleeps
        yield fake
