"""One-time codes sent to a customer's phone, for any POS adapter.

Codes are kept per connection in one table (hub.models.VerificationCode); the adapter
gives a ``CodePolicy`` built from its connection settings. Only a hash of a code is stored.
Whether the till checks the code itself is the policy's ``trust_issued``:

* on: the till gets the code and compares it with what the customer says; a code issued
  and still valid is then enough for the hub;
* off: the till never sees the code; the customer confirms it (``check``), and only a
  confirmed code counts.

A code goes through the tenant's channels (hub.notify.send_code): the outbox keeps it masked,
and nothing logs it in clear (only the demo console channel prints it, by design).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.extensions import unit_of_work
from hub.errors import Invalid
from hub.connections.models import Connection, VerificationCode
from hub.notify.outbox import code_problem, send_code



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


def latest(session: Session, conn: Connection, purpose: str, subject: str) -> VerificationCode | None:
    return session.scalars(select(VerificationCode).where(
        VerificationCode.tenant_id == conn.tenant_id, VerificationCode.connection_id == conn.id,
        VerificationCode.purpose == purpose, VerificationCode.subject == subject)
        .order_by(VerificationCode.issued_at.desc()).limit(1)).first()


def issue(session: Session, conn: Connection, purpose: str, subject: str, phone: str,
          now: datetime, policy: CodePolicy) -> tuple[str, int, str | None]:
    """A new code for `subject`, sent to `phone` through the tenant's channels; commits.
    (code, seconds before another, why it was not sent — Russian, for the till's answer — or
    None when it is on its way). A code that was not sent is not kept: nobody could know it."""
    last = latest(session, conn, purpose, subject)
    if last is not None and last.consumed_at is None:
        waited = (now - last.issued_at).total_seconds()
        if waited < policy.repeat_seconds:
            left = int(policy.repeat_seconds - waited) + 1
            session.rollback()
            raise Invalid("code_repeat_too_early",
                          f"Код уже отправлен. Запросить новый можно через {left} с.",
                          {"repeat_after": left})
    code = f"{secrets.randbelow(10 ** 6):06d}"
    try:
        problem = code_problem(send_code(session, conn.tenant_id, phone, code, purpose,
                                         ttl=timedelta(seconds=policy.ttl_seconds)))
    except Invalid:
        session.rollback()
        raise
    with unit_of_work(session):     # the message to send (outbox) and the code, together
        if problem is None:
            session.add(VerificationCode(tenant_id=conn.tenant_id, connection_id=conn.id, purpose=purpose,
                                         subject=subject, code_hash=code_hash(conn.id, purpose, subject, code),
                                         issued_at=now, expires_at=now + timedelta(seconds=policy.ttl_seconds),
                                         attempts=0))
    return code, policy.repeat_seconds, problem


def check(session: Session, conn: Connection, purpose: str, subject: str, code: str,
          now: datetime, policy: CodePolicy) -> VerificationCode | None:
    """The code the customer told the cashier: the code row if it matches (counts a try and
    commits either way), None otherwise."""
    last = latest(session, conn, purpose, subject)
    if last is None or last.consumed_at is not None or last.expires_at <= now \
            or last.attempts >= policy.max_attempts:
        session.rollback()
        return None
    with unit_of_work(session):
        last.attempts += 1
        ok = secrets.compare_digest(last.code_hash, code_hash(conn.id, purpose, subject, str(code).strip()))
        if ok:
            last.confirmed_at = now
    return last if ok else None


def verified(session: Session, conn: Connection, purpose: str, subject: str,
             now: datetime, policy: CodePolicy, reference: str | None = None) -> VerificationCode | None:
    """The code that confirms `subject` now (confirmed, or merely issued when the POS checks
    codes itself), or None. A consumed code still counts for the same `reference` (a retry)."""
    last = latest(session, conn, purpose, subject)
    if last is None:
        return None
    if last.consumed_at is not None:
        return last if reference is not None and last.reference == reference else None
    if last.expires_at <= now:
        return None
    if policy.trust_issued or last.confirmed_at is not None:
        return last
    return None


def mark_consumed(session: Session, row: VerificationCode, reference: str, now: datetime) -> None:
    """The code did its job, in the caller's transaction: a code that confirms a spending is
    used up together with the sale, so it can never confirm a second one."""
    row = session.get(VerificationCode, row.id, populate_existing=True)
    if row.consumed_at is None:
        row.consumed_at, row.reference = now, reference[:200]


def consume(session: Session, row: VerificationCode, reference: str, now: datetime) -> None:
    """The code did its job; commits."""
    with unit_of_work(session):
        mark_consumed(session, row, reference, now)
