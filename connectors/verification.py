"""One-time codes sent to a customer's phone, for any POS adapter.

The same rules as the МойСклад adapter's codes (moysklad/verification.py), made general:
the adapter gives the model its codes are kept in (a table with the columns of
``VerificationCodeColumns``: connection_id, purpose, subject, code_hash, issued_at,
expires_at, attempts, confirmed_at, consumed_at, reference) and a ``CodePolicy`` built from
its connection settings. Only a hash of a code is stored. A code is "sent" by writing it to
the log ``kopilka.sms`` until the SMS channel exists.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Invalid
from hub.models import Connection

sms_log = logging.getLogger("kopilka.sms")


@dataclass(frozen=True)
class CodePolicy:
    ttl_seconds: int = 600          # how long a code is valid
    repeat_seconds: int = 60        # a new code for the same subject not before this
    trust_issued: bool = False      # the POS checks the code itself: an issued code is enough
    max_attempts: int = 5           # wrong tries before a code is dead


def code_hash(connection_id: str, purpose: str, subject: str, code: str) -> str:
    return hashlib.sha256(f"{connection_id}:{purpose}:{subject}:{code}".encode()).hexdigest()


def mask_phone(phone: str) -> str:
    return phone[:-4] + "**" + phone[-2:] if len(phone) > 6 else phone


def latest(session: Session, model, conn: Connection, purpose: str, subject: str):  # noqa: ANN001, ANN201
    return session.scalars(select(model).where(
        model.tenant_id == conn.tenant_id, model.connection_id == conn.id,
        model.purpose == purpose, model.subject == subject)
        .order_by(model.issued_at.desc()).limit(1)).first()


def issue(session: Session, model, conn: Connection, purpose: str, subject: str, phone: str,  # noqa: ANN001
          now: datetime, policy: CodePolicy) -> tuple[str, int]:
    """A new code for `subject`, "sent" to `phone`; commits. (code, seconds before another)."""
    last = latest(session, model, conn, purpose, subject)
    if last is not None and last.consumed_at is None:
        waited = (now - last.issued_at).total_seconds()
        if waited < policy.repeat_seconds:
            left = int(policy.repeat_seconds - waited) + 1
            session.rollback()
            raise Invalid("code_repeat_too_early",
                          f"Код уже отправлен. Запросить новый можно через {left} с.",
                          {"repeat_after": left})
    code = f"{secrets.randbelow(10 ** 6):06d}"
    session.add(model(tenant_id=conn.tenant_id, connection_id=conn.id, purpose=purpose,
                      subject=subject, code_hash=code_hash(conn.id, purpose, subject, code),
                      issued_at=now, expires_at=now + timedelta(seconds=policy.ttl_seconds),
                      attempts=0))
    session.commit()
    sms_log.info("SMS на %s: код подтверждения %s", phone, code)
    return code, policy.repeat_seconds


def check(session: Session, model, conn: Connection, purpose: str, subject: str, code: str,  # noqa: ANN001
          now: datetime, policy: CodePolicy):  # noqa: ANN201
    """The code the customer told the cashier: the code row if it matches (counts a try and
    commits either way), None otherwise."""
    last = latest(session, model, conn, purpose, subject)
    if last is None or last.consumed_at is not None or last.expires_at <= now \
            or last.attempts >= policy.max_attempts:
        session.rollback()
        return None
    last.attempts += 1
    ok = secrets.compare_digest(last.code_hash, code_hash(conn.id, purpose, subject, str(code).strip()))
    if ok:
        last.confirmed_at = now
    session.commit()
    return last if ok else None


def verified(session: Session, model, conn: Connection, purpose: str, subject: str,  # noqa: ANN001
             now: datetime, policy: CodePolicy, reference: str | None = None):  # noqa: ANN201
    """The code that confirms `subject` now (confirmed, or merely issued when the POS checks
    codes itself), or None. A consumed code still counts for the same `reference` (a retry)."""
    last = latest(session, model, conn, purpose, subject)
    if last is None:
        return None
    if last.consumed_at is not None:
        return last if reference is not None and last.reference == reference else None
    if last.expires_at <= now:
        return None
    if policy.trust_issued or last.confirmed_at is not None:
        return last
    return None


def consume(session: Session, model, row, reference: str, now: datetime) -> None:  # noqa: ANN001
    """The code did its job; commits."""
    row = session.get(model, row.id, populate_existing=True)
    if row.consumed_at is None:
        row.consumed_at, row.reference = now, reference[:200]
        session.commit()
