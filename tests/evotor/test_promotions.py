"""Promotions and promo codes at an Evotor terminal: the quote shows them, the commit (the
app's or the fiscal document's) applies the same ones, a single-use code is used once."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from hub.promotions.models import PromoCode, PromoCodeRedemption, PromotionUse
from hub.receipts.models import Receipt
from hub.moments import utcnow
from hub.customers.operations import register_customer
from hub.promotions.operations import create_codes, create_promotion
from tests.evotor.conftest import assert_error, counts

PHONE = "+79161234567"


def coffee_receipt() -> list[dict]:
    return [{"uuid": "c1", "product_id": "prod-latte", "name": "Латте", "price": 300, "quantity": 2,
             "groups": ["coffee"]},
            {"uuid": "c2", "product_id": "prod-espresso", "name": "Эспрессо", "price": 200, "quantity": 1,
             "groups": ["coffee"]},
            {"uuid": "b1", "product_id": "prod-bread", "name": "Хлеб", "price": 100, "quantity": 1}]


def _map_sum(answer: dict) -> Decimal:
    return sum((Decimal(str(v)) for v in answer["positionUuidToDiscountMap"].values()), Decimal(0))


def test_a_promotion_shows_in_the_quote_and_the_commit_matches_it(session, linked):
    create_promotion(session, linked.tenant_id, {"name": "2+1 на кофе", "reward": "free_items",
                                                  "buy": 2, "free": 1, "when": {"groups": ["coffee"]}})
    customer = register_customer(session, linked.tenant_id, {"phone": PHONE}, source="test", moment=utcnow())
    customer_id = customer.id
    session.commit()

    q = linked.ok("/receipts/quote", {"receipt_uuid": "P-1", "customer": {"phone": PHONE},
                                      "positions": coffee_receipt()})
    # The cheapest of the three coffees (espresso, 200) is free; bread is not in the promotion.
    assert q["discount"] == 200 and q["totals"]["promo_discount"] == 200
    assert q["positionUuidToDiscountMap"] == {"c2": 200} and _map_sum(q) == Decimal(200)
    assert [(p["name"], p["discount"]) for p in q["promotions"]] == [("2+1 на кофе", 200)]
    line = next(p for p in q["positions"] if p["uuid"] == "c2")
    assert line["promo_discount"] == 200 and line["promotions"][0]["name"] == "2+1 на кофе"
    assert "Акция «2+1 на кофе»: скидка 200,00 руб." in q["print"]["summary"]
    # 10 % of what is paid with money: 600 + 100.
    assert q["bonus"]["earned"] == 70 and q["totals"]["amount_to_pay"] == 700

    c = linked.ok("/receipts/commit", {"receipt_uuid": "P-1", "extra": q["extra"]})
    assert c["discount"] == q["discount"] and c["promotions"] == q["promotions"]
    assert c["bonus"] == {"spent": 0, "earned": q["bonus"]["earned"]}
    receipt = session.scalar(select(Receipt).where(Receipt.external_id == "P-1",
                                                   Receipt.tenant_id == linked.tenant_id))
    assert receipt.amount_to_pay == 70000 and receipt.customer_id == customer_id
    assert session.scalar(select(func.count()).select_from(PromotionUse)
                          .where(PromotionUse.receipt_id == receipt.id)) == 1
    session.rollback()


def test_a_promo_code_at_the_terminal_is_used_once(session, linked):
    promo = create_promotion(session, linked.tenant_id, {"name": "Купон −15%", "reward": "percent_off",
                                                          "percent": "15"})
    code = create_codes(session, linked.tenant_id, promo["id"], {"count": 1, "max_uses": 1})["codes"][0]

    # Without the code the promotion does not apply.
    plain = linked.ok("/receipts/quote", {"receipt_uuid": "K-0", "positions": coffee_receipt()})
    assert plain["discount"] == 0 and plain["promotions"] == [] and plain["extra"] is None

    q = linked.ok("/receipts/quote", {"receipt_uuid": "K-1", "positions": coffee_receipt(),
                                      "promo_codes": [code.lower()]})
    # 15 % of 300 x 2 = 90, of 200 = 30, of 100 = 15.
    assert q["discount"] == 135 and _map_sum(q) == Decimal(135)
    assert q["extra"]["kopilka"]["promo_codes"] == [code.lower()]
    assert q["extra"]["kopilka"]["customer_id"] is None
    assert session.scalar(select(PromoCode.uses).where(PromoCode.code == code)) == 0   # a quote uses nothing
    session.rollback()

    # RECEIPT_CLOSED carries only our extra: the codes come from it.
    c = linked.ok("/receipts/commit", {"receipt_uuid": "K-1", "extra": q["extra"]})
    assert c["discount"] == 135 and c["promotions"] == q["promotions"]
    assert session.scalar(select(PromoCode.uses).where(PromoCode.code == code)) == 1
    assert session.scalar(select(func.count()).select_from(PromoCodeRedemption)
                          .where(PromoCodeRedemption.tenant_id == linked.tenant_id)) == 1
    session.rollback()
    # A repeat of the commit replays it; the code stays used once.
    assert linked.ok("/receipts/commit", {"receipt_uuid": "K-1", "extra": q["extra"]})["repeated"] is True
    assert session.scalar(select(PromoCode.uses).where(PromoCode.code == code)) == 1
    session.rollback()

    # Another receipt cannot use the single-use code any more.
    body = assert_error(linked.post("/receipts/quote", {"receipt_uuid": "K-2", "positions": coffee_receipt(),
                                                        "promo_codes": [code]}), 422)
    assert body["error"]["code"] == "promo_code_invalid"


def test_a_promo_code_held_by_a_customer_quote(session, linked):
    """With a customer the quote locks the code's row under the account lock, as the commit does."""
    promo = create_promotion(session, linked.tenant_id, {"name": "Бонусы ×2", "reward": "bonus_multiplier",
                                                          "multiplier": "2"})
    code = create_codes(session, linked.tenant_id, promo["id"], {"count": 1, "max_uses": 5})["codes"][0]
    register_customer(session, linked.tenant_id, {"phone": PHONE}, source="test", moment=utcnow())
    session.commit()
    q = linked.ok("/receipts/quote", {"receipt_uuid": "M-1", "customer": {"phone": PHONE},
                                      "positions": coffee_receipt(), "promo_code": code})
    assert q["bonus"]["earned"] == 180 and q["discount"] == 0          # 10 % of 900, doubled
    assert [p["name"] for p in q["promotions"]] == ["Бонусы ×2"]
    c = linked.ok("/receipts/commit", {"receipt_uuid": "M-1", "extra": q["extra"]})
    assert c["bonus"]["earned"] == 180 and c["customer"]["balance"] == 180


def test_bad_promo_codes_are_422_and_nothing_written(session, linked):
    before = counts(session)
    for value in ({"a": 1}, ["x" * 41], [1.5], ["A"] * 21):
        assert_error(linked.post("/receipts/quote", {"receipt_uuid": "B-1", "positions": coffee_receipt(),
                                                     "promo_codes": value}), 422)
    body = assert_error(linked.post("/receipts/quote", {"receipt_uuid": "B-1", "positions": coffee_receipt(),
                                                        "promo_codes": ["NOSUCHCODE"]}), 422)
    assert body["error"]["details"]["promo_codes"] == {"NOSUCHCODE": ["Промокод не найден."]}
    assert counts(session) == before


def test_a_lost_commit_is_applied_from_the_document_with_the_codes_of_its_extra(session, linked):
    from tests.evotor.test_documents import APP_UUID, _deliver, doc_position, sell
    promo = create_promotion(session, linked.tenant_id, {"name": "Купон −10%", "reward": "percent_off",
                                                          "percent": "10"})
    code = create_codes(session, linked.tenant_id, promo["id"], {"count": 1, "max_uses": 1})["codes"][0]
    q = linked.ok("/receipts/quote", {"receipt_uuid": "D-1", "promo_codes": [code], "positions": [
        {"uuid": "p1", "product_id": "coffee", "price": 300, "quantity": 2}]})
    assert q["discount"] == 60 and q["extra"]["kopilka"]["promo_codes"] == [code]
    # The receipt closed with our extra, the app's commit never came: the document commits it.
    doc = sell("D-1", [doc_position("p1", "coffee", 300, 2, ours=60)], extras={APP_UUID: q["extra"]})
    assert _deliver(linked, [doc]).status_code == 200
    receipt = session.scalar(select(Receipt).where(Receipt.external_id == "D-1", Receipt.tenant_id == linked.tenant_id))
    assert receipt is not None and receipt.amount_to_pay == 54000 and receipt.customer_id is None
    assert session.scalar(select(PromoCode.uses).where(PromoCode.code == code)) == 1
    session.rollback()
