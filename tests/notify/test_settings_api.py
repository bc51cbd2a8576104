"""The messaging settings in the API: first_purchase_message, review_requests and the code
limits (per phone and per IP) — read, written, validated, and used by the sale's messages."""
from __future__ import annotations

from hub.notify import rules


def test_first_purchase_and_review_switches(api, session, tenant):
    r = api.get("/api/v1/notify/settings")
    assert r.status_code == 200
    assert r.json["first_purchase_message"] is False and r.json["review_requests"] is False
    assert r.json["code_limit"] == {"per_phone_interval": 60, "per_phone_hour": 5, "per_ip_hour": 20}
    r = api.put("/api/v1/notify/settings", json={"first_purchase_message": True, "review_requests": True})
    assert r.status_code == 200, r.json
    assert r.json["first_purchase_message"] is True and r.json["review_requests"] is True
    assert r.json["quiet_hours"] == {"start": "21:00", "end": "09:00"}           # the rest untouched
    stored = rules.get_settings(session, tenant["id"])
    assert stored["first_purchase_message"] is True and stored["review_requests"] is True
    r = api.put("/api/v1/notify/settings", json={"review_requests": False})
    assert r.json["review_requests"] is False and r.json["first_purchase_message"] is True


def test_settings_validation_writes_nothing(api, session, tenant):
    for body in ({"review_requests": "может быть"}, {"first_purchase_message": [1]},
                 {"code_limit": {"per_ip_hour": 0}}, {"code_limit": {"per_ip_hour": "много"}}):
        r = api.put("/api/v1/notify/settings", json=body)
        assert r.status_code == 422, (body, r.json)
        assert any("а" <= ch <= "я" for ch in r.json["error"]["message"].lower())
    session.expire_all()
    assert rules.get_settings(session, tenant["id"])["review_requests"] is False
    assert rules.get_settings(session, tenant["id"])["code_limit"]["per_ip_hour"] == 20


def test_code_limit_partial_update_keeps_the_others(api):
    r = api.put("/api/v1/notify/settings", json={"code_limit": {"per_ip_hour": 50}})
    assert r.status_code == 200
    assert r.json["code_limit"] == {"per_phone_interval": 60, "per_phone_hour": 5, "per_ip_hour": 50}
    r = api.put("/api/v1/notify/settings", json={"code_limit": {"per_phone_hour": 3}})
    assert r.json["code_limit"] == {"per_phone_interval": 60, "per_phone_hour": 3, "per_ip_hour": 50}


def test_openapi_documents_the_settings(api, client):
    spec = client.get("/api/v1/openapi.json").json
    props = spec["components"]["schemas"]["NotifySettings"]["properties"]
    assert props["first_purchase_message"]["type"] == "boolean"
    assert props["review_requests"]["type"] == "boolean"
    limits = spec["components"]["schemas"]["CodeLimit"]["properties"]
    assert limits["per_ip_hour"]["type"] == "integer"
    message = spec["components"]["schemas"]["Message"]["properties"]
    assert "reason_code" in message


def test_message_log_shows_russian_reasons(api, session, tenant, customer=None):
    from hub.notify.outbox import enqueue
    api.put("/api/v1/notify/channels/sms", json={"provider": "smsru", "credentials": {"api_id": "K"}})
    m = enqueue(session, tenant_id=tenant["id"], customer_id=None, topic="winback", context={},
                dedupe_key="w1", phone="+79161234567")
    session.commit()
    r = api.get("/api/v1/notify/messages?status=suppressed")
    item = next(i for i in r.json["items"] if i["id"] == m.id)
    assert item["reason"] == "Нет согласия на рекламу в этом канале (SMS)" and item["reason_code"] == "no_consent"
