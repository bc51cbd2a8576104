"""1С's gift-card and promo-code resources on the hub's certificates and promotions, shaped as
СерверЛояльностиПолучательДанныхКлиентСервер sends them (raw query strings, BOM bodies,
Russian-locale numbers), on both databases."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from hub.clock import frozen, utcnow
from hub.certificates.models import CertificatePosting, GiftCertificate
from hub.promotions.models import PromoCode, PromoCodeRedemption
from hub.certificates import operations as certificates
from hub.promotions.operations import create_codes, create_promotion
from tests.onec.conftest import CARD, ITEM_CAKE, ITEM_COFFEE, calc_body, counts, goods_line

NUMBER = "7000000000000017"


def _json(r) -> dict:
    assert r.status_code == 200, r.get_data(as_text=True)
    return json.loads(r.get_data(as_text=True).lstrip("\ufeff"))


def _sold(session, tenant_id: str, nominal: int = 100000, number: str = NUMBER) -> None:
    certificates.issue(session, tenant_id, {"nominal": nominal, "numbers": [number], "valid_days": 365}, utcnow())
    certificates.activate(session, tenant_id, number, "sale-1", utcnow(), utcnow())


def _cert(session, number: str = NUMBER) -> GiftCertificate:
    row = session.scalar(select(GiftCertificate).where(GiftCertificate.number == number))
    session.rollback()
    return row


def _postings(session, tenant_id: str) -> int:
    n = session.scalar(select(func.count()).select_from(CertificatePosting)
                       .where(CertificatePosting.tenant_id == tenant_id))
    session.rollback()
    return n


GIFT_KEYS = {"Error", "ErrorMessage", "Version", "GiftCard", "GiftCardNumber", "GiftCardValue",
             "GiftCardBalance", "Blocked"}


def test_getgiftcardinfo_answers_balance_and_ref(onec, session):
    _sold(session, onec.tenant_id)
    body = _json(onec.get("getgiftcardinfo", GiftCardNumber=NUMBER, Currency="643"))
    assert set(body) == GIFT_KEYS
    assert body["Error"] is False and body["GiftCardBalance"] == 1000 and body["GiftCardValue"] == 1000
    assert body["GiftCard"]["GiftCardRef"] == _cert(session).id and body["Blocked"] is False
    # a number printed with spaces is the same certificate
    assert _json(onec.get("getgiftcardinfo", GiftCardNumber="7000 0000 0000 0017"))["GiftCardBalance"] == 1000


def test_giftcard_states_and_bad_input(onec, session):
    certificates.issue(session, onec.tenant_id, {"nominal": 50000, "numbers": ["5550001"]}, utcnow())
    before = counts(session, onec.tenant_id), _postings(session, onec.tenant_id)
    body = _json(onec.get("getgiftcardinfo", GiftCardNumber="5550001"))
    assert body["Error"] is True and "не активирован" in body["ErrorMessage"] and body["GiftCardBalance"] == 0
    assert _json(onec.get("checkgiftcard", GiftCardNumber="5550001"))["GiftCardUsed"] is False
    empty = _json(onec.get("getgiftcardinfo"))
    assert empty["Error"] is True and "номер" in empty["ErrorMessage"] and set(empty) == GIFT_KEYS
    unknown = _json(onec.get("getgiftcardinfo", GiftCardNumber="999"))
    assert unknown["Error"] is True and "не найден" in unknown["ErrorMessage"]
    assert _json(onec.get("checkgiftcard"))["Error"] is True
    for amount in ("", "много", "1,005"):
        text = onec.post("writeoffgiftcard", GiftCardNumber="5550001", GiftCardWriteOffAmount=amount)
        assert text.status_code == 200 and "успешно" not in text.get_data(as_text=True)
    # an unsold certificate cannot pay
    r = onec.post("writeoffgiftcard", GiftCardNumber="5550001", GiftCardWriteOffAmount="100")
    assert r.get_data(as_text=True).startswith("Сертификат не списан: ") and "не активирован" in r.get_data(as_text=True)
    assert (counts(session, onec.tenant_id), _postings(session, onec.tenant_id)) == before
    certificates.block(session, onec.tenant_id, "5550001", True, utcnow())
    blocked = _json(onec.get("getgiftcardinfo", GiftCardNumber="5550001"))
    assert blocked["Blocked"] is True and blocked["Error"] is True
    assert _json(onec.get("checkgiftcard", GiftCardNumber="5550001"))["GiftCardUsed"] is True


def test_writeoff_redeems_once_russian_amount_and_unlock_is_noop(onec, session):
    _sold(session, onec.tenant_id)
    assert onec.post("unlockgiftcard", GiftCardNumber=NUMBER).get_data(as_text=True) == \
        "Подарочный сертификат разблокирован"
    r = onec.post("writeoffgiftcard", GiftCardNumber=NUMBER, GiftCardWriteOffAmount="250,5")
    assert r.get_data(as_text=True) == "Подарочный сертификат успешно списан на указанную сумму"
    assert _cert(session).balance == 100000 - 25050
    # the cash desk repeats a write-off whose answer it lost: replayed, not spent twice
    r = onec.post("writeoffgiftcard", GiftCardNumber=NUMBER, GiftCardWriteOffAmount="250,5")
    assert r.get_data(as_text=True) == "Подарочный сертификат успешно списан на указанную сумму"
    assert _cert(session).balance == 100000 - 25050
    # later, another payment of the same amount is a new redemption
    with frozen(utcnow() + timedelta(minutes=10)):
        onec.post("writeoffgiftcard", GiftCardNumber=NUMBER, GiftCardWriteOffAmount="250,50")
        assert _cert(session).balance == 100000 - 2 * 25050
        # more than the balance is refused with a text, nothing written
        n = _postings(session, onec.tenant_id)
        r = onec.post("writeoffgiftcard", GiftCardNumber=NUMBER, GiftCardWriteOffAmount="1\u00a0000")
        assert "нельзя" in r.get_data(as_text=True)
        assert _postings(session, onec.tenant_id) == n
        assert _json(onec.get("getgiftcardinfo", GiftCardNumber=NUMBER))["GiftCardBalance"] == 499


def test_writeoff_idempotent_by_operation_id_and_return(onec, session):
    _sold(session, onec.tenant_id)
    for _ in range(2):
        onec.call("POST", "writeoffgiftcard", {**onec.bonus_params(GiftCardNumber=NUMBER, GiftCardWriteOffAmount="300"),
                                               "ReceiptID": "chk-42"})
    assert _cert(session).balance == 70000
    # a return gives money back (negative amount, as the cash desk sends it on a return)
    r = onec.post("writeoffgiftcard", GiftCardNumber=NUMBER, GiftCardWriteOffAmount="-100")
    assert r.get_data(as_text=True) == "Подарочный сертификат успешно списан на указанную сумму"
    assert _cert(session).balance == 80000
    # more than was paid cannot come back
    n = _postings(session, onec.tenant_id)
    r = onec.post("writeoffgiftcard", GiftCardNumber=NUMBER, GiftCardWriteOffAmount="-500")
    assert "успешно" not in r.get_data(as_text=True) and _postings(session, onec.tenant_id) == n


def _coupon(session, tenant_id: str, **limits) -> tuple[str, str]:
    promo = create_promotion(session, tenant_id, {"name": "Купон −10%", "reward": "percent_off", "percent": "10"})
    code = create_codes(session, tenant_id, promo["id"], {"count": 1, "max_uses": 1, **limits})["codes"][0]
    session.commit()
    return promo["id"], code


def test_promocodeinfo(onec, session):
    promo_id, code = _coupon(session, onec.tenant_id)
    body = _json(onec.get("promocodeinfo", Promocode=code.lower()))
    assert body["Error"] is False and body["PromocodeIsAvalible"] is True
    assert body["PromocodeDiscount"] == {"Ref": promo_id, "Name": "Купон −10%"}
    assert {"PromocodeStatus", "PromocodeDiscountDescription", "Version", "ErrorMessage"} <= set(body)
    unknown = _json(onec.get("promocodeinfo", Promocode="NOPE"))
    assert unknown["Error"] is False and unknown["PromocodeIsAvalible"] is False
    assert unknown["PromocodeStatus"] == "Промокод не найден"
    empty = _json(onec.get("promocodeinfo"))
    assert empty["Error"] is True and "промокод" in empty["ErrorMessage"].lower()
    session.execute(PromoCode.__table__.update().values(blocked=True))
    session.commit()
    blocked = _json(onec.get("promocodeinfo", Promocode=code))
    assert blocked["PromocodeIsAvalible"] is False and "заблокирован" in blocked["PromocodeStatus"]
    assert onec.post("unlockpromocode", Promocode=code).get_data(as_text=True) == "Промокод разблокирован"


def test_calculatediscounts_honours_promocodes(onec, session):
    promo_id, code = _coupon(session, onec.tenant_id)
    goods = [goods_line("l-1", ITEM_COFFEE, "Капучино", 250, 2), goods_line("l-2", ITEM_CAKE, "Торт", 100, 1)]
    plain = _json(onec.calculate(calc_body(goods)))
    body = calc_body(goods)
    body["PromocodesList"] = [{"Promocode": code, "PromocodeDiscountUID": "", "PromocodeUID": "u-1"},
                              {"Promocode": "WRONG", "PromocodeDiscountUID": "", "PromocodeUID": "u-2"}]
    before = counts(session, onec.tenant_id)
    got = _json(onec.calculate(body))
    assert got["Error"] is False
    total = round(sum(g["Amount"] for g in got["Goods"]), 2)
    assert total < round(sum(g["Amount"] for g in plain["Goods"]), 2)
    ok, bad = got["PromocodesList"]
    assert ok["Promocode"] == code and ok["DiscountActive"] is True and ok["ErrorDescription"] == ""
    assert ok["PromocodeDiscount"]["Ref"] == promo_id and ok["PromocodeUID"] == "u-1"
    assert bad["DiscountActive"] is False and "не найден" in bad["ErrorDescription"] and bad["PromocodeUID"] == "u-2"
    # a quote redeems nothing
    assert counts(session, onec.tenant_id) == before
    assert session.scalar(select(func.count()).select_from(PromoCodeRedemption)
                          .where(PromoCodeRedemption.tenant_id == onec.tenant_id)) == 0
    assert session.scalar(select(PromoCode.uses).where(PromoCode.code == code)) == 0
    session.rollback()
    # codes as bare strings work too (the card path as well)
    body = calc_body(goods, [CARD])
    body["PromocodesList"] = [code]
    again = _json(onec.calculate(body))
    assert again["PromocodesList"][0]["DiscountActive"] is True
