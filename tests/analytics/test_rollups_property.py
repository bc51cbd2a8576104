"""specs/analytics.md §13 T-3 (the sales part): after any sequence of sales (late ones
included), partial and full returns and folds, rollups ⊕ pending deltas equal the direct
aggregation of receipts and returns, row by row; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub import engine
from hub.analytics.operations import direct_rows, fold, set_margins
from hub.analytics.queries import check, stored_rows
from hub.customers.operations import register_customer
from hub.errors import DomainError
from hub.receipts.operations import ReturnRequest, SaleRequest, commit_sale, return_sale
from hub.tenants.operations import create_tenant

START = datetime(2026, 3, 1, 6, tzinfo=timezone.utc)

sale = st.tuples(st.just("sale"), st.integers(0, 2),                 # customer (0: anonymous)
                 st.lists(st.integers(1, 300_000), min_size=1, max_size=3),
                 st.sampled_from(["A", "B", None]), st.sampled_from(["c1", None]),
                 st.integers(-40, 40), st.booleans())                 # hours from the clock; spend all
refund = st.tuples(st.just("return"), st.integers(0, 50), st.booleans())   # which sale; whole
steps = st.lists(st.one_of(sale, sale, refund, st.tuples(st.just("fold"))), min_size=1, max_size=10)


def _agree(session, t):
    assert stored_rows(session, t) == direct_rows(session, t, "Europe/Moscow")
    assert check(session, t, "Europe/Moscow") == []


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=steps, margin=st.sampled_from([None, "35.5"]))
def test_rollups_plus_deltas_equal_the_direct_aggregation(session, steps, margin):
    tenant, _ = create_tenant(session, "Свойство")
    session.commit()
    t = tenant.id
    if margin:
        set_margins(session, t, margin)
    customers = [register_customer(session, t, {"phone": f"+7916000000{i}"}, source="test", moment=START).id
                 for i in (1, 2)]
    clock, sales = START, []
    for n, step in enumerate(steps):
        if step[0] == "sale":
            _, who, prices, store, cashier, hours, spend_all = step
            clock += timedelta(hours=6)
            req = SaleRequest(
                external_id=f"S{n}", moment=clock + timedelta(hours=hours), store=store, cashier=cashier,
                customer={"id": customers[who - 1]} if who else None, spend_max=bool(who) and spend_all,
                positions=tuple(engine.Position(id=str(i), amount=p, quantity=Decimal(2 if i else 1),
                                                price=p // (2 if i else 1))
                                for i, p in enumerate(prices)))
            commit_sale(session, t, "test", req, {"n": n})
            sales.append((req.external_id, req.moment, [str(i) for i in range(len(prices))]))
        elif step[0] == "return" and sales:
            ref, moment, ids = sales[step[1] % len(sales)]
            quantities = None if step[2] else {ids[0]: Decimal(1)}
            try:
                return_sale(session, t, "test", ref, ReturnRequest(
                    external_id=f"V{n}", moment=moment + timedelta(days=1), quantities=quantities), {"n": n})
            except DomainError:     # a return of what is already returned is refused (422)
                session.rollback()
        elif step[0] == "fold":
            fold(session, clock, tenant_id=t)
        _agree(session, t)
    fold(session, clock)
    _agree(session, t)
