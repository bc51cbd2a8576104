"""The owner's cabinet: dashboard, clients, client card with manual operations, program
settings with the hub's validation messages, receipts, users, audit; tenants sealed."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select

from hub.clock import frozen
from tests.web.conftest import text, token

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def _sale(session, tenant_id, customer=None, amount=100000, external_id=None, moment=NOW):
    from hub import engine
    from hub.receipts.operations import SaleRequest, commit_sale
    req = SaleRequest(external_id=external_id or uuid.uuid4().hex, moment=moment,
                      positions=(engine.Position(id="1", amount=amount, price=amount, name="Кофе"),),
                      customer={"id": customer.id} if customer else None, store="S1", cashier="K1")
    return commit_sale(session, tenant_id, "api", req, {"x": req.external_id})[0]


def _program_form(**over):
    data = {"type": "bonus", "timezone": "Europe/Moscow", "rounding": "kopeck", "bonus_lifetime_days": "365",
            "expiry_mode": "since_accrual", "expiry_dates": "", "activation_delay_days": "0",
            "restored_bonus_grace_days": "0", "rules": "[]", "accrue_on_discounted": "on", "spend_on_discounted": "on",
            "level_count": "3",
            "levels-0-code": "base", "levels-0-name": "Стандарт", "levels-0-threshold": "0",
            "levels-0-accrual_scheme": "percent", "levels-0-accrual_percent": "5", "levels-0-max_spend_percent": "30",
            "levels-1-code": "gold", "levels-1-name": "Золотой", "levels-1-threshold": "10 000",
            "levels-1-accrual_scheme": "percent", "levels-1-accrual_percent": "7", "levels-1-max_spend_percent": "50",
            "levels-2-accrual_scheme": "percent"}
    data.update(over)
    return data


def test_dashboard_figures(client, session, shop, as_role, customer_of):
    c = customer_of(shop["a"])
    with frozen(NOW):
        _sale(session, shop["a"], c, 123456)
        _sale(session, shop["a"], None, 50000)
        _sale(session, shop["b"], None, 999999)          # another tenant's: not counted
        as_role("owner")
        page = text(client.get("/cabinet/"))
    assert "1 234,56 ₽" in page and "500,00 ₽" in page
    assert "9 999,99" not in page
    assert "ноя 2026" in page and 'id="chart-data"' in page
    assert "chart.umd.min.js" in page


def test_clients_search_and_keyset_pages(client, session, shop, as_role, customer_of):
    from hub.web import cabinet
    for i in range(cabinet.PAGE + 5):
        with frozen(NOW + timedelta(minutes=i)):
            customer_of(shop["a"], f"+7916100{i:04d}", last_name=f"Иванов{i}")
    customer_of(shop["b"], "+79990000000", last_name="Чужой")
    as_role("manager")
    first = text(client.get("/cabinet/clients"))
    assert first.count("/cabinet/clients/") >= cabinet.PAGE and "Чужой" not in first
    assert "Показать ещё" in first
    import re
    nxt = re.search(r'href="(/cabinet/clients\?[^"]*after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(client.get(nxt, headers={"HX-Request": "true"}))
    assert second.count("<tr>") == 5 and "Иванов0<" in second and "Показать ещё" not in second
    found = text(client.get("/cabinet/clients?q=8 916 100-00-07"))
    assert "Иванов7" in found and "Иванов8" not in found
    assert "Иванов12" in text(client.get("/cabinet/clients?q=Иванов12"))
    assert "+79990000000" not in text(client.get("/cabinet/clients?q=+79990000000"))


def test_client_card_and_isolation(client, session, shop, as_role, customer_of):
    mine = customer_of(shop["a"], consents={"sms": True})
    theirs = customer_of(shop["b"], "+79990000001")
    with frozen(NOW):
        _sale(session, shop["a"], mine, 100000)
        receipt_b = _sale(session, shop["b"], theirs, 100000)
        as_role("readonly")
        page = text(client.get(f"/cabinet/clients/{mine.id}"))
        assert "+79161234567" in page and "50,00 Б" in page and "SMS-рассылки" in page and "дано" in page
        assert "Ваша роль — только просмотр" in page
        assert client.get(f"/cabinet/clients/{theirs.id}").status_code == 404
        assert client.get(f"/cabinet/receipts/{receipt_b['id']}").status_code == 404
        assert client.get("/cabinet/clients/nope").status_code == 404


def test_manual_accrual_debit_and_audit(client, session, shop, as_role, customer_of):
    from hub.ledger.models import Posting
    c = customer_of(shop["a"])
    t = as_role("manager") and token(client, f"/cabinet/clients/{c.id}")
    key = str(uuid.uuid4())
    form = {"csrf_token": t, "kind": "manual", "amount": "150", "reason": "Компенсация", "op_key": key}
    r = client.post(f"/cabinet/clients/{c.id}/bonuses", data=form)
    assert r.status_code == 303
    assert client.post(f"/cabinet/clients/{c.id}/bonuses", data=form).status_code == 303     # double click
    assert session.scalar(select(func.count()).select_from(Posting).where(Posting.tenant_id == shop["a"])) == 1
    assert "150,00 Б" in text(client.get(f"/cabinet/clients/{c.id}"))
    # validation: no reason; too much to debit; gift without days
    r = client.post(f"/cabinet/clients/{c.id}/bonuses", data={**form, "reason": "", "op_key": str(uuid.uuid4())})
    assert r.status_code == 422 and "Укажите причину" in text(r)
    r = client.post(f"/cabinet/clients/{c.id}/bonuses",
                    data={**form, "kind": "debit", "amount": "1000", "op_key": str(uuid.uuid4())})
    assert r.status_code == 422 and "Недостаточно бонусов" in text(r)
    r = client.post(f"/cabinet/clients/{c.id}/bonuses",
                    data={**form, "kind": "gift", "op_key": str(uuid.uuid4())})
    assert r.status_code == 422 and "срок действия" in text(r)
    r = client.post(f"/cabinet/clients/{c.id}/bonuses",
                    data={**form, "kind": "debit", "amount": "50", "op_key": str(uuid.uuid4())})
    assert r.status_code == 303
    assert "100,00 Б" in text(client.get(f"/cabinet/clients/{c.id}"))
    log = text(client.get("/cabinet/audit"))
    assert "ручное начисление" in log and "ручное списание" in log and "manager@zerno.test" in log
    # another tenant's client: 404, nothing written
    other = customer_of(shop["b"], "+79990000002")
    r = client.post(f"/cabinet/clients/{other.id}/bonuses", data={**form, "op_key": str(uuid.uuid4())})
    assert r.status_code == 404


def test_readonly_cannot_adjust(client, shop, as_role, customer_of):
    c = customer_of(shop["a"])
    as_role("readonly")
    t = token(client, f"/cabinet/clients/{c.id}")
    r = client.post(f"/cabinet/clients/{c.id}/bonuses",
                    data={"csrf_token": t, "kind": "manual", "amount": "1", "reason": "x", "op_key": str(uuid.uuid4())})
    assert r.status_code == 403


def test_program_form_shows_the_hubs_messages_next_to_fields(client, session, shop, as_role):
    from hub.programs.operations import load_settings
    as_role("owner")
    t = token(client, "/cabinet/program")
    r = client.post("/cabinet/program", data=_program_form(**{"csrf_token": t, "levels-1-threshold": "-100"}))
    page = text(r)
    assert r.status_code == 422
    # the message sits in the label of the second level's threshold
    import re
    label = re.search(r'name="levels-1-threshold".*?</label>', page, re.S).group(0)
    assert "Нужна сумма покупок не меньше 0." in label
    assert load_settings(session, shop["a"])[1] == 0           # nothing stored
    r = client.post("/cabinet/program", data=_program_form(**{"csrf_token": t, "levels-0-threshold": "500"}))
    assert r.status_code == 422 and "Порог первого уровня должен быть 0." in text(r)
    r = client.post("/cabinet/program", data=_program_form(**{"csrf_token": t, "levels-1-accrual_percent": "120",
                                                              "levels-1-threshold": "abc"}))
    page = text(r)
    assert "Должно быть от 0 до 100." in re.search(r'name="levels-1-accrual_scheme".*?</label>', page, re.S).group(0)
    assert "Введите сумму в рублях" in page
    r = client.post("/cabinet/program", data=_program_form(**{"csrf_token": t, "rules": "[{"}))
    assert r.status_code == 422 and "Не JSON" in text(r)
    r = client.post("/cabinet/program", data=_program_form(**{"csrf_token": t, "timezone": "Mars/Base"}))
    assert "Неизвестный часовой пояс" in text(r)


def test_program_form_saves_and_is_audited(client, session, shop, as_role):
    from hub.programs.operations import get_program, load_settings
    as_role("owner")
    t = token(client, "/cabinet/program")
    r = client.post("/cabinet/program", data=_program_form(csrf_token=t))
    assert r.status_code == 303
    settings, version = load_settings(session, shop["a"])
    assert version == 1 and [lv["threshold"] for lv in settings["levels"]] == [0, 1000000]
    assert settings["levels"][1]["accrual"] == {"scheme": "percent", "percent": "7"}
    assert settings["verify_spending"] is False
    r = client.post("/cabinet/program", data=_program_form(csrf_token=t, verify_spending="on"))
    assert r.status_code == 303 and load_settings(session, shop["a"])[0]["verify_spending"] is True
    assert "checked> Списание бонусов в рабочем месте кассира" in text(client.get("/cabinet/program"))
    r = client.post("/cabinet/program", data=_program_form(csrf_token=t))
    settings, version = load_settings(session, shop["a"])
    assert settings["verify_spending"] is False and version == 3
    session.info.pop("programs", None)
    assert get_program(session, shop["a"]).levels[1].max_spend_percent == Decimal("50")
    page = text(client.get("/cabinet/program"))
    assert 'value="10 000,00"' in page and "Золотой" in page
    assert "изменены настройки программы" in text(client.get("/cabinet/audit"))
    # the other tenant's program is untouched
    assert load_settings(session, shop["b"])[1] == 0


def test_program_preview(client, shop, as_role):
    as_role("manager")
    t = token(client, "/cabinet/program")
    r = client.post("/cabinet/program/preview", data=_program_form(preview_amount="1 000"),
                    headers={"HX-Request": "true", "X-CSRFToken": t})
    page = text(r)
    assert r.status_code == 200 and "Золотой" in page and "50,00 Б" in page and "70,00 Б" in page


def test_receipts_list_filters_and_card(client, session, shop, as_role, customer_of):
    c = customer_of(shop["a"])
    with frozen(NOW):
        a = _sale(session, shop["a"], c, 10000, "R-A")
        _sale(session, shop["b"], None, 10000, "R-B")
    as_role("readonly")
    page = text(client.get("/cabinet/receipts"))
    assert "R-A" in page and "R-B" not in page
    assert "R-A" not in text(client.get("/cabinet/receipts?store=S9"))
    assert "R-A" in text(client.get("/cabinet/receipts?date_from=2026-11-20&date_to=2026-11-20"))
    assert "R-A" not in text(client.get("/cabinet/receipts?date_from=2026-11-21"))
    assert "ГГГГ-ММ-ДД" in text(client.get("/cabinet/receipts?date_from=20.11"))
    card = text(client.get(f"/cabinet/receipts/{a['id']}"))
    assert "Кофе" in card and "100,00 ₽" in card


def test_users_invite_and_roles(client, session, shop, as_role):
    from hub.staff.models import WebUser
    as_role("owner")
    t = token(client, "/cabinet/users")
    r = client.post("/cabinet/users", data={"csrf_token": t, "email": "new@zerno.test", "role": "manager",
                                            "password": "short"})
    assert r.status_code == 422 and "Не короче 8 символов" in text(r)
    r = client.post("/cabinet/users", data={"csrf_token": t, "email": "owner@other.test", "role": "manager",
                                            "password": "long-enough-1"})
    assert r.status_code == 422 and "уже есть" in text(r)
    r = client.post("/cabinet/users", data={"csrf_token": t, "email": "New@Zerno.test", "role": "readonly",
                                            "password": "long-enough-1"})
    assert r.status_code == 303
    row = session.scalars(select(WebUser).where(WebUser.email == "new@zerno.test")).one()
    assert row.tenant_id == shop["a"] and row.role == "readonly"
    r = client.post(f"/cabinet/users/{row.id}", data={"csrf_token": t, "role": "manager", "active": "1"})
    assert r.status_code == 303
    assert session.scalars(select(WebUser.role).where(WebUser.id == row.id)).one() == "manager"
    other = session.scalars(select(WebUser).where(WebUser.email == "owner@other.test")).one()
    assert client.post(f"/cabinet/users/{other.id}", data={"csrf_token": t, "role": "readonly"}).status_code == 404
    assert "приглашён пользователь" in text(client.get("/cabinet/audit"))
