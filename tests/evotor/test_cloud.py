"""The Evotor cloud's calls: linking users, cloud tokens, installation and subscription
events — Evotor's example payloads (old and new names), wrong tokens, repeated deliveries."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from connectors.registry import credentials_of
from hub.connections.models import Connection
from hub.tenants.models import Tenant
from tests.evotor.conftest import APP_TOKEN, STORE, USER_ID, Terminal, assert_error, counts

INSTALLED = {"id": "a99cd562-a3cd-4e22-b2b4-2a2a9e8b3ba1", "timestamp": 1504168645290, "version": 2,
             "type": "ApplicationInstalled",
             "data": {"productId": "f7a6b0d2-1e6a-4c1c-9e16-8d6d0d1f0001", "userId": USER_ID}}
UNINSTALLED = {"id": "b99cd562-a3cd-4e22-b2b4-2a2a9e8b3ba2", "timestamp": 1504168745290, "version": 2,
               "type": "ApplicationUninstalled",
               "data": {"productId": "f7a6b0d2-1e6a-4c1c-9e16-8d6d0d1f0001", "userId": USER_ID}}
SUB = "8b8b0d2e-5555-4d1c-9e16-8d6d0d1f0001"


def _conn(session) -> Connection:
    conn = session.scalar(select(Connection).where(Connection.external_account == USER_ID)
                          .execution_options(populate_existing=True))
    session.rollback()
    return conn


def _find(term: Terminal):
    return term.post("/customers/find", {"phone": "+79160000001"})


@pytest.mark.parametrize("id_field", ["userId", "userUuid"])
def test_user_create_makes_a_tenant_once_and_answers_the_same_token(session, cloud, id_field):
    before = counts(session)
    body = {id_field: USER_ID, "companyName": "Кофейня «Зерно»", "email": "owner@example.ru"}
    first = cloud.post("/api/v1/user/create", body)
    assert first.status_code == 200, first.get_data(as_text=True)
    answer = first.get_json()
    assert answer["userId"] == USER_ID and 20 <= len(answer["token"]) <= 128
    again = cloud.post("/api/v1/user/create", body)          # Evotor re-sends after a timeout
    assert again.status_code == 200 and again.get_json()["token"] == answer["token"]
    after = counts(session)
    assert after["tenants"] == before["tenants"] + 1 and after["connections"] == before["connections"] + 1
    conn = _conn(session)
    assert session.get(Tenant, conn.tenant_id).name == "Кофейня «Зерно»"
    assert answer["token"] not in (conn.credentials or "")   # encrypted, never in clear
    assert credentials_of(conn)["user_token"] == answer["token"]


def test_user_verify_links_to_the_tenant_of_the_api_key(session, cloud, tenant, client):
    r = cloud.post("/api/v1/user/verify", {"userUuid": USER_ID, "username": "owner", "password": tenant["key"]})
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["hasBilling"] is False and body["userId"] == USER_ID
    assert _conn(session).tenant_id == tenant["id"]
    again = cloud.post("/api/v1/user/verify", {"userId": USER_ID, "username": "x", "password": tenant["key"]})
    assert again.get_json()["token"] == body["token"]
    # The token works at the terminal.
    assert Terminal(client, body["token"]).post("/customers/find", {"phone": "+79160000001"}).status_code == 404


def test_user_verify_with_wrong_credentials_or_linked_elsewhere(session, cloud, tenant):
    before = counts(session)
    r = cloud.post("/api/v1/user/verify", {"userId": USER_ID, "username": "owner", "password": "kp_wrong"})
    assert assert_error(r, 401)["errors"][0]["code"] == 1006
    assert assert_error(cloud.post("/api/v1/user/verify", {"userId": USER_ID}), 400)["errors"][0]["code"] == 2002
    assert counts(session) == before
    # Linked to a new tenant by /user/create, the user cannot join another tenant.
    assert cloud.post("/api/v1/user/create", {"userId": USER_ID}).status_code == 200
    r = cloud.post("/api/v1/user/verify", {"userId": USER_ID, "password": tenant["key"]})
    assert assert_error(r, 409)["errors"][0]["code"] == 2004


CLOUD_CALLS = [
    ("/api/v1/user/create", {"userId": USER_ID}),
    ("/api/v1/user/verify", {"userId": USER_ID, "username": "u", "password": "p"}),
    ("/api/v1/user/token", {"userId": USER_ID, "token": "cloud-token-1"}),
    ("/api/v2/installation/event", INSTALLED),
    ("/api/v1/subscription/event", {"subscriptionId": SUB, "userId": USER_ID, "type": "SubscriptionCreated",
                                    "sequenceNumber": 1, "timestamp": 1504168645290}),
]


@pytest.mark.parametrize("path,body", CLOUD_CALLS)
@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_wrong_or_missing_app_token_is_401_and_nothing_is_written(session, linked, cloud, path, body, token):
    before = counts(session)
    r = cloud.post(path, body, token=token)
    assert assert_error(r, 401)["errors"][0]["code"] == 1001
    assert counts(session) == before


def test_basic_auth_with_the_app_token_is_accepted(session, linked, client):
    basic = base64.b64encode(f"evotor:{APP_TOKEN}".encode()).decode()
    r = client.post("/evotor/api/v1/user/token", json={"userId": USER_ID, "token": "cloud-token-1"},
                    headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200, r.get_data(as_text=True)


@pytest.mark.parametrize("path,body", CLOUD_CALLS)
def test_bad_input_is_400_with_a_russian_message(session, linked, cloud, path, body):
    before = counts(session)
    assert_error(cloud.post(path, None, raw="not json"), 400)
    assert_error(cloud.post(path, None, raw="[1, 2]"), 400)
    required = "subscriptionId" if "subscriptionId" in body else "userId" if "userId" in body else "type"
    assert_error(cloud.post(path, {k: v for k, v in body.items() if k != required}), 400)
    assert_error(cloud.post(path, {**body, "userId": {"x": 1}} if "userId" in body else
                            {**body, "type": {"x": 1}}), 400)
    assert counts(session) == before


def test_user_token_is_stored_encrypted_and_repeats_change_nothing(session, linked, cloud):
    for _ in range(2):
        r = cloud.post("/api/v1/user/token", {"userUuid": USER_ID, "token": "cloud-token-1"})
        assert r.status_code == 200
    conn = _conn(session)
    assert credentials_of(conn)["cloud_token"] == "cloud-token-1"
    assert "cloud-token-1" not in conn.credentials
    before = counts(session)
    assert cloud.post("/api/v1/user/token", {"userId": USER_ID, "token": "cloud-token-1"}).status_code == 200
    assert counts(session) == before
    assert_error(cloud.post("/api/v1/user/token", {"userId": "01-999", "token": "t"}), 404)


def test_uninstalled_tokens_stop_working_and_the_data_stays(session, linked, cloud):
    assert _find(linked).status_code == 404            # works: no such customer yet
    assert cloud.post("/api/v2/installation/event", INSTALLED).status_code == 200
    assert cloud.post("/api/v2/installation/event", UNINSTALLED).status_code == 200
    r = _find(linked)
    assert_error(r, 401)
    conn = _conn(session)
    assert conn.status == "uninstalled" and conn.tenant_id == linked.tenant_id
    before = counts(session)
    # Evotor re-sends the same events: nothing changes; an older "installed" delivered late
    # does not switch the user back on.
    assert cloud.post("/api/v2/installation/event", UNINSTALLED).status_code == 200
    assert cloud.post("/api/v2/installation/event", INSTALLED).status_code == 200
    assert counts(session) == before
    late = {**INSTALLED, "id": "c99cd562-0000-4e22-b2b4-2a2a9e8b3ba3", "timestamp": 1504168700000}
    assert cloud.post("/api/v2/installation/event", late).status_code == 200
    assert _conn(session).status == "uninstalled"
    # Installed again (a newer event): the same token works again.
    again = {**INSTALLED, "id": "d99cd562-0000-4e22-b2b4-2a2a9e8b3ba4", "timestamp": 1504168845290}
    assert cloud.post("/api/v2/installation/event", again).status_code == 200
    assert _find(linked).status_code == 404


def test_installation_event_of_an_unknown_user_is_acknowledged(session, cloud):
    before = counts(session)
    body = {**INSTALLED, "data": {"userUuid": "01-000000000000777", "productId": "p"}}
    assert cloud.post("/api/v2/installation/event", body).status_code == 200
    assert counts(session) == before


def test_subscription_events_record_the_plan_and_termination_stops_the_terminal(session, linked, cloud):
    created = {"subscriptionId": SUB, "productId": "f7a6b0d2-1e6a-4c1c-9e16-8d6d0d1f0001", "userId": USER_ID,
               "timestamp": 1504168645290, "sequenceNumber": 1, "type": "SubscriptionCreated",
               "planId": "basic", "trialPeriodDuration": "P14DT", "deviceNumber": 1}
    activated = {"subscriptionId": SUB, "productId": created["productId"], "timestamp": 1504168745290,
                 "sequenceNumber": 2, "type": "SubscriptionActivated", "nextBillingDate": "2017-10-01T00:00:00+0000"}
    terminated = {"subscriptionId": SUB, "productId": created["productId"], "timestamp": 1504168845290,
                  "sequenceNumber": 4, "type": "SubscriptionTerminated"}
    for event in (created, activated):
        assert cloud.post("/api/v1/subscription/event", event).status_code == 200
    assert _find(linked).status_code == 404
    assert cloud.post("/api/v1/subscription/event", terminated).status_code == 200
    body = assert_error(_find(linked), 402)
    assert "Подписка" in body["error"]["message"]
    before = counts(session)
    assert cloud.post("/api/v1/subscription/event", terminated).status_code == 200   # repeated
    renewed_late = {**activated, "sequenceNumber": 3, "type": "SubscriptionRenewed"}   # out of order
    assert cloud.post("/api/v1/subscription/event", renewed_late).status_code == 200
    assert _conn(session).settings["subscription_status"] == "terminated"
    assert counts(session)["evotor_subscriptions"] == before["evotor_subscriptions"]
    # A new subscription (wrapped in "data", newer form) switches the terminal back on.
    wrapped = {"id": "e1", "type": "SubscriptionCreated",
               "data": {"subscriptionId": "9c9c0d2e-6666-4d1c-9e16-8d6d0d1f0002", "userUuid": USER_ID,
                        "sequenceNumber": 1, "timestamp": 1504169845290, "planId": "pro"}}
    assert cloud.post("/api/v1/subscription/event", wrapped).status_code == 200
    assert _find(linked).status_code == 404


def test_subscription_event_without_a_user_of_an_unknown_subscription_is_400(session, linked, cloud):
    before = counts(session)
    r = cloud.post("/api/v1/subscription/event", {"subscriptionId": "unknown", "type": "SubscriptionRenewed",
                                                   "sequenceNumber": 3})
    assert_error(r, 400)
    assert counts(session) == before


def test_store_header_is_kept(linked):
    assert linked.store == STORE
