"""Request limits of every surface (API, МойСклад, Evotor): a body over 1 MiB is 413 in the
surface's own error format, before any view runs; JSON nested too deeply is 400, never 500;
a list's length is checked before its items are read."""
from __future__ import annotations

import io
import json
import re
import time
import uuid

import pytest
from sqlalchemy import func, select

from connectors.registry import create_connection
from hub.orm import Base
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from hub.web.limits import DEFAULT_MAX_BODY, MAX_JSON_DEPTH

APP_TOKEN = "limits-app-token-0123456789"
EVOTOR_USER = "01-000000000000777"
STORE = "20170222-d7c7-4049-80c8-b3d1c4e3b2a1"
MS_ACCOUNT = "b8b74698-9128-11e6-8a84-bae500000777"
BODY_METHODS = {"POST", "PUT", "PATCH"}
API_BLUEPRINTS = {"program", "customers", "receipts", "points", "connections"}
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def _rows(session) -> dict:
    session.expire_all()
    return {t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables}


@pytest.fixture
def surfaces(app, client, session, tenant, monkeypatch):
    """Every body-taking route of the app with the path values and headers that get a request
    past authentication: (method, url, headers, format, authenticated)."""
    monkeypatch.setitem(app.config, "EVOTOR_APP_TOKEN", APP_TOKEN)
    put_program(session, tenant["id"], dict(DEFAULT_SETTINGS))
    conn, ms_token = create_connection(session, tenant["id"], kind="moysklad", external_account=MS_ACCOUNT,
                                       name="МойСклад", credentials={"token": "json-api-token"})
    session.commit()
    ms_id = conn.id
    r = client.post("/evotor/api/v1/user/verify", json={"userId": EVOTOR_USER, "username": "owner",
                                                         "password": tenant["key"]},
                    headers={"Authorization": f"Bearer {APP_TOKEN}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    user_token = r.get_json()["token"]
    api_headers = {"Authorization": f"Bearer {tenant['key']}"}
    customer = client.post("/api/v1/customers", json={"phone": "+79161234567"}, headers=api_headers).json["id"]
    values = {"connection_id": ms_id, "customer_id": customer, "external_id": "R-1", "store_uuid": STORE,
              "event_id": str(uuid.uuid4())}
    out = []
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods & BODY_METHODS)
        if not methods:
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{name}>", values.get(name, "x"), url)
        if rule.endpoint.split(".")[0] in API_BLUEPRINTS:
            headers, fmt, authed = api_headers, "api", not url.endswith("/retry")   # retry reads no body
        elif url.startswith("/moysklad/loyalty/"):
            headers, fmt, authed = {"Lognex-Discount-API-Auth-Token": ms_token}, "moysklad", True
        elif url.startswith("/moysklad/"):
            headers, fmt, authed = {}, "moysklad", False      # webhooks: a secret of their own
        elif url.startswith("/evotor/app/"):
            headers, fmt, authed = {"Authorization": f"Bearer {user_token}", "X-Evotor-User-Id": EVOTOR_USER,
                                    "X-Evotor-Store-Uuid": STORE}, "api", True
        elif url.startswith("/evotor/api/v1/inventories") or "/documents" in url or url.endswith("/receipts"):
            headers, fmt, authed = {"Authorization": f"Bearer {user_token}", "X-Evotor-User-Id": EVOTOR_USER}, \
                "evotor", True
        elif url.startswith("/evotor/"):
            headers, fmt, authed = {"Authorization": f"Bearer {APP_TOKEN}"}, "evotor", True
        else:
            headers, fmt, authed = {}, None, False
        for method in methods:
            out.append((method, url, headers, fmt, authed))
    assert {s[3] for s in out} >= {"api", "moysklad", "evotor"}, out
    return out


def assert_surface_error(response, status: int, fmt: str | None) -> None:
    text = response.get_data(as_text=True)[:300]
    assert response.status_code == status, (response.request.path, response.status_code, text)
    body = response.get_json()
    if fmt is None:
        return
    if fmt == "api":
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, text
        assert CYRILLIC.search(body["error"]["message"]), text
    elif fmt == "moysklad":
        err = body["errors"][0]
        assert isinstance(err["code"], int) and CYRILLIC.search(err["error_message"]), text
    elif fmt == "evotor":
        err = body["errors"][0]
        assert isinstance(err["code"], int) and err["reason"] and CYRILLIC.search(err["message"]), text


def _send(client, method: str, url: str, headers: dict, data, content_type: str = "application/json"):
    return client.open(url, method=method, data=data, content_type=content_type, headers=headers)


DEEP = [("50 000 brackets", "[" * 50_000 + "]" * 50_000),
        ("50 000 objects", '{"a":' * 50_000 + "1" + "}" * 50_000),
        (f"{MAX_JSON_DEPTH + 1} levels", '{"positions":' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}")]


def test_deeply_nested_json_is_400_on_every_endpoint(client, session, surfaces):
    before = _rows(session)
    for method, url, headers, fmt, authed in surfaces:
        for label, body in DEEP:
            r = _send(client, method, url, headers, body)
            assert r.status_code < 500, (label, method, url, r.status_code, r.get_data(as_text=True)[:300])
            if authed:
                assert_surface_error(r, 400, fmt)
    assert _rows(session) == before


def test_json_within_the_depth_limit_is_read(client, tenant):
    """The bound is on nesting only: a body nested exactly MAX_JSON_DEPTH deep is parsed (and
    then refused by its schema, 422), not mistaken for a bad body."""
    body = {"external_id": "D", "positions": [{"id": "1", "price": 1, "quantity": 1, "groups": ["a"]}]}
    node: dict = {}
    deep = node
    for _ in range(MAX_JSON_DEPTH - 2):
        deep["x"] = {}
        deep = deep["x"]
    body["customer"] = node
    r = client.post("/api/v1/receipts/calculate", json=body, headers={"Authorization": f"Bearer {tenant['key']}"})
    assert r.status_code == 422, r.get_data(as_text=True)[:300]


def test_a_body_over_1_mib_is_413_in_each_surfaces_format(client, session, surfaces):
    before = _rows(session)
    big = json.dumps({"external_id": "BIG", "pad": "x" * DEFAULT_MAX_BODY})
    for method, url, headers, fmt, _ in surfaces:
        r = _send(client, method, url, headers, big)
        assert_surface_error(r, 413, fmt)
    # No Content-Length (chunked): the body is read under the limit before any view runs.
    for method, url, headers, fmt, _ in surfaces[:3] + surfaces[-3:]:
        r = client.open(url, method=method, headers={**headers, "Content-Type": "application/json",
                                                      "Transfer-Encoding": "chunked"},
                        input_stream=io.BytesIO(big.encode()),
                        environ_overrides={"wsgi.input_terminated": True})    # as gunicorn sets it
        assert_surface_error(r, 413, fmt)
    assert _rows(session) == before


def test_a_body_of_exactly_1_mib_passes_the_limit(client, tenant):
    head = '{"external_id": "BIG", "positions": [{"id": "1", "price": 1, "quantity": 1}], "store": "'
    body = head + "x" * (DEFAULT_MAX_BODY - len(head) - 2) + '"}'
    assert len(body.encode()) == DEFAULT_MAX_BODY
    r = client.post("/api/v1/receipts/calculate", data=body, content_type="application/json",
                    headers={"Authorization": f"Bearer {tenant['key']}"})
    assert r.status_code == 422 and "store" in r.json["error"]["details"], r.get_data(as_text=True)[:300]


def test_the_limit_is_set_per_blueprint_or_endpoint(app, client, tenant, monkeypatch):
    headers = {"Authorization": f"Bearer {tenant['key']}"}
    body = json.dumps({"external_id": "BIG", "positions": [{"id": "1", "price": 1, "quantity": 1}],
                       "store": "x" * (DEFAULT_MAX_BODY + 10)})
    url = "/api/v1/receipts/calculate"
    assert client.post(url, data=body, content_type="application/json", headers=headers).status_code == 413
    monkeypatch.setitem(app.config, "BODY_LIMITS", {"receipts": 4 * DEFAULT_MAX_BODY})      # a blueprint
    assert client.post(url, data=body, content_type="application/json", headers=headers).status_code == 422
    assert client.post("/api/v1/customers", data=body, content_type="application/json",
                       headers=headers).status_code == 413                                   # others keep 1 MiB
    monkeypatch.setitem(app.config, "BODY_LIMITS", {"receipts.Calculate": 100})               # an endpoint
    r = client.post(url, data=body[:200], content_type="application/json", headers=headers)
    assert r.status_code == 413 and "100 байт" in r.json["error"]["message"], r.json


def test_a_receipt_with_a_million_positions_is_refused_at_once(client, tenant):
    headers = {"Authorization": f"Bearer {tenant['key']}"}
    position = '{"id":"1","price":1,"quantity":1}'
    body = '{"external_id":"MANY","positions":[' + ",".join([position] * 1_000_000) + "]}"
    started = time.perf_counter()
    r = client.post("/api/v1/receipts", data=body, content_type="application/json", headers=headers)
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large", r.get_data(as_text=True)[:300]
    assert time.perf_counter() - started < 5


def test_list_lengths_are_checked_before_the_items_are_read(client, tenant, monkeypatch):
    """20 000 positions fit in 1 MiB; they are refused by their count without loading one."""
    from api.schemas import receipts
    loaded = []
    real_load = receipts.PositionSchema.load
    monkeypatch.setattr(receipts.PositionSchema, "load",
                        lambda self, *a, **kw: loaded.append(1) or real_load(self, *a, **kw))
    headers = {"Authorization": f"Bearer {tenant['key']}"}
    body = json.dumps({"external_id": "MANY", "positions": [
        {"id": str(i), "price": 1, "quantity": 1} for i in range(20_000)]})
    assert len(body) < DEFAULT_MAX_BODY
    for url in ("/api/v1/receipts", "/api/v1/receipts/calculate"):
        started = time.perf_counter()
        r = client.post(url, data=body, content_type="application/json", headers=headers)
        elapsed = time.perf_counter() - started
        assert r.status_code == 422, r.get_data(as_text=True)[:300]
        assert r.json["error"]["details"]["positions"] == ["Не больше 1000 элементов."], r.json
        assert not loaded and elapsed < 2, (len(loaded), elapsed)
    r = client.post("/api/v1/receipts/R-1/returns", data=json.dumps({"external_id": "RET", "positions": [
        {"id": str(i), "quantity": 1} for i in range(20_000)]}), content_type="application/json", headers=headers)
    assert r.status_code == 422 and "positions" in r.json["error"]["details"], r.get_data(as_text=True)[:300]
