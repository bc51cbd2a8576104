"""Stores and cashiers, API keys (shown once, revoked through hub.tenants.operations) and
connections with their inbox (failed events, retry through connectors.inbox) in the owner's
cabinet: roles, CSRF, validation messages, tenants sealed, audit."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from connectors.inbox import register_handler
from tests.web.conftest import text, token

ATTEMPTS = {"fail": True}


def _flaky(session, event):
    if ATTEMPTS["fail"]:
        raise RuntimeError("МойСклад не ответил")


register_handler("moysklad", "cabinet_test", _flaky)


@pytest.fixture(autouse=True)
def _reset():
    ATTEMPTS["fail"] = True
    yield


# --- stores and cashiers ---------------------------------------------------------------------

def test_points_list_create_rename_and_validation(client, session, shop, as_role):
    from hub.tenants.models import Cashier, Store
    from hub.staff.models import AuditEntry
    from hub.tenants.operations import ensure_store
    ensure_store(session, shop["a"], "S-7")
    ensure_store(session, shop["b"], "THEIRS-1")
    session.commit()
    as_role("manager")
    page = text(client.get("/cabinet/points"))
    assert "S-7" in page and "THEIRS-1" not in page
    t = token(client, "/cabinet/points")
    r = client.post("/cabinet/points", data={"csrf_token": t, "kind": "store", "code": "S-7", "name": "На Ленина"})
    assert r.status_code == 303
    assert "Магазин «На Ленина» сохранён." in text(client.get("/cabinet/points"))
    r = client.post("/cabinet/points", data={"csrf_token": t, "kind": "cashier", "code": "K-1", "name": "Анна"})
    assert r.status_code == 303
    assert session.scalars(select(Cashier.name).where(Cashier.tenant_id == shop["a"])).all() == ["Анна"]
    assert session.scalar(select(Store.name).where(Store.tenant_id == shop["a"], Store.code == "S-7")) == "На Ленина"
    assert session.scalar(select(Store.name).where(Store.tenant_id == shop["b"])) == "THEIRS-1"
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == shop["a"])
                              .order_by(AuditEntry.created_at)).all()
    assert sorted(actions) == ["cashier.save", "store.save"]
    r = client.post("/cabinet/points", data={"csrf_token": t, "kind": "cashier", "code": " ", "name": "x" * 201})
    assert r.status_code == 422
    page = text(r)
    assert "Укажите код — так его называет касса." in page and "Название — не длиннее 200 символов." in page
    r = client.post("/cabinet/points", data={"csrf_token": t, "kind": "terminal", "code": "T"})
    assert r.status_code == 422 and "Выберите: магазин или кассир." in text(r)
    assert client.post("/cabinet/points", data={"kind": "store", "code": "S-8"}).status_code == 400
    assert session.scalar(select(Store).where(Store.code == "S-8")) is None


def test_points_read_only(client, session, shop, as_role):
    as_role("readonly")
    page = text(client.get("/cabinet/points"))
    assert "Магазины" in page and 'name="code"' not in page
    t = token(client, "/cabinet/points")
    assert client.post("/cabinet/points", data={"csrf_token": t, "kind": "store", "code": "S"}).status_code == 403


# --- API keys ----------------------------------------------------------------------------------

def test_api_key_is_shown_once_and_revoked(client, session, shop, as_role, api):
    from hub.tenants.models import ApiKey
    from hub.staff.models import AuditEntry
    as_role("owner")
    t = token(client, "/cabinet/keys")
    r = client.post("/cabinet/keys", data={"csrf_token": t, "name": "Сайт"})
    assert r.status_code == 200
    raw = re.search(r'<code class="key"[^>]*>(kp_[^<]+)</code>', text(r)).group(1)
    listing = text(client.get("/cabinet/keys"))
    assert raw not in listing and raw[:10] + "…" in listing and "Сайт" in listing
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == raw[:10]))
    assert row.tenant_id == shop["a"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "apikey.create")).one()
    assert raw not in str(entry.details) and entry.details["prefix"] == raw[:10]
    assert api.get("/api/v1/program", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    r = client.post(f"/cabinet/keys/{row.id}/revoke", data={"csrf_token": t})
    assert r.status_code == 303
    assert "отозван" in text(client.get(r.headers["Location"]))
    assert api.get("/api/v1/program", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.action == "apikey.revoke")).all() == \
        ["apikey.revoke"]
    r = client.post("/cabinet/keys", data={"csrf_token": t, "name": ""})
    assert r.status_code == 422 and "Назовите ключ" in text(r)


def test_api_keys_roles_and_isolation(client, session, shop, as_role):
    from hub.tenants.models import ApiKey
    theirs = session.scalars(select(ApiKey).where(ApiKey.tenant_id == shop["b"])).one()
    mine = session.scalars(select(ApiKey).where(ApiKey.tenant_id == shop["a"])).one()
    as_role("owner")
    t = token(client, "/cabinet/keys")
    assert client.post(f"/cabinet/keys/{theirs.id}/revoke", data={"csrf_token": t}).status_code == 404
    assert client.post(f"/cabinet/keys/{mine.prefix}/revoke", data={"csrf_token": t}).status_code == 404
    assert theirs.prefix not in text(client.get("/cabinet/keys"))
    client.post("/cabinet/logout", data={"csrf_token": t})
    as_role("manager")
    page = text(client.get("/cabinet/keys"))
    assert mine.prefix in page and "Выпустить" not in page and "Отозвать" not in page
    t = token(client, "/cabinet/keys")
    assert client.post("/cabinet/keys", data={"csrf_token": t, "name": "x"}).status_code == 403
    assert client.post(f"/cabinet/keys/{mine.id}/revoke", data={"csrf_token": t}).status_code == 403
    client.post("/cabinet/logout", data={"csrf_token": t})
    as_role("readonly")
    assert client.get("/cabinet/keys").status_code == 403
    assert session.scalars(select(ApiKey.revoked_at).where(ApiKey.id.in_([theirs.id, mine.id]))).all() == [None, None]


# --- connections and their inbox ---------------------------------------------------------------

def _connection_with_events(session, tenant_id, account="acc-1"):
    from connectors.inbox import process_event, store_event
    from connectors.registry import create_connection
    conn, _ = create_connection(session, tenant_id, kind="moysklad", external_account=account, name="Основной",
                                credentials={"token": "secret-token-value"})
    session.commit()
    conn_id = conn.id
    events = []
    for n in range(2):
        event, _ = store_event(session, tenant_id=tenant_id, connection_id=conn_id, source="moysklad",
                               kind="cabinet_test", dedupe_key=f"{account}-{n}-{uuid.uuid4().hex}", body={"n": n})
        events.append(event.id)
    ok, _ = store_event(session, tenant_id=tenant_id, connection_id=conn_id, source="moysklad",
                        kind="unknown_kind", dedupe_key=f"{account}-x-{uuid.uuid4().hex}", body={})
    process_event(session, ok.id)                       # no handler: failed for good
    for eid in events:
        process_event(session, eid)                     # RuntimeError: retry
    return conn_id, events, ok.id


def test_connections_list_and_inbox(client, session, shop, as_role):
    conn, events, failed_id = _connection_with_events(session, shop["a"])
    other, other_events, _ = _connection_with_events(session, shop["b"], "acc-b")
    as_role("readonly")
    page = text(client.get("/cabinet/connections"))
    assert "МойСклад" in page and "acc-1" in page and "acc-b" not in page and "secret-token-value" not in page
    assert "работает" in page and "заданы" in page
    detail = text(client.get(f"/cabinet/connections/{conn}"))          # failed ones by default
    assert failed_id in detail and "no handler" in detail and events[0] not in detail
    assert "Повторить" not in detail                                      # read-only: no button
    waiting = text(client.get(f"/cabinet/connections/{conn}?status=retry"))
    assert events[0] in waiting and "МойСклад не ответил" in waiting
    assert "secret-token-value" not in waiting and "token" in text(client.get(f"/cabinet/connections/{conn}"))
    assert client.get(f"/cabinet/connections/{other}").status_code == 404
    t = token(client, "/cabinet/connections")
    assert client.post(f"/cabinet/connections/{conn}/events/{events[0]}/retry",
                       data={"csrf_token": t}).status_code == 403


def test_retry_a_failed_event(client, session, shop, as_role):
    from hub.connections.models import InboundEvent
    from hub.staff.models import AuditEntry
    conn, events, failed_id = _connection_with_events(session, shop["a"])
    other, other_events, _ = _connection_with_events(session, shop["b"], "acc-b")
    as_role("manager")
    page = text(client.get(f"/cabinet/connections/{conn}?status=retry"))
    assert "Повторить" in page
    t = token(client, "/cabinet/connections")
    r = client.post(f"/cabinet/connections/{conn}/events/{events[0]}/retry?status=retry", data={"csrf_token": t})
    assert r.status_code == 303
    assert "Событие снова не обработано" in text(client.get(r.headers["Location"]))
    ATTEMPTS["fail"] = False
    r = client.post(f"/cabinet/connections/{conn}/events/{events[0]}/retry", data={"csrf_token": t})
    assert "Событие обработано." in text(client.get(r.headers["Location"]))
    session.expire_all()
    assert session.get(InboundEvent, events[0]).status == "done"
    assert session.get(InboundEvent, events[1]).status == "retry"
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "inbox.retry")).all()) == 2
    # another tenant's event, or one of another connection: 404, nothing retried
    assert client.post(f"/cabinet/connections/{other}/events/{other_events[0]}/retry",
                       data={"csrf_token": t}).status_code == 404
    assert client.post(f"/cabinet/connections/{conn}/events/{other_events[0]}/retry",
                       data={"csrf_token": t}).status_code == 404
    assert session.get(InboundEvent, other_events[0]).status == "retry"
    assert client.post(f"/cabinet/connections/{conn}/events/{events[1]}/retry").status_code == 400
