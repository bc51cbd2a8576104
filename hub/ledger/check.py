"""The ledger audit behind `kopilka check-ledger`: bonus accounts and gift certificates."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.ledger.models import Account, Lot, Posting
from hub.certificates.models import CertificatePosting, GiftCertificate


@dataclass(frozen=True)
class Discrepancy:
    tenant_id: str
    account_id: str
    customer_id: str
    cached: int
    postings: int
    lots: int


@dataclass(frozen=True)
class CertificateDiscrepancy:
    """A gift certificate whose account does not hold together: `problems` says how."""
    tenant_id: str
    certificate_id: str
    number: str
    cached: int
    postings: int
    problems: tuple[str, ...]


# The sign every kind of certificate posting must have (hub.certificates.operations).
_SIGNS = {"activation": 1, "restore": 1, "redeem": -1, "expiry": -1}


def check_ledger(session: Session, tenant_id: str | None = None) -> list[Discrepancy]:
    """Every account whose cached balance, postings sum and lots' remainders disagree."""
    postings = (select(Posting.account_id, func.sum(Posting.amount).label("s"))
                .group_by(Posting.account_id).subquery())
    lots = (select(Lot.account_id, func.sum(Lot.remaining).label("s"))
            .group_by(Lot.account_id).subquery())
    stmt = (select(Account.tenant_id, Account.id, Account.customer_id, Account.balance,
                   func.coalesce(postings.c.s, 0), func.coalesce(lots.c.s, 0))
            .outerjoin(postings, postings.c.account_id == Account.id)
            .outerjoin(lots, lots.c.account_id == Account.id))
    if tenant_id:
        stmt = stmt.where(Account.tenant_id == tenant_id)
    out = []
    for tid, aid, cid, cached, p_sum, l_sum in session.execute(stmt):
        if not (int(cached) == int(p_sum) == int(l_sum)):
            out.append(Discrepancy(tid, aid, cid, int(cached), int(p_sum), int(l_sum)))
    return out


def check_certificates(session: Session, tenant_id: str | None = None) -> list[CertificateDiscrepancy]:
    """Every certificate whose account does not hold together: its cached balance is not the
    sum of its postings or is negative; a posting has the wrong sign for its kind or an unknown
    kind; it was activated more than once or for other than its nominal, or has postings
    without an activation; a return gave back more than the redemption it refers to took.
    (Postings are append-only and each names its operation, so these are what an edited or
    deleted posting, or a balance changed outside the service, leaves behind.)"""
    certs = select(GiftCertificate.tenant_id, GiftCertificate.id, GiftCertificate.number,
                   GiftCertificate.balance, GiftCertificate.nominal)
    postings = select(CertificatePosting.certificate_id, CertificatePosting.kind,
                      CertificatePosting.amount, CertificatePosting.reference)
    if tenant_id:
        certs = certs.where(GiftCertificate.tenant_id == tenant_id)
        postings = postings.where(CertificatePosting.tenant_id == tenant_id)
    by_cert: dict[str, list[tuple[str, int, str]]] = {}
    for cid, kind, amount, reference in session.execute(postings):
        by_cert.setdefault(cid, []).append((kind, int(amount), reference))
    out = []
    for tid, cid, number, cached, nominal in session.execute(certs):
        rows = by_cert.get(cid, [])
        total = sum(a for _, a, _ in rows)
        problems = []
        if int(cached) != total:
            problems.append("balance_differs_from_postings")
        if int(cached) < 0 or total < 0:
            problems.append("negative_balance")
        if any(k not in _SIGNS or a * _SIGNS[k] <= 0 for k, a, _ in rows):
            problems.append("posting_sign")
        activations = [a for k, a, _ in rows if k == "activation"]
        if len(activations) > 1 or (activations and activations[0] != int(nominal)) or (
                rows and not activations):
            problems.append("activation")
        redeemed = {ref: -a for k, a, ref in rows if k == "redeem"}
        restored: dict[str, int] = {}
        for k, a, ref in rows:
            if k == "restore":
                key = ref.split("\x1f", 1)[0]
                restored[key] = restored.get(key, 0) + a
        if any(a > redeemed.get(key, 0) for key, a in restored.items()):
            problems.append("restore_exceeds_redemption")
        if problems:
            out.append(CertificateDiscrepancy(tid, cid, number, int(cached), total, tuple(problems)))
    return out
