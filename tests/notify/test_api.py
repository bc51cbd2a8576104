"""The messaging API: templates, channels, settings, the message log; tenants sealed."""
from __future__ import annotations

from hub.notify.outbox import enqueue


def test_templates_list_edit_preview(api):
    r = api.get("/api/v1/notify/templates")
    assert r.status_code == 200
    topics = {t["topic"]: t for t in r.json["items"]}
    assert len(topics) == 13 and topics["expiry_warning"]["enabled"] is True
    assert topics["code"]["sms"]["parts"] == 1 and "name" in r.json["placeholders"]
    r = api.put("/api/v1/notify/templates/gift", json={"text": "{name}, подарок {bonuses} до {date}!"})
    assert r.status_code == 200 and r.json["customized"] is True
    assert r.json["sample"] == "Анна, подарок 150 до 31.12.2026!"
    r = api.put("/api/v1/notify/templates/gift", json={"text": "{nmae}"})
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_placeholder"
    assert api.put("/api/v1/notify/templates/nope", json={"enabled": False}).status_code == 404
    assert api.put("/api/v1/notify/templates/gift", json={"channel": "fax"}).status_code == 422
    r = api.put("/api/v1/notify/templates/review_request", json={"enabled": False})
    assert r.json["enabled"] is False
    r = api.post("/api/v1/notify/templates/gift/preview", json={"text": "я" * 100, "context": {}})
    assert r.status_code == 200
    assert r.json["sms"] == {"encoding": "ucs2", "length": 100, "parts": 2, "expected_cost": 5}
    r = api.post("/api/v1/notify/templates/gift/preview", json={"context": {"name": "Иван"}})
    assert r.json["text"] == "Иван, подарок 150 до 31.12.2026!"
    r = api.put("/api/v1/notify/templates/gift", json={"reset": True})
    assert r.json["customized"] is False


def test_channels_hide_credentials_and_show_the_secret_once(api):
    r = api.put("/api/v1/notify/channels/sms", json={"provider": "smsru", "credentials": {"api_id": "S3CRET"},
                                                      "settings": {"sender": "SHOP"}})
    assert r.status_code == 200, r.json
    assert r.json["credentials_set"] == ["api_id"] and "S3CRET" not in str(r.json)
    assert len(r.json["webhook_secret"]) > 20
    again = api.put("/api/v1/notify/channels/sms", json={"provider": "smsru", "settings": {"sender": "SHOP2"}})
    assert "webhook_secret" not in again.json and again.json["credentials_set"] == ["api_id"]
    assert again.json["settings"]["sender"] == "SHOP2"
    r = api.put("/api/v1/notify/channels/sms", json={"provider": "telegram", "credentials": {"token": "x"}})
    assert r.status_code == 422
    r = api.put("/api/v1/notify/channels/telegram", json={"provider": "telegram"})
    assert r.status_code == 422 and r.json["error"]["code"] == "credentials_missing"
    items = api.get("/api/v1/notify/channels").json["items"]
    assert [i["channel"] for i in items] == ["sms"]


def test_settings(api):
    r = api.get("/api/v1/notify/settings")
    assert r.json["quiet_hours"] == {"start": "21:00", "end": "09:00"} and r.json["sms_part_price"] == 2.5
    r = api.put("/api/v1/notify/settings", json={"quiet_hours": {"start": "22:00", "end": "08:30"},
                                                 "sms_part_price": 3.1})
    assert r.status_code == 200 and r.json["sms_part_price"] == 3.1
    assert api.put("/api/v1/notify/settings", json={"quiet_hours": {"start": "25", "end": "x"}}).status_code == 422


def test_message_log_is_per_tenant(api, client, session, tenant):
    from hub.tenants.operations import create_tenant
    from tests.conftest import Api
    api.put("/api/v1/notify/channels/sms", json={"provider": "smsru", "credentials": {"api_id": "K"}})
    m = enqueue(session, tenant_id=tenant["id"], customer_id=None, topic="code", phone="+79161234567",
                context={"code": "1234"}, dedupe_key="c1")
    session.commit()
    mid = m.id
    r = api.get("/api/v1/notify/messages?status=queued")
    assert r.status_code == 200 and [i["id"] for i in r.json["items"]] == [mid]
    assert r.json["items"][0]["expected_cost"] == 2.5 and r.json["totals"]["queued"] == 1
    assert api.get(f"/api/v1/notify/messages/{mid}").json["text"] == "Код подтверждения: 1234. Никому его не сообщайте."
    assert api.get("/api/v1/notify/messages?status=lost").status_code == 422
    _, key = create_tenant(session, "Другой")
    session.commit()
    other = Api(client, key)
    assert other.get(f"/api/v1/notify/messages/{mid}").status_code == 404
    assert other.get("/api/v1/notify/messages").json["items"] == []


def test_error_details_are_russian(api, client, session, tenant):
    """Every message of an error answer — details included — is Russian (issue 8, item 23)."""
    import re

    def latin_words(value) -> list[str]:
        if isinstance(value, dict):
            return [w for v in value.values() for w in latin_words(v)]
        if isinstance(value, list):
            return [w for v in value for w in latin_words(v)]
        text = re.sub(r"\{[^}]*\}|smsru|smsaero|telegram|max|smtp|sms|email|api_id|api_key|token|"
                      r"sale|gift|\w+_\w+", "", str(value))
        return re.findall(r"[A-Za-z]{3,}", text)

    answers = [
        api.put("/api/v1/notify/channels/sms", json={"provider": "telegram", "credentials": {"token": "x"}}),
        api.put("/api/v1/notify/channels/telegram", json={"provider": "telegram"}),
        api.put("/api/v1/notify/templates/gift", json={"text": "{nmae}"}),
    ]
    for r in answers:
        assert r.status_code == 422, r.json
        assert latin_words(r.json["error"]["message"]) == [] and latin_words(r.json["error"]["details"]) == [], r.json
