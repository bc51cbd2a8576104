"""Holds: a till's quote reserves bonuses until commit, release or timeout."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connectors.receipts import make_position
from hub.errors import Invalid
from hub.ledger import account_view, check_ledger
from hub.sweeps import run_due
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from hub.receipts.holds import quote_and_hold, release_receipt_hold
from hub.receipts.operations import SaleRequest, commit_sale

NOW = datetime.now(timezone.utc)


@pytest.fixture
def customer(session, tenant):
    c = register_customer(session, tenant["id"], {"phone": "+79161110000"}, source="test", moment=NOW)
    adjust_bonuses(session, tenant["id"], c.id, amount=10000, kind="manual", reason="старт",
                   valid_days=None, moment=NOW - timedelta(hours=1), idempotency_key=None,
                   source="test", body={})
    return c


def _sale(ref, spend=None, spend_max=False, price=100000):
    return SaleRequest(external_id=ref, moment=NOW, customer={"phone": "+79161110000"},
                       positions=(make_position(id="1", price=price, quantity=Decimal(1)),),
                       spend=spend, spend_max=spend_max)


def test_hold_blocks_other_tills_and_commit_turns_it_into_the_spend(session, tenant, customer):
    t = tenant["id"]
    q = quote_and_hold(session, t, "evotor", _sale("A", spend_max=True))
    assert q["hold"]["amount"] == q["totals"]["bonus_spent"] == 10000   # 30% of 1000 ≥ 100
    view = account_view(session, t, customer.id, NOW)
    assert view.available == 0 and view.held == 10000 and view.balance == 10000
    with pytest.raises(Invalid):      # the other till sees nothing to spend
        commit_sale(session, t, "evotor", _sale("B", spend=5000), {"b": 1})
    answer, created = commit_sale(session, t, "evotor", _sale("A", spend=10000), {"a": 1},
                                  hold_reference="A")
    assert created and answer["totals"]["bonus_spent"] == 10000
    view = account_view(session, t, customer.id, NOW)
    assert view.held == 0 and view.available == answer["customer"]["balance_after"]
    assert check_ledger(session, t) == []


def test_requote_replaces_the_hold_and_clear_releases_it(session, tenant, customer):
    t = tenant["id"]
    quote_and_hold(session, t, "evotor", _sale("C", spend=3000))
    quote_and_hold(session, t, "evotor", _sale("C", spend=4000))
    assert account_view(session, t, customer.id, NOW).held == 4000
    assert release_receipt_hold(session, t, "evotor", "C", {"phone": "+79161110000"}) == 4000
    view = account_view(session, t, customer.id, NOW)
    assert view.held == 0 and view.available == 10000
    assert check_ledger(session, t) == []


def test_a_lapsed_hold_frees_the_bonuses(session, tenant, customer):
    t = tenant["id"]
    q = quote_and_hold(session, t, "evotor", _sale("D", spend=6000))
    # Holds live in real time (a till is open now), so their lapse is counted from the clock.
    later = datetime.fromisoformat(q["hold"]["expires_at"]) + timedelta(minutes=1)
    assert account_view(session, t, customer.id, later).available == 10000
    result = run_due(session, later, t)
    assert result["holds_released"] == 1
    view = account_view(session, t, customer.id, later)
    assert view.held == 0 and view.available == 10000
    assert check_ledger(session, t) == []


def test_a_quote_of_a_closed_receipt_holds_nothing(session, tenant, customer):
    """A quote that arrives after its receipt was committed (a retry racing the commit)
    is refused under the account lock, so no hold is left for nobody to spend."""
    from hub.errors import Conflict
    t = tenant["id"]
    answer, _ = commit_sale(session, t, "evotor", _sale("E", spend=2000), {"e": 1}, hold_reference="E")
    with pytest.raises(Conflict):
        quote_and_hold(session, t, "evotor", _sale("E", spend=3000))
    view = account_view(session, t, customer.id, NOW)
    assert view.held == 0 and view.available == answer["customer"]["balance_after"]
    assert check_ledger(session, t) == []
