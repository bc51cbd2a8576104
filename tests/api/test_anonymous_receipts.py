"""Issue 17, item 5: a receipt without a customer promises nothing — no accrual figure and no
bonus or card lines in the receipt text a till prints to a buyer with no card."""
from __future__ import annotations

from tests.api.helpers import receipt

CARD_LINES = ("Начислено бонусов", "Баланс бонусов", "Списано бонусов", "Уровень карты", "До уровня")


def assert_promises_nothing(answer: dict) -> None:
    assert answer["customer"] is None
    assert answer["totals"]["bonus_earned"] == 0
    assert all(p["bonus_earned"] == 0 for p in answer["positions"])
    assert answer["bonus_earned_active_from"] is None and answer["bonus_earned_expires_at"] is None
    text = answer["messages"]["receipt"]
    assert not any(line in text for line in CARD_LINES), text
    assert "бонус" not in answer["messages"]["cashier"].replace("бонусы не начисляются", "")


def test_calculate_and_commit_without_a_customer(api, session):
    q = api.post("/api/v1/receipts/calculate", json=receipt("A-1", (150, 1)))
    assert q.status_code == 200, q.json
    assert_promises_nothing(q.json)
    r = api.post("/api/v1/receipts", json=receipt("A-1", (150, 1)))
    assert r.status_code == 201, r.json
    assert_promises_nothing(r.json)
    assert r.json["totals"]["amount_to_pay"] == 150
    assert_promises_nothing(api.get("/api/v1/receipts/A-1").json)
    # A full return of it reverses nothing (there was nothing to reverse).
    back = api.post("/api/v1/receipts/A-1/returns", json={"external_id": "A-1-R"})
    assert back.status_code == 201, back.json
    assert back.json["bonus_earned_reversed"] == 0 and back.json["customer"] is None


def test_with_a_customer_the_same_receipt_still_earns_and_prints(api, customer):
    body = receipt("A-2", (150, 1), customer={"id": customer["id"]})
    q = api.post("/api/v1/receipts/calculate", json=body).json
    assert q["totals"]["bonus_earned"] == 7.5          # the figure the issue saw without a card
    assert "Начислено бонусов: 7,50" in q["messages"]["receipt"]
    assert "Уровень карты" in q["messages"]["receipt"]
