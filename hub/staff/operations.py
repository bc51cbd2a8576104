"""staff's business acts: the audit log's one writer, for every face (cabinets, API, CLI)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.extensions import unit_of_work
from hub.staff.models import AuditEntry, WebUser


@dataclass(frozen=True)
class Actor:
    """Who did it, as the audit log names them: a cabinet user (id and e-mail), or a face
    without a user — an API key, the `kopilka` command — by a label in `email`."""
    user_id: str | None = None
    email: str = ""


CLI = Actor(email="командная строка (kopilka)")


def record(session: Session, tenant_id: str, actor: Actor, action: str, object_type: str = "",
           object_id: str | None = None, details: dict | None = None) -> AuditEntry:
    """One audit entry, in the caller's transaction (it commits with the act it records)."""
    entry = AuditEntry(tenant_id=tenant_id, user_id=actor.user_id, user_email=actor.email, action=action,
                       object_type=object_type, object_id=object_id, details=details or {},
                       created_at=utcnow())
    session.add(entry)
    return entry


def update_user(session: Session, user: WebUser, role: str | None, active: bool | None, by: Actor) -> dict:
    """Change a cabinet user's role and access, audited (the changes, as [before, after]) and
    committed; None: left as is. Returns the changes (empty: nothing to do)."""
    with unit_of_work(session):
        changes = {}
        if role is not None and role != user.role:
            changes["role"] = [user.role, role]
            user.role = role
        if active is not None and active != user.active:
            changes["active"] = [user.active, active]
            user.active = active
        if changes:
            record(session, user.tenant_id, by, "user.update", "user", user.id, changes)
    return changes


def note_wrong_password(session: Session, user: WebUser, now: datetime, max_failures: int,
                        lock_for: timedelta) -> None:
    """One more wrong password for a cabinet user; `max_failures` in a row lock the account
    for `lock_for` (and start the count again). Committed: the refusal must not undo it."""
    with unit_of_work(session):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.failed_logins, user.locked_until = 0, now + lock_for


def note_sign_in(session: Session, user: WebUser, now: datetime) -> None:
    """A successful sign-in: the wrong-password count and any lock cleared, the moment kept."""
    with unit_of_work(session):
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
