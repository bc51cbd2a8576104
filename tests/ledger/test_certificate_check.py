"""`kopilka check-ledger` covers gift certificates: postings sum = balance, never negative,
postings intact; and `kopilka automation run --tenant T` runs the sweeps for T only."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import select, update

from hub.cli.main import main
from hub.ledger import check_certificates
from hub.certificates.models import CertificatePosting, GiftCertificate
from hub.certificates import operations as certificates
from hub.sweeps import register_sweep, run_due, _sweeps
from hub.tenants.operations import create_tenant

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _sold(session, tenant_id: str, nominal: int = 100_000, valid_days: int | None = 30) -> str:
    number = certificates.issue(session, tenant_id, {"nominal": nominal, "count": 1,
                                                     "valid_days": valid_days}, NOW)[0]["number"]
    certificates.activate(session, tenant_id, number, f"sale-{number}", NOW, NOW)
    return number


def _mine(problems, tenant_id):
    return [p for p in problems if p.tenant_id == tenant_id]


def test_a_healthy_certificate_passes_and_a_corrupted_one_fails(session):
    t, _ = create_tenant(session, "Сертификаты")
    session.commit()
    number = _sold(session, t.id)
    certificates.redeem(session, t.id, number, 30_000, "pay-1", NOW, NOW)
    certificates.refund(session, t.id, number, 10_000, "ret-1", "pay-1", NOW, NOW)
    assert check_certificates(session, t.id) == []

    # A balance changed outside the service: cached ≠ postings.
    session.execute(update(GiftCertificate).where(GiftCertificate.tenant_id == t.id)
                    .values(balance=GiftCertificate.balance + 1))
    session.commit()
    bad = check_certificates(session, t.id)
    assert [(b.number, b.cached, b.postings, b.problems) for b in bad] == [
        (number, 80_001, 80_000, ("balance_differs_from_postings",))]
    session.execute(update(GiftCertificate).where(GiftCertificate.tenant_id == t.id)
                    .values(balance=GiftCertificate.balance - 1))
    session.commit()
    assert check_certificates(session, t.id) == []

    # An edited posting: the redemption grew past what the certificate held -> negative.
    session.execute(update(CertificatePosting).where(CertificatePosting.tenant_id == t.id,
                                                     CertificatePosting.kind == "redeem")
                    .values(amount=-200_000))
    session.execute(update(GiftCertificate).where(GiftCertificate.tenant_id == t.id)
                    .values(balance=-90_000))
    session.commit()
    (bad,) = check_certificates(session, t.id)
    assert "negative_balance" in bad.problems and bad.cached == bad.postings == -90_000
    # A restore that gives back more than its redemption took; a sign flipped.
    session.execute(update(CertificatePosting).where(CertificatePosting.tenant_id == t.id,
                                                     CertificatePosting.kind == "redeem")
                    .values(amount=5_000))
    session.commit()
    (bad,) = check_certificates(session, t.id)
    assert {"posting_sign", "restore_exceeds_redemption"} <= set(bad.problems)


def test_check_ledger_command_fails_on_a_corrupted_certificate(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}", "KOPILKA_HOME": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    from hub.extensions import db
    try:
        t, _ = create_tenant(db.session, "CLI")
        db.session.commit()
        number = _sold(db.session, t.id)
        ok = runner.invoke(main, ["check-ledger"], env=env)
        assert ok.exit_code == 0, ok.output
        db.session.execute(update(GiftCertificate).where(GiftCertificate.number == number)
                           .values(balance=5))
        db.session.commit()
        bad = runner.invoke(main, ["check-ledger"], env=env)
        assert bad.exit_code == 1
        assert "Расхождения в сертификатах: 1 сертификат из 1" in bad.output
        assert f"number={number}" in bad.output and "balance_differs_from_postings" in bad.output
    finally:
        db.session.remove()


def test_automation_run_for_one_tenant_runs_the_sweeps_for_it_only(session):
    a, _ = create_tenant(session, "A")
    b, _ = create_tenant(session, "B")
    session.commit()
    num_a, num_b = _sold(session, a.id, valid_days=1), _sold(session, b.id, valid_days=1)
    later = NOW + timedelta(days=3)
    seen: list = []

    def filtered(session, at, tenant_id=None):
        seen.append(tenant_id)
        return 1

    def unfiltered(session, at):
        raise AssertionError("a sweep without a tenant filter must not run for one tenant")

    saved = dict(_sweeps)
    try:
        register_sweep("test_filtered", filtered)
        register_sweep("test_unfiltered", unfiltered)
        result = run_due(session, later, a.id)
    finally:
        _sweeps.clear()
        _sweeps.update(saved)
    assert result["certificates"] == 1 and result["test_filtered"] == 1 and seen == [a.id]
    assert "test_unfiltered" in result["skipped"]
    bal = dict(session.execute(select(GiftCertificate.number, GiftCertificate.balance)
                               .where(GiftCertificate.number.in_([num_a, num_b]))).all())
    assert bal == {num_a: 0, num_b: 100_000}
    # The automation sweep (issue 10) filters by tenant too.
    assert _sweeps["automation"].tenant_keyword == "tenant_ids"
    assert _sweeps["certificates"].tenant_keyword == "tenant_id"
    # Without --tenant every tenant's certificates expire.
    assert certificates.expiry_sweep(session, later) >= 1
    session.expire_all()
    assert session.scalar(select(GiftCertificate.balance).where(GiftCertificate.number == num_b)) == 0
    assert check_certificates(session, a.id) == check_certificates(session, b.id) == []
