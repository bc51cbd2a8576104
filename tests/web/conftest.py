"""Fixtures of the web cabinets' tests: a tenant with users of every role, CSRF tokens,
signed-in clients, the last one-time code sent to a phone."""
from __future__ import annotations

import re

import pytest

PASSWORD = "correct-horse-42"


@pytest.fixture(autouse=True)
def _fresh_limits():
    from hub.web.ui.auth import ip_limiter
    ip_limiter.clear()
    yield
    ip_limiter.clear()


def token(client, url: str) -> str:
    page = client.get(url)
    m = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert m, f"no CSRF token on {url} ({page.status_code})"
    return m.group(1)


def text(response) -> str:
    return response.get_data(as_text=True).replace("\u00a0", " ")


def last_code(session, tenant_id: str, phone: str) -> str:
    from tests.codes import last_code as code
    return code(session, tenant_id)


@pytest.fixture
def shop(session):
    """Tenant A with an owner, a manager, a read-only user and a cashier; tenant B with its owner."""
    from hub.tenants.operations import create_tenant
    from hub.web.ui.auth import create_user
    a, _ = create_tenant(session, "Кофейня «Зерно»")
    b, _ = create_tenant(session, "Чужой магазин")
    users = {}
    for role in ("owner", "manager", "readonly", "cashier"):
        users[role] = create_user(session, a.id, f"{role}@zerno.test", role, PASSWORD, role.title()).email
    users["other"] = create_user(session, b.id, "owner@other.test", "owner", PASSWORD).email
    # Tenant A's codes reach the phone (the demo console channel: nothing leaves the machine);
    # tenant B has no channel at all.
    from hub.notify.registry import configure
    configure(session, a.id, "console")
    session.commit()
    return {"a": a.id, "b": b.id, "users": users}


def sign_in(client, email: str, where: str = "cabinet"):
    t = token(client, f"/{where}/login")
    r = client.post(f"/{where}/login", data={"email": email, "password": PASSWORD, "csrf_token": t})
    assert r.status_code == 302, text(r)
    return token(client, r.headers["Location"])    # the session (and its CSRF secret) is new


@pytest.fixture
def as_role(client, shop):
    def login(role: str, where: str = "cabinet"):
        sign_in(client, shop["users"][role], where)
        return client
    return login


@pytest.fixture
def customer_of(session):
    def make(tenant_id: str, phone: str = "+79161234567", **data):
        from hub.clock import utcnow
        from hub.customers.operations import register_customer
        c = register_customer(session, tenant_id, {"phone": phone, **data}, source="api", moment=utcnow())
        session.commit()
        return c
    return make
