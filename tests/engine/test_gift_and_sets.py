"""The gift product mechanic, the promotion index, and returns of set promotions (pure)."""
from __future__ import annotations

from decimal import Decimal

from hub.engine import PromoSet, ReturnLine, calculate, compute_return
from hub.engine.promotions import promotion_index
from tests.engine.helpers import account, pct, rub
from tests.engine.test_promotions import BONUS, TWO_PLUS_ONE, ctx, item, line, promo, receipt

GIFT = promo("g", "gift_product", "Кофе от 500 — печенье", gift_product="cookie",
             gift_name="Печенье", when={"groups": ["coffee"], "min_amount": rub(500)})


def cookie(pid="c", roubles=80, qty=1):
    return item(pid, roubles, qty=qty, groups=("coffee",), product="cookie")


def test_gift_is_free_when_on_the_receipt_and_its_own_line_does_not_qualify():
    q = calculate(BONUS, receipt(item("1", 600), cookie()), account(), promo=ctx(GIFT))
    assert line(q, "c").promo_discount == rub(80) and line(q, "c").amount_to_pay == 0
    assert line(q, "1").promo_discount == 0
    assert [(p.id, p.discount, p.lines) for p in q.promotions] == [("g", rub(80), ("1",))]
    # The cookie (in the coffee group too) does not count towards the 500.
    q = calculate(BONUS, receipt(item("1", 450), cookie(roubles=100)), account(), promo=ctx(GIFT))
    assert q.promo_discount == 0
    assert q.hints == ("«Кофе от 500 — печенье»: ещё на 50,00 ₽ — и подарок: Печенье.",)


def test_gift_missing_says_add_it_and_applies_nothing():
    q = calculate(BONUS, receipt(item("1", 600)), account(), promo=ctx(GIFT))
    assert q.promotions == () and q.promo_discount == 0
    assert q.hints == ("Добавьте в чек подарок: Печенье (акция «Кофе от 500 — печенье»).",)
    assert "Добавьте в чек подарок: Печенье" in q.cashier_message
    assert "Добавьте в чек подарок: Печенье" in q.receipt_message


def test_gift_at_a_price_and_quantity():
    cheap = promo("g", "gift_product", "Печенье за 10", gift_product="cookie", gift_price=rub(10),
                  gift_quantity=2, when={"min_quantity": Decimal(1), "groups": ["coffee"]})
    q = calculate(BONUS, receipt(item("1", 600), cookie(qty=3)), account(), promo=ctx(cheap))
    # Two of three cookies at 10 each: 2 x (80 - 10).
    assert line(q, "c").promo_discount == rub(140)
    # A gift dearer than its price is never discounted below zero.
    dear = promo("g", "gift_product", "x", gift_product="cookie", gift_price=rub(1000))
    q = calculate(BONUS, receipt(item("1", 600), cookie()), account(), promo=ctx(dear))
    assert q.promo_discount == 0


def test_gift_combines_in_the_one_order():
    everything = promo("all", "percent_off", "Всё -50%", percent=pct(50))
    q = calculate(BONUS, receipt(item("1", 600), cookie()), account(), promo=ctx(GIFT, everything))
    c = line(q, "c")
    assert c.promo_discount == rub(80) and c.amount_to_pay == 0     # never above the line
    exclusive = promo("ex", "percent_off", "Эксклюзив", percent=pct(10), priority=9, exclusive=True)
    q = calculate(BONUS, receipt(item("1", 600), cookie()), account(), promo=ctx(GIFT, exclusive))
    assert [p.id for p in q.promotions] == ["ex"]


def test_index_files_promotions_by_their_most_selective_key():
    coded = promo("k", "percent_off", "По коду", percent=pct(5), when={"requires_code": True})
    seg = promo("s", "percent_off", "Сегмент", percent=pct(5), when={"segments": ["vip"]})
    index = promotion_index((TWO_PLUS_ONE, coded, seg, GIFT))
    assert promotion_index(index.ordered) is not index            # another tuple, another index
    assert set(index.keys) == {("group", "coffee"), ("code", "k"), ("segment", "vip")}
    assert index.everywhere == ()
    # A receipt without the code / segment never evaluates them, and the result is the same
    # as evaluating everything.
    r = receipt(item("1", 600), item("2", 300), item("3", 200),
                item("c", 80, groups=("bakery",), product="cookie"))
    q = calculate(BONUS, r, account(), promo=ctx(TWO_PLUS_ONE, coded, seg, GIFT))
    assert {p.id for p in q.promotions} == {"p21", "g"}
    q = calculate(BONUS, r, account(), promo=ctx(TWO_PLUS_ONE, coded, seg, GIFT, segments=frozenset({"vip"}),
                                                 unlocked=frozenset({"k"})))
    assert {p.id for p in q.promotions} == {"p21", "g", "k", "s"}


def _lines(*rows):
    return [ReturnLine(id=i, quantity=Decimal(q), amount=a, amount_to_pay=p, bonus_spent=0, bonus_earned=0)
            for i, q, a, p in rows]


def test_returning_the_paid_items_of_a_set_withholds_the_free_ones_discount():
    lines = _lines(("1", 1, 30000, 30000), ("2", 1, 25000, 25000), ("3", 1, 20000, 0))
    s = PromoSet(id="p", name="2+1", reward="free_items", counted=("1", "2", "3"),
                 discounts={"3": 20000}, buy=2, free=1)
    rq = compute_return(lines, {}, {"1": Decimal(1)}, [s])
    assert (rq.amount_returned, rq.promo_withheld, rq.lost) == (10000, 20000, ("p",))
    # The free one alone: nothing back, nothing withheld — and nothing of the discount stays
    # with the customer, so a limited promotion's use comes back.
    rq = compute_return(lines, {}, {"3": Decimal(1)}, [s])
    assert (rq.amount_returned, rq.promo_withheld, rq.lost) == (0, 0, ("p",))
    assert compute_return(lines, {}, {"2": Decimal(0)}, [s]).lost == ()
    # After the paid one, the free one: the withheld discount comes back.
    rq = compute_return(lines, {"1": Decimal(1)}, {"3": Decimal(1)}, [s])
    assert (rq.amount_returned, rq.promo_withheld) == (20000, -20000)
    # Not covered by money (paid with bonuses): off the bonuses restored.
    paid_by_bonus = [ReturnLine("1", Decimal(1), 30000, 5000, 25000, 0)] + lines[1:]
    rq = compute_return(paid_by_bonus, {}, {"1": Decimal(1)}, [s])
    assert (rq.amount_returned, rq.bonus_spent_restored, rq.promo_withheld) == (0, 10000, 20000)


def test_gift_set_is_withheld_only_when_the_condition_breaks():
    lines = _lines(("1", 2, 60000, 60000), ("c", 1, 8000, 0))
    s = PromoSet(id="g", name="Печенье", reward="gift_product", counted=("1",), discounts={"c": 8000},
                 min_amount=50000)
    assert compute_return(lines, {}, {"1": Decimal(1)}, [s]).promo_withheld == 8000   # 300 < 500
    lines = _lines(("1", 4, 120000, 120000), ("c", 1, 8000, 0))
    assert compute_return(lines, {}, {"1": Decimal(1)}, [s]).promo_withheld == 0      # 900 >= 500
