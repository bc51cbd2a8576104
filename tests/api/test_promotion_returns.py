"""Returns of promoted receipts through the public API (SQLite and PostgreSQL): the N+M set
rule (returning the paid cups of a 2+1 while keeping the free one withholds its discount,
given back when the free cup comes back), bonuses spent and earned on such receipts, per-
customer uses given back by a whole return, and the gift product."""
from __future__ import annotations

from sqlalchemy import select

from hub.ledger import check_ledger
from hub.customers.models import Customer
from hub.promotions.models import PromotionUse
from tests.api.helpers import CYRILLIC
from tests.api.test_promotions import TWO_PLUS_ONE, coffee, create, sale


def ret(api, receipt: str, external_id: str, **positions):
    body = {"external_id": external_id}
    if positions:
        body["positions"] = [{"id": k, "quantity": v} for k, v in positions.items()]
    r = api.post(f"/api/v1/receipts/{receipt}/returns", json=body)
    assert r.status_code == 201, r.json
    return r.json


def balance(api, cid: str) -> float:
    return api.get(f"/api/v1/customers/{cid}").json["balance"]["available"]


def test_two_plus_one_returning_the_paid_cups_withholds_the_free_ones_discount(api, session, tenant):
    create(api, TWO_PLUS_ONE)
    cid = api.post("/api/v1/customers", json={"phone": "+79160000011"}).json["id"]
    # Bonuses to spend: 5% of 4000 = 200.
    assert api.post("/api/v1/receipts", json=sale("W-0", coffee("x", 4000, group="tea"),
                                                  customer={"id": cid})).status_code == 201
    start = balance(api, cid)
    assert start == 200
    body = sale("W-1", coffee("1", 300), coffee("2", 250), coffee("3", 200), customer={"id": cid},
                spend_bonuses=100)
    sold = api.post("/api/v1/receipts", json=body)
    assert sold.status_code == 201, sold.json
    lines = {p["id"]: p for p in sold.json["positions"]}
    assert lines["3"]["promo_discount"] == 200 and lines["3"]["amount_to_pay"] == 0
    assert sold.json["totals"]["bonus_spent"] == 100
    paid_total = sold.json["totals"]["amount_to_pay"]
    earned = sold.json["totals"]["bonus_earned"]

    # The customer brings back the two paid cups and keeps the free one: the refund is what
    # was paid for them less the free cup's discount (nobody keeps a free cup alone).
    back = ret(api, "W-1", "B-1", **{"1": 1, "2": 1})
    paid_for_two = lines["1"]["amount_to_pay"] + lines["2"]["amount_to_pay"]
    assert back["promo_withheld"] == 200
    assert back["amount_returned"] == round(paid_for_two - 200, 2)
    assert "Удержана скидка по акции «2+1 на кофе»: 200,00 ₽" in back["message"]
    assert CYRILLIC.search(back["message"])
    # Bonuses follow the lines: the spent ones come back, the earned ones are taken back.
    assert back["bonus_spent_restored"] == lines["1"]["bonus_spent"] + lines["2"]["bonus_spent"]
    assert back["bonus_earned_reversed"] == lines["1"]["bonus_earned"] + lines["2"]["bonus_earned"]

    # Then the free cup too: the withheld discount comes back with it.
    last = ret(api, "W-1", "B-2")
    assert last["promo_withheld"] == -200 and last["amount_returned"] == 200
    assert "Возвращена удержанная ранее скидка" in last["message"]
    # All in all: everything paid came back, bonuses as before the receipt.
    assert round(back["amount_returned"] + last["amount_returned"], 2) == paid_total
    assert round(back["bonus_earned_reversed"] + last["bonus_earned_reversed"], 2) == earned
    assert balance(api, cid) == start
    assert session.get(Customer, cid, populate_existing=True).total_purchases == 400_000
    assert check_ledger(session, tenant["id"]) == []
    # A repeat of a return answers the same.
    again = api.post("/api/v1/receipts/W-1/returns", json={"external_id": "B-1", "positions": [
        {"id": "1", "quantity": 1}, {"id": "2", "quantity": 1}]})
    assert again.status_code == 200 and again.json == back


def test_returning_one_paid_cup_of_a_bigger_set(api):
    create(api, TWO_PLUS_ONE)
    sold = api.post("/api/v1/receipts", json=sale("S-6", coffee("1", 100, qty=6))).json
    assert sold["totals"]["promo_discount"] == 200       # two free of six
    # Five kept still make only one set: the returned unit's refund (66,66) goes to pay for the
    # second free cup the five no longer earn.
    one = ret(api, "S-6", "B-1", **{"1": 1})
    assert one["promo_withheld"] == 66.66 and one["amount_returned"] == 0
    # Three kept: one set, as the discount they carry — what was withheld comes back.
    two = ret(api, "S-6", "B-2", **{"1": 2})
    assert two["promo_withheld"] == -66.67 and two["amount_returned"] == 200.01
    # Two kept: no set; the last free cup's discount is withheld (all the refund of the unit).
    three = ret(api, "S-6", "B-3", **{"1": 1})
    assert three["promo_withheld"] == 66.66 and three["amount_returned"] == 0
    # The customer keeps two cups and has paid for two (to a kopeck of rounding).
    assert 400 - (one["amount_returned"] + two["amount_returned"] + three["amount_returned"]) == 199.99


def test_once_per_customer_promotion_is_usable_again_after_a_whole_return(api, session):
    once = create(api, {"name": "Разовая скидка 10%", "reward": "percent_off", "percent": 10,
                        "when": {"per_customer_limit": 1}})
    cid = api.post("/api/v1/customers", json={"phone": "+79160000012"}).json["id"]

    def names(external_id: str) -> list[str]:
        r = api.post("/api/v1/receipts", json=sale(external_id, coffee("1", 500), coffee("2", 500),
                                                   customer={"id": cid}))
        assert r.status_code == 201, r.json
        return [p["name"] for p in r.json.get("promotions", [])]

    assert names("O-1") == ["Разовая скидка 10%"]
    assert names("O-2") == []
    # A partial return keeps the use (the receipt stays a purchase with the discount).
    ret(api, "O-1", "B-1", **{"1": 1})
    assert names("O-3") == []
    # The whole receipt returned: the use comes back.
    ret(api, "O-1", "B-2")
    use = session.scalars(select(PromotionUse).where(PromotionUse.promotion_id == once["id"])).one()
    assert use.returned_at is not None
    assert names("O-4") == ["Разовая скидка 10%"]
    assert names("O-5") == []


def test_once_per_customer_two_plus_one_comes_back_when_its_discount_is_all_withheld(api):
    create(api, {**TWO_PLUS_ONE, "when": {"groups": ["coffee"], "per_customer_limit": 1}})
    cid = api.post("/api/v1/customers", json={"phone": "+79160000013"}).json["id"]
    three = [coffee("1", 300), coffee("2", 250), coffee("3", 200)]
    first = api.post("/api/v1/receipts", json=sale("N-1", *three, customer={"id": cid})).json
    assert first["totals"]["promo_discount"] == 200
    assert "promotions" not in api.post("/api/v1/receipts/calculate",
                                        json=sale("N-2", *three, customer={"id": cid})).json
    # The paid cups back, the free one kept: nothing of the discount stays -> usable again.
    assert ret(api, "N-1", "B-1", **{"1": 1, "2": 1})["promo_withheld"] == 200
    again = api.post("/api/v1/receipts/calculate", json=sale("N-2", *three, customer={"id": cid})).json
    assert again["totals"]["promo_discount"] == 200


GIFT = {"name": "Кофе от 500 ₽ — печенье в подарок", "reward": "gift_product",
        "gift_product": "cookie", "gift_name": "Печенье овсяное",
        "when": {"groups": ["coffee"], "min_amount": 500}}


def cookie(pid: str = "c", price=80) -> dict:
    return {"id": pid, "product": "cookie", "name": "Печенье", "price": price, "quantity": 1,
            "groups": ["bakery"]}


def test_gift_product_through_the_api(api):
    p = create(api, GIFT)
    assert p["reward"] == "gift_product" and p["gift_product"] == "cookie"
    # Not enough coffee: one step away.
    q = api.post("/api/v1/receipts/calculate", json=sale("G-0", coffee("1", 400))).json
    assert not q.get("promotions")
    assert q["offers"] == ["«Кофе от 500 ₽ — печенье в подарок»: ещё на 100,00 ₽ — и подарок: "
                           "Печенье овсяное."]
    # Enough, but the cookie is not on the receipt: the cashier is told to add it.
    q = api.post("/api/v1/receipts/calculate", json=sale("G-1", coffee("1", 600))).json
    assert q["offers"] == ["Добавьте в чек подарок: Печенье овсяное (акция «Кофе от 500 ₽ — "
                           "печенье в подарок»)."]
    assert "Добавьте в чек подарок: Печенье овсяное" in q["messages"]["cashier"]
    # With the cookie: it is free; quote = commit.
    body = sale("G-2", coffee("1", 600), cookie())
    q = api.post("/api/v1/receipts/calculate", json=body).json
    c = next(x for x in q["positions"] if x["id"] == "c")
    assert c["promo_discount"] == 80 and c["amount_to_pay"] == 0
    sold = api.post("/api/v1/receipts", json=body).json
    assert sold["positions"] == q["positions"] and sold["totals"] == q["totals"]
    # The coffee back, the cookie kept: the cookie's discount is withheld.
    back = ret(api, "G-2", "B-1", **{"1": 1})
    assert back["promo_withheld"] == 80 and back["amount_returned"] == 520
    # At a price: the gift for 1 rouble; the amount is validated.
    create(api, {**GIFT, "name": "Печенье за рубль", "gift_price": 1, "priority": 5, "exclusive": True})
    q = api.post("/api/v1/receipts/calculate", json=sale("G-3", coffee("1", 600), cookie())).json
    c = next(x for x in q["positions"] if x["id"] == "c")
    assert c["promo_discount"] == 79 and c["amount_to_pay"] == 1
    bad = api.post("/api/v1/promotions", json={**GIFT, "gift_product": None})
    assert bad.status_code == 422 and "gift_product" in bad.json["error"]["details"]
