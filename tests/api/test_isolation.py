"""Tenants are sealed: a key of tenant A gets 404 for every resource of tenant B."""
from __future__ import annotations

from tests.api.helpers import assert_error, counts, receipt

PHONE = "+79161234567"


def test_a_key_of_tenant_a_never_reaches_tenant_b(api, other, session):
    # Tenant B: a customer with a card and bonuses, a sale and a return.
    b = other.post("/api/v1/customers", json={"phone": PHONE, "card_number": "B-777"}).json
    assert other.post(f"/api/v1/customers/{b['id']}/bonuses", json={"amount": 500},
                      headers={"Idempotency-Key": "b-gift"}).status_code == 201
    assert other.post("/api/v1/receipts", json=receipt("B-R1", (1000, 2), customer={"id": b["id"]})).status_code == 201
    assert other.post("/api/v1/receipts/B-R1/returns", json={"external_id": "B-RET1", "positions": [{"id": "1", "quantity": 1}]}).status_code == 201
    b_state = other.get(f"/api/v1/customers/{b['id']}").json
    before = counts(session)

    # Tenant A (api) sees none of it.
    for url in (f"/api/v1/customers/{b['id']}", f"/api/v1/customers/{b['id']}/ledger",
                "/api/v1/receipts/B-R1"):
        assert_error(api.get(url), 404)
    assert_error(api.patch(f"/api/v1/customers/{b['id']}", json={"first_name": "Взлом"}), 404)
    assert_error(api.post(f"/api/v1/customers/{b['id']}/bonuses", json={"amount": 100}), 404)
    assert_error(api.post(f"/api/v1/customers/{b['id']}/bonuses", json={"amount": -100}), 404)
    assert_error(api.post(f"/api/v1/customers/{b['id']}/bonuses", json={"amount": 500},
                          headers={"Idempotency-Key": "b-gift"}), 404)
    assert_error(api.post("/api/v1/receipts/B-R1/returns", json={"external_id": "B-RET1", "positions": [{"id": "1", "quantity": 1}]}), 404)
    assert_error(api.post("/api/v1/receipts/B-R1/returns", json={"external_id": "A-RET"}), 404)
    for ref in ({"id": b["id"]}, {"phone": PHONE}, {"card": "B-777"}):
        for url in ("/api/v1/receipts/calculate", "/api/v1/receipts"):
            assert_error(api.post(url, json=receipt("A-R1", customer=ref, spend_bonuses=10)), 404, code="customer_not_found")
    assert api.get(f"/api/v1/customers?phone={PHONE.replace('+', '%2B')}").json == {"items": []}
    assert api.get("/api/v1/customers?card=B-777").json == {"items": []}
    assert api.get("/api/v1/customers").json == {"items": []}
    assert counts(session) == before
    assert other.get(f"/api/v1/customers/{b['id']}").json == b_state

    # Tenant A's own namespace is its own: the same phone, card and external ids are free.
    a = api.post("/api/v1/customers", json={"phone": "8 916 123-45-67", "card_number": "B-777"})
    assert a.status_code == 201 and a.json["id"] != b["id"]
    sale = api.post("/api/v1/receipts", json=receipt("B-R1", (10, 1), customer={"phone": PHONE}))
    assert sale.status_code == 201 and sale.json["customer"]["id"] == a.json["id"]
    assert api.post("/api/v1/receipts/B-R1/returns", json={"external_id": "B-RET1"}).status_code == 201
    assert api.post(f"/api/v1/customers/{a.json['id']}/bonuses", json={"amount": 1},
                    headers={"Idempotency-Key": "b-gift"}).status_code == 201
    # ... and B still sees only its own.
    assert other.get("/api/v1/receipts/B-R1").json["customer"]["id"] == b["id"]
    assert [c["id"] for c in other.get(f"/api/v1/customers?phone={PHONE.replace('+', '%2B')}").json["items"]] == [b["id"]]
    assert other.get(f"/api/v1/customers/{b['id']}").json == b_state
    assert [i["kind"] for i in other.get(f"/api/v1/customers/{b['id']}/ledger").json["items"]] == \
        ["reversal", "accrual", "manual_credit"]


def test_programs_stores_and_cashiers_are_per_tenant(api, other):
    other.put("/api/v1/program", json={"type": "discount", "levels": [
        {"code": "vip", "name": "VIP", "threshold": 0, "discount": {"scheme": "percent", "percent": 10}}]})
    other.post("/api/v1/stores", json={"code": "b-shop", "name": "Магазин Б"})
    other.post("/api/v1/receipts", json=receipt("B-1", cashier="b-cashier"))
    assert api.get("/api/v1/program").json["type"] == "bonus"
    assert api.get("/api/v1/program").json["levels"][0]["code"] == "base"
    assert api.get("/api/v1/stores").json == {"items": []}
    assert api.get("/api/v1/cashiers").json == {"items": []}
    assert other.get("/api/v1/program").json["levels"][0]["code"] == "vip"
