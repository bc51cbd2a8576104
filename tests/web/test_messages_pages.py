"""Messages in the owner's cabinet: templates with preview and SMS cost, topics on/off, quiet
hours and the message log with costs — all through hub.notify's own functions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from hub.clock import frozen
from tests.web.conftest import text, token

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def test_overview_shows_templates_costs_and_quiet_hours(client, session, shop, as_role):
    as_role("readonly")
    page = text(client.get("/cabinet/messages"))
    assert "Поздравление с регистрацией" in page and "Анна, добро пожаловать" in page
    assert "2,50 ₽ за часть" in page and "1&nbsp;SMS<br><span class=\"nowrap\">2,50 ₽" in page
    assert 'value="21:00"' not in page and "С 21:00 до 09:00" in page          # read-only: no form
    assert 'name="enabled"' not in page and "включено" in page


def test_toggle_topic_and_quiet_hours(client, session, shop, as_role):
    from hub.notify import catalog, rules
    from hub.staff.models import AuditEntry
    as_role("manager")
    t = token(client, "/cabinet/messages")
    r = client.post("/cabinet/messages/birthday/toggle", data={"csrf_token": t, "enabled": "0"})
    assert r.status_code == 303
    assert "Сообщение выключено." in text(client.get("/cabinet/messages"))
    session.info.pop("notify_templates", None)
    assert catalog.template_for(session, shop["a"], "birthday", None)[2] is False
    assert catalog.template_for(session, shop["b"], "birthday", None)[2] is True
    r = client.post("/cabinet/messages/settings", data={"csrf_token": t, "quiet_start": "22:30", "quiet_end": "8:00"})
    assert r.status_code == 303
    session.info.pop("notify_settings", None)
    assert rules.get_settings(session, shop["a"])["quiet_hours"] == {"start": "22:30", "end": "8:00"}
    r = client.post("/cabinet/messages/settings", data={"csrf_token": t, "quiet_start": "поздно", "quiet_end": "08:00"})
    assert r.status_code == 422
    page = text(r)
    assert "Нужен формат ЧЧ:ММ." in page and 'value="поздно"' in page
    actions = sorted(session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == shop["a"])).all())
    assert actions == ["notify.settings", "template.update"]
    assert client.post("/cabinet/messages/nope/toggle", data={"csrf_token": t, "enabled": "0"}).status_code == 404
    assert client.post("/cabinet/messages/gift/toggle", data={"enabled": "0"}).status_code == 400


def test_edit_template_with_preview_and_hub_messages(client, session, shop, as_role):
    from hub.notify import catalog
    as_role("owner")
    page = text(client.get("/cabinet/messages/gift"))
    assert "Подарочные бонусы" in page and 'id="preview-parts">1<' in page and "{bonuses}" in page
    t = token(client, "/cabinet/messages/gift")
    long_text = "{name}, подарок " + "очень " * 20 + "{bonuses}"
    frag = text(client.post("/cabinet/messages/gift/preview", data={"csrf_token": t, "text": long_text},
                            headers={"HX-Request": "true"}))
    assert "<html" not in frag and "Анна, подарок" in frag and 'id="preview-parts">3<' in frag
    assert 'id="preview-cost">7,50 ₽<' in frag
    frag = text(client.post("/cabinet/messages/gift/preview", data={"csrf_token": t, "text": "Привет {nmae}"}))
    assert "Неизвестные подстановки" in frag and "{nmae}" in frag
    r = client.post("/cabinet/messages/gift", data={"csrf_token": t, "text": "Привет {nmae}"})
    assert r.status_code == 422 and "Неизвестная подстановка {nmae}." in text(r)
    r = client.post("/cabinet/messages/gift", data={"csrf_token": t, "text": "  "})
    assert r.status_code == 422 and "Текст не может быть пустым." in text(r)
    r = client.post("/cabinet/messages/gift", data={"csrf_token": t, "text": "{name}, держите {bonuses} бонусов!"})
    assert r.status_code == 303
    session.info.pop("notify_templates", None)
    assert catalog.template_for(session, shop["a"], "gift", None)[0] == "{name}, держите {bonuses} бонусов!"
    assert "Анна, держите 150 бонусов!" in text(client.get("/cabinet/messages/gift"))
    r = client.post("/cabinet/messages/gift", data={"csrf_token": t, "reset": "1"})
    session.info.pop("notify_templates", None)
    assert catalog.template_for(session, shop["a"], "gift", None)[0].startswith("{name}, вам подарок")
    assert client.get("/cabinet/messages/nope").status_code == 404


def test_read_only_cannot_change_messages(client, session, shop, as_role):
    as_role("readonly")
    t = token(client, "/cabinet/messages")
    assert client.post("/cabinet/messages/gift", data={"csrf_token": t, "text": "x"}).status_code == 403
    assert client.post("/cabinet/messages/gift/toggle", data={"csrf_token": t, "enabled": "0"}).status_code == 403
    assert client.post("/cabinet/messages/settings", data={"csrf_token": t, "quiet_start": "1:00",
                                                           "quiet_end": "2:00"}).status_code == 403
    page = text(client.get("/cabinet/messages/gift"))
    assert "readonly" in page and "Сохранить" not in page
    assert client.post("/cabinet/messages/gift/preview", data={"csrf_token": t, "text": "x"}).status_code == 200


def test_message_log_with_costs_and_isolation(client, session, shop, as_role, customer_of):
    from hub.notify.models import OutboxMessage
    c = customer_of(shop["a"])
    for n, (status, cost) in enumerate((("delivered", 500), ("failed", None), ("delivered", 250))):
        session.add(OutboxMessage(tenant_id=shop["a"], customer_id=c.id, topic="gift", channel="sms",
                                  recipient="+79161234567", text=f"Текст {n}", dedupe_key=f"k{n}", status=status,
                                  parts=2, expected_cost=500, cost=cost, created_at=NOW + timedelta(minutes=n)))
    session.add(OutboxMessage(tenant_id=shop["b"], topic="gift", channel="sms", recipient="+79990000000",
                              text="Чужое", dedupe_key="b1", status="delivered", parts=1, expected_cost=250,
                              cost=99900, created_at=NOW))
    session.commit()
    as_role("readonly")
    with frozen(NOW + timedelta(hours=1)):
        page = text(client.get("/cabinet/messages/log"))
    assert "Текст 0" in page and "Чужое" not in page and "+79990000000" not in page
    assert 'id="log-count">3<' in page and 'id="log-cost">7,50 ₽<' in page and "≈ 5,00 ₽" in page
    assert "20.11.2026 12:02" in page                                       # Moscow time
    failed = text(client.get("/cabinet/messages/log?status=failed"))
    assert "Текст 1" in failed and "Текст 0" not in failed and 'id="log-count">1<' in failed
    from hub.web.cabinet import messages
    old = messages.PAGE
    messages.PAGE = 2
    try:
        first = text(client.get("/cabinet/messages/log"))
        import re
        nxt = re.search(r'href="(/cabinet/messages/log\?[^"]*after=[^"]+)"', first).group(1).replace("&amp;", "&")
        second = text(client.get(nxt))
    finally:
        messages.PAGE = old
    assert "Текст 2" in first and "Текст 0" in second and "Текст 2" not in second
    assert client.get("/cabinet/messages/log?after=garbage").status_code == 404
    # a cursor with a moment but no time zone is as wrong as garbage, on every keyset list
    for page in ("/cabinet/messages/log", "/cabinet/receipts", "/cabinet/clients"):
        assert client.get(page + "?after=2026-11-20T12:00:00|x").status_code == 404, page
