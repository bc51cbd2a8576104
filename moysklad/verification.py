"""One-time codes confirming a new customer or a bonus spending at a МойСклад till.

A code is "sent" by writing it to the log `kopilka.moysklad.sms` (the SMS channel does not
exist yet). Only its hash is stored. Whether the till checks the code itself depends on the
connection setting `return_code_to_pos`:

* on: the answer to /verify carries the code, the till compares it with what the customer
  says; a code issued and still valid is then enough for the hub;
* off: the till never sees the code; the customer confirms it through another channel
  (`confirm_code`, for the participant's cabinet or a bot), and only a confirmed code counts.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Invalid
from hub.models import Connection
from moysklad.common import setting
from moysklad.models import VerificationCode

sms_log = logging.getLogger("kopilka.moysklad.sms")

COUNTERPARTY = "counterparty"   # subject: the phone in E.164
SPENDING = "spending"           # subject: our customer id
MAX_ATTEMPTS = 5


def _hash(connection_id: str, purpose: str, subject: str, code: str) -> str:
    return hashlib.sha256(f"{connection_id}:{purpose}:{subject}:{code}".encode()).hexdigest()


def mask_phone(phone: str) -> str:
    return phone[:-4] + "**" + phone[-2:] if len(phone) > 6 else phone


def latest(session: Session, conn: Connection, purpose: str, subject: str) -> VerificationCode | None:
    return session.scalars(select(VerificationCode).where(
        VerificationCode.tenant_id == conn.tenant_id, VerificationCode.connection_id == conn.id,
        VerificationCode.purpose == purpose, VerificationCode.subject == subject)
        .order_by(VerificationCode.issued_at.desc()).limit(1)).first()


def issue(session: Session, conn: Connection, purpose: str, subject: str, phone: str,
          now: datetime) -> tuple[str, int]:
    """A new code for `subject`, "sent" to `phone`; (code, seconds before another may be asked)."""
    repeat = setting(conn, "code_repeat_seconds")
    last = latest(session, conn, purpose, subject)
    if last is not None and last.consumed_at is None:
        waited = (now - last.issued_at).total_seconds()
        if waited < repeat:
            left = int(repeat - waited) + 1
            session.rollback()
            raise Invalid("code_repeat_too_early",
                          f"Код уже отправлен. Запросить новый можно через {left} с.",
                          {"timeForRepeat": left})
    code = f"{secrets.randbelow(10 ** 6):06d}"
    session.add(VerificationCode(
        tenant_id=conn.tenant_id, connection_id=conn.id, purpose=purpose, subject=subject,
        code_hash=_hash(conn.id, purpose, subject, code), issued_at=now,
        expires_at=now + timedelta(seconds=setting(conn, "code_ttl_seconds")), attempts=0))
    session.commit()
    # The stand-in for an SMS until the channel exists.
    sms_log.info("SMS на %s: код подтверждения %s", phone, code)
    return code, repeat


def verified(session: Session, conn: Connection, purpose: str, subject: str, now: datetime,
             reference: str | None = None) -> VerificationCode | None:
    """The code that confirms `subject` now, or None."""
    last = latest(session, conn, purpose, subject)
    if last is None:
        return None
    if last.consumed_at is not None:
        return last if reference is not None and last.reference == reference else None
    if last.expires_at <= now:
        return None
    if setting(conn, "return_code_to_pos"):
        return last
    return last if last.confirmed_at is not None else None


def consume(session: Session, row: VerificationCode, reference: str, now: datetime) -> None:
    """The code did its job (a customer was registered, a spending was committed); commits."""
    row = session.get(VerificationCode, row.id, populate_existing=True)
    if row.consumed_at is None:
        row.consumed_at, row.reference = now, reference[:200]
        session.commit()


def confirm_code(session: Session, conn: Connection, purpose: str, subject: str, code: str,
                 now: datetime) -> bool:
    """The customer typed the code in another channel; True if it matches (5 tries)."""
    last = latest(session, conn, purpose, subject)
    if last is None or last.consumed_at is not None or last.expires_at <= now \
            or last.attempts >= MAX_ATTEMPTS:
        session.rollback()
        return False
    last.attempts += 1
    ok = secrets.compare_digest(last.code_hash, _hash(conn.id, purpose, subject, str(code).strip()))
    if ok:
        last.confirmed_at = now
    session.commit()
    return ok
