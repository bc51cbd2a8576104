"""Gift certificates at a МойСклад till (Loyalty API 1.0): GET /giftcard exactly as the docs'
example (moysklad/api-loyalty-1.0-doc, source/includes/_giftcard.md), payment with
certificates in /retaildemand (`giftCards[{id, name, paymentSum}]`, kopecks) in the sale's own
transaction, and their money given back by /retailsalesreturn."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from uuid import uuid4

from sqlalchemy import func, select

from hub.clock import frozen
from hub.receipts.models import Receipt
from hub.certificates.models import CertificatePosting, GiftCertificate
from hub.certificates import operations as certificates
from hub.customers.operations import register_customer
from hub.programs.operations import put_program
from hub.tenants.operations import create_tenant
from tests.moysklad.conftest import (
    PROGRAM, RETAIL_STORE, STORE_ID, agent, assert_ms_error, counts, local_moment, position,
)

DOC_AGENT_ID = "276a6f50-7ffd-11e6-8a84-bae50000005"
DOC_CARD = "MTIzNDU2Nzg5MA"
PRODUCT = "9c56720c-e8a7-4fdc-aea4-7104f28207be"
# The docs' /retaildemand example, with an identifiable meta and the till's honest prices.
DOC_SALE_ID = "0f1f1c51-6b2e-11ee-0a80-0b6b00000001"
DOC_GIFT_CARDS = [{"id": "f085d67e-6eae-21e6-8a84-bc520403352a", "name": "123456", "paymentSum": 1000},
                  {"id": "f275d67e-6eae-21e6-8a84-bc520403352a", "name": "1234567", "paymentSum": 500}]


def doc_sale(sale_id: str = DOC_SALE_ID, **extra) -> dict:
    return {"retailStore": RETAIL_STORE, "name": "00001", "moment": "2016-04-18 15:06:00",
            "meta": {"href": f"https://api.moysklad.ru/api/remap/1.2/entity/retaildemand/{sale_id}",
                     "id": sale_id},
            "agent": agent(DOC_AGENT_ID, name="Иванов Иван Иванович", discountCardNumber=DOC_CARD),
            "positions": [{"assortment": {"syncId": "f085d67e-6eae-11e6-8a84-bc520403352a",
                                          "meta": {"href": f"https://api.moysklad.ru/api/remap/1.2/entity/product/{PRODUCT}",
                                                   "id": PRODUCT}},
                           "quantity": 123.456, "price": 123.45, "discountPercent": 0, "discountedPrice": 123.45}],
            "bonusProgram": {"bonusValueToSpend": 0, "bonusValueToEarn": 150},
            "cashSum": 62.95, "noCashSum": 283.1, "giftCards": copy.deepcopy(DOC_GIFT_CARDS), **extra}


def sold(session, tenant_id: str, number: str, nominal: int, *, valid_days: int | None = 365,
         at: datetime | None = None) -> str:
    """A certificate issued and sold (activated); its id."""
    certificates.issue(session, tenant_id, {"nominal": nominal, "numbers": [number], "valid_days": valid_days},
                       at or datetime.now(timezone.utc))
    view, _ = certificates.activate(session, tenant_id, number, f"sale-of-{number}",
                                    at or datetime.now(timezone.utc), at or datetime.now(timezone.utc))
    return view["id"]


def member(session, tenant_id: str) -> None:
    register_customer(session, tenant_id, {"phone": "+79039993344", "card_number": DOC_CARD},
                      source="test", moment=datetime.now(timezone.utc))
    session.commit()


def balance(session, number: str) -> int:
    value = session.scalar(select(GiftCertificate.balance).where(GiftCertificate.number == number))
    session.rollback()
    return value


def card(ms, name: str) -> dict:
    r = ms.get("/giftcard", {"name": name, "retailStoreId": STORE_ID})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


# --- GET /giftcard ---------------------------------------------------------------------------

def test_giftcard_answers_the_docs_example(session, ms):
    put_program(session, ms.tenant_id, {**copy.deepcopy(PROGRAM), "timezone": "UTC"})
    session.commit()
    # Sold on 1 July 2025, valid 12 days: through 13 July, no longer on 14 July 00:00 UTC.
    cert_id = sold(session, ms.tenant_id, "123456", 1000, valid_days=12,
                   at=datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc))
    with frozen(datetime(2025, 7, 2, 9, 0, tzinfo=timezone.utc)):
        answer = card(ms, "123456")
    # The docs' response; balances are integers in kopecks ("Сколько денег осталось на балансе
    # сертификата в копейках"), the date "ГГГГ-ММ-ДД ЧЧ:ММ:СС в UTC".
    assert answer == {"name": "123456", "id": cert_id, "status": "CAN_BE_USED",
                      "expireDate": "2025-07-14 00:00:00", "currentBalance": 1000, "initialBalance": 1000}
    with frozen(datetime(2025, 7, 14, 0, 0, tzinfo=timezone.utc)):
        expired = card(ms, "123456")
    assert expired == {"name": "123456", "id": cert_id, "status": "EXPIRED",
                       "expireDate": "2025-07-14 00:00:00", "currentBalance": 0, "initialBalance": 1000}


def test_giftcard_statuses(session, ms):
    now = datetime.now(timezone.utc)
    cert_id = sold(session, ms.tenant_id, "5550001", 100000)
    assert card(ms, "5550001")["status"] == "CAN_BE_USED"
    certificates.redeem(session, ms.tenant_id, "5550001", 40000, "pay-1", now, now)
    partly = card(ms, "5550001")
    assert partly["status"] == "PARTIALLY_REDEEMED" and partly["currentBalance"] == 60000
    assert partly["initialBalance"] == 100000 and partly["id"] == cert_id
    # The number as the till scanned it: spaces and dashes do not matter, the answer echoes it.
    assert card(ms, "555-0001")["name"] == "555-0001" and card(ms, "555-0001")["id"] == cert_id
    certificates.redeem(session, ms.tenant_id, "5550001", 60000, "pay-2", now, now)
    spent = card(ms, "5550001")
    assert spent["status"] == "REDEEMED" and spent["currentBalance"] == 0

    # Issued but not sold, and blocked: INVALID, no balance to offer.
    certificates.issue(session, ms.tenant_id, {"nominal": 50000, "numbers": ["5550002"]}, now)
    unsold = card(ms, "5550002")
    assert unsold["status"] == "INVALID" and "currentBalance" not in unsold and "expireDate" not in unsold
    sold(session, ms.tenant_id, "5550003", 50000)
    certificates.block(session, ms.tenant_id, "5550003", True, now)
    assert card(ms, "5550003")["status"] == "INVALID"

    # Unknown numbers, another tenant's certificate: no certificate, so no `id` the docs
    # require in a 200 answer — a 404 in the documented error format, nothing confirmed.
    other_id = create_tenant(session, "Чужой магазин")[0].id
    session.commit()
    sold(session, other_id, "7770001", 100000)
    for number in ("7770001", "no-such-card", "x" * 200):
        err = assert_ms_error(ms.get("/giftcard", {"name": number, "retailStoreId": STORE_ID}), 404, "name")
        assert err["code"] == 29012 and "не найден" in err["error_message"]
    assert "7770001" in assert_ms_error(ms.get("/giftcard", {"name": "7770001", "retailStoreId": STORE_ID}),
                                        404)["error_message"]
    assert_ms_error(ms.get("/giftcard", {"name": "5550001"}), 400, "retailStoreId")


# --- paying with certificates -------------------------------------------------------------------

def test_retaildemand_from_the_docs_example_pays_with_its_certificates(session, ms):
    member(session, ms.tenant_id)
    sold(session, ms.tenant_id, "123456", 1000)
    sold(session, ms.tenant_id, "1234567", 1000)
    r = ms.post("/retaildemand", doc_sale())
    assert r.status_code == 201, r.get_data(as_text=True)
    assert balance(session, "123456") == 0 and balance(session, "1234567") == 500
    assert card(ms, "123456")["status"] == "REDEEMED"
    assert card(ms, "1234567")["status"] == "PARTIALLY_REDEEMED"
    # Scoped to this tenant: PostgreSQL's concurrency tests commit certificates of their own.
    references = sorted(session.scalars(select(CertificatePosting.reference)
                                        .where(CertificatePosting.kind == "redeem",
                                               CertificatePosting.tenant_id == ms.tenant_id)).all())
    assert references == sorted(f"sale:moysklad:{DOC_SALE_ID}:{c['name']}" for c in DOC_GIFT_CARDS)
    session.rollback()
    # The till repeats the call: the first answer, nothing paid twice.
    before = counts(session)
    assert ms.post("/retaildemand", doc_sale()).status_code == 201
    assert counts(session) == before
    assert balance(session, "123456") == 0 and balance(session, "1234567") == 500

    # The whole sale comes back: the certificates get their money back, once.
    ret = {"retailStore": RETAIL_STORE, "name": "00007", "moment": local_moment(),
           "meta": {"href": "x", "id": str(uuid4())}, "demand": {"meta": {"href": "x", "id": DOC_SALE_ID}},
           "agent": {"href": "x", "id": DOC_AGENT_ID}}
    assert ms.post("/retailsalesreturn", ret).status_code == 201
    assert balance(session, "123456") == 1000 and balance(session, "1234567") == 1000
    assert ms.post("/retailsalesreturn", ret).status_code == 201
    assert balance(session, "123456") == 1000 and balance(session, "1234567") == 1000
    assert card(ms, "1234567")["status"] == "CAN_BE_USED"


def test_a_certificate_that_cannot_pay_fails_the_whole_sale(session, ms):
    member(session, ms.tenant_id)
    sold(session, ms.tenant_id, "123456", 1000)
    sold(session, ms.tenant_id, "1234567", 400)        # 500 asked
    before = counts(session)
    err = assert_ms_error(ms.post("/retaildemand", doc_sale()), 412, "giftCards[1].paymentSum")
    assert err["code"] == 29012 and "1234567" in err["error_message"]
    # Same transaction: the first certificate paid nothing either, no receipt.
    assert counts(session) == before
    assert balance(session, "123456") == 1000 and balance(session, "1234567") == 400

    unknown = doc_sale(giftCards=[{"id": str(uuid4()), "name": "999999", "paymentSum": 100}])
    assert_ms_error(ms.post("/retaildemand", unknown), 412, "giftCards[0].name")
    assert_ms_error(ms.post("/retaildemand", doc_sale(giftCards=[{"paymentSum": 100}])), 400,
                    "giftCards[0].name")
    twice = doc_sale(giftCards=[DOC_GIFT_CARDS[0], DOC_GIFT_CARDS[0]])
    assert_ms_error(ms.post("/retaildemand", twice), 400, "giftCards[1].id")
    assert_ms_error(ms.post("/retaildemand", doc_sale(giftCards=[{"name": "123456", "paymentSum": 1.5}])),
                    400, "giftCards[0].paymentSum")
    assert counts(session) == before
    assert balance(session, "123456") == 1000


def test_a_sale_first_seen_by_webhook_still_pays_with_its_certificates(session, ms):
    """The JSON API document knows nothing of certificates; the Loyalty API call that follows
    replays the sale and redeems them, once."""
    member(session, ms.tenant_id)
    sold(session, ms.tenant_id, "123456", 1000)
    sold(session, ms.tenant_id, "1234567", 1000)
    without = doc_sale()
    without.pop("giftCards")
    assert ms.post("/retaildemand", without).status_code == 201
    assert balance(session, "123456") == 1000
    assert ms.post("/retaildemand", doc_sale()).status_code == 201
    assert ms.post("/retaildemand", doc_sale()).status_code == 201
    assert balance(session, "123456") == 0 and balance(session, "1234567") == 500
    assert session.scalar(select(func.count()).select_from(Receipt)
                          .where(Receipt.tenant_id == ms.tenant_id)) == 1
    session.rollback()


def test_partial_returns_give_back_up_to_what_they_return(session, ms):
    member(session, ms.tenant_id)
    sold(session, ms.tenant_id, "8880001", 100000)
    sale_id = str(uuid4())
    sale = {"retailStore": RETAIL_STORE, "name": "00002", "moment": local_moment(),
            "meta": {"href": "x", "id": sale_id}, "agent": agent(DOC_AGENT_ID, discountCardNumber=DOC_CARD),
            "positions": [position(PRODUCT, 500, 2, discountPercent=0, discountedPrice=500)],
            "cashSum": 200, "noCashSum": 0,
            "giftCards": [{"id": "c-1", "name": "8880001", "paymentSum": 80000}]}
    assert ms.post("/retaildemand", sale).status_code == 201
    assert balance(session, "8880001") == 20000

    def give_back(qty: int) -> None:
        ret = {"retailStore": RETAIL_STORE, "name": "00008", "moment": local_moment(),
               "meta": {"href": "x", "id": str(uuid4())}, "demand": {"meta": {"href": "x", "id": sale_id}},
               "agent": {"href": "x", "id": DOC_AGENT_ID}, "positions": [position(PRODUCT, 500, qty)]}
        assert ms.post("/retailsalesreturn", ret).status_code == 201

    give_back(1)        # 500 roubles' worth: the certificate gets 500 of its 800 back first
    assert balance(session, "8880001") == 70000
    give_back(1)        # the rest of the 800
    assert balance(session, "8880001") == 100000
    cert = session.scalars(select(GiftCertificate).where(GiftCertificate.number == "8880001")).one()
    total = session.scalar(select(func.sum(CertificatePosting.amount))
                           .where(CertificatePosting.certificate_id == cert.id))
    assert total == cert.balance == 100000
    session.rollback()


def test_an_anonymous_sale_paid_with_a_certificate_and_its_return(session, ms):
    sold(session, ms.tenant_id, "9990001", 100000)
    sale_id = str(uuid4())
    sale = {"retailStore": RETAIL_STORE, "name": "00003", "moment": local_moment(),
            "meta": {"href": "x", "id": sale_id},
            "positions": [position(PRODUCT, 300, 2, discountPercent=0, discountedPrice=300)],
            "giftCards": [{"id": "c-9", "name": "9990001", "paymentSum": 60000}]}
    assert ms.post("/retaildemand", sale).status_code == 201
    assert ms.post("/retaildemand", sale).status_code == 201
    assert balance(session, "9990001") == 40000
    assert session.scalar(select(func.count()).select_from(Receipt)
                          .where(Receipt.tenant_id == ms.tenant_id)) == 0     # no customer, no receipt
    session.rollback()
    ret = {"retailStore": RETAIL_STORE, "name": "00009", "moment": local_moment(),
           "meta": {"href": "x", "id": str(uuid4())}, "demand": {"meta": {"href": "x", "id": sale_id}},
           "positions": [position(PRODUCT, 300, 1)]}
    assert ms.post("/retailsalesreturn", ret).status_code == 201
    assert ms.post("/retailsalesreturn", ret).status_code == 201
    assert balance(session, "9990001") == 70000


def test_certificates_expire_in_the_automation_run(session, ms):
    from hub.sweeps import run_due
    start = datetime.now(timezone.utc)
    sold(session, ms.tenant_id, "4440001", 100000, valid_days=10, at=start)
    # Counts cover every tenant of the database (PostgreSQL's concurrency tests commit theirs).
    run_due(session, start + timedelta(days=5))
    assert balance(session, "4440001") == 100000
    assert run_due(session, start + timedelta(days=12))["certificates"] >= 1
    assert balance(session, "4440001") == 0
    run_due(session, start + timedelta(days=13))
    kinds = session.scalars(select(CertificatePosting.kind).join(GiftCertificate)
                            .where(GiftCertificate.number == "4440001")
                            .order_by(CertificatePosting.created_at)).all()
    assert kinds == ["activation", "expiry"]
    session.rollback()


def test_an_anonymous_sale_paid_before_the_one_format_is_refunded_once(session, ms):
    """Issue 18, item 3: a payment the adapter took itself ("<sale id>:<card id>") and a refund
    it wrote for return R-1 (bare key) are found; R-1 again adds nothing, R-2 refunds the rest."""
    sold(session, ms.tenant_id, "9990002", 100000)
    sale_id, now = str(uuid4()), datetime.now(timezone.utc)
    certificates.redeem(session, ms.tenant_id, "9990002", 60000, f"{sale_id}:c-1", now, now)
    certificates.refund(session, ms.tenant_id, "9990002", 30000, "R-1", f"{sale_id}:c-1", now, now)
    assert balance(session, "9990002") == 70000

    def give_back(return_id: str) -> None:
        ret = {"retailStore": RETAIL_STORE, "name": "00012", "moment": local_moment(),
               "meta": {"href": "x", "id": return_id}, "demand": {"meta": {"href": "x", "id": sale_id}}}
        assert ms.post("/retailsalesreturn", ret).status_code == 201

    give_back("R-1")
    assert balance(session, "9990002") == 70000
    give_back("R-2")
    give_back("R-2")
    assert balance(session, "9990002") == 100000
    refs = sorted(session.scalars(select(CertificatePosting.reference).where(
        CertificatePosting.tenant_id == ms.tenant_id, CertificatePosting.kind == "restore")))
    session.rollback()
    assert refs == [f"{sale_id}:c-1\x1fR-1", f"{sale_id}:c-1\x1freturn:moysklad:R-2"]
