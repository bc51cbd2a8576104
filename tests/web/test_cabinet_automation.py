"""Automation in the owner's cabinet: channels, gift triggers, win-back chains with the seed 001
calculator, mailings with their estimate, results per mechanic and the referral program —
all through hub.notify's and hub.automation's own functions, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import responses
from sqlalchemy import func, select

from hub.clock import frozen
from tests.web.conftest import text, token

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)          # 12:00 in Moscow


def _audit(session, tenant_id: str) -> list[str]:
    from hub.staff.models import AuditEntry
    return sorted(session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == tenant_id)).all())


def _settings(session, tenant_id: str) -> dict:
    from hub.automation import settings
    session.expire_all()
    return settings.load(session, tenant_id)


def _count(session, model, tenant_id: str) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id))


PAGES = {"/cabinet/channels": "Каналы сообщений", "/cabinet/automation": "Подарки и уведомления",
         "/cabinet/automation/referrals": "Реферальная программа", "/cabinet/automation/chains": "Цепочки реанимации",
         "/cabinet/automation/chains/new": "Новая цепочка реанимации", "/cabinet/mailings": "Рассылки",
         "/cabinet/mailings/new": "Новая рассылка", "/cabinet/automation/results": "Результаты механик"}


FORMS = ("/cabinet/channels", "/cabinet/automation", "/cabinet/automation/referrals", "/cabinet/automation/chains/new")


@pytest.mark.parametrize("role", ["owner", "readonly"])
def test_every_page_renders_in_russian(client, session, shop, as_role, role):
    as_role(role)
    for url, heading in PAGES.items():
        r = client.get(url)
        page = text(r)
        assert r.status_code == 200, url
        assert f"<h1>{heading}" in page, url
        if url in FORMS:
            assert ("Сохранить" in page) == (role == "owner"), url
    page = text(client.get("/cabinet/automation"))
    assert "На день рождения" in page and "За самостоятельную регистрацию" in page
    assert "За регистрацию по приглашению" in page and "Предупреждение о сгорании" in page
    if role == "readonly":
        assert 'type="submit"' not in page.split("</header>")[1].replace('class="link" type="submit"', "")
        ch = text(client.get("/cabinet/channels"))
        assert "не подключён" in ch and 'name="recipient"' not in ch and 'type="password"' not in ch


def test_channels_connect_secret_never_shown_replace_and_hub_errors(client, session, shop, as_role):
    from hub.notify.models import NotifyChannel
    from hub.notify import registry
    as_role("manager")
    page = text(client.get("/cabinet/channels"))
    for name in ("SMS.ru", "SMS Aero", "Telegram", "MAX", "Электронная почта", "SMS как запасной канал"):
        assert name in page
    t = token(client, "/cabinet/channels")
    r = client.post("/cabinet/channels/sms", data={
        "csrf_token": t, "provider": "smsru", "sms-smsru-api_id": "SECRET-API-ID-123", "sms-sender": "ZERNO",
        "sms-enabled": "1"})
    assert r.status_code == 303, text(r)
    page = text(client.get("/cabinet/channels"))
    assert "SECRET-API-ID-123" not in page and 'id="sms-smsru-api_id-set"' in page and "заменить" in page
    assert 'value="ZERNO"' in page and 'id="state-sms">включён' in page
    session.expire_all()
    row = session.scalar(select(NotifyChannel).where(NotifyChannel.tenant_id == shop["a"]))
    assert row.provider == "smsru" and registry.decrypt(row.credentials)["api_id"] == "SECRET-API-ID-123"
    assert row.settings["sender"] == "ZERNO" and row.enabled
    # Saving again with the secret left empty keeps it; switching off is kept too.
    r = client.post("/cabinet/channels/sms", data={"csrf_token": t, "provider": "smsru", "sms-smsru-api_id": "",
                                                   "sms-sender": "ZERNO2"})
    assert r.status_code == 303
    session.expire_all()
    row = session.get(NotifyChannel, row.id)
    assert registry.decrypt(row.credentials)["api_id"] == "SECRET-API-ID-123" and not row.enabled
    assert row.settings["sender"] == "ZERNO2"
    # Another gateway without its credentials: the hub's message by the fields, nothing written.
    r = client.post("/cabinet/channels/sms", data={"csrf_token": t, "provider": "smsaero", "sms-sender": "X",
                                                   "sms-enabled": "1"})
    assert r.status_code == 422
    page = text(r)
    assert "Не хватает учётных данных провайдера: email, api_key." in page
    assert re.search(r'name="sms-smsaero-api_key"[^>]*>\s*<span class="err">Не хватает', page)
    session.expire_all()
    row = session.get(NotifyChannel, row.id)
    assert row.provider == "smsru" and row.settings["sender"] == "ZERNO2"
    r = client.post("/cabinet/channels/sms", data={"csrf_token": t, "provider": "telegram"})
    assert r.status_code == 422 and "Выберите провайдера из списка." in text(r)
    assert client.post("/cabinet/channels/fax", data={"csrf_token": t, "provider": "smsru"}).status_code == 404
    # Telegram: the token is a password field, never echoed.
    r = client.post("/cabinet/channels/telegram", data={"csrf_token": t, "provider": "telegram",
                                                        "telegram-telegram-token": "123:BOT-TOKEN", "telegram-enabled": "1"})
    assert r.status_code == 303
    page = text(client.get("/cabinet/channels"))
    assert "123:BOT-TOKEN" not in page and "/notify/telegram/" in page
    assert _count(session, NotifyChannel, shop["b"]) == 0
    assert _audit(session, shop["a"]) == ["channel.save", "channel.save", "channel.save"]


@responses.activate
def test_test_message_to_a_phone_shows_the_provider_answer(client, session, shop, as_role):
    # The fixture's tenant sends its codes through the demo console channel: start without one.
    from hub.notify.models import NotifyChannel
    session.query(NotifyChannel).filter(NotifyChannel.tenant_id == shop["a"]).delete()
    session.commit()
    as_role("owner")
    t = token(client, "/cabinet/channels")
    r = client.post("/cabinet/channels/sms/test", data={"csrf_token": t, "recipient": "+79161234567"})
    assert r.status_code == 422 and "Сначала сохраните настройки канала." in text(r)
    client.post("/cabinet/channels/sms", data={"csrf_token": t, "provider": "smsru", "sms-smsru-api_id": "K",
                                               "sms-enabled": "1"})
    responses.add(responses.POST, "https://sms.ru/sms/send", json={
        "status": "OK", "sms": {"79161234567": {"status": "OK", "sms_id": "000-1", "cost": "3.50"}}})
    r = client.post("/cabinet/channels/sms/test", data={"csrf_token": t, "recipient": "8 916 123-45-67"})
    page = text(r)
    assert r.status_code == 200 and 'id="test-result"' in page and "000-1" in page and "3,50 ₽" in page
    sent = responses.calls[0].request.body
    assert "to=79161234567" in sent and "%D0%A2%D0%B5%D1%81%D1%82" in sent       # "Тест…"
    responses.replace(responses.POST, "https://sms.ru/sms/send", json={
        "status": "ERROR", "status_code": 201, "status_text": "Не хватает средств на лицевом счету"})
    r = client.post("/cabinet/channels/sms/test", data={"csrf_token": t, "recipient": "+79161234567"})
    assert r.status_code == 422 and "Провайдер не принял сообщение:" in text(r) and "средств" in text(r)
    r = client.post("/cabinet/channels/sms/test", data={"csrf_token": t, "recipient": "12"})
    assert r.status_code == 422 and "Номер телефона «12» недействителен." in text(r)
    assert len(responses.calls) == 2
    assert _audit(session, shop["a"]).count("channel.test") == 2


def test_sms_fallback_and_part_price(client, session, shop, as_role):
    from hub.notify import rules
    as_role("manager")
    t = token(client, "/cabinet/channels")
    r = client.post("/cabinet/channels/settings", data={"csrf_token": t, "sms_part_price": "3,20"})
    assert r.status_code == 303
    session.info.pop("notify_settings", None)
    s = rules.get_settings(session, shop["a"])
    assert s["sms_fallback"] is False and s["sms_part_price"] == 320
    page = text(client.get("/cabinet/channels"))
    assert 'value="3,20"' in page and re.search(r'name="sms_fallback" value="1"\s+>', page)
    r = client.post("/cabinet/channels/settings", data={"csrf_token": t, "sms_part_price": "дорого",
                                                        "sms_fallback": "1"})
    assert r.status_code == 422 and "Введите цену, например 2,50." in text(r)
    session.info.pop("notify_settings", None)
    assert rules.get_settings(session, shop["a"])["sms_fallback"] is False
    assert rules.get_settings(session, shop["b"])["sms_fallback"] is True
    assert _audit(session, shop["a"]) == ["notify.channels"]


def test_gift_triggers_save_show_and_hub_messages(client, session, shop, as_role):
    from hub.automation import settings
    with frozen(NOW):
        settings.save(session, shop["a"], {"gifts": [
            {"id": "api1", "event": "first_purchase", "amount": 7700, "valid_days": 5, "levels": ["base"]}]}, NOW)
    as_role("owner")
    t = token(client, "/cabinet/automation")
    form = {"csrf_token": t, "birthday-enabled": "1", "birthday-amount": "500", "birthday-days_before": "7",
            "birthday-valid_days": "15", "self_registration-enabled": "1", "self_registration-amount": "150",
            "self_registration-valid_days": "30", "expiry-enabled": "1", "expiry-days_before": "5"}
    with frozen(NOW):
        r = client.post("/cabinet/automation", data=form)
    assert r.status_code == 303, text(r)
    s = _settings(session, shop["a"])
    by_event = {(g["event"], tuple(g["sources"])): g for g in s["gifts"]}
    bday = by_event[("birthday", ())]
    assert (bday["amount"], bday["days_before"], bday["valid_days"], bday["enabled"]) == (50000, 7, 15, True)
    assert by_event[("registration", ("self_registration",))]["amount"] == 15000
    assert by_event[("first_purchase", ())]["id"] == "api1"                    # the API's rule kept
    assert ("registration", ()) not in by_event                               # empty and off: no rule
    assert s["expiry_warning"]["enabled"] and s["expiry_warning"]["days_before"] == 5
    page = text(client.get("/cabinet/automation"))
    assert 'name="birthday-amount" value="500"' in page and 'name="birthday-days_before" value="7"' in page
    assert "Другие правила" in page and "77,00 Б" in page
    # The hub's own range check, next to the field; nothing written.
    bad = {**form, "birthday-valid_days": "5000"}
    r = client.post("/cabinet/automation", data=bad)
    assert r.status_code == 422
    page = text(r)
    assert re.search(r'name="birthday-valid_days" value="5000"[^>]*>\s*<span class="err">Нужно целое число от 1 до 3650\.',
                     page), page
    r = client.post("/cabinet/automation", data={**form, "birthday-days_before": "90"})
    assert r.status_code == 422 and "Нужно целое число от 0 до 60." in text(r)
    r = client.post("/cabinet/automation", data={**form, "birthday-amount": "много"})
    assert r.status_code == 422 and "Введите число бонусов, например 500." in text(r)
    r = client.post("/cabinet/automation", data={**form, "first_purchase-enabled": "1"})
    assert r.status_code == 422 and "Укажите количество бонусов больше 0." in text(r)
    assert _settings(session, shop["a"]) == s
    # Switching the birthday gift off keeps its numbers.
    with frozen(NOW):
        client.post("/cabinet/automation", data={k: v for k, v in form.items() if k != "birthday-enabled"})
    bday = next(g for g in _settings(session, shop["a"])["gifts"] if g["event"] == "birthday")
    assert bday["enabled"] is False and bday["amount"] == 50000
    assert _settings(session, shop["b"])["gifts"] == []
    assert _audit(session, shop["a"]) == ["automation.triggers", "automation.triggers"]


def test_referral_settings(client, session, shop, as_role):
    as_role("manager")
    t = token(client, "/cabinet/automation/referrals")
    r = client.post("/cabinet/automation/referrals", data={
        "csrf_token": t, "enabled": "1", "mode": "every", "lv-0-percent": "5", "lv-1-percent": "2,5",
        "nc-amount": "200", "nc-valid_days": "30", "period_days": "365"})
    assert r.status_code == 303, text(r)
    ref = _settings(session, shop["a"])["referral"]
    assert ref["enabled"] and ref["mode"] == "every" and ref["period_days"] == 365
    assert ref["levels"] == [{"percent": "5"}, {"percent": "2.5"}]
    assert ref["newcomer_gift"] == {"amount": 20000, "valid_days": 30, "delay_days": 0}
    page = text(client.get("/cabinet/automation/referrals"))
    assert 'name="lv-1-percent" value="2,5"' in page and 'name="nc-amount" value="200"' in page
    assert "200,00 Б, действуют 30 дн." in text(client.get("/cabinet/automation"))
    r = client.post("/cabinet/automation/referrals", data={"csrf_token": t, "enabled": "1", "lv-0-percent": "150"})
    assert r.status_code == 422
    assert re.search(r'name="lv-0-percent" value="150"[^>]*>\s*<span class="err">Процент от 0 до 100\.', text(r))
    r = client.post("/cabinet/automation/referrals", data={"csrf_token": t, "lv-0-percent": "5", "lv-0-amount": "10"})
    assert r.status_code == 422 and "Для уровня приглашения укажите процент или сумму." in text(r)
    r = client.post("/cabinet/automation/referrals", data={"csrf_token": t, "nc-amount": "200", "nc-valid_days": "0"})
    assert r.status_code == 422 and "Нужно целое число от 1 до 3650." in text(r)
    assert _settings(session, shop["a"])["referral"] == ref
    assert _audit(session, shop["a"]) == ["automation.referral"]


def test_calculator_proposes_seed_001_gift(client, session, shop, as_role):
    as_role("readonly")
    frag = text(client.get("/cabinet/automation/chains/proposal?check=900&margin=40&share=50",
                           headers={"HX-Request": "true"}))
    assert "<html" not in frag and 'id="proposal-gift">180,00 Б<' in frag and "900,00 ₽ × 40% × 50%" in frag
    page = text(client.get("/cabinet/automation/chains?check=900&margin=40&share=50"))
    assert 'id="proposal-gift">180,00 Б<' in page and "Создать цепочку" not in page   # read-only
    r = client.get("/cabinet/automation/chains/proposal?check=900&margin=140&share=50")
    assert r.status_code == 422 and "Процент от 0 до 100." in text(r)
    frag = text(client.get("/cabinet/automation/chains/proposal?margin=40&share=50"))
    assert "0,00 ₽ × 40% × 50%" in frag and "по вашим чекам за год" in frag      # no sales yet


def test_chains_create_edit_validate_delete_and_isolation(client, session, shop, as_role):
    from hub.automation import chains
    from hub.automation.models import WinbackChain
    with frozen(NOW):
        theirs = chains.save_chain(session, shop["b"], {"name": "Чужая", "steps": [{"days": 30}]}, NOW)
    as_role("manager")
    t = token(client, "/cabinet/automation/chains/new")
    form = {"csrf_token": t, "name": "Одна покупка", "enabled": "1", "rfm": ["newcomers", "dozing"],
            "step-0-days": "66", "step-0-amount": "100", "step-0-valid_days": "7",
            "step-1-days": "180", "step-1-amount": "180", "step-1-valid_days": "14",
            "step-1-text": "{name}, дарим {bonuses} бонусов до {date}!"}
    with frozen(NOW):
        r = client.post("/cabinet/automation/chains/new", data=form)
    assert r.status_code == 303, text(r)
    chain = session.scalar(select(WinbackChain).where(WinbackChain.tenant_id == shop["a"]))
    assert chain.name == "Одна покупка" and chain.audience == {"rfm": ["newcomers", "dozing"]}
    assert [(s["days"], s["amount"], s["valid_days"]) for s in chain.steps] == [(66, 10000, 7), (180, 18000, 14)]
    assert chain.steps[1]["text"].startswith("{name}, дарим")
    page = text(client.get(f"/cabinet/automation/chains/{chain.id}"))
    assert 'name="step-1-days" value="180"' in page and 'value="dozing" checked' in page
    lst = text(client.get("/cabinet/automation/chains"))
    assert "Одна покупка" in lst and "Новички, Засыпающие" in lst and "66 дн. без покупок" in lst
    assert "Чужая" not in lst
    # The hub's step rules, by the field; nothing written.
    bad = {**form, "step-1-days": "30"}
    r = client.post(f"/cabinet/automation/chains/{chain.id}", data=bad)
    assert r.status_code == 422
    assert re.search(r'name="step-1-days" value="30"[^>]*>\s*<span class="err">Шаг 2: дни должны расти от шага к шагу\.',
                     text(r))
    r = client.post(f"/cabinet/automation/chains/{chain.id}", data={**form, "step-0-valid_days": ""})
    assert r.status_code == 422 and "Шаг 1: для подарка укажите срок действия." in text(r)
    r = client.post("/cabinet/automation/chains/new", data={**form, "segment_id": "nope"})
    assert r.status_code == 422 and "Сегмент не найден." in text(r)
    session.expire_all()
    assert session.get(WinbackChain, chain.id).steps[1]["days"] == 180
    assert _count(session, WinbackChain, shop["a"]) == 1
    with frozen(NOW):
        r = client.post(f"/cabinet/automation/chains/{chain.id}", data={**form, "enabled": "", "step-2-days": "365"})
    assert r.status_code == 303
    session.expire_all()
    chain = session.get(WinbackChain, chain.id)
    assert not chain.enabled and len(chain.steps) == 3 and chain.steps[2] == {
        "days": 365, "amount": 0, "valid_days": None, "delay_days": 0, "text": None}
    # Another tenant's chain: 404 everywhere.
    for method, url in (("get", f"/cabinet/automation/chains/{theirs.id}"),
                        ("post", f"/cabinet/automation/chains/{theirs.id}"),
                        ("post", f"/cabinet/automation/chains/{theirs.id}/delete")):
        assert getattr(client, method)(url, data={**form} if method == "post" else None).status_code == 404
    session.expire_all()
    assert session.get(WinbackChain, theirs.id).name == "Чужая"
    assert client.post(f"/cabinet/automation/chains/{chain.id}/delete", data={"csrf_token": t}).status_code == 303
    assert _count(session, WinbackChain, shop["a"]) == 0
    assert _audit(session, shop["a"]) == ["chain.create", "chain.delete", "chain.update"]


def _customers(customer_of, tenant_id: str) -> list:
    return [customer_of(tenant_id, "+79160000001", first_name="Анна", consents={"sms": True}),
            customer_of(tenant_id, "+79160000002", first_name="Борис", consents={"messengers": True}),
            customer_of(tenant_id, "+79160000003", first_name="Вера")]


def test_mailing_estimate_create_send_and_list(client, session, shop, as_role, customer_of):
    from hub.automation.models import Mailing, MechanicEvent
    from hub.notify.models import OutboxMessage
    from hub.notify import registry
    with frozen(NOW):
        _customers(customer_of, shop["a"])
        customer_of(shop["b"], "+79160000009", consents={"sms": True})
        registry.configure(session, shop["a"], "smsru", credentials={"api_id": "K"})
        session.commit()
    as_role("owner")
    t = token(client, "/cabinet/mailings/new")
    long_text = "{name}, " + "скидка " * 12 + "ждём вас!"
    with frozen(NOW):
        frag = text(client.post("/cabinet/mailings/estimate", data={"csrf_token": t, "text": long_text},
                                headers={"HX-Request": "true"}))
    assert "<html" not in frag and "Анна, скидка" in frag
    assert 'id="est-audience">3<' in frag and 'id="est-recipients">2<' in frag and 'id="est-noconsent">1 ' in frag
    assert 'id="est-parts">2<' in frag and 'id="est-cost">5,00 ₽<' in frag            # 1 SMS × 2 parts × 2,50
    assert "38-ФЗ" in frag and "21:00–09:00" in frag
    frag = text(client.post("/cabinet/mailings/estimate", data={"csrf_token": t, "text": "x", "rfm": ["nope"]}))
    assert "Нет сегментов nope." in frag
    # Bad input: the hub's messages, nothing written.
    r = client.post("/cabinet/mailings/new", data={"csrf_token": t, "name": "Пусто", "text": "  ", "when": "draft"})
    assert r.status_code == 422 and re.search(r'</textarea>\s*<span class="err">Текст рассылки пуст\.', text(r))
    r = client.post("/cabinet/mailings/new", data={"csrf_token": t, "text": "Привет", "when": "schedule",
                                                   "scheduled_at": "2020-01-01T10:00"})
    assert r.status_code == 422 and "Это время уже прошло." in text(r)
    r = client.post("/cabinet/mailings/new", data={"csrf_token": t, "text": "Привет", "when": "draft",
                                                   "gift_amount": "100"})
    assert r.status_code == 422 and "Для подарка укажите сумму и срок действия." in text(r)
    assert _count(session, Mailing, shop["a"]) == 0
    # Scheduled in the shop's time zone.
    with frozen(NOW):
        r = client.post("/cabinet/mailings/new", data={"csrf_token": t, "name": "Пятница", "text": "Привет, {name}!",
                                                       "when": "schedule", "scheduled_at": "2026-11-27T12:30"})
    assert r.status_code == 303
    m = session.scalar(select(Mailing).where(Mailing.tenant_id == shop["a"]))
    assert m.status == "scheduled" and m.scheduled_at == datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
    assert m.recipients == 2 and m.estimated_cost == 250
    # Send now, with a gift.
    with frozen(NOW):
        r = client.post("/cabinet/mailings/new", data={"csrf_token": t, "name": "Подарок", "text": "{name}, подарок!",
                                                       "when": "now", "gift_amount": "50", "gift_valid_days": "7"})
    assert r.status_code == 303
    sent = session.scalar(select(Mailing).where(Mailing.tenant_id == shop["a"], Mailing.name == "Подарок"))
    assert sent.status == "sent" and sent.gift == {"amount": 5000, "valid_days": 7, "delay_days": 0}
    assert session.scalar(select(func.count()).select_from(MechanicEvent).where(
        MechanicEvent.tenant_id == shop["a"], MechanicEvent.occurrence == sent.id)) == 2
    assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.tenant_id == shop["a"], OutboxMessage.text == "Анна, подарок!")) == 1
    page = text(client.get(r.headers["Location"]))
    # "sent" means queued: the status says so, not «отправлена»
    assert "Рассылка запущена: сообщений в очереди — 2" in page and 'id="mailing-status">запущена' in page
    lst = text(client.get("/cabinet/mailings"))
    assert "Пятница" in lst and "запланирована" in lst and "27.11.2026 12:30" in lst and "Подарок" in lst
    # Sending twice queues nothing new.
    with frozen(NOW):
        again = client.post(f"/cabinet/mailings/{sent.id}/send", data={"csrf_token": t})
    assert "Рассылка уже запущена." in text(client.get(again.headers["Location"]))
    assert session.scalar(select(func.count()).select_from(MechanicEvent).where(
        MechanicEvent.tenant_id == shop["a"], MechanicEvent.occurrence == sent.id)) == 2
    # Results of the mechanic.
    with frozen(NOW + timedelta(hours=1)):
        res = text(client.get("/cabinet/automation/results"))
    assert re.search(r'id="mech-mailing">\s*<td>Рассылки', res) and 'id="tot-events">2<' in res
    assert "100,00 Б" in res
    with frozen(NOW + timedelta(days=60)):
        assert 'id="tot-events">0<' in text(client.get("/cabinet/automation/results"))
        assert 'id="tot-events">2<' in text(client.get("/cabinet/automation/results?days=90"))
    assert _audit(session, shop["a"]) == ["mailing.create", "mailing.create", "mailing.send"]


def test_other_tenants_mailing_is_404(client, session, shop, as_role):
    from hub.automation import mailings
    with frozen(NOW):
        theirs, _ = mailings.create_mailing(session, shop["b"], {"name": "Чужая", "text": "x"}, NOW)
    as_role("owner")
    t = token(client, "/cabinet/mailings")
    assert client.get(f"/cabinet/mailings/{theirs.id}").status_code == 404
    assert client.post(f"/cabinet/mailings/{theirs.id}/send", data={"csrf_token": t}).status_code == 404
    assert "Чужая" not in text(client.get("/cabinet/mailings"))
    session.expire_all()
    assert session.get(type(theirs), theirs.id).status == "draft"


def test_read_only_cannot_change_and_csrf_is_required(client, session, shop, as_role):
    from hub.automation import chains, mailings
    with frozen(NOW):
        chain = chains.save_chain(session, shop["a"], {"name": "Моя", "steps": [{"days": 30}]}, NOW)
        mailing, _ = mailings.create_mailing(session, shop["a"], {"name": "Черновик", "text": "x"}, NOW)
    posts = ["/cabinet/channels/sms", "/cabinet/channels/settings", "/cabinet/channels/sms/test",
             "/cabinet/channels/telegram/webhook", "/cabinet/automation", "/cabinet/automation/referrals",
             "/cabinet/automation/chains/new", f"/cabinet/automation/chains/{chain.id}",
             f"/cabinet/automation/chains/{chain.id}/delete", "/cabinet/mailings/new",
             f"/cabinet/mailings/{mailing.id}/send"]
    as_role("readonly")
    t = token(client, "/cabinet/automation")
    for url in posts:
        assert client.post(url, data={"csrf_token": t, "provider": "smsru", "text": "x"}).status_code == 403, url
    page = text(client.get(f"/cabinet/automation/chains/{chain.id}"))
    assert "Удалить цепочку" not in page and 'name="name" value="Моя" maxlength="200" readonly' in page
    assert "Отправить сейчас" not in text(client.get(f"/cabinet/mailings/{mailing.id}"))
    assert client.post("/cabinet/mailings/estimate", data={"csrf_token": t, "text": "x"}).status_code == 200
    client.post("/cabinet/logout", data={"csrf_token": t})
    as_role("manager")
    for url in posts:
        assert client.post(url, data={"provider": "smsru", "text": "x"}).status_code == 400, url
    session.expire_all()
    assert session.get(type(chain), chain.id) is not None and session.get(type(mailing), mailing.id).status == "draft"
    assert _audit(session, shop["a"]) == []
