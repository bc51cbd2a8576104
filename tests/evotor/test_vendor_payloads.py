"""Evotor's own payloads: the v1 document webhook (the SELL and PAYBACK examples of
`evotor/documentation-api`'s pos-docs, as published) reconciles exactly like v2; every
subscription event type answers 200; events of a user not linked yet are kept and applied
when it links; every `Authorization` form the docs show is accepted."""
from __future__ import annotations

import base64
import copy
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.clock import frozen
from hub.ledger import account_view, check_ledger
from hub.connections.models import Connection, InboundEvent
from hub.receipts.models import Receipt, ReceiptReturn
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from hub.programs.operations import put_program
from evotor.models import EvotorPendingEvent, EvotorSubscription
from tests.evotor.conftest import APP_TOKEN, PROGRAM, STORE, USER_ID, Terminal, assert_error

DOCS = Path(__file__).parent / "pos_docs"     # evotor/documentation-api@627eaf0, pos-docs/, unchanged
SALE_UUID = "175d8ae9-79db-4588-a65a-8f0613e2d0ff"
PAYBACK_UUID = "3a29586a-d809-49fc-b625-a51dfc40edf2"
PRODUCT = "74e99680-3f9b-4abe-b902-fe197cf28ed2"
PHONE = "+79160000555"
# The examples' moment (13 Sep 2016, 14:32 and 14:47 UTC): the hub's clock is set just after.
NOW = datetime(2016, 9, 13, 15, 0, tzinfo=timezone.utc)


def published(name: str) -> str:
    """The example's text with the documentation's `//` comments (and the trailing commas
    they leave) taken out — the wire carries the JSON, not the comments."""
    text = (DOCS / name).read_text(encoding="utf-8")
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r",(\s*[}\]])", r"\1", text)


def v2_equivalent(kind: str) -> dict:
    """The same documents written in the v2 format by hand (the format the hub knew)."""
    line = {"uuid": "line-1", "product_id": PRODUCT, "product_name": "bla", "quantity": 1, "price": 3548}
    if kind == "SELL":
        return {"type": "SELL", "id": SALE_UUID, "close_date": "2016-09-13T14:32:09.000+0000", "extras": {},
                "body": {"positions": [{**line, "position_discount": {"discount_sum": 37.5},
                                        "doc_distributed_discount": 21.37}],
                         "payments": [{"sum": 3548.0, "type": "CASH"}]}}
    return {"type": "PAYBACK", "id": PAYBACK_UUID, "close_date": "2016-09-13T14:47:51.000+0000",
            "body": {"positions": [{**line, "uuid": "pb-1"}], "base_document_id": SALE_UUID,
                     "payments": [{"sum": 3548.0, "type": "CASH"}]}}


@pytest.fixture
def shop(session, linked):
    with frozen(NOW):
        c = register_customer(session, linked.tenant_id, {"phone": PHONE}, source="test", moment=NOW)
        adjust_bonuses(session, linked.tenant_id, c.id, amount=10000, kind="manual", reason="старт",
                       valid_days=None, moment=NOW - timedelta(days=1), idempotency_key=None, source="test",
                       body={})
        session.commit()
    linked.customer_id = c.id
    return linked


def _send(term, payload: str, v1: bool):
    path = f"/evotor/api/v1/inventories/stores/{STORE}/documents" if v1 else "/evotor/api/v2/documents"
    body = f"[{payload}]" if v1 else payload
    r = term.client.put(path, data=body, content_type="application/json",
                        headers={"Authorization": f"Bearer {term.token}", "X-Evotor-User-Id": USER_ID}) \
        if v1 else term.client.post(path, data=body, content_type="application/json",
                                    headers={"Authorization": f"Bearer {term.token}", "X-Evotor-User-Id": USER_ID})
    r.close()
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_the_published_sell_and_payback_reconcile_like_v2(session, shop, fmt):
    with frozen(NOW):
        # The app quoted receipt 175d8ae9… (its uuid is the document's) holding 21.37 bonuses;
        # the receipt closed, the commit never came. The document carries no extras.
        q = shop.ok("/receipts/quote", {"receipt_uuid": SALE_UUID, "customer": {"phone": PHONE},
                                        "spend_bonuses": 21.37,
                                        "positions": [{"uuid": "p1", "product_id": PRODUCT, "price": 3548,
                                                       "quantity": 1}]})
        assert q["bonus"]["spent"] == 21.37
        sale = published("02-SELL.json") if fmt == "v1" else json.dumps(v2_equivalent("SELL"))
        assert _send(shop, sale, fmt == "v1") == {"accepted": 1, "new": 1}
        receipt = session.scalar(select(Receipt).where(Receipt.tenant_id == shop.tenant_id,
                                                       Receipt.external_id == SALE_UUID))
        assert receipt is not None, "the SELL was committed from the document"
        # 3548.00 - 37.50 (the till's own discount) = 3510.50; 21.37 paid with bonuses.
        got = (receipt.amount, receipt.bonus_spent, receipt.bonus_earned, receipt.payment_method,
               receipt.moment.astimezone(timezone.utc).isoformat(), len(receipt.lines))
        assert got == (351050, 2137, 34891, "cash", "2016-09-13T14:32:09+00:00", 1)
        session.rollback()
        view = account_view(session, shop.tenant_id, shop.customer_id, NOW)
        assert (view.held, view.available) == (0, 10000 - 2137 + 34891)
        session.rollback()
        back = published("03-PAYBACK.json") if fmt == "v1" else json.dumps(v2_equivalent("PAYBACK"))
        assert _send(shop, back, fmt == "v1") == {"accepted": 1, "new": 1}
        ret = session.scalar(select(ReceiptReturn).where(ReceiptReturn.tenant_id == shop.tenant_id,
                                                         ReceiptReturn.external_id == PAYBACK_UUID))
        assert ret is not None, "the PAYBACK returned its base sale"
        assert (ret.amount_returned, ret.bonus_spent_restored, ret.bonus_earned_reversed) == (348913, 2137, 34891)
        session.rollback()
        assert account_view(session, shop.tenant_id, shop.customer_id, NOW).available == 10000
        assert check_ledger(session, shop.tenant_id) == []
        session.rollback()


def without_product(name: str) -> str:
    """The published example as a free-price line: Evotor's docs say `commodityUuid` may then be
    null (or a reserved uuid)."""
    return published(name).replace(f'"commodityUuid" : "{PRODUCT}"', '"commodityUuid" : null')


@pytest.mark.parametrize("bare", ["payback", "sale"])
def test_a_published_payback_whose_product_differs_from_the_sale_returns_everything(session, shop, bare):
    """Issue 17: a PAYBACK without the product of its sale (or the other way round) failed in
    the inbox («В чеке … нет позиций …») and nothing was reversed."""
    with frozen(NOW):
        line = {"uuid": "p1", "price": 3548, "quantity": 1}
        if bare != "sale":
            line["product_id"] = PRODUCT
        shop.ok("/receipts/quote", {"receipt_uuid": SALE_UUID, "customer": {"phone": PHONE},
                                    "spend_bonuses": 21.37, "positions": [line]})
        sale = without_product("02-SELL.json") if bare == "sale" else published("02-SELL.json")
        assert _send(shop, sale, True) == {"accepted": 1, "new": 1}
        assert account_view(session, shop.tenant_id, shop.customer_id, NOW).available == 10000 - 2137 + 34891
        session.rollback()
        back = without_product("03-PAYBACK.json") if bare == "payback" else published("03-PAYBACK.json")
        assert _send(shop, back, True) == {"accepted": 1, "new": 1}
        event = session.scalar(select(InboundEvent).where(InboundEvent.dedupe_key.like(f"%:{PAYBACK_UUID}")))
        assert (event.status, event.last_error) == ("done", None)
        ret = session.scalar(select(ReceiptReturn).where(ReceiptReturn.tenant_id == shop.tenant_id,
                                                         ReceiptReturn.external_id == PAYBACK_UUID))
        assert (ret.amount_returned, ret.bonus_spent_restored, ret.bonus_earned_reversed) == (348913, 2137, 34891)
        session.rollback()
        assert account_view(session, shop.tenant_id, shop.customer_id, NOW).available == 10000
        assert check_ledger(session, shop.tenant_id) == []
        session.rollback()


# --- cloud notifications ---------------------------------------------------------------------

SUB = "7b3e1f2c-5555-4d1c-9e16-8d6d0d1f0001"


def _sub_event(kind: str, seq: int, user: str = USER_ID, sub: str = SUB, **extra) -> dict:
    return {"subscriptionId": sub, "productId": "f7a6b0d2-1e6a-4c1c-9e16-8d6d0d1f0001", "userId": user,
            "timestamp": "2017-04-20T18:26:37.753+0000", "sequenceNumber": seq, "type": kind, **extra}


@pytest.mark.parametrize("kind", ["SubscriptionCreated", "AddonsUpdated", "SubscriptionActivated",
                                  "SubscriptionRenewed", "SubscriptionTermsChanged",
                                  "SubscriptionTerminationRequested", "SubscriptionTerminated",
                                  "SomethingEvotorAddsNextYear"])
def test_every_subscription_event_type_answers_200(session, linked, cloud, kind):
    r = cloud.post("/api/v1/subscription/event", _sub_event(kind, 5, addons=[{"id": "sms", "quantity": 1}]))
    assert r.status_code == 200, r.get_data(as_text=True)
    row = session.scalar(select(EvotorSubscription).where(EvotorSubscription.subscription_id == SUB))
    assert row.last_event == kind
    if kind == "AddonsUpdated":
        assert row.details["addons"] == [{"id": "sms", "quantity": 1}] and row.status == "active"
    session.rollback()


def test_installation_event_of_a_future_type_answers_200(session, linked, cloud):
    body = {"id": "e-future", "timestamp": 1504168645290, "version": 2, "type": "ApplicationUpdated",
            "data": {"productId": "p", "userId": USER_ID}}
    assert cloud.post("/api/v2/installation/event", body).status_code == 200
    assert session.get(Connection, linked.connection_id).status == "active"
    session.rollback()


def test_events_of_a_user_not_linked_yet_are_kept_and_applied_when_it_links(session, tenant, client, cloud):
    user = "01-000000000000042"
    installed = {"id": "i-1", "timestamp": 1504168645290, "version": 2, "type": "ApplicationInstalled",
                 "data": {"productId": "p", "userId": user}}
    created = _sub_event("SubscriptionCreated", 1, user=user, planId="basic")
    terminated = _sub_event("SubscriptionTerminated", 2, user=user)
    for path, body in (("/api/v2/installation/event", installed), ("/api/v1/subscription/event", created),
                       ("/api/v1/subscription/event", terminated), ("/api/v1/subscription/event", terminated)):
        r = cloud.post(path, body)
        assert r.status_code == 200, r.get_data(as_text=True)     # not 404: Evotor would retry for 3 days
    assert session.scalar(select(func.count()).select_from(EvotorPendingEvent)
                          .where(EvotorPendingEvent.user_id == user)) == 3
    session.rollback()
    put_program(session, tenant["id"], copy.deepcopy(PROGRAM))
    session.commit()
    r = cloud.post("/api/v1/user/verify", {"userId": user, "username": "o", "password": tenant["key"]})
    assert r.status_code == 200, r.get_data(as_text=True)
    term = Terminal(client, r.get_json()["token"])
    term.headers = lambda token=...: {"Authorization": f"Bearer {term.token}", "X-Evotor-User-Id": user}
    # The kept termination applied: the terminal API says the subscription is over.
    assert_error(term.post("/customers/find", {"phone": PHONE}), 402)
    row = session.scalar(select(EvotorSubscription).where(EvotorSubscription.subscription_id == SUB))
    assert (row.status, row.plan_id, row.sequence_number) == ("terminated", "basic", 2)
    assert session.scalar(select(func.count()).select_from(EvotorPendingEvent)
                          .where(EvotorPendingEvent.user_id == user)) == 0
    session.rollback()


def _auth_forms(token: str) -> list[str]:
    return [f"Bearer {token}", f"bearer {token}", f"Basic {token}",
            "Basic " + base64.b64encode(f"evotor:{token}".encode()).decode(),
            "Basic " + base64.b64encode(f"{token}:".encode()).decode(), token]


@pytest.mark.parametrize("form", range(6))
def test_every_authorization_form_of_the_docs_is_accepted(session, linked, client, form):
    header = _auth_forms(APP_TOKEN)[form]
    r = client.post("/evotor/api/v1/user/token", json={"userId": USER_ID, "token": "cloud-token-1"},
                    headers={"Authorization": header})
    assert r.status_code == 200, (header, r.get_data(as_text=True))


def test_notifications_with_the_users_own_token_as_the_docs_show(session, linked, client):
    """The docs put the user's token (clientAuth) on subscription and installation events."""
    headers = {"Authorization": f"Bearer {linked.token}"}
    r = client.post("/evotor/api/v1/subscription/event", json=_sub_event("SubscriptionCreated", 1), headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    other = _sub_event("SubscriptionCreated", 1, user="01-000000000000099", sub="other-sub")
    assert_error(client.post("/evotor/api/v1/subscription/event", json=other, headers=headers), 401)
    assert_error(client.post("/evotor/api/v1/subscription/event", json=_sub_event("SubscriptionCreated", 2),
                             headers={"Authorization": "Bearer not-a-token"}), 401)
    session.rollback()
