"""A customer blocked in the owner's cabinet earns and spends nothing at any till: the API's
calculate and commit, the open-receipt quote with a hold (Evotor, 1С), the core's commit
(МойСклад, 1С, Evotor) and the cashier's workplace all refuse with «Клиент заблокирован»; the
API's customer view says `blocked`; unblocked, the customer buys as before."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hub import engine
from hub.clock import utcnow
from hub.errors import Invalid
from hub.customers.models import Customer
from hub.ledger.models import Posting
from hub.receipts.models import Receipt
from tests.api.helpers import assert_error, counts, gift, receipt


def _block(session, customer_id: str, blocked: bool = True) -> None:
    from hub.customers.operations import set_blocked
    c = session.get(Customer, customer_id)
    set_blocked(session, c.tenant_id, customer_id, blocked, reason="Злоупотребление", moment=utcnow())
    session.commit()


def test_the_api_refuses_calculate_and_commit_for_a_blocked_customer(api, customer, session):
    assert gift(api, customer["id"], 300).status_code == 201
    assert api.get(f"/api/v1/customers/{customer['id']}").json["blocked"] is False
    _block(session, customer["id"])
    assert api.get(f"/api/v1/customers/{customer['id']}").json["blocked"] is True
    before = counts(session)
    body = receipt("B-1", {"name": "Капучино", "price": 250, "quantity": 2}, customer={"phone": customer["phone"]})
    for url in ("/api/v1/receipts/calculate", "/api/v1/receipts"):
        for extra in ({}, {"spend_bonuses": "max"}):
            r = api.post(url, json={**body, **extra})
            err = assert_error(r, 422, "customer", code="customer_blocked")
            assert err["message"].startswith("Клиент заблокирован")
    assert counts(session) == before
    _block(session, customer["id"], blocked=False)
    r = api.post("/api/v1/receipts", json={**body, "spend_bonuses": 100})
    assert r.status_code == 201, r.json
    assert api.get(f"/api/v1/customers/{customer['id']}").json["blocked"] is False


def test_a_return_of_an_earlier_sale_still_goes_through(api, customer, session):
    body = receipt("B-2", {"id": "1", "name": "Чай", "price": 500, "quantity": 1}, customer={"phone": customer["phone"]})
    assert api.post("/api/v1/receipts", json=body).status_code == 201
    _block(session, customer["id"])
    r = api.post("/api/v1/receipts/B-2/returns", json={"external_id": "RET-B-2"})
    assert r.status_code == 201, r.json


def _req(customer_id: str, spend: int | None = None):
    from hub.receipts.operations import SaleRequest
    return SaleRequest(external_id=f"S-{uuid.uuid4().hex[:8]}", moment=utcnow(), customer={"id": customer_id},
                       positions=(engine.Position(id="1", amount=100000, quantity=Decimal(1), price=100000),),
                       spend=spend)


@pytest.mark.parametrize("path", ["calculate_receipt", "commit_sale", "quote_and_hold"])
def test_every_core_path_of_the_tills_refuses_a_blocked_customer(session, tenant, path):
    """МойСклад and 1С call calculate_receipt / commit_sale, Evotor and 1С's loyalty server
    quote_and_hold and commit_sale: one guard (hub.receipts.guards) refuses them all."""
    from hub.receipts import holds
    from hub.receipts import operations as receipts
    from hub.customers.operations import register_customer
    c = register_customer(session, tenant["id"], {"phone": "+79160007788"}, source="test", moment=utcnow())
    session.commit()
    _block(session, c.id)
    call = {"calculate_receipt": lambda: receipts.calculate_receipt(session, tenant["id"], _req(c.id)),
            "commit_sale": lambda: receipts.commit_sale(session, tenant["id"], "test", _req(c.id), {}),
            "quote_and_hold": lambda: holds.quote_and_hold(session, tenant["id"], "test", _req(c.id))}[path]
    with pytest.raises(Invalid) as err:
        call()
    session.rollback()
    assert err.value.code == "customer_blocked" and err.value.message.startswith("Клиент заблокирован")
    assert session.scalar(select(func.count()).select_from(Receipt).where(Receipt.tenant_id == tenant["id"])) == 0
    assert session.scalar(select(func.count()).select_from(Posting).where(Posting.tenant_id == tenant["id"])) == 0
