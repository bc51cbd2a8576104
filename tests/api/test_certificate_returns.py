"""Issue 17, item 3 (API): a sale paid partly with a gift certificate takes the payment in its
own transaction (`certificates` on POST /receipts), and its return through
POST /receipts/{id}/returns refunds the certificate part first and says so."""
from __future__ import annotations

from sqlalchemy import select

from hub.certificates.models import CertificatePosting, GiftCertificate
from tests.api.helpers import assert_error, counts, receipt
from tests.api.test_certificates import issue, postings_agree


def sold(api) -> str:
    number = issue(api)[0]["number"]                   # nominal 1 000
    assert api.post(f"/api/v1/certificates/{number}/activate", json={"external_id": "S-1"}).status_code == 201
    return number


def balance(api, number: str) -> float:
    return api.get(f"/api/v1/certificates/{number}").json["balance"]


def test_a_full_return_refunds_the_certificate_part(api, session, customer):
    number = sold(api)
    body = receipt("R-1", (1500, 1), customer={"id": customer["id"]},
                   certificates=[{"number": number, "amount": 500}])
    r = api.post("/api/v1/receipts", json=body)
    assert r.status_code == 201, r.json
    assert r.json["certificates"] == [{"number": number, "amount": 500, "balance": 500}]
    assert balance(api, number) == 500
    assert api.post("/api/v1/receipts", json=body).status_code == 200     # a repeat redeems nothing
    assert balance(api, number) == 500

    back = api.post("/api/v1/receipts/R-1/returns", json={"external_id": "R-1-B"})
    assert back.status_code == 201, back.json
    assert back.json["amount_returned"] == 1500
    assert back.json["certificate_refunded"] == 500    # the rest, 1 000, in money
    assert back.json["certificates"] == [{"number": number, "amount": 500, "balance": 1000}]
    assert balance(api, number) == 1000                # was: 500 stays of 1 000
    again = api.post("/api/v1/receipts/R-1/returns", json={"external_id": "R-1-B"})
    assert again.status_code == 200 and again.json == back.json
    assert balance(api, number) == 1000
    postings_agree(session, number)


def test_partial_returns_refund_the_certificate_first(api, session):
    number = sold(api)
    body = receipt("R-2", (1000, 1), (500, 1), certificates=[{"number": number, "amount": 700}])
    assert api.post("/api/v1/receipts", json=body).status_code == 201
    assert balance(api, number) == 300
    first = api.post("/api/v1/receipts/R-2/returns",
                     json={"external_id": "R-2-B1", "positions": [{"id": "2", "quantity": 1}]}).json
    assert first["amount_returned"] == 500 and first["certificate_refunded"] == 500
    second = api.post("/api/v1/receipts/R-2/returns", json={"external_id": "R-2-B2"}).json
    assert second["amount_returned"] == 1000 and second["certificate_refunded"] == 200
    assert balance(api, number) == 1000
    # A return of a sale paid without certificates refunds none.
    assert api.post("/api/v1/receipts", json=receipt("R-3", (100, 1))).status_code == 201
    plain = api.post("/api/v1/receipts/R-3/returns", json={"external_id": "R-3-B"}).json
    assert plain["certificate_refunded"] == 0 and "certificates" not in plain
    postings_agree(session, number)


def test_bad_certificate_payments_write_nothing(api, session):
    number = sold(api)
    before = counts(session)
    assert_error(api.post("/api/v1/receipts", json=receipt(
        "R-4", (300, 1), certificates=[{"number": number, "amount": 301}])), 422,
        "certificates", code="certificates_exceed_total")
    assert_error(api.post("/api/v1/receipts", json=receipt(
        "R-4", (300, 1), certificates=[{"number": "0000111122223333", "amount": 1}])), 404)
    assert_error(api.post("/api/v1/receipts", json=receipt(
        "R-4", (3000, 1), certificates=[{"number": number, "amount": 1001}])), 422,
        code="certificate_insufficient")
    assert_error(api.post("/api/v1/receipts", json=receipt(
        "R-4", (300, 1), certificates=[{"number": number, "amount": 0}])), 422, "certificates.0.amount")
    assert counts(session) == before
    assert balance(api, number) == 1000


def test_one_reference_format_and_one_refund(api, session):
    """Issue 18, item 3: the API's sale and return use the one reference format of every till;
    a full return refunds the certificate once, its repeat adds nothing."""
    number = sold(api)
    assert api.post("/api/v1/receipts", json=receipt(
        "R-9", (800, 1), certificates=[{"number": number, "amount": 300}])).status_code == 201
    assert balance(api, number) == 700
    back = api.post("/api/v1/receipts/R-9/returns", json={"external_id": "R-9-B"})
    assert back.status_code == 201 and back.json["certificate_refunded"] == 300
    assert api.post("/api/v1/receipts/R-9/returns", json={"external_id": "R-9-B"}).status_code == 200
    assert balance(api, number) == 1000
    rows = session.execute(select(CertificatePosting.kind, CertificatePosting.reference).join(
        GiftCertificate, GiftCertificate.id == CertificatePosting.certificate_id).where(
        GiftCertificate.number == number, CertificatePosting.kind.in_(("redeem", "restore")))
        .order_by(CertificatePosting.kind)).all()
    session.rollback()
    assert [tuple(r) for r in rows] == [("redeem", f"sale:api:R-9:{number}"),
                                        ("restore", f"sale:api:R-9:{number}\x1freturn:api:R-9-B")]
