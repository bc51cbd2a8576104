"""One-time codes to a phone for the web cabinets (participant's login, registration at the
cashier's workplace): sent through hub.notify's channels (bot chat or SMS; its per-phone limits
apply, and its per-IP limit with the client's address), only a hash kept, 10 minutes valid,
five tries."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from hub.clock import utcnow
from hub.errors import Invalid
from hub.codes.models import WebCode
from hub.notify.outbox import code_problem, send_code

TTL = timedelta(minutes=10)
REPEAT_AFTER = timedelta(seconds=60)
MAX_ATTEMPTS = 5


def _hash(tenant_id: str, phone: str, purpose: str, code: str) -> str:
    secret = current_app.config.get("SECRET_KEY") or ""
    return hashlib.sha256(f"{secret}:{tenant_id}:{phone}:{purpose}:{code}".encode()).hexdigest()


def _latest(session, tenant_id: str, phone: str, purpose: str) -> WebCode | None:
    return session.scalars(select(WebCode).where(
        WebCode.tenant_id == tenant_id, WebCode.phone == phone, WebCode.purpose == purpose)
        .order_by(WebCode.issued_at.desc()).limit(1)).first()


def issue(session, tenant_id: str, phone: str, purpose: str, ip: str | None = None) -> str | None:
    """Send a new code to `phone` (E.164); commits. Returns None when the code is on its way,
    else why it is not (Russian, e.g. no SMS channel: the screen says so, and no code is kept
    that nobody could know). Invalid when asked again too early, or too often from the
    client's `ip` (request.remote_addr; None when unknown)."""
    now = utcnow()
    last = _latest(session, tenant_id, phone, purpose)
    if last is not None and last.consumed_at is None and now - last.issued_at < REPEAT_AFTER:
        left = int((REPEAT_AFTER - (now - last.issued_at)).total_seconds()) + 1
        session.rollback()
        raise Invalid("code_repeat_too_early", f"Код уже отправлен. Новый можно запросить через {left} с.")
    code = f"{secrets.randbelow(10 ** 6):06d}"
    try:
        problem = code_problem(send_code(session, tenant_id, phone, code, purpose, ip=ip, ttl=TTL))
    except Invalid:
        session.rollback()
        raise
    if problem is None:
        session.add(WebCode(tenant_id=tenant_id, phone=phone, purpose=purpose,
                            code_hash=_hash(tenant_id, phone, purpose, code), issued_at=now,
                            expires_at=now + TTL, attempts=0))
    session.commit()      # the suppressed message too: the message log shows why
    return problem


def confirm(session, tenant_id: str, phone: str, purpose: str, code: str) -> bool:
    """Whether `code` is the live code for the phone; counts the try and commits. A confirmed
    code is used up (it opens one login or one registration)."""
    now = utcnow()
    last = _latest(session, tenant_id, phone, purpose)
    if last is None or last.consumed_at is not None or last.expires_at <= now \
            or last.attempts >= MAX_ATTEMPTS:
        session.rollback()
        return False
    last.attempts += 1
    ok = secrets.compare_digest(last.code_hash, _hash(tenant_id, phone, purpose, str(code or "").strip()))
    if ok:
        last.confirmed_at = last.consumed_at = now
    session.commit()
    return ok
