"""Cabinet users: passwords (werkzeug scrypt), sign-in with throttling, roles, the audit log."""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from hub.clock import utcnow
from hub.extensions import db
from hub.staff.models import WebUser
from hub.staff.operations import Actor, note_sign_in, note_wrong_password, record
from hub.staff.operations import add_user as staff_add_user
from hub.staff.operations import create_user as staff_create_user
from hub.web.ui.formatting import set_tenant_tz

MAX_FAILURES = 5                        # wrong passwords in a row before the account locks
LOCK_FOR = timedelta(minutes=15)
IP_MAX_FAILURES = 30                    # wrong passwords from one address per window
IP_WINDOW = timedelta(minutes=15)
# werkzeug's scrypt: deliberately slow. The test suite swaps in a cheap method (tests/conftest.py)
# because hashing five users per web test was most of its set-up time.
PASSWORD_METHOD = "scrypt"
_DUMMY_HASH = generate_password_hash("kopilka-timing-equaliser", method=PASSWORD_METHOD)

# Roles allowed where: the owner manages users; owner and manager change things; everyone
# (read-only too) reads. The cashier's role opens only the cashier's workplace.
CABINET_ROLES = ("owner", "manager", "readonly")
EDIT_ROLES = ("owner", "manager")


@dataclass
class CabinetUser:
    """What Flask-Login keeps of a WebUser for the request (no ORM object across sessions)."""
    id: str
    tenant_id: str
    email: str
    name: str
    role: str
    is_active: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.id

    @property
    def can_edit(self) -> bool:
        return self.role in EDIT_ROLES


def _wrap(row: WebUser) -> CabinetUser:
    return CabinetUser(id=row.id, tenant_id=row.tenant_id, email=row.email, name=row.name or row.email,
                       role=row.role, is_active=row.active)


def load_user(user_id: str) -> CabinetUser | None:
    row = db.session.get(WebUser, user_id)
    return _wrap(row) if row is not None and row.active else None


def create_user(session, tenant_id: str, email: str, role: str, password: str,
                name: str = "") -> WebUser:
    """hub.staff.operations.create_user with this module's hashing method (the suite swaps in
    a cheap one)."""
    return staff_create_user(session, tenant_id, email, role, password, name, method=PASSWORD_METHOD)


def add_user(session, tenant_id: str, email: str, role: str, password: str, name: str = "") -> WebUser:
    """The signed-in owner adds a user: hub.staff.operations.add_user (committed, audited)."""
    return staff_add_user(session, tenant_id, email, role, password, name, method=PASSWORD_METHOD, by=actor())


class _IpLimiter:
    """Wrong passwords per client address in a sliding window (per process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, deque] = {}

    def blocked(self, ip: str) -> bool:
        now = utcnow()
        with self.lock:
            q = self.seen.get(ip)
            while q and now - q[0] > IP_WINDOW:
                q.popleft()
            return bool(q) and len(q) >= IP_MAX_FAILURES

    def fail(self, ip: str) -> None:
        with self.lock:
            if len(self.seen) > 10_000:
                self.seen.clear()
            self.seen.setdefault(ip, deque()).append(utcnow())

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()


ip_limiter = _IpLimiter()


class LoginRefused(Exception):
    pass


def authenticate(session, email: str, password: str, ip: str, roles: tuple[str, ...]) -> CabinetUser:
    """The user for a correct email and password, or LoginRefused with a Russian message.
    Five wrong passwords lock the account for 15 minutes; many from one address block it."""
    email = (email or "").strip().lower()
    now = utcnow()
    if ip_limiter.blocked(ip):
        raise LoginRefused("Слишком много неудачных попыток входа. Попробуйте позже.")
    row = session.scalar(select(WebUser).where(WebUser.email == email)) if email else None
    if row is not None and row.locked_until is not None and row.locked_until > now:
        minutes = int((row.locked_until - now).total_seconds() // 60) + 1
        session.rollback()
        raise LoginRefused(f"Вход временно заблокирован после неудачных попыток. Попробуйте через {minutes} мин.")
    ok = check_password_hash(row.password_hash if row else _DUMMY_HASH, password or "")
    if row is None or not ok or not row.active:
        ip_limiter.fail(ip)
        if row is not None and not ok:
            note_wrong_password(session, row, now, MAX_FAILURES, LOCK_FOR)
        else:
            session.rollback()
        raise LoginRefused("Неверная почта или пароль.")
    if row.role not in roles:
        session.rollback()
        raise LoginRefused("У этого пользователя нет доступа сюда.")
    note_sign_in(session, row, now)
    return _wrap(row)


def require_roles(*roles: str):
    """A view only for signed-in users with one of `roles` (403 otherwise)."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            from flask import current_app
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            g.tenant_id = current_user.tenant_id
            set_tenant_tz(db.session, current_user.tenant_id)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def audit(session, action: str, object_type: str = "", object_id: str | None = None,
          details: dict | None = None, *, tenant_id: str | None = None) -> None:
    """Record who did what, in the caller's transaction (hub.staff.operations.record, with the
    signed-in user as the actor)."""
    user = current_user if current_user and current_user.is_authenticated else None
    record(session, tenant_id or user.tenant_id, actor(), action, object_type, object_id, details)


def actor() -> Actor:
    """The signed-in user as the audit log names them (none: an anonymous actor)."""
    user = current_user if current_user and current_user.is_authenticated else None
    return Actor(user.id, user.email) if user else Actor()


def sign_in_view(roles: tuple[str, ...], template: str, landing):
    """The sign-in page of a door (cabinet, cashier): the form, and on success a fresh session
    and a redirect to `landing()`; a refusal is 401 with the Russian reason on the form."""
    from flask import redirect, render_template, request, session as web_session
    from flask_login import login_user
    error = None
    if request.method == "POST":
        try:
            user = authenticate(db.session, request.form.get("email", ""), request.form.get("password", ""),
                                request.remote_addr or "", roles)
        except LoginRefused as exc:
            error = str(exc)
        else:
            web_session.clear()
            login_user(user)
            return redirect(landing())
    return render_template(template, error=error, email=request.form.get("email", "")), (401 if error else 200)
