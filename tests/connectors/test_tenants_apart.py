"""Connections are unique per tenant: linking an account another tenant linked neither
confirms nor blocks it; the vendor's token (not the account id) decides whose a call is."""
from __future__ import annotations

import json
from uuid import uuid4

import pytest

from connectors.registry import connection_by_account, create_connection
from hub.errors import Conflict, Invalid
from hub.tenants.operations import create_tenant
from connectors.registry import new_webhook_secret
from tests.conftest import Api

ACCOUNT = "0a1b2c3d-0000-4000-8000-00000000a001"


def _two_tenants(session):
    (a, key_a), (b, key_b) = create_tenant(session, "Настоящий владелец"), create_tenant(session, "Чужой")
    session.commit()
    return (a.id, key_a), (b.id, key_b)


def test_a_second_tenant_may_name_the_same_account_and_learns_nothing(session, client):
    (a, key_a), (b, key_b) = _two_tenants(session)
    body = {"kind": "moysklad", "external_account": ACCOUNT, "credentials": {"token": "t"}}
    first = Api(client, key_b).post("/api/v1/connections", json=body)     # the squatter links first
    assert first.status_code == 201, first.get_data(as_text=True)
    owner = Api(client, key_a).post("/api/v1/connections", json=body)      # the owner is not blocked
    assert owner.status_code == 201, owner.get_data(as_text=True)
    assert "Чужой" not in owner.get_data(as_text=True)
    listed = Api(client, key_a).get("/api/v1/connections").get_json()["items"]
    assert [c["id"] for c in listed] == [owner.get_json()["id"]], "each tenant sees only its own"
    # The tenant's own duplicate is its own business: 409 about itself.
    again = Api(client, key_a).post("/api/v1/connections", json=body)
    assert again.status_code == 409 and "уже есть" in again.get_json()["error"]["message"]


@pytest.mark.parametrize("who", ["owner", "squatter"])
def test_the_vendors_token_decides_which_connection_a_call_belongs_to(session, client, who):
    (a, _), (b, _) = _two_tenants(session)
    squatter, _ = create_connection(session, b, kind="moysklad", external_account=ACCOUNT)
    owner, owner_token = create_connection(session, a, kind="moysklad", external_account=ACCOUNT)
    secret_b, secret_a = new_webhook_secret(squatter), new_webhook_secret(owner)
    session.commit()
    ids = {"owner": (owner.id, owner_token, secret_a), "squatter": (squatter.id, "guess", secret_b)}
    conn_id, token, secret = ids[who]
    # The Loyalty API: only the token МойСклад was given (register-loyalty) opens a connection.
    r = client.get(f"/moysklad/loyalty/{conn_id}/giftcard", query_string={"name": "1", "retailStoreId": str(uuid4())},
                   headers={"Lognex-Discount-API-Auth-Token": token})
    # The owner's token opens the connection: certificate "1" is unknown there, which МойСклад's
    # Loyalty API answers as a documented 404 (code 29012); a wrong token never gets that far.
    assert r.status_code == (404 if who == "owner" else 401)
    if who == "owner":
        assert r.get_json()["errors"][0]["code"] == 29012
    # Webhooks: each connection's own secret; neither URL names the other tenant.
    body = {"events": [{"meta": {"type": "retaildemand", "href": f"https://x/entity/retaildemand/{uuid4()}"},
                        "action": "CREATE", "accountId": ACCOUNT}]}
    r = client.post(f"/moysklad/webhook/{conn_id}/{secret}?requestId={uuid4()}", data=json.dumps(body),
                    content_type="application/json")
    assert r.status_code == 200
    other = secret_b if who == "owner" else secret_a
    assert client.post(f"/moysklad/webhook/{conn_id}/{other}", json=body).status_code == 404
    session.rollback()


def test_an_account_id_alone_finds_nothing_for_kinds_a_tenant_names_itself(session):
    (a, _), (b, _) = _two_tenants(session)
    mine, _ = create_connection(session, a, kind="moysklad", external_account=ACCOUNT)
    create_connection(session, b, kind="moysklad", external_account=ACCOUNT)
    session.commit()
    assert connection_by_account(session, "moysklad", ACCOUNT) is None
    assert connection_by_account(session, "moysklad", ACCOUNT, tenant_id=a).id == mine.id
    session.rollback()


def test_evotor_users_are_linked_only_by_evotors_own_flow(session):
    (a, _), _ = _two_tenants(session)
    with pytest.raises(Invalid):
        create_connection(session, a, kind="evotor", external_account="01-000000000000009")
    conn, _ = create_connection(session, a, kind="evotor", external_account="01-000000000000009",
                                vendor_flow=True)
    with pytest.raises(Conflict):
        create_connection(session, a, kind="evotor", external_account="01-000000000000009", vendor_flow=True)
    session.rollback()


def test_one_evotor_user_cannot_be_linked_to_two_tenants_even_by_a_race(session):
    """The database keeps an Evotor user with one tenant (partial unique index): two
    concurrent /user/create calls cannot both link it."""
    from hub.connections.models import Connection
    (a, _), (b, _) = _two_tenants(session)
    session.add(Connection(tenant_id=a, kind="evotor", external_account="01-000000000000010"))
    session.flush()
    session.add(Connection(tenant_id=b, kind="evotor", external_account="01-000000000000010"))
    from sqlalchemy.exc import IntegrityError
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
