"""Reads of certificate postings, for the adapters (they never query the table)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.certificates.models import CertificatePosting


def latest_posting(session: Session, certificate_id: str, kind: str,
                   reference_prefix: str) -> CertificatePosting | None:
    """The certificate's newest `kind` posting whose reference starts with `reference_prefix`
    (one connection's postings: adapters key their references by connection)."""
    return session.scalars(select(CertificatePosting).where(
        CertificatePosting.certificate_id == certificate_id, CertificatePosting.kind == kind,
        CertificatePosting.reference.startswith(reference_prefix, autoescape=True))
        .order_by(CertificatePosting.moment.desc(), CertificatePosting.created_at.desc())
        .limit(1)).first()
