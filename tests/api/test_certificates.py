"""Gift certificates through the public API (SQLite and PostgreSQL) and 20 tills paying with
one certificate at once on PostgreSQL."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from hub.clock import frozen
from hub.errors import DomainError
from hub.certificates.models import CertificatePosting, GiftCertificate
from tests.api.helpers import assert_error, counts

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def issue(api, **body) -> list[dict]:
    r = api.post("/api/v1/certificates", json={"nominal": 1000, "count": 1, "valid_days": 30, **body})
    assert r.status_code == 201, r.json
    return r.json["certificates"]


def postings_agree(session, number: str) -> None:
    cert = session.scalars(select(GiftCertificate).where(GiftCertificate.number == number)).one()
    total = session.scalar(select(func.coalesce(func.sum(CertificatePosting.amount), 0))
                           .where(CertificatePosting.certificate_id == cert.id))
    assert cert.balance == total


def test_sell_check_redeem_refund_block(api, session, other):
    with frozen(NOW):
        cert = issue(api)[0]
        number = cert["number"]
        assert len(number) == 16 and number.isdigit()
        assert cert == {**cert, "status": "issued", "balance": 0, "nominal": 1000, "expires_at": None}
        url = f"/api/v1/certificates/{number}"
        # Not sold yet: it pays nothing.
        assert_error(api.post(f"{url}/redeem", json={"external_id": "P-0", "amount": 10}), 422,
                     code="certificate_issued")
        sold = api.post(f"{url}/activate", json={"external_id": "S-1"})
        assert sold.status_code == 201 and sold.json["status"] == "active" and sold.json["balance"] == 1000
        assert sold.json["expires_at"] == "2026-04-01T21:00:00+00:00"   # 30 local days, Moscow
        again = api.post(f"{url}/activate", json={"external_id": "S-1"})
        assert again.status_code == 200 and again.json == sold.json
        assert_error(api.post(f"{url}/activate", json={"external_id": "S-2"}), 409)
        # Pay part of a purchase, then replay it.
        paid = api.post(f"{url}/redeem", json={"external_id": "P-1", "amount": 400.5})
        assert paid.status_code == 201 and paid.json["balance"] == 599.5 and paid.json["redeemed"] == 400.5
        replay = api.post(f"{url}/redeem", json={"external_id": "P-1", "amount": 400.5})
        assert replay.status_code == 200 and replay.json["balance"] == 599.5
        assert_error(api.post(f"{url}/redeem", json={"external_id": "P-1", "amount": 1}), 409)
        before = counts(session)
        assert_error(api.post(f"{url}/redeem", json={"external_id": "P-2", "amount": 600}), 422,
                     "amount", code="certificate_insufficient")
        assert counts(session) == before
        # A return of goods paid with it gives the money back to it, at most what was paid.
        back = api.post(f"{url}/refunds", json={"external_id": "B-1", "redemption_external_id": "P-1",
                                                "amount": 100})
        assert back.status_code == 201 and back.json["balance"] == 699.5
        assert_error(api.post(f"{url}/refunds", json={"external_id": "B-2", "redemption_external_id": "P-1",
                                                      "amount": 300.51}), 422, "amount")
        assert_error(api.post(f"{url}/refunds", json={"external_id": "B-3", "redemption_external_id": "P-9",
                                                      "amount": 1}), 404)
        # The rest pays fully.
        assert api.post(f"{url}/redeem", json={"external_id": "P-3", "amount": 699.5}).json["balance"] == 0
        # Blocked: nothing more.
        assert api.patch(url, json={"blocked": True}).json["status"] == "blocked"
        assert_error(api.post(f"{url}/redeem", json={"external_id": "P-4", "amount": 1}), 422,
                     code="certificate_blocked")
        assert api.patch(url, json={"blocked": False}).json["status"] == "active"
        # Another tenant sees nothing.
        assert_error(other.get(url), 404)
        assert_error(other.post(f"{url}/redeem", json={"external_id": "X", "amount": 1}), 404)
        postings_agree(session, number)
        assert [c["number"] for c in api.get("/api/v1/certificates").json["certificates"]] == [number]


def test_expiry(api, session):
    from hub.certificates.operations import expire_certificates
    with frozen(NOW):
        number = issue(api, valid_days=1)[0]["number"]
        api.post(f"/api/v1/certificates/{number}/activate", json={"external_id": "S-1"})
    with frozen(NOW + timedelta(days=3)):
        got = api.get(f"/api/v1/certificates/{number}").json
        assert got["status"] == "expired" and got["balance"] == 0
        assert_error(api.post(f"/api/v1/certificates/{number}/redeem",
                              json={"external_id": "P-1", "amount": 1}), 422, code="certificate_expired")
        tid = session.scalars(select(GiftCertificate.tenant_id).where(GiftCertificate.number == number)).one()
        assert expire_certificates(session, tid, NOW + timedelta(days=3)) == 1
        assert expire_certificates(session, tid, NOW + timedelta(days=3)) == 0
        postings_agree(session, number)
        cert = session.scalars(select(GiftCertificate).where(GiftCertificate.number == number)).one()
        assert cert.balance == 0


def test_issue_with_numbers_and_bad_input(api, session):
    certs = issue(api, numbers=["GC-0001", "GC-0002"], count=None)
    assert [c["number"] for c in certs] == ["GC0001", "GC0002"]
    assert api.get("/api/v1/certificates/gc-0001").json["number"] == "GC0001"
    assert_error(api.post("/api/v1/certificates", json={"nominal": 100, "numbers": ["GC-0001"]}), 409)
    before = counts(session)
    assert_error(api.post("/api/v1/certificates", json={"nominal": 0, "count": 1}), 422, "nominal")
    assert_error(api.post("/api/v1/certificates", json={"nominal": 10, "count": 5000}), 422, "count")
    assert_error(api.post("/api/v1/certificates", json={"nominal": 10, "count": 1, "valid_days": 0}), 422,
                 "valid_days")
    assert_error(api.post("/api/v1/certificates", json={"count": 1}), 422, "nominal")
    assert counts(session) == before
    assert_error(api.get("/api/v1/certificates/404404"), 404)


def test_twenty_tills_pay_with_one_certificate(pg_sessions):
    from hub.certificates import operations as certificates
    from hub.tenants.operations import create_tenant

    s = pg_sessions()
    tenant, _ = create_tenant(s, f"certs-{uuid.uuid4().hex}")
    s.commit()
    tid = tenant.id
    with frozen(NOW):
        number = certificates.issue(s, tid, {"nominal": 100_000, "count": 1}, NOW)[0]["number"]
        certificates.activate(s, tid, number, "sale", NOW, NOW)
    s.close()
    barrier = threading.Barrier(20)
    results: list = [None] * 20

    def till(i: int) -> None:
        session = pg_sessions()
        try:
            barrier.wait()
            results[i] = ("ok", certificates.redeem(session, tid, number, 15_000, f"P-{i}", NOW, NOW)[0])
        except DomainError as exc:
            session.rollback()
            results[i] = ("err", exc.code)
        finally:
            session.close()

    threads = [threading.Thread(target=till, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert sum(1 for r in results if r[0] == "ok") == 6        # 6 x 150 of 1000
    assert all(r == ("err", "certificate_insufficient") for r in results if r[0] != "ok")
    s = pg_sessions()
    cert = s.scalars(select(GiftCertificate).where(GiftCertificate.tenant_id == tid)).one()
    assert cert.balance == 10_000
    assert s.scalar(select(func.sum(CertificatePosting.amount))
                    .where(CertificatePosting.certificate_id == cert.id)) == 10_000
    s.close()
