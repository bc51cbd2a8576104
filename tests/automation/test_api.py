"""The automation API (each test on SQLite and PostgreSQL)."""
from __future__ import annotations

from sqlalchemy import select

from hub.automation.models import Segment
from hub.clock import frozen
from hub.money import MONEY_MESSAGES
from hub.staff.models import AuditEntry
from tests.automation.conftest import msk

P = "/api/v1/automation"


def test_settings_round_trip_in_roubles_and_errors_in_russian(api):
    body = {"gifts": [{"event": "birthday", "amount": 500, "valid_days": 15, "days_before": 7}],
            "expiry_warning": {"enabled": True, "days_before": 7},
            "referral": {"enabled": True, "newcomer_gift": {"amount": 200, "valid_days": 14},
                         "levels": [{"percent": 10}, {"amount": 50}]}}
    with frozen(msk(2026, 5, 1)):
        r = api.put(f"{P}/settings", json=body)
    assert r.status_code == 200, r.json
    got = api.get(f"{P}/settings").json
    assert got["gifts"][0]["amount"] == 500 and got["gifts"][0]["since"].startswith("2026-04-30T21:00")
    assert got["referral"]["levels"] == [{"percent": 10}, {"amount": 50}]
    assert api.put(f"{P}/settings", json=got).status_code == 200          # what GET gives, PUT takes
    bad = api.put(f"{P}/settings", json={"gifts": [{"event": "wedding", "amount": 1, "valid_days": 1}]})
    assert bad.status_code == 422 and "wedding" in bad.json["error"]["message"]
    bad = api.put(f"{P}/settings", json={"gifts": [{"event": "birthday", "amount": 1, "valid_days": 1,
                                                    "levels": ["gold"]}]})
    assert bad.status_code == 422 and "gifts.0.levels" in bad.json["error"]["details"]
    assert api.put(f"{P}/settings", json={"gifts": "x"}).status_code == 422


def test_chains_proposal_segments(api):
    r = api.get(f"{P}/winback/proposal?average_check=900&margin_percent=40&share_percent=50")
    assert r.status_code == 200 and r.json["gift"] == 180
    r = api.post(f"{P}/chains", json={"name": "1 покупка", "audience": {"purchase_count_max": 1},
                                      "steps": [{"days": 66, "amount": 100, "valid_days": 7},
                                                {"days": 120, "amount": 180, "valid_days": 7}]})
    assert r.status_code == 201, r.json
    cid = r.json["id"]
    assert r.json["steps"][1]["amount"] == 180
    assert api.get(f"{P}/chains").json["items"][0]["id"] == cid
    bad = api.put(f"{P}/chains/{cid}", json={"steps": [{"days": 66, "amount": 100}]})
    assert bad.status_code == 422 and "steps.0.valid_days" in bad.json["error"]["details"]
    assert api.get(f"{P}/chains/nope").status_code == 404

    api.post("/api/v1/customers", json={"phone": "+79161234567", "gender": "female", "tags": ["vip"]})
    r = api.post(f"{P}/segments", json={"name": "VIP-женщины", "filters": {"gender": "female", "tags_any": ["vip"],
                                                                        "total_min": 0}})
    assert r.status_code == 201 and r.json["count"] == 1, r.json
    seg = r.json["id"]
    assert api.post(f"{P}/chains", json={"audience": {"segment_id": "nope"},
                                          "steps": [{"days": 30}]}).status_code == 422
    listing = api.get(f"{P}/segments").json
    assert {x["code"] for x in listing["rfm"]} >= {"newcomers", "lost", "no_purchases"}
    assert listing["custom"][0]["id"] == seg
    assert api.post(f"{P}/segments", json={"name": "x", "filters": {"rfm": ["zombies"]}}).status_code == 422
    assert api._call("delete", f"{P}/segments/{seg}").status_code == 204


def test_referral_and_mailing_endpoints(api):
    api.put(f"{P}/settings", json={"referral": {"enabled": True, "newcomer_gift": {"amount": 200, "valid_days": 14},
                                                "levels": [{"percent": 10}]}})
    inviter = api.post("/api/v1/customers", json={"phone": "+79160000001", "consents": {"sms": True}}).json
    newcomer = api.post("/api/v1/customers", json={"phone": "+79160000002", "consents": {"sms": True}}).json
    code = api.get(f"{P}/referrals/code/{inviter['id']}").json
    assert code["link"].endswith("/join/" + code["code"])   # the participant cabinet's join page
    r = api.post(f"{P}/referrals", json={"customer_id": newcomer["id"], "inviter": {"code": code["code"]}})
    assert r.status_code == 201 and r.json["gift"] == 200, r.json
    assert api.get(f"/api/v1/customers/{newcomer['id']}").json["balance"]["available"] == 200
    again = api.post(f"{P}/referrals", json={"customer_id": newcomer["id"], "inviter": {"code": code["code"]}})
    assert again.status_code == 409
    assert api.post(f"{P}/referrals", json={"customer_id": newcomer["id"], "inviter": {}}).status_code == 422

    r = api.post(f"{P}/mailings", json={"name": "Акция", "text": "Скидка 10% на всё до пятницы!"})
    assert r.status_code == 201 and r.json["estimate"]["recipients"] == 2 and r.json["estimated_cost"] == 5
    sent = api.post(f"{P}/mailings/{r.json['id']}/send")
    assert sent.status_code == 200 and sent.json["queued"] == 2 and sent.json["status"] == "sent"
    assert api.post(f"{P}/mailings/{r.json['id']}/send").json["queued"] == 0
    stats = api.get(f"{P}/stats").json["items"]
    assert {s["mechanic"] for s in stats} == {"referral_registration", "mailing"}


def test_another_tenants_ids_answer_404(api, client, session):
    from hub.tenants.operations import create_tenant
    other, key = create_tenant(session, "Другой")
    session.commit()
    mine = api.post("/api/v1/customers", json={"phone": "+79160000009"}).json
    chain = api.post(f"{P}/chains", json={"steps": [{"days": 30}]}).json
    theirs = {"Authorization": f"Bearer {key}"}
    assert client.get(f"{P}/chains/{chain['id']}", headers=theirs).status_code == 404
    assert client.get(f"{P}/referrals/code/{mine['id']}", headers=theirs).status_code == 404
    assert client.get(f"{P}/settings").status_code == 401


# The words every face's audit entry carries for the same segment (issue 18: one create_segment).
SEGMENT_WORDS = "Создан сегмент «Женщины с бонусами»: пол: женский; баланс от 1\u00a0000,00 ₽."


def test_creating_a_segment_through_the_api_is_audited_and_refused_as_everywhere(api, session, tenant):
    r = api.post(f"{P}/segments", json={"name": " Женщины с бонусами ", "filters": {"gender": "female",
                                                                                  "balance_min": 1000}})
    assert r.status_code == 201, r.json
    entry = session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant["id"],
                                                     AuditEntry.action == "segment.create")).one()
    assert entry.object_id == r.json["id"] and entry.details["text"] == SEGMENT_WORDS
    assert entry.user_email.startswith("API-ключ " + tenant["key"][:10])
    # bad input: the words of the cabinet and the CLI, nothing written
    for body, words in (({"name": ""}, "Назовите сегмент."), ({"name": "   "}, "Назовите сегмент."),
                        ({"name": "x" * 201}, "Название сегмента — не длиннее 200 символов."),
                        ({"name": "x", "filters": {"total_min": 10 ** 11 + 0.01}}, MONEY_MESSAGES["large"])):
        bad = api.post(f"{P}/segments", json=body)
        assert bad.status_code == 422 and words in str(bad.json["error"]), bad.json
    assert len(session.scalars(select(Segment).where(Segment.tenant_id == tenant["id"])).all()) == 1
