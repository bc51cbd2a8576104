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
    page = text(client.get("/cabinet/"))
    assert _steps(page) == {"program": "yes", "channel": "yes", "till": "no", "cashier": "yes", "sale": "no"}
    assert "Подключено: SMS — демо, сообщения никуда не уходят." in page
    # a balance the provider told in its last send answer (hub.notify.delivery keeps it)
    from sqlalchemy import select

    from hub.notify.models import NotifyChannel
    row = session.scalars(select(NotifyChannel).where(NotifyChannel.tenant_id == tid)).one()
    row.settings = {**row.settings, "balance": 10050, "balance_at": "2026-03-02T09:00:00+00:00"}
    session.commit()
    assert "уходят (баланс 100,50 ₽ на 02.03.2026 12:00)" in text(client.get("/cabinet/"))

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


def _form(t, **over):
    data = {"csrf_token": t, "type": "bonus", "timezone": "Europe/Moscow", "rounding": "kopeck",
            "bonus_lifetime_days": "365", "expiry_mode": "since_accrual", "expiry_dates": "",
            "activation_delay_days": "0", "restored_bonus_grace_days": "0", "accrue_on_discounted": "on",
            "spend_on_discounted": "on", "level_count": "3", "rule_count": "0",
            "levels-0-name": "Стандарт", "levels-0-threshold": "0", "levels-0-accrual_percent": "5",
            "levels-0-max_spend_percent": "30",
            "levels-1-name": "Золотая", "levels-1-threshold": "10 000", "levels-1-accrual_percent": "10",
            "levels-2-name": "Серебряная", "levels-2-threshold": "5 000", "levels-2-accrual_percent": "7"}
    data.update(over)
    return data


def test_levels_by_name_in_any_order_are_saved_sorted_with_made_codes(client, session, shop, as_role):
    from hub.programs.operations import load_settings
    as_role("owner")
    t = token(client, "/cabinet/program")
    page = text(client.get("/cabinet/program"))
    assert "Код" not in re.sub(r"<[^>]+>", " ", page).split()          # no Latin code to type
    r = client.post("/cabinet/program", data=_form(t))
    assert r.status_code == 303, text(r)
    levels = load_settings(session, shop["a"])[0]["levels"]
    assert [(lv["name"], lv["threshold"], lv["code"]) for lv in levels] == [
        ("Стандарт", 0, "standart"), ("Серебряная", 500000, "serebryanaya"), ("Золотая", 1000000, "zolotaya")]
    # codes once made are kept when a level is renamed (clients' levels refer to them)
    page = text(client.get("/cabinet/program"))
    assert 'name="levels-1-code" value="serebryanaya"' in page
    r = client.post("/cabinet/program", data=_form(t, **{
        "levels-0-code": "standart", "levels-1-code": "zolotaya", "levels-2-code": "serebryanaya",
        "levels-2-name": "Серебро"}))
    assert r.status_code == 303
    assert [lv["code"] for lv in load_settings(session, shop["a"])[0]["levels"]] == ["standart", "serebryanaya",
                                                                                      "zolotaya"]
    # removed (emptied) rows are no level; two levels of one name get distinct codes
    r = client.post("/cabinet/program", data=_form(t, **{"level_count": "4", "levels-1-name": "Серебряная",
                                                          "levels-1-threshold": "7 000", "levels-3-name": ""}))
    assert r.status_code == 303
    codes = [lv["code"] for lv in load_settings(session, shop["a"])[0]["levels"]]
    assert sorted(codes) == ["serebryanaya", "serebryanaya_2", "standart"]


def test_an_error_shows_the_rows_sent_without_empty_ones(client, session, shop, as_role):
    from hub.programs.operations import load_settings
    as_role("owner")
    t = token(client, "/cabinet/program")
    r = client.post("/cabinet/program", data=_form(t, **{"level_count": "5", "levels-2-threshold": "10 000"}))
    page = text(r)
    assert r.status_code == 422 and "Пороги уровней идут по возрастанию без повторов." in page
    # the three sent, no empty rows added (the row template for «Добавить уровень» aside)
    assert re.findall(r'name="levels-(\d+)-name"', page) == ["0", "1", "2"]
    assert 'value="Серебряная"' in page and 'name="level_count" value="3"' in page
    assert load_settings(session, shop["a"])[1] == 0


RULE = {"name": "Утро", "when": {"weekdays": [1, 2, 3, 4, 5], "time_from": "09:00", "time_to": "12:00"},
        "then": {"accrual_multiplier": "2"}}


def test_a_rule_built_from_choices_reads_back_and_is_stored_as_the_json_rule(client, session, shop, as_role):
    from hub.catalog.models import CatalogGroup
    from hub.programs.operations import get_program, load_settings
    from hub.tenants.models import Store
    from hub.catalog.models import CatalogProduct
    session.add(CatalogGroup(tenant_id=shop["a"], external_id="g-coffee", name="Кофе"))
    session.add(CatalogProduct(tenant_id=shop["a"], external_id="p-latte", name="Латте"))
    session.add(Store(tenant_id=shop["a"], code="S1", name="На Ленина"))
    session.commit()
    as_role("owner")
    t = token(client, "/cabinet/program")
    page = text(client.get("/cabinet/program"))
    assert '<option value="g-coffee" >Кофе</option>' in page and "На Ленина" in page
    assert '<option value="p-latte" >Латте</option>' in page
    rule = {"rule_count": "2", "rules-0-name": "Утро", "rules-0-weekdays": ["1", "2", "3", "4", "5"],
            "rules-0-time_from": "9:00", "rules-0-time_to": "12:00", "rules-0-effect": "accrual_multiplier",
            "rules-0-value": "2",
            "rules-1-groups": ["g-coffee"], "rules-1-products": ["p-latte"], "rules-1-stores": ["S1"],
            "rules-1-payment": "card",
            "rules-1-effect": "no_spend"}
    r = client.post("/cabinet/program/preview", data=_form(t, preview_amount="1 000", **rule),
                    headers={"HX-Request": "true", "X-CSRFToken": t})
    page = text(r)
    assert "По будням с 9:00 до 12:00 — начисление ×2" in page and 'id="rule-sentence-0"' in page
    assert "Начислится" in page and "Скидка</th>" not in page    # a bonus program: no column of zeros
    assert ("На товары групп «Кофе» и товары «Латте» при оплате картой в магазинах «На Ленина» — "
            "без оплаты бонусами" in page)
    r = client.post("/cabinet/program", data=_form(t, **rule))
    assert r.status_code == 303, text(r)
    rules = load_settings(session, shop["a"])[0]["rules"]
    assert rules[0] == RULE
    assert rules[1]["when"] == {"groups": ["g-coffee"], "products": ["p-latte"], "payment_methods": ["card"],
                                "stores": ["S1"]}
    assert rules[1]["then"] == {"no_spend": True}
    session.info.pop("programs", None)
    assert get_program(session, shop["a"]).rules[0].then.accrual_multiplier == 2
    page = text(client.get("/cabinet/program"))
    assert "По будням с 9:00 до 12:00 — начисление ×2" in page
    # a rule without a number for its effect: the message by the field, nothing stored
    r = client.post("/cabinet/program", data=_form(t, **{**rule, "rules-0-value": ""}))
    assert r.status_code == 422 and "Укажите число." in text(r)
    # the hub's own message for a bad percent, shown in the row
    r = client.post("/cabinet/program", data=_form(t, **{**rule, "rules-0-effect": "accrual_percent",
                                                          "rules-0-value": "150"}))
    assert r.status_code == 422 and "Должно быть от 0 до 100." in text(r)
    assert load_settings(session, shop["a"])[1] == 1


def test_a_stored_rule_the_choices_cannot_show_keeps_its_other_keys(client, session, shop, as_role):
    from hub.programs.operations import DEFAULT_SETTINGS, load_settings, put_program
    rule = {"name": "Без акций", "when": {"exclude_groups": ["sale"], "levels": ["base"]},
            "then": {"no_discount": True, "max_spend_percent": "10"}}
    put_program(session, shop["a"], {**DEFAULT_SETTINGS, "rules": [rule]})
    as_role("owner")
    t = token(client, "/cabinet/program")
    page = text(client.get("/cabinet/program"))
    assert "Кроме групп «sale» для уровней «Стандарт» — оплата бонусами до 10 %, без скидки уровня" in page
    r = client.post("/cabinet/program", data=_form(t, **{
        "level_count": "1", "levels-0-code": "base", "rule_count": "1", "rules-0-name": "Без акций",
        "rules-0-effect": "max_spend_percent", "rules-0-value": "10",
        "rules-0-extra": '{"when": {"exclude_groups": ["sale"], "levels": ["base"]}, "then": {"no_discount": true}}'}))
    assert r.status_code == 303, text(r)
    assert load_settings(session, shop["a"])[0]["rules"] == [rule]


def test_presets_fill_the_form_and_save_as_shown(client, session, shop, as_role):
    from hub.programs.operations import load_settings
    as_role("owner")
    page = text(client.get("/cabinet/program"))
    for key in ("cafe", "clothes", "salon"):
        assert f"/cabinet/program?preset={key}" in page
    page = text(client.get("/cabinet/program?preset=cafe"))
    assert "Шаблон «Кафе» подставлен" in page and 'value="Друг кафе"' in page
    assert "По будням с 8:00 до 11:00 — начисление ×2" in page
    assert load_settings(session, shop["a"])[1] == 0         # nothing saved by looking
    page = text(client.get("/cabinet/program?preset=salon"))
    assert 'value="VIP"' in page and "с 10:00 до 14:00" in page
    page = text(client.get("/cabinet/program?preset=clothes"))
    assert 'value="Серебряная"' in page and "По выходным — начисление ×1,5" in page
    # the preset's form, sent as shown, is stored as the preset
    from hub.web.cabinet.program_form import PRESETS
    t = token(client, "/cabinet/program")
    levels = PRESETS["clothes"][1]["levels"]
    data = _form(t, **{"level_count": "3", "accrue_on_discounted": "", "spend_on_discounted": "",
                       "rule_count": "1", "rules-0-name": "Выходные", "rules-0-weekdays": ["6", "7"],
                       "rules-0-effect": "accrual_multiplier", "rules-0-value": "1,5"})
    data.pop("accrue_on_discounted"), data.pop("spend_on_discounted")
    for i, lv in enumerate(levels):
        data.update({f"levels-{i}-name": lv["name"], f"levels-{i}-threshold": str(lv["threshold"] // 100),
                     f"levels-{i}-accrual_percent": lv["accrual"]["percent"],
                     f"levels-{i}-max_spend_percent": lv["max_spend_percent"]})
    r = client.post("/cabinet/program", data=data)
    assert r.status_code == 303, text(r)
    saved = load_settings(session, shop["a"])[0]
    assert saved["levels"] == levels and saved["rules"] == PRESETS["clothes"][1]["rules"]
    assert saved["accrue_on_discounted"] is False


def test_a_1c_till_is_connected_from_the_cabinet_with_what_to_paste(client, session, shop, as_role):
    import base64

    from sqlalchemy import select

    from hub.connections.models import Connection
    as_role("owner")
    t = token(client, "/cabinet/setup/till")
    r = client.post("/cabinet/setup/till/onec", data={"csrf_token": t, "base": "", "login": "kassa"})
    assert r.status_code == 422 and "Назовите базу 1С" in text(r)
    assert session.scalar(select(Connection.id).where(Connection.tenant_id == shop["a"])) is None
    r = client.post("/cabinet/setup/till/onec", data={"csrf_token": t, "base": "Розница, Ленина", "login": "kassa"})
    page = text(r)
    assert r.status_code == 200 and "Пароль показан один раз" in page
    conn = session.scalars(select(Connection).where(Connection.tenant_id == shop["a"])).one()
    url = re.search(r"<dd><code>(http[^<]+)</code>", page).group(1)
    password = re.search(r'id="onec-password">([^<]+)<', page).group(1)
    assert url.endswith(f"/onec/{conn.id}/hs/loyaltyservice") and conn.kind == "onec"
    # what the page shows is what 1С needs: the cash desk's ping answers with those
    auth = base64.b64encode(f"kassa:{password}".encode()).decode()
    r = client.get(f"/onec/{conn.id}/hs/loyaltyservice/ping", headers={"Authorization": f"Basic {auth}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "создано подключение кассы" in text(client.get("/cabinet/audit"))
    as_role("readonly")
    t = token(client, "/cabinet/setup/till")
    r = client.post("/cabinet/setup/till/onec", data={"csrf_token": t, "base": "Ещё", "login": "kassa"})
    assert r.status_code == 403


def test_the_preview_applies_the_rules_of_the_moment_chosen(client, shop, as_role):
    as_role("owner")
    t = token(client, "/cabinet/program")
    rule = {"rule_count": "1", "rules-0-weekdays": ["6", "7"], "rules-0-effect": "accrual_multiplier",
            "rules-0-value": "3"}
    form = _form(t, preview_amount="1 000", **{"level_count": "1"}, **rule)
    headers = {"HX-Request": "true", "X-CSRFToken": t}
    saturday = text(client.post("/cabinet/program/preview", data={**form, "preview_moment": "2026-03-07T15:00"},
                                headers=headers))
    monday = text(client.post("/cabinet/program/preview", data={**form, "preview_moment": "2026-03-09T15:00"},
                              headers=headers))
    assert "150,00 Б" in saturday and "07.03.2026 15:00" in saturday     # 5 % ×3
    assert "50,00 Б" in monday and "150,00 Б" not in monday
