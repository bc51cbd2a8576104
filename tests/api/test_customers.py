"""Customers: registration, lookup, the summary, the ledger, gift and manual bonuses."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.api.helpers import ago, assert_error, counts, gift, kop, receipt

FULL = {
    "phone": "8 916 123-45-67", "card_number": "2000-0001", "first_name": "Анна", "last_name": "Иванова",
    "middle_name": "Сергеевна", "gender": "female", "birth_date": "1990-03-08", "email": "anna@example.ru",
    "address": "Москва, ул. Ленина, 1", "comment": "Любит капучино", "tags": ["vip", "кофе"],
    "relatives": [{"name": "Маша", "relation": "дочь", "birth_date": "2015-06-01"}],
    "consents": {"sms": True, "personal_data": True, "email": False},
}


def test_create_with_all_fields_records_consents_with_time_and_source(api):
    before = datetime.now(timezone.utc)
    r = api.post("/api/v1/customers", json=FULL)
    assert r.status_code == 201, r.json
    c = r.json
    assert c["phone"] == "+79161234567"
    for name in ("card_number", "first_name", "last_name", "middle_name", "gender", "birth_date", "email",
                 "address", "comment", "tags", "relatives"):
        assert c[name] == FULL[name], name
    assert set(c["consents"]) == {"sms", "personal_data", "email"}
    for name, given in FULL["consents"].items():
        consent = c["consents"][name]
        assert consent["given"] is given and consent["source"] == "api"
        at = datetime.fromisoformat(consent["at"])
        assert at.tzinfo is not None and before - timedelta(seconds=1) <= at <= datetime.now(timezone.utc)
    assert c["balance"] == {"available": 0, "pending": 0, "debt": 0}
    assert c["level"] == {"code": "base", "name": "Стандарт"}
    assert (c["total_purchases"], c["purchase_count"], c["last_purchase_at"]) == (0, 0, None)
    assert api.get(f"/api/v1/customers/{c['id']}").json == c


def test_only_the_phone_is_required(api):
    r = api.post("/api/v1/customers", json={"phone": "+79161234567"})
    assert r.status_code == 201
    assert r.json["card_number"] is None and r.json["tags"] == [] and r.json["consents"] == {}
    assert_error(api.post("/api/v1/customers", json={"first_name": "Анна"}), 422, "phone")


def test_one_phone_is_one_customer_whatever_its_spelling(api, session):
    first = api.post("/api/v1/customers", json={"phone": "8 916 123-45-67"})
    assert first.status_code == 201
    before = counts(session)
    for spelling in ("+7 (916) 123-45-67", "+79161234567", "89161234567", "9161234567", "7-916-123-4567"):
        error = assert_error(api.post("/api/v1/customers", json={"phone": spelling}), 409, code="customer_exists")
        assert error["details"]["customer_id"] == first.json["id"]
    assert counts(session) == before


def test_invalid_phones_and_fields_are_422(api, session):
    before = counts(session)
    for bad, field in [({"phone": "12345"}, "phone"), ({"phone": "телефон"}, "phone"),
                       ({"phone": "+7 916 123"}, "phone"), ({"phone": 79161234567}, "phone"),
                       ({"phone": "+79161234567", "gender": "unknown"}, "gender"),
                       ({"phone": "+79161234567", "birth_date": "1990-02-30"}, "birth_date"),
                       ({"phone": "+79161234567", "email": "not-an-email"}, "email"),
                       ({"phone": "+79161234567", "tags": "vip"}, "tags"),
                       ({"phone": "+79161234567", "card_number": "карта 1"}, "card_number"),
                       ({"phone": "+79161234567", "consents": {"sms": "да"}}, "consents.sms"),
                       ({"phone": "+79161234567", "consents": {"telepathy": True}}, "consents.telepathy"),
                       ({"phone": "+79161234567", "relatives": [{"name": "Маша"}]}, "relatives.0.birth_date")]:
        assert_error(api.post("/api/v1/customers", json=bad), 422, field)
    assert counts(session) == before


def test_a_card_is_given_to_one_customer_only(api, session):
    assert api.post("/api/v1/customers", json={"phone": "+79161234567", "card_number": "777"}).status_code == 201
    before = counts(session)
    assert_error(api.post("/api/v1/customers", json={"phone": "+79161234568", "card_number": "777"}), 409)
    assert counts(session) == before


def test_lookup_by_phone_card_and_id(api):
    c = api.post("/api/v1/customers", json=FULL).json
    api.post("/api/v1/customers", json={"phone": "+79035550000"})
    for query in ("phone=%2B79161234567", "phone=8%20916%20123-45-67", "phone=%2B7%20(916)%20123-45-67",
                  "card=2000-0001"):
        r = api.get(f"/api/v1/customers?{query}")
        assert r.status_code == 200 and [x["id"] for x in r.json["items"]] == [c["id"]], query
    assert api.get(f"/api/v1/customers/{c['id']}").json["id"] == c["id"]
    assert api.get("/api/v1/customers?phone=%2B79990000000").json == {"items": []}
    assert api.get("/api/v1/customers?card=nope").json == {"items": []}


def test_unknown_customer_is_404(api):
    for url in ("/api/v1/customers/00000000-0000-0000-0000-000000000000", "/api/v1/customers/nope",
                "/api/v1/customers/nope/ledger"):
        assert_error(api.get(url), 404, code="customer_not_found")
    assert_error(api.post("/api/v1/customers/nope/bonuses", json={"amount": 5}), 404, code="customer_not_found")
    assert_error(api.post("/api/v1/receipts", json=receipt("R", customer={"id": "nope"})), 404)
    assert_error(api.post("/api/v1/receipts", json=receipt("R", customer={"phone": "+79990000000"})), 404)
    assert_error(api.post("/api/v1/receipts", json=receipt("R", customer={"card": "nope"})), 404)


def test_summary_balance_level_purchases(api):
    api.put("/api/v1/program", json={
        "type": "bonus", "activation_delay_days": 1, "bonus_lifetime_days": 365,
        "levels": [{"code": "base", "name": "Стандарт", "threshold": 0,
                    "accrual": {"scheme": "percent", "percent": 3}, "max_spend_percent": 50},
                   {"code": "gold", "name": "Золотая", "threshold": 10000,
                    "accrual": {"scheme": "percent", "percent": 5}, "max_spend_percent": 50}]})
    c = api.post("/api/v1/customers", json={"phone": "+79161234567"}).json
    assert c["to_next_level"] == 10000 and c["next_level"] == {"code": "gold", "name": "Золотая"}
    # Three days ago: active by now. Just now: pending (activation delay of one day).
    old = ago(days=3)
    assert api.post("/api/v1/receipts", json=receipt("R1", (1500, 2), customer={"id": c["id"]}, moment=old)).status_code == 201
    assert api.post("/api/v1/receipts", json=receipt("R2", (999.99, 1), customer={"id": c["id"]})).status_code == 201
    s = api.get(f"/api/v1/customers/{c['id']}").json
    assert s["balance"] == {"available": 90, "pending": 29.99, "debt": 0}
    assert s["level"] == {"code": "base", "name": "Стандарт"}
    assert s["total_purchases"] == 3999.99
    assert s["to_next_level"] == 6000.01
    assert s["purchase_count"] == 2
    last = datetime.fromisoformat(s["last_purchase_at"])
    assert abs((datetime.now(timezone.utc) - last).total_seconds()) < 60
    # An offline receipt older than the last one does not move last_purchase_at back.
    assert api.post("/api/v1/receipts", json=receipt("R0", (10, 1), customer={"id": c["id"]}, moment=ago(days=10))).status_code == 201
    assert api.get(f"/api/v1/customers/{c['id']}").json["last_purchase_at"] == s["last_purchase_at"]


def test_ledger_is_newest_first(api, customer):
    cid = customer["id"]
    assert gift(api, cid, 100, moment=ago(days=5)).status_code == 201
    assert api.post("/api/v1/receipts", json=receipt("R1", (1000, 1), customer={"id": cid},
                                                      spend_bonuses=50, moment=ago(days=2))).status_code == 201
    assert api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": -10, "reason": "Ошибка кассира"}).status_code == 201
    items = api.get(f"/api/v1/customers/{cid}/ledger").json["items"]
    assert [(i["kind"], i["amount"]) for i in items] == [
        ("manual_debit", -10), ("accrual", 47.5), ("spend", -50), ("gift", 100)]
    moments = [datetime.fromisoformat(i["moment"]) for i in items]
    assert moments == sorted(moments, reverse=True)
    assert items[0]["reason"] == "Ошибка кассира"
    assert items[1]["receipt_id"] and items[1]["receipt_id"] == items[2]["receipt_id"]
    assert api.get(f"/api/v1/customers/{cid}").json["balance"]["available"] == 87.5
    page = api.get(f"/api/v1/customers/{cid}/ledger?limit=2&offset=1").json["items"]
    assert [i["id"] for i in page] == [i["id"] for i in items[1:3]]


def test_gift_and_manual_bonuses(api, customer):
    cid = customer["id"]
    r = gift(api, cid, 150.5)
    assert r.status_code == 201, r.json
    assert (r.json["kind"], r.json["amount"], r.json["balance"]["available"]) == ("gift", 150.5, 150.5)
    r = api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": 20, "kind": "manual", "reason": "Компенсация"})
    assert r.status_code == 201 and r.json["kind"] == "manual_credit" and r.json["balance"]["available"] == 170.5
    r = api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": -70.5})
    assert r.status_code == 201 and r.json["kind"] == "manual_debit" and r.json["amount"] == -70.5
    assert api.get(f"/api/v1/customers/{cid}").json["balance"]["available"] == 100


def test_a_gift_needs_a_validity(api, customer, session):
    before = counts(session)
    assert_error(api.post(f"/api/v1/customers/{customer['id']}/bonuses", json={"amount": 5, "kind": "gift"}),
                 422, "valid_days")
    for bad, field in [({"amount": 0}, "amount"), ({"amount": 1.005}, "amount"), ({"amount": "сто"}, "amount"),
                       ({}, "amount"), ({"amount": 5, "kind": "bribe"}, "kind"),
                       ({"amount": 5, "valid_days": 0}, "valid_days"), ({"amount": 5, "valid_days": -7}, "valid_days")]:
        assert_error(api.post(f"/api/v1/customers/{customer['id']}/bonuses", json=bad), 422, field)
    assert counts(session) == before


def test_a_debit_never_takes_the_balance_below_zero(api, customer, session):
    cid = customer["id"]
    gift(api, cid, 30)
    before = counts(session)
    error = assert_error(api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": -30.01}), 422,
                         "amount", code="insufficient_bonuses")
    assert "30" in error["message"]
    assert counts(session) == before
    assert api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": -30}).status_code == 201
    assert_error(api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": -0.01}), 422)
    assert api.get(f"/api/v1/customers/{cid}").json["balance"]["available"] == 0


def test_idempotency_key_replays_the_first_answer(api, customer, session):
    cid = customer["id"]
    first = gift(api, cid, 100, key="gift-1")
    assert first.status_code == 201
    after_first = counts(session)
    again = gift(api, cid, 100, key="gift-1")
    assert again.status_code in (200, 201) and again.json == first.json
    assert counts(session) == after_first
    assert_error(gift(api, cid, 200, key="gift-1"), 409, code="idempotency_conflict")
    assert counts(session) == after_first
    # A debit with a key: replayed, not taken twice.
    d1 = api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": -60}, headers={"Idempotency-Key": "debit-1"})
    d2 = api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": -60}, headers={"Idempotency-Key": "debit-1"})
    assert d1.status_code == 201 and d2.json == d1.json
    assert api.get(f"/api/v1/customers/{cid}").json["balance"]["available"] == 40
    # A refused debit writes no key: the same key may be used once the balance allows it.
    refused = api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": -50}, headers={"Idempotency-Key": "debit-2"})
    assert_error(refused, 422, code="insufficient_bonuses")
    gift(api, cid, 10)
    ok = api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": -50}, headers={"Idempotency-Key": "debit-2"})
    assert ok.status_code == 201 and ok.json["balance"]["available"] == 0
    # Without a key every call is a new operation.
    gift(api, cid, 1)
    gift(api, cid, 1)
    assert api.get(f"/api/v1/customers/{cid}").json["balance"]["available"] == 2


def test_an_idempotency_key_belongs_to_one_customer(api, customer, session):
    """The same key and body sent for another customer is a conflict, not the first customer's answer."""
    other = api.post("/api/v1/customers", json={"phone": "+79035550000"}).json
    assert gift(api, customer["id"], 100, key="k-1").status_code == 201
    before = counts(session)
    assert_error(gift(api, other["id"], 100, key="k-1"), 409, code="idempotency_conflict")
    assert counts(session) == before
    assert api.get(f"/api/v1/customers/{other['id']}").json["balance"]["available"] == 0


def test_patch_updates_the_profile_and_records_changed_consents(api):
    c = api.post("/api/v1/customers", json={"phone": "+79161234567", "consents": {"sms": True}}).json
    r = api.patch(f"/api/v1/customers/{c['id']}", json={"first_name": "Анна", "consents": {"sms": False, "personal_data": True}})
    assert r.status_code == 200 and r.json["first_name"] == "Анна"
    assert r.json["consents"]["sms"]["given"] is False and r.json["consents"]["personal_data"]["given"] is True
    assert r.json["consents"]["sms"]["at"] >= c["consents"]["sms"]["at"]
    assert kop(r.json["balance"]["available"]) == 0
