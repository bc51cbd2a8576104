"""Gift certificates at an Evotor terminal: check the balance, pay part of a receipt (quote and
commit; once; with the sale or not at all), and a payback gives the money back to it."""
from __future__ import annotations

from sqlalchemy import select

from hub.ledger import check_certificates
from hub.certificates.models import CertificatePosting, GiftCertificate
from hub.moments import utcnow
from hub.certificates import operations as certificates
from hub.customers.operations import register_customer
from tests.evotor.conftest import assert_error, counts

PHONE = "+79161234567"


def positions() -> list[dict]:
    return [{"uuid": "p1", "product_id": "coffee", "name": "Капучино", "price": 300, "quantity": 2},
            {"uuid": "p2", "product_id": "cake", "name": "Эклер", "price": 100, "quantity": 1}]


def sold_certificate(session, tenant_id: str, nominal: int = 50_000) -> str:
    number = certificates.issue(session, tenant_id, {"nominal": nominal, "count": 1}, utcnow())[0]["number"]
    certificates.activate(session, tenant_id, number, f"sale-{number}", utcnow(), utcnow())
    return number


def balance_of(session, number: str) -> int:
    session.expire_all()
    return session.scalar(select(GiftCertificate.balance).where(GiftCertificate.number == number))


def test_check_pay_and_payback(session, linked):
    number = sold_certificate(session, linked.tenant_id)
    register_customer(session, linked.tenant_id, {"phone": PHONE}, source="test", moment=utcnow())
    session.commit()
    # The balance at the till.
    checked = linked.ok("/certificates/check", {"number": number})
    assert checked["certificate"]["balance"] == 500 and checked["certificate"]["status"] == "active"
    assert checked["message"] == "На сертификате 500,00 ₽."
    assert_error(linked.post("/certificates/check", {"number": "0000000000000000"}), 404)

    # Quote with a certificate paying 300 of 700: a payment, not a discount.
    body = {"receipt_uuid": "GC-1", "customer": {"phone": PHONE}, "positions": positions(),
            "certificates": [{"number": number, "amount": 300}]}
    q = linked.ok("/receipts/quote", body)
    assert q["certificates"] == [{"number": number, "amount": 300, "balance_after": 200}]
    assert q["to_pay_after_certificates"] == 400 and q["discount"] == 0
    assert q["extra"]["kopilka"]["certificates"] == [{"number": number, "amount": 300}]
    assert balance_of(session, number) == 50_000          # a quote redeems nothing

    # Too much for the certificate / for the receipt: 422, Russian, nothing written.
    too_much = linked.post("/receipts/quote", {**body, "receipt_uuid": "GC-X",
                                               "certificates": [{"number": number, "amount": 600}]})
    assert too_much.status_code == 422
    assert too_much.get_json()["error"]["code"] in ("certificate_insufficient", "certificates_exceed_receipt")
    assert "сертификат" in too_much.get_json()["error"]["message"].lower()
    session.rollback()

    # The commit redeems it with the sale, once.
    c = linked.ok("/receipts/commit", {"receipt_uuid": "GC-1", "extra": q["extra"]})
    assert c["certificates"] == [{"number": number, "redeemed": 300, "balance": 200}]
    assert f"Оплачено сертификатом {number}: 300,00, остаток 200,00" in c["print"]["summary"]
    assert balance_of(session, number) == 20_000
    again = linked.ok("/receipts/commit", {"receipt_uuid": "GC-1", "extra": q["extra"]})
    assert again["repeated"] is True and balance_of(session, number) == 20_000

    # A payback of the cake (100): the money goes back to the certificate first.
    back = linked.ok("/receipts/payback", {"payback_uuid": "PB-1", "base_receipt_uuid": "GC-1",
                                           "positions": [{"uuid": "p2", "quantity": 1}]})
    assert back["certificates"] == [{"number": number, "restored": 100, "balance": 300}]
    assert back["to_cash"] == 0
    assert f"Возвращено на сертификат {number}: 100,00" in back["print"]["summary"]
    assert balance_of(session, number) == 30_000
    # The sale links its payments, so the hub's return refunded them (issue 17, item 3), under
    # the one reference format of every till (issue 18, item 3).
    from hub.receipts.models import Receipt
    assert session.scalar(select(Receipt.certificate_prefix).where(
        Receipt.tenant_id == linked.tenant_id, Receipt.external_id == "GC-1")) == "sale:evotor:GC-1:"
    assert len(session.scalars(select(CertificatePosting).where(
        CertificatePosting.kind == "restore",
        CertificatePosting.reference.endswith("\x1freturn:evotor:PB-1"))).all()) == 1
    session.rollback()
    # Repeated: the same, once.
    assert linked.ok("/receipts/payback", {"payback_uuid": "PB-1", "base_receipt_uuid": "GC-1",
                                           "positions": [{"uuid": "p2", "quantity": 1}]})["repeated"] is True
    assert balance_of(session, number) == 30_000
    # The rest: the certificate gets its other 200 back, 400 goes in cash.
    rest = linked.ok("/receipts/payback", {"payback_uuid": "PB-2", "base_receipt_uuid": "GC-1"})
    assert rest["certificates"][0]["restored"] == 200 and rest["to_cash"] == 400
    assert balance_of(session, number) == 50_000
    assert check_certificates(session, linked.tenant_id) == []
    session.rollback()


def test_a_failing_certificate_commits_nothing(session, linked):
    number = sold_certificate(session, linked.tenant_id, nominal=10_000)
    certificates.block(session, linked.tenant_id, number, True, utcnow())
    before = counts(session)
    r = linked.post("/receipts/commit", {"receipt_uuid": "GC-2", "positions": positions(),
                                         "certificates": [{"number": number, "amount": 50}]})
    assert_error(r, 422)
    assert "заблокирован" in r.get_json()["error"]["message"]
    assert counts(session) == before          # neither the sale nor a redemption
    assert session.scalars(select(CertificatePosting).where(
        CertificatePosting.reference.startswith("sale:evotor:GC-2"))).all() == []
    bad = linked.post("/receipts/quote", {"receipt_uuid": "GC-3", "positions": positions(),
                                          "certificates": [{"number": number}]})
    assert_error(bad, 422)
    session.rollback()


def restores(session, number: str) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(CertificatePosting.reference).join(
        GiftCertificate, GiftCertificate.id == CertificatePosting.certificate_id).where(
        GiftCertificate.number == number, CertificatePosting.kind == "restore")))


def test_a_full_payback_gives_the_certificate_its_nominal_once(session, linked):
    """Issue 18, item 3: the sale hands its certificate payment to the hub, the hub's return
    refunds it (the terminal calls no refund of its own), once."""
    number = sold_certificate(session, linked.tenant_id)
    linked.ok("/receipts/commit", {"receipt_uuid": "GC-9", "positions": positions(),
                                   "certificates": [{"number": number, "amount": 300}]})
    assert balance_of(session, number) == 20_000
    back = linked.ok("/receipts/payback", {"payback_uuid": "PB-9", "base_receipt_uuid": "GC-9"})
    assert back["certificates"] == [{"number": number, "restored": 300, "balance": 500}]
    assert back["to_cash"] == 400
    assert balance_of(session, number) == 50_000
    assert restores(session, number) == [f"sale:evotor:GC-9:{number}\x1freturn:evotor:PB-9"]
    again = linked.ok("/receipts/payback", {"payback_uuid": "PB-9", "base_receipt_uuid": "GC-9"})
    assert again["repeated"] is True and again["certificates"] == back["certificates"]
    assert balance_of(session, number) == 50_000
    assert restores(session, number) == [f"sale:evotor:GC-9:{number}\x1freturn:evotor:PB-9"]
    session.rollback()
