"""staff's business acts: the audit log's one writer, for every face (cabinets, API, CLI)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from hub.clock import utcnow
from hub.errors import Conflict, Invalid
from hub.extensions import unit_of_work
from hub.staff.models import ROLES, AuditEntry, WebUser


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


MIN_PASSWORD = 8


def create_user(session: Session, tenant_id: str, email: str, role: str, password: str, name: str = "", *,
                method: str) -> WebUser:
    """A cabinet user (password hashed with werkzeug's `method`), in the caller's transaction:
    the `kopilka` commands compose several (add_user commits one, with its audit entry)."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 200:
        raise Invalid("invalid_email", "Укажите электронную почту.", {"email": ["Укажите электронную почту."]})
    if role not in ROLES:
        raise Invalid("invalid_role", "Роль: " + ", ".join(ROLES) + ".", {"role": ["Неизвестная роль."]})
    if len(password or "") < MIN_PASSWORD:
        raise Invalid("weak_password", f"Пароль — не короче {MIN_PASSWORD} символов.",
                      {"password": [f"Не короче {MIN_PASSWORD} символов."]})
    if session.scalar(select(WebUser.id).where(WebUser.email == email)) is not None:
        raise Conflict("user_exists", f"Пользователь {email} уже есть.", {"email": ["Такой пользователь уже есть."]})
    row = WebUser(tenant_id=tenant_id, email=email, role=role, name=(name or "").strip()[:200],
                  password_hash=generate_password_hash(password, method=method), active=True, failed_logins=0,
                  created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def add_user(session: Session, tenant_id: str, email: str, role: str, password: str, name: str = "", *,
             method: str, by: Actor) -> WebUser:
    """The owner adds a cabinet user: the user and the audit entry, committed."""
    with unit_of_work(session):
        row = create_user(session, tenant_id, email, role, password, name, method=method)
        record(session, tenant_id, by, "user.create", "user", row.id, {"email": row.email, "role": row.role})
    return row
