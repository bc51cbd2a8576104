"""The owner's first hour (issue 25, items 1 and 2): the setup checklist on the dashboard,
each step's state read from the data, and the program form in the owner's words."""
from __future__ import annotations

import re
import uuid

from tests.web.conftest import PASSWORD, sign_in, text, token


def _steps(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-step="(\w+)" data-done="(yes|no)"', page))


def test_checklist_reads_each_step_from_the_data(client, session):
    from connectors.inbox import store_event
    from connectors.registry import create_connection
    from hub import engine
    from hub.clock import utcnow
    from hub.customers.operations import register_customer
    from hub.notify.registry import configure
    from hub.programs.operations import DEFAULT_SETTINGS, put_program
    from hub.receipts.operations import SaleRequest, commit_sale
    from hub.tenants.operations import create_tenant
    from hub.web.ui.auth import create_user
    tenant, _ = create_tenant(session, "Салон «Лён»")
    tid = tenant.id
    create_user(session, tid, "owner@len.test", "owner", PASSWORD, "Ольга")
    session.commit()
    sign_in(client, "owner@len.test")
    page = text(client.get("/cabinet/"))
    assert "Первые шаги: сделано 0 из 5" in page
    assert _steps(page) == {"program": "no", "channel": "no", "till": "no", "cashier": "no", "sale": "no"}
    assert 'data-step="poster"' in page and f"/my/{tid}/login" in page and "<svg" in page

    put_program(session, tid, DEFAULT_SETTINGS)
    configure(session, tid, "console")
    create_user(session, tid, "kassa@len.test", "cashier", PASSWORD, "Анна")
    session.commit()
    steps = _steps(text(client.get("/cabinet/")))
    assert steps == {"program": "yes", "channel": "yes", "till": "no", "cashier": "yes", "sale": "no"}

    # a connection alone is not a working till: the first event is
    conn, _ = create_connection(session, tid, kind="moysklad", external_account="acc-1")
    cid = conn.id
    session.commit()
    assert "событий от кассы ещё не было" in text(client.get("/cabinet/setup/check"))
    assert _steps(text(client.get("/cabinet/")))["till"] == "no"
    store_event(session, tenant_id=tid, connection_id=cid, source="moysklad", kind="retaildemand",
                dedupe_key="e-1", body={})
    session.commit()
    assert "Подключение работает: первое событие от МойСклад получено" in text(client.get("/cabinet/setup/check"))
    till = text(client.get("/cabinet/setup/till"))
    assert "Проверить подключение" in till and "Эвотор" in till and "1С" in till and "токен доступа" in till

    # an anonymous sale is not a card sale
    def sale(customer):
        req = SaleRequest(external_id=uuid.uuid4().hex, moment=utcnow(),
                          positions=(engine.Position(id="1", amount=10000, price=10000),),
                          customer={"id": customer.id} if customer else None)
        commit_sale(session, tid, "api", req, {"x": req.external_id})
    sale(None)
    assert _steps(text(client.get("/cabinet/")))["sale"] == "no"
    c = register_customer(session, tid, {"phone": "+79160001122"}, source="api", moment=utcnow())
    session.commit()
    sale(c)
    page = text(client.get("/cabinet/"))
    assert "setup-checklist" not in page            # every step done: the list is gone


def test_checklist_is_the_tenants_own(client, session, shop, as_role):
    as_role("owner")
    steps = _steps(text(client.get("/cabinet/")))
    # tenant A has a cashier and the console channel, but no program saved
    assert steps["cashier"] == "yes" and steps["channel"] == "yes" and steps["program"] == "no"
    sign_in(client, shop["users"]["other"])
    steps = _steps(text(client.get("/cabinet/")))
    assert steps["cashier"] == "no" and steps["channel"] == "no"
    assert token(client, "/cabinet/setup/till")
