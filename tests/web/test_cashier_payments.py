"""The cashier's workplace: a spending confirmed by the customer's code when the program asks
for it, promo codes, gift certificates (balance, sale, payment, money back on a return), the
camera scan's markup; every step idempotent and validated."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub.clock import advance, frozen, utcnow
from hub.receipts.models import Receipt
from tests.web.conftest import last_code, text, token
from tests.web.test_cashier import _start

PHONE = "+79165557788"


def _count(session, model, tenant_id: str) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id))


def _balance(session, tenant_id: str, customer_id: str) -> int:
    from hub.ledger import account_view
    session.rollback()
    view = account_view(session, tenant_id, customer_id, utcnow())
    session.rollback()
    return view.available


def _verify_spending(session, tenant_id: str, on: bool = True) -> None:
    from hub.programs.operations import DEFAULT_SETTINGS, put_program
    put_program(session, tenant_id, {**DEFAULT_SETTINGS, "verify_spending": on})


def _client_with_bonuses(session, tenant_id: str, customer_of, kopecks: int = 10000):
    from hub.customers.bonuses import adjust_bonuses
    c = customer_of(tenant_id, PHONE)
    adjust_bonuses(session, tenant_id, c.id, amount=kopecks, kind="gift", reason="Подарок", valid_days=30,
                   moment=utcnow(), idempotency_key=None, source="cabinet", body={})
    session.commit()
    return c


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@pytest.fixture
def now():
    with frozen(utcnow().replace(microsecond=0)) as pinned:
        yield pinned


# --- the spending confirmed by the customer's code ------------------------------------------------

def test_spend_needs_the_customers_code_when_the_program_asks(client, session, shop, as_role, customer_of, now):
    a = shop["a"]
    c = _client_with_bonuses(session, a, customer_of)
    _verify_spending(session, a)
    h = _start(client, as_role)
    sale = {"op_key": str(uuid.uuid4()), "customer_id": c.id, "amount": "200", "spend": "30"}

    r = client.post("/cashier/quote", data=sale, headers=h)
    assert r.status_code == 200 and "Списание подтверждается кодом клиента" in text(r)
    assert 'id="spend-code"' in text(r) and 'form="sale-form"' in text(r)
    # no code yet: refused, nothing written, the code box stays to type it in
    r = client.post("/cashier/sale", data=sale, headers=h)
    assert r.status_code == 422 and "Спросите у клиента код" in text(r) and 'id="spend-code"' in text(r)
    assert _count(session, Receipt, a) == 0

    r = client.post("/cashier/spend/code", data={"customer_id": c.id}, headers=h)
    assert r.status_code == 200 and "Код отправлен клиенту на +7916555**88" in text(r)
    code = last_code(session, a, PHONE)
    r = client.post("/cashier/spend/code", data={"customer_id": c.id}, headers=h)   # asked again at once
    assert r.status_code == 422 and "Новый можно запросить через" in text(r)

    r = client.post("/cashier/sale", data={**sale, "spend_code": _wrong(code)}, headers=h)
    assert r.status_code == 422 and "Неверный или просроченный код" in text(r)
    assert _count(session, Receipt, a) == 0 and _balance(session, a, c.id) == 10000

    r = client.post("/cashier/sale", data={**sale, "spend_code": code}, headers=h)
    assert r.status_code == 200 and "Продажа проведена" in text(r), text(r)
    r = client.post("/cashier/sale", data={**sale, "spend_code": code}, headers=h)   # double click
    assert r.status_code == 200 and "уже проведена" in text(r)
    assert _count(session, Receipt, a) == 1
    assert _balance(session, a, c.id) == 10000 - 3000 + 850      # 5% of the 170 paid

    # the code opened that one sale only
    again = {**sale, "op_key": str(uuid.uuid4()), "spend_code": code}
    r = client.post("/cashier/sale", data=again, headers=h)
    assert r.status_code == 422 and "Неверный или просроченный код" in text(r)
    # an expired code is refused too
    advance(timedelta(minutes=2))
    assert client.post("/cashier/spend/code", data={"customer_id": c.id}, headers=h).status_code == 200
    code2 = last_code(session, a, PHONE)
    advance(timedelta(minutes=11))
    r = client.post("/cashier/sale", data={**again, "spend_code": code2}, headers=h)
    assert r.status_code == 422 and "просроченный" in text(r)
    assert _count(session, Receipt, a) == 1

    # a sale without a spend needs no code
    plain = {"op_key": str(uuid.uuid4()), "customer_id": c.id, "amount": "100"}
    r = client.post("/cashier/quote", data=plain, headers=h)
    assert "Списание подтверждается" not in text(r)
    assert client.post("/cashier/sale", data=plain, headers=h).status_code == 200
    # the program without the setting asks for no code
    _verify_spending(session, a, on=False)
    r = client.post("/cashier/quote", data=again, headers=h)
    assert "Списание подтверждается" not in text(r)
    assert client.post("/cashier/sale", data={**again, "spend_code": ""}, headers=h).status_code == 200
    assert _count(session, Receipt, a) == 3


def test_spend_code_for_another_tenants_client_is_404(client, session, shop, as_role, customer_of):
    theirs = customer_of(shop["b"], "+79990000004")
    h = _start(client, as_role)
    assert client.post("/cashier/spend/code", data={"customer_id": theirs.id}, headers=h).status_code == 404
    assert client.post("/cashier/spend/code", data={}, headers=h).status_code == 404
    r = client.post("/cashier/spend/code", data={"customer_id": theirs.id}, headers={"HX-Request": "true"})
    assert r.status_code == 400                                  # no CSRF token: refused


# --- promo codes ----------------------------------------------------------------------------------

def _promo(session, tenant_id: str, **when) -> tuple[str, str]:
    from hub.promotions.operations import create_codes, create_promotion
    p = create_promotion(session, tenant_id, {"name": "Осень −10%", "reward": "percent_off", "percent": "10",
                                              "when": when})
    batch = create_codes(session, tenant_id, p["id"], {"count": 1, "max_uses": 1})
    return p["id"], batch["codes"][0]


def test_promo_code_applies_once_and_says_why_not(client, session, shop, as_role, customer_of, now):
    from hub.promotions.models import PromoCode, PromoCodeRedemption
    a = shop["a"]
    _, code = _promo(session, a)
    c = customer_of(a, PHONE)
    h = _start(client, as_role)
    sale = {"op_key": str(uuid.uuid4()), "customer_id": c.id, "amount": "1 000", "promo_code": code.lower()}

    r = client.post("/cashier/quote", data={**sale, "promo_code": "NOSUCHCODE"}, headers=h)
    assert r.status_code == 200 and "Промокод NOSUCHCODE: Промокод не найден." in text(r)
    assert "1 000,00 ₽" in text(r).split('id="to-pay">')[1][:20]          # the quote without it
    r = client.post("/cashier/quote", data={**sale, "promo_code": "!!!"}, headers=h)
    assert r.status_code == 422 and "Промокод — буквы и цифры" in text(r)

    r = client.post("/cashier/quote", data=sale, headers=h)
    assert f"Промокод {code} применён: «Осень −10%» — скидка 100,00 ₽." in text(r)
    assert 'id="to-pay">900,00 ₽' in text(r)
    assert _count(session, PromoCodeRedemption, a) == 0                      # a quote writes nothing

    r = client.post("/cashier/sale", data={**sale, "promo_code": "NOSUCHCODE"}, headers=h)
    assert r.status_code == 422 and "Продажа не проведена" in text(r)
    assert _count(session, Receipt, a) == 0

    r = client.post("/cashier/sale", data=sale, headers=h)
    assert r.status_code == 200 and "Акция «Осень −10%»: скидка 100,00 ₽" in text(r)
    r = client.post("/cashier/sale", data=sale, headers=h)                   # double submit
    assert "уже проведена" in text(r)
    assert _count(session, Receipt, a) == 1 and _count(session, PromoCodeRedemption, a) == 1
    assert session.scalars(select(PromoCode.uses).where(PromoCode.tenant_id == a)).one() == 1
    rec = session.scalars(select(Receipt).where(Receipt.tenant_id == a)).one()
    assert rec.amount_to_pay == 90000

    # single use: the next sale is told so and refused with the code
    nxt = {**sale, "op_key": str(uuid.uuid4())}
    r = client.post("/cashier/quote", data=nxt, headers=h)
    assert f"Промокод {code}: Промокод уже использован." in text(r)
    assert client.post("/cashier/sale", data=nxt, headers=h).status_code == 422
    assert _count(session, Receipt, a) == 1


def test_promo_code_whose_conditions_are_not_met(client, session, shop, as_role, now):
    from hub.promotions.models import PromoCodeRedemption
    a = shop["a"]
    _, code = _promo(session, a, min_amount=500000)
    h = _start(client, as_role)
    sale = {"op_key": str(uuid.uuid4()), "amount": "1 000", "promo_code": code}
    r = client.post("/cashier/quote", data=sale, headers=h)
    assert f"Промокод {code} не применён: условия акции «Осень −10%» не выполнены." in text(r)
    r = client.post("/cashier/sale", data=sale, headers=h)                   # sold at full price, code kept
    assert r.status_code == 200 and _count(session, PromoCodeRedemption, a) == 0


# --- gift certificates ----------------------------------------------------------------------------

def _certificate(session, tenant_id: str, nominal: int = 50000, *, active: bool = True) -> str:
    from hub.certificates import operations as certificates
    number = certificates.issue(session, tenant_id, {"nominal": nominal, "count": 1}, utcnow())[0]["number"]
    if active:
        certificates.activate(session, tenant_id, number, f"T-{number}", utcnow(), utcnow())
    return number


def _cert_balance(session, tenant_id: str, number: str) -> int:
    from hub.certificates import operations as certificates
    session.rollback()
    answer = certificates.get(session, tenant_id, number, utcnow())["balance"]
    session.rollback()
    return answer


def test_certificate_balance_and_sale(client, session, shop, as_role, now):
    from hub.certificates.models import GiftCertificate
    a = shop["a"]
    active = _certificate(session, a)
    spare = _certificate(session, a, 300000, active=False)
    theirs = _certificate(session, shop["b"])
    _start(client, as_role)

    page = text(client.get(f"/cashier/certificates?number={active}"))
    assert "действует" in page and '<strong id="cert-balance">500,00 ₽' in page
    r = client.get(f"/cashier/certificates?number={theirs}")
    assert r.status_code == 404 and "не найден" in text(r)
    assert "не продан" in text(client.get(f"/cashier/certificates?number={spare}"))

    t = token(client, "/cashier/certificates")
    form = {"csrf_token": t, "op_key": str(uuid.uuid4()), "number": spare, "nominal": "1 000"}
    r = client.post("/cashier/certificates/sell", data=form)
    assert r.status_code == 422 and "номиналом 3 000,00 ₽" in text(r)
    form["nominal"] = ""
    r = client.post("/cashier/certificates/sell", data=form)
    assert r.status_code == 200 and "Сертификат продан и активирован" in text(r)
    assert "уже продан" in text(client.post("/cashier/certificates/sell", data=form)).lower()
    assert _cert_balance(session, a, spare) == 300000
    r = client.post("/cashier/certificates/sell", data={**form, "op_key": str(uuid.uuid4())})
    assert r.status_code == 422 and "уже продан" in text(r)

    # a new one with a nominal: a double click sells one certificate
    new = {"csrf_token": t, "op_key": str(uuid.uuid4()), "number": "", "nominal": "2 500", "valid_days": "365"}
    r = client.post("/cashier/certificates/sell", data=new)
    number = text(r).split('id="sold-number">')[1].split("<")[0]
    assert r.status_code == 200 and len(number) == 16
    assert "повторное" in text(client.post("/cashier/certificates/sell", data=new))
    assert _count(session, GiftCertificate, a) == 3 and _cert_balance(session, a, number) == 250000
    # validation
    for bad, message in (({"nominal": "abc"}, "Номинал в рублях"), ({"nominal": ""}, "Укажите номинал"),
                         ({"valid_days": "0"}, "Срок — целое число"), ({"number": "12"}, "от 4 до 40")):
        r = client.post("/cashier/certificates/sell", data={**new, "op_key": str(uuid.uuid4()), **bad})
        assert r.status_code == 422 and message in text(r), bad
    assert _count(session, GiftCertificate, a) == 3
    r = client.post("/cashier/certificates/sell", data={**new, "op_key": "nope"})
    assert r.status_code == 400


def test_pay_with_a_certificate_and_return(client, session, shop, as_role, customer_of, now):
    a = shop["a"]
    number = _certificate(session, a)                         # 500 ₽
    spare = _certificate(session, a, active=False)
    theirs = _certificate(session, shop["b"])
    c = customer_of(a, PHONE)
    h = _start(client, as_role)
    sale = {"op_key": str(uuid.uuid4()), "customer_id": c.id, "amount": "300", "cert_number": number}

    r = client.post("/cashier/quote", data=sale, headers=h)
    assert 'id="to-pay">0,00 ₽' in text(r) and "−300,00 ₽" in text(r) and "останется 200,00 ₽" in text(r)
    for bad, message in (({"cert_number": theirs}, "не найден"), ({"cert_number": spare}, "не активирован"),
                         ({"cert_amount": "600"}, "На сертификате 500,00 ₽, списать 600,00 ₽ нельзя"),
                         ({"cert_amount": "400"}, "не больше суммы к оплате: 300,00 ₽")):
        r = client.post("/cashier/quote", data={**sale, **bad}, headers=h)
        assert r.status_code == 200 and message in text(r), bad
        r = client.post("/cashier/sale", data={**sale, **bad}, headers=h)
        assert r.status_code == 422 and message in text(r), bad
    r = client.post("/cashier/quote", data={**sale, "cert_amount": "x"}, headers=h)
    assert r.status_code == 422 and "Сумма оплаты сертификатом" in text(r)
    assert _count(session, Receipt, a) == 0 and _cert_balance(session, a, number) == 50000

    r = client.post("/cashier/sale", data=sale, headers=h)
    assert r.status_code == 200 and f"Сертификатом {number} оплачено 300,00 ₽, на нём осталось 200,00 ₽" in text(r)
    assert "уже проведена" in text(client.post("/cashier/sale", data=sale, headers=h))
    assert _count(session, Receipt, a) == 1 and _cert_balance(session, a, number) == 20000
    assert _balance(session, a, c.id) == 1500                 # a purchase paid with it earns as usual

    # the rest of it pays part of a bigger one
    big = {"op_key": str(uuid.uuid4()), "amount": "1 000", "cert_number": number}
    r = client.post("/cashier/quote", data=big, headers=h)
    assert 'id="to-pay">800,00 ₽' in text(r)
    r = client.post("/cashier/sale", data=big, headers=h)
    assert "деньгами 800,00 ₽" in text(r) and _cert_balance(session, a, number) == 0
    r = client.post("/cashier/quote", data={**big, "op_key": str(uuid.uuid4())}, headers=h)
    assert "На сертификате не осталось денег" in text(r)

    # a return gives the certificate back its share: 200 of the 1 000 ₽ receipt paid with it
    rec = session.scalars(select(Receipt).where(Receipt.tenant_id == a, Receipt.amount == 100000)).one()
    t = token(client, f"/cashier/returns?number={rec.external_id}")
    rkey = str(uuid.uuid4())
    r = client.post(f"/cashier/returns/{rec.id}", data={"csrf_token": t, "op_key": rkey, "qty-1": "1"})
    assert r.status_code == 200 and f"на сертификат {number} — 200,00 ₽" in text(r), text(r)[-2000:]
    r = client.post(f"/cashier/returns/{rec.id}", data={"csrf_token": t, "op_key": rkey, "qty-1": "1"})
    assert r.status_code == 200 and _cert_balance(session, a, number) == 20000     # replayed: once


def test_workplace_has_promo_certificate_and_scan(client, session, shop, as_role, customer_of):
    c = customer_of(shop["a"], PHONE, card_number="2000123456789")
    h = _start(client, as_role)
    page = text(client.get("/cashier/"))
    assert 'name="promo_code"' in page and 'name="cert_number"' in page
    assert "scanner('client-q')" in page and "/cashier/static/scan.js" in page and 'x-show="supported"' in page
    assert "Сертификаты" in page
    js = client.get("/cashier/static/scan.js")
    assert js.status_code == 200 and b"BarcodeDetector" in js.data and b"requestSubmit" in js.data
    # what a scanner gun types (the card number) finds the client; so does a QR with the phone
    r = client.get("/cashier/find?q=2000123456789", headers=h)
    assert f'value="{c.id}"' in text(r)
    r = client.get(f"/cashier/find?q={PHONE}", headers=h)
    assert f'value="{c.id}"' in text(r)
