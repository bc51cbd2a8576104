"""Fixtures of the API tests: a second tenant, a customer."""
from __future__ import annotations

import pytest

from tests.conftest import Api


@pytest.fixture
def other(client, session):
    """Tenant B with its own key."""
    from hub.tenants.operations import create_tenant
    t, key = create_tenant(session, "Чужой магазин")
    session.commit()
    return Api(client, key)


@pytest.fixture
def customer(api):
    r = api.post("/api/v1/customers", json={"phone": "+79161234567"})
    assert r.status_code == 201, r.json
    return r.json
