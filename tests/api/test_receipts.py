"""Receipts: calculate, commit (idempotent by external id), get, spend, returns, levels,
offline moments, money format and the exact spread of the receipt-level discount."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.api.helpers import ago, assert_error, counts, gift, kop, receipt

# API.md's own example: progressive 3% below 1000, 10% from 1000; 20% payable with bonuses.
EXAMPLE_PROGRAM = {
    "type": "bonus", "timezone": "Europe/Moscow", "bonus_lifetime_days": 365, "activation_delay_days": 0,
    "levels": [
        {"code": "base", "name": "Стандарт", "threshold": 0,
         "accrual": {"scheme": "progressive", "steps": [{"from": 0, "percent": 3}, {"from": 1000, "percent": 10}]},
         "discount": None, "max_spend_percent": 20},
        {"code": "gold", "name": "Золотая", "threshold": 10000,
         "accrual": {"scheme": "percent", "percent": 5}, "discount": None, "max_spend_percent": 50},
    ],
}


@pytest.fixture
def example(api, customer):
    assert api.put("/api/v1/program", json=EXAMPLE_PROGRAM).status_code == 200
    assert gift(api, customer["id"], 300).status_code == 201
    return customer


def balance(api, customer_id: str) -> dict:  # noqa: ANN001
    return api.get(f"/api/v1/customers/{customer_id}").json["balance"]


def test_calculate_gives_the_api_md_quote_and_changes_nothing(api, example, session):
    body = receipt("R-1001", {"name": "Капучино", "groups": ["coffee"], "product": "SKU-1", "price": 250.0,
                              "quantity": 2},
                   customer={"phone": "8 (916) 123-45-67"}, spend_bonuses=50, store="shop-new", cashier="c-new",
                   payment={"method": "card"})
    before = counts(session)
    r = api.post("/api/v1/receipts/calculate", json=body)
    assert r.status_code == 200, r.json
    q = r.json
    assert q["positions"] == [{"id": "1", "amount": 500, "discount": 50, "level_discount": 0, "bonus_spent": 50,
                               "amount_to_pay": 450, "bonus_earned": 13.5}]
    assert q["totals"] == {"amount": 500, "discount": 50, "level_discount": 0, "bonus_spent": 50,
                           "max_spendable": 100, "amount_to_pay": 450, "bonus_earned": 13.5}
    assert q["customer"]["id"] == example["id"]
    assert (q["customer"]["balance"], q["customer"]["balance_after"]) == (300, 263.5)
    assert q["customer"]["level"]["code"] == "base"
    assert q["messages"]["cashier"] and q["messages"]["receipt"]
    assert counts(session) == before
    assert balance(api, example["id"])["available"] == 300
    assert api.get("/api/v1/stores").json == {"items": []}
    assert_error(api.get("/api/v1/receipts/R-1001"), 404, code="receipt_not_found")
    # The commit answers the same quote.
    c = api.post("/api/v1/receipts", json=body)
    assert c.status_code == 201
    assert {k: c.json[k] for k in ("positions", "totals", "messages")} == \
        {k: q[k] for k in ("positions", "totals", "messages")}
    assert balance(api, example["id"])["available"] == 263.5


def test_commit_is_idempotent_by_external_id(api, example, session):
    body = receipt("R-1", (250, 2), customer={"id": example["id"]}, spend_bonuses=50)
    first = api.post("/api/v1/receipts", json=body)
    assert first.status_code == 201, first.json
    assert first.json["id"] and first.json["external_id"] == "R-1"
    after = counts(session)
    again = api.post("/api/v1/receipts", json=body)
    assert again.status_code == 200 and again.json == first.json
    # Key order does not make another body.
    assert api.post("/api/v1/receipts", json=dict(reversed(list(body.items())))).json == first.json
    changed = receipt("R-1", (250, 3), customer={"id": example["id"]}, spend_bonuses=50)
    assert_error(api.post("/api/v1/receipts", json=changed), 409, code="idempotency_conflict")
    assert_error(api.post("/api/v1/receipts", json={**body, "spend_bonuses": 10}), 409)
    assert counts(session) == after
    assert balance(api, example["id"])["available"] == 263.5
    got = api.get("/api/v1/receipts/R-1")
    assert got.status_code == 200 and got.json == first.json


def test_external_ids_with_slashes(api):
    r = api.post("/api/v1/receipts", json=receipt("2025/05/R-7"))
    assert r.status_code == 201
    assert api.get("/api/v1/receipts/2025/05/R-7").json["id"] == r.json["id"]
    ret = api.post("/api/v1/receipts/2025/05/R-7/returns", json={"external_id": "2025/05/RET-1"})
    assert ret.status_code == 201 and ret.json["amount_returned"] == 1000


def test_spend_max_and_a_number(api, example):
    r = api.post("/api/v1/receipts", json=receipt("R-max", (1000, 1), customer={"id": example["id"]}, spend_bonuses="max"))
    assert r.status_code == 201
    t = r.json["totals"]
    assert (t["max_spendable"], t["bonus_spent"], t["amount_to_pay"]) == (200, 200, 800)
    # The 1000-rouble receipt is on the 10% step; the part paid with bonuses earns nothing.
    assert t["bonus_earned"] == 80
    assert balance(api, example["id"])["available"] == 180
    r = api.post("/api/v1/receipts", json=receipt("R-num", (500, 1), customer={"id": example["id"]}, spend_bonuses=12.34))
    assert r.status_code == 201 and r.json["totals"]["bonus_spent"] == 12.34
    assert r.json["totals"]["bonus_earned"] == 14.62          # 3% of 487.66, floored to the kopeck
    assert balance(api, example["id"])["available"] == 182.28
    # No spend_bonuses: nothing spent.
    r = api.post("/api/v1/receipts/calculate", json=receipt("R-none", (500, 1), customer={"id": example["id"]}))
    assert r.json["totals"]["bonus_spent"] == 0 and r.json["totals"]["max_spendable"] == 100


def test_spending_above_the_limit_is_refused_and_writes_nothing(api, example, session):
    body = receipt("R-2", (1000, 1), customer={"id": example["id"]}, spend_bonuses=200.01)
    # Calculate cuts the request down to the limit and says so ...
    q = api.post("/api/v1/receipts/calculate", json=body).json
    assert q["totals"]["bonus_spent"] == 200 and "200,01" in q["messages"]["cashier"]
    # ... commit refuses it.
    before = counts(session)
    assert_error(api.post("/api/v1/receipts", json=body), 422, "spend_bonuses", code="spend_not_allowed")
    # More than the balance (limit 50% of 10000 = 5000, balance 300).
    assert_error(api.post("/api/v1/receipts", json=receipt("R-3", (10000, 1), customer={"id": example["id"]},
                                                          spend_bonuses=300.01)), 422, "spend_bonuses")
    # Spending without a customer.
    assert_error(api.post("/api/v1/receipts", json=receipt("R-4", spend_bonuses=10)), 422, code="customer_required")
    assert_error(api.post("/api/v1/receipts", json=receipt("R-5", spend_bonuses="max")), 422)
    assert counts(session) == before
    assert balance(api, example["id"])["available"] == 300
    assert_error(api.get("/api/v1/receipts/R-2"), 404)
    # The refused external id is free: the corrected receipt commits under it.
    ok = api.post("/api/v1/receipts", json={**body, "spend_bonuses": 200})
    assert ok.status_code == 201 and ok.json["totals"]["bonus_spent"] == 200


def test_returns_partial_then_full_idempotent(api, example, session):
    cid = example["id"]
    sale = api.post("/api/v1/receipts", json=receipt("S-1", (100, 2), (300, 1), customer={"id": cid}, spend_bonuses="max"))
    assert sale.status_code == 201
    t = sale.json["totals"]
    assert (t["amount"], t["bonus_spent"], t["amount_to_pay"], t["bonus_earned"]) == (500, 100, 400, 12)
    assert balance(api, cid)["available"] == 212
    # Partial: one of the two 100-rouble items.
    body = {"external_id": "RET-1", "positions": [{"id": "1", "quantity": 1}]}
    r = api.post("/api/v1/receipts/S-1/returns", json=body)
    assert r.status_code == 201, r.json
    part = r.json
    assert part["receipt_external_id"] == "S-1"
    assert (part["amount_returned"], part["bonus_spent_restored"], part["bonus_earned_reversed"]) == (80, 20, 2.4)
    assert part["customer"]["balance"] == 229.6
    after = counts(session)
    # The same return again: the first answer, nothing written.
    again = api.post("/api/v1/receipts/S-1/returns", json=body)
    assert again.status_code == 200 and again.json == part
    assert_error(api.post("/api/v1/receipts/S-1/returns", json={"external_id": "RET-1", "positions": [{"id": "1", "quantity": 2}]}),
                 409, code="idempotency_conflict")
    # More than sold (2 sold, 1 returned), unknown positions, unknown receipts.
    assert_error(api.post("/api/v1/receipts/S-1/returns", json={"external_id": "RET-2", "positions": [{"id": "1", "quantity": 2}]}),
                 422, "positions", code="return_exceeds_sale")
    assert_error(api.post("/api/v1/receipts/S-1/returns", json={"external_id": "RET-2", "positions": [{"id": "2", "quantity": 1.5}]}),
                 422, "positions")
    assert_error(api.post("/api/v1/receipts/S-1/returns", json={"external_id": "RET-2", "positions": [{"id": "9", "quantity": 1}]}),
                 422, "positions.9", code="unknown_position")
    assert_error(api.post("/api/v1/receipts/NOPE/returns", json={"external_id": "RET-2"}), 404, code="receipt_not_found")
    assert counts(session) == after
    assert balance(api, cid)["available"] == 229.6
    # Full: everything left (no positions).
    r = api.post("/api/v1/receipts/S-1/returns", json={"external_id": "RET-2"})
    assert r.status_code == 201
    assert (r.json["amount_returned"], r.json["bonus_spent_restored"], r.json["bonus_earned_reversed"]) == (320, 80, 9.6)
    assert balance(api, cid)["available"] == 300
    s = api.get(f"/api/v1/customers/{cid}").json
    assert (s["total_purchases"], s["purchase_count"]) == (0, 0)
    before = counts(session)
    assert_error(api.post("/api/v1/receipts/S-1/returns", json={"external_id": "RET-3"}), 422, code="nothing_to_return")
    assert_error(api.post("/api/v1/receipts/S-1/returns", json={"external_id": "RET-3", "positions": [{"id": "3", "quantity": 0.001}]}), 422)
    assert counts(session) == before


def test_return_of_an_anonymous_receipt(api):
    assert api.post("/api/v1/receipts", json=receipt("A-1", (99.99, 3))).status_code == 201
    r = api.post("/api/v1/receipts/A-1/returns", json={"external_id": "A-1-R", "positions": [{"id": "1", "quantity": 1}]})
    assert r.status_code == 201 and r.json["amount_returned"] == 99.99 and r.json["customer"] is None


def test_the_level_moves_up_after_the_crossing_receipt_and_down_after_a_return(api, customer):
    assert api.put("/api/v1/program", json=EXAMPLE_PROGRAM).status_code == 200
    cid = customer["id"]
    r1 = api.post("/api/v1/receipts", json=receipt("L-1", (9000, 1), customer={"id": cid}))
    assert r1.json["customer"]["level"]["code"] == "base" and r1.json["totals"]["bonus_earned"] == 900   # 10% step
    s = api.get(f"/api/v1/customers/{cid}").json
    assert (s["level"]["code"], s["to_next_level"]) == ("base", 1000)
    # The crossing receipt is still computed at the old level ...
    r2 = api.post("/api/v1/receipts", json=receipt("L-2", (500, 4), customer={"id": cid}))
    assert r2.json["customer"]["level"]["code"] == "base" and r2.json["totals"]["bonus_earned"] == 200
    assert r2.json["customer"]["level_after"]["code"] == "gold"
    s = api.get(f"/api/v1/customers/{cid}").json
    assert s["level"] == {"code": "gold", "name": "Золотая"} and s["to_next_level"] is None and s["next_level"] is None
    # ... the next one at the new.
    r3 = api.post("/api/v1/receipts", json=receipt("L-3", (100, 1), customer={"id": cid}))
    assert r3.json["customer"]["level"]["code"] == "gold" and r3.json["totals"]["bonus_earned"] == 5
    # A partial return that keeps the total above the threshold keeps the level ...
    ret = api.post("/api/v1/receipts/L-2/returns", json={"external_id": "L-2-R1", "positions": [{"id": "1", "quantity": 1}]})
    assert ret.status_code == 201 and ret.json["customer"]["level"]["code"] == "gold"
    assert api.get(f"/api/v1/customers/{cid}").json["total_purchases"] == 10600
    # ... the one that takes it under moves the card back down.
    ret = api.post("/api/v1/receipts/L-2/returns", json={"external_id": "L-2-R2", "positions": [{"id": "1", "quantity": 2}]})
    assert ret.json["customer"]["level"]["code"] == "base"
    s = api.get(f"/api/v1/customers/{cid}").json
    assert (s["level"]["code"], s["total_purchases"], s["to_next_level"], s["purchase_count"]) == ("base", 9600, 400, 3)
    q = api.post("/api/v1/receipts/calculate", json=receipt("L-4", (100, 1), customer={"id": cid})).json
    assert q["customer"]["level"]["code"] == "base" and q["totals"]["bonus_earned"] == 3


def test_offline_receipt_is_processed_at_its_moment(api, customer):
    program = {**EXAMPLE_PROGRAM, "activation_delay_days": 1, "bonus_lifetime_days": 30}
    assert api.put("/api/v1/program", json=program).status_code == 200
    cid = customer["id"]
    moment = ago(days=3)
    r = api.post("/api/v1/receipts", json=receipt("OFF-1", (500, 1), customer={"id": cid}, moment=moment))
    assert r.status_code == 201, r.json
    at = datetime.fromisoformat(moment)
    active_from = datetime.fromisoformat(r.json["bonus_earned_active_from"])
    expires_at = datetime.fromisoformat(r.json["bonus_earned_expires_at"])
    assert timedelta(0) < active_from - at <= timedelta(days=1)
    assert timedelta(days=30) <= expires_at - at <= timedelta(days=31)
    # Pending at the receipt's moment but active now: a late sale's balance_after is what the
    # ledger holds once it is in (README, "The order receipts arrive in does not change the result").
    assert r.json["customer"]["balance_after"] == 15
    assert balance(api, cid) == {"available": 15, "pending": 0, "debt": 0}
    posting = api.get(f"/api/v1/customers/{cid}/ledger").json["items"][0]
    assert datetime.fromisoformat(posting["moment"]) == at
    assert datetime.fromisoformat(api.get(f"/api/v1/customers/{cid}").json["last_purchase_at"]) == at
    # The same receipt just now would still be pending.
    r = api.post("/api/v1/receipts", json=receipt("ON-1", (500, 1), customer={"id": cid}))
    assert balance(api, cid) == {"available": 15, "pending": 15, "debt": 0}
    # A moment in the future is refused.
    future = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    assert_error(api.post("/api/v1/receipts", json=receipt("FUT", customer={"id": cid}, moment=future)), 422,
                 "moment", code="moment_in_future")
    assert_error(api.post("/api/v1/receipts", json=receipt("BAD", moment="вчера")), 422, "moment")


def test_a_moment_without_offset_is_tenant_local(api, customer):
    tz = ZoneInfo("Asia/Yekaterinburg")                  # UTC+5 all year
    program = {**EXAMPLE_PROGRAM, "timezone": "Asia/Yekaterinburg",
               "levels": [{"code": "base", "name": "Все", "threshold": 0, "accrual": {"scheme": "percent", "percent": 5}}],
               "rules": [{"name": "Утро", "when": {"time_from": "09:00", "time_to": "12:00"},
                          "then": {"accrual_multiplier": 2}}]}
    assert api.put("/api/v1/program", json=program).status_code == 200
    day = (datetime.now(tz) - timedelta(days=2)).date()
    local = f"{day.isoformat()}T10:00:00"
    r = api.post("/api/v1/receipts", json=receipt("TZ-1", (1000, 1), customer={"id": customer["id"]}, moment=local))
    assert r.json["totals"]["bonus_earned"] == 100        # 10:00 in Yekaterinburg: happy hours
    posting = api.get(f"/api/v1/customers/{customer['id']}/ledger").json["items"][0]
    assert datetime.fromisoformat(posting["moment"]) == datetime.fromisoformat(f"{day.isoformat()}T05:00:00+00:00")
    # The same wall-clock time with an explicit UTC offset is 15:00 local: no happy hours.
    for moment in (f"{local}+00:00", f"{local}Z"):
        q = api.post("/api/v1/receipts/calculate", json=receipt("TZ-2", (1000, 1), customer={"id": customer["id"]}, moment=moment))
        assert q.json["totals"]["bonus_earned"] == 50, moment
    q = api.post("/api/v1/receipts/calculate", json=receipt("TZ-3", (1000, 1), customer={"id": customer["id"]},
                                                             moment=f"{day.isoformat()}T10:00:00+05:00"))
    assert q.json["totals"]["bonus_earned"] == 100


def test_money_has_at_most_two_decimals(api, example, session):
    before = counts(session)
    for bad, field in [(receipt("M", (10.005, 1)), "positions.0.price"),
                       (receipt("M", (10.1, 1), customer={"id": example["id"]}, spend_bonuses=1.001), "spend_bonuses"),
                       (receipt("M", {"price": 10, "quantity": 1, "till_discount": 0.333}), "positions.0.till_discount"),
                       (receipt("M", (10, 0.0001)), "positions.0.quantity")]:
        assert_error(api.post("/api/v1/receipts", json=bad), 422, field)
        assert_error(api.post("/api/v1/receipts/calculate", json=bad), 422, field)
    assert counts(session) == before
    # Weighed goods: 3 decimals of quantity; the line rounds half up to the kopeck.
    r = api.post("/api/v1/receipts", json=receipt("W", (199.99, 0.333), customer={"id": example["id"]}))
    assert r.status_code == 201 and r.json["totals"]["amount"] == 66.6
    # Answers are roubles with at most 2 decimals.
    for value in list(r.json["totals"].values()) + [p[k] for p in r.json["positions"] for k in p if k != "id"]:
        assert round(value, 2) == value


def _check_spread(quote: dict) -> None:
    t = quote["totals"]
    ps = quote["positions"]
    assert sum(kop(p["discount"]) for p in ps) == kop(t["discount"])
    assert kop(t["discount"]) == kop(t["level_discount"]) + kop(t["bonus_spent"])
    assert sum(kop(p["level_discount"]) for p in ps) == kop(t["level_discount"])
    assert sum(kop(p["bonus_spent"]) for p in ps) == kop(t["bonus_spent"])
    assert sum(kop(p["amount"]) for p in ps) == kop(t["amount"])
    assert sum(kop(p["amount_to_pay"]) for p in ps) == kop(t["amount_to_pay"])
    assert sum(kop(p["bonus_earned"]) for p in ps) == kop(t["bonus_earned"])
    for p in ps:
        assert kop(p["discount"]) == kop(p["level_discount"]) + kop(p["bonus_spent"])
        assert kop(p["amount_to_pay"]) == kop(p["amount"]) - kop(p["discount"])
        assert 0 <= kop(p["discount"]) <= kop(p["amount"])


def test_the_positions_discounts_add_up_to_the_receipt_discount_exactly(api, customer):
    assert api.put("/api/v1/program", json={
        "type": "bonus_discount", "levels": [{"code": "base", "name": "Все", "threshold": 0,
                                              "accrual": {"scheme": "percent", "percent": 3.33},
                                              "discount": {"scheme": "percent", "percent": 7},
                                              "max_spend_percent": 47.5}]}).status_code == 200
    gift(api, customer["id"], 100000)
    body = receipt("D-1", (33.33, 3), (10.01, 1), (7.77, 7), (0.01, 1), (1999.99, 0.347),
                   customer={"id": customer["id"]}, spend_bonuses="max")
    q = api.post("/api/v1/receipts/calculate", json=body).json
    assert kop(q["totals"]["level_discount"]) > 0 and kop(q["totals"]["bonus_spent"]) > 0
    _check_spread(q)
    committed = api.post("/api/v1/receipts", json=body).json
    _check_spread(committed)
    rng = random.Random(7)
    for i in range(25):
        lines = [(rng.randint(1, 500_000) / 100, rng.choice([1, 2, 3, 0.5, 1.234, 7])) for _ in range(rng.randint(1, 8))]
        spend = rng.choice(["max", rng.randint(1, 300_00) / 100, None])
        extra = {} if spend is None else {"spend_bonuses": spend}
        r = api.post("/api/v1/receipts/calculate", json=receipt(f"D-{i}", *lines, customer={"id": customer["id"]}, **extra))
        assert r.status_code == 200, r.json
        _check_spread(r.json)


def test_rouble_down_rounding(api, customer):
    program = {**EXAMPLE_PROGRAM, "rounding": "rouble_down"}
    assert api.put("/api/v1/program", json=program).status_code == 200
    gift(api, customer["id"], 300)
    q = api.post("/api/v1/receipts/calculate", json=receipt("RD", (250, 2), customer={"id": customer["id"]}, spend_bonuses=50)).json
    assert q["totals"]["bonus_earned"] == 13                  # 13.5 rounded down to the rouble
    q = api.post("/api/v1/receipts/calculate", json=receipt("RD", (499.99, 1), customer={"id": customer["id"]}, spend_bonuses="max")).json
    assert q["totals"]["max_spendable"] == 99                 # 20% of 499.99 = 99.998 -> 99


def test_the_customer_is_found_by_phone_card_or_id(api):
    c = api.post("/api/v1/customers", json={"phone": "+79161234567", "card_number": "0042"}).json
    for i, ref in enumerate(({"phone": "8 916 123 45 67"}, {"card": "0042"}, {"id": c["id"]})):
        r = api.post("/api/v1/receipts", json=receipt(f"C-{i}", (100, 1), customer=ref))
        assert r.status_code == 201 and r.json["customer"]["id"] == c["id"], ref
    assert api.get(f"/api/v1/customers/{c['id']}").json["purchase_count"] == 3


def test_the_same_receipt_spelt_differently_is_a_replay_not_a_conflict(api):  # noqa: ANN001
    api.post("/api/v1/customers", json={"phone": "+79161230001"})
    first = {"external_id": "SP-1", "customer": {"phone": "+79161230001"},
             "positions": [{"id": "1", "price": 100, "quantity": 1}]}
    again = {"external_id": "SP-1", "customer": {"phone": "+79161230001"},
             "positions": [{"id": "1", "price": 100.0, "quantity": "1.000"}]}
    r1 = api.post("/api/v1/receipts", json=first)
    r2 = api.post("/api/v1/receipts", json=again)
    assert (r1.status_code, r2.status_code) == (201, 200) and r2.json == r1.json
    changed = {**again, "positions": [{"id": "1", "price": 100.01, "quantity": 1}]}
    assert api.post("/api/v1/receipts", json=changed).status_code == 409
