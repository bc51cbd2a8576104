"""Returns and expiry through the API (issue 13): the story of the issue gives 100 whether
or not the expiry sweep ran before the return, and the customer view agrees with the ledger
view and with what the lots hold at every moment asked."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hub.clock import frozen
from hub.ledger import account_view, check_ledger
from hub.ledger.models import Account, Lot
from hub.sweeps import run_due
from tests.api.helpers import kop

MSK = timezone(timedelta(hours=3))
PROGRAM = {"type": "bonus", "bonus_lifetime_days": 30,
           "levels": [{"code": "base", "name": "Все", "threshold": 0, "max_spend_percent": 100,
                       "accrual": {"scheme": "percent", "percent": 5}}]}


def _by_hand(session, customer_id: str, at: datetime) -> int:
    """Available at `at` from the lots alone: active, unburnt remainders less the debt."""
    lots = session.scalars(select(Lot).join(Account, Account.id == Lot.account_id)
                           .where(Account.customer_id == customer_id)
                           .execution_options(populate_existing=True)).all()
    return sum(lot.remaining for lot in lots if lot.remaining < 0) + sum(
        lot.remaining for lot in lots if lot.remaining > 0 and lot.active_from <= at
        and (lot.expires_at is None or lot.expires_at > at))


@pytest.mark.parametrize("swept", [False, True], ids=["no sweep", "swept"])
def test_the_story_gives_100_and_every_view_agrees(api, session, tenant, swept):
    assert api.put("/api/v1/program", json=PROGRAM).status_code == 200
    with frozen(datetime(2020, 3, 1, 12, tzinfo=MSK)):
        cid = api.post("/api/v1/customers", json={"phone": "+79161234567"}).json["id"]
        r = api.post("/api/v1/receipts", json={
            "external_id": "S", "customer": {"id": cid},
            "positions": [{"id": "1", "name": "Пальто", "price": 1000, "quantity": 1}]})
        assert r.status_code == 201, r.json
        assert r.json["totals"]["bonus_earned"] == 50
    with frozen(datetime(2020, 3, 20, 12, tzinfo=MSK)):
        r = api.post(f"/api/v1/customers/{cid}/bonuses",
                     json={"amount": 100, "kind": "gift", "valid_days": 40})
        assert r.status_code in (200, 201), r.json
    if swept:
        at = datetime(2020, 4, 2, tzinfo=MSK)
        with frozen(at):
            assert run_due(session, at, tenant["id"])["expired_lots"] == 1
    with frozen(datetime(2020, 4, 5, 12, tzinfo=MSK)):
        r = api.post("/api/v1/receipts/S/returns", json={"external_id": "RS"})
        assert r.status_code in (200, 201), r.json
        assert kop(r.json["customer"]["balance"]) == 10_000
    for moment in (datetime(2020, 4, 5, 12, tzinfo=MSK), datetime(2020, 4, 29, 23, 59, tzinfo=MSK),
                   datetime(2020, 4, 30, 0, 0, tzinfo=MSK), datetime(2020, 5, 3, tzinfo=MSK)):
        with frozen(moment):
            seen = api.get(f"/api/v1/customers/{cid}").json["balance"]
        ledger = account_view(session, tenant["id"], cid, moment)
        expected = 10_000 if moment < datetime(2020, 4, 30, tzinfo=MSK) else 0
        assert kop(seen["available"]) == ledger.available == _by_hand(session, cid, moment) == \
            expected, moment
        assert (kop(seen["pending"]), kop(seen["debt"])) == (ledger.pending, ledger.debt) == (0, 0)
    assert check_ledger(session, tenant["id"]) == []
