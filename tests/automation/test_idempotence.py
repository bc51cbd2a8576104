"""Hypothesis: automation run twice at random moments never grants or sends twice."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from hub.automation.chains import save_chain
from hub.ledger import check_ledger
from hub.ledger.models import Posting
from hub.automation.models import MechanicEvent
from hub.notify.models import OutboxMessage
from tests.automation.conftest import World, msk

START = msk(2026, 1, 1)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offsets=st.lists(st.integers(min_value=0, max_value=200 * 24), min_size=1, max_size=5),
       birth_days=st.lists(st.integers(min_value=0, max_value=364), min_size=2, max_size=4))
def test_runs_twice_at_random_moments_never_grant_or_send_twice(session, tenant, offsets, birth_days):
    from hub.tenants.operations import create_tenant
    fresh, _ = create_tenant(session, "Пример")      # examples share the test's transaction
    session.commit()
    world = World(session, fresh.id)
    world.settings(START, {"gifts": [{"event": "birthday", "amount": 50000, "valid_days": 15, "days_before": 7},
                                     {"event": "registration", "amount": 10000, "valid_days": 7}],
                           "expiry_warning": {"enabled": True, "days_before": 7}})
    save_chain(session, world.t, {"steps": [{"days": 30, "amount": 20000, "valid_days": 7},
                                            {"days": 60, "amount": 30000, "valid_days": 7}]}, START)
    people = []
    for k, day in enumerate(birth_days):
        c = world.customer(START + timedelta(hours=k), birth_date=date(1990, 1, 1) + timedelta(days=day))
        world.sale(c, START + timedelta(days=k * 3, hours=12))
        people.append(c)
    for off in sorted(offsets):
        at = START + timedelta(hours=off)
        world.run(at)
        before = (session.scalar(select(func.count()).select_from(Posting).where(Posting.tenant_id == world.t)),
                  session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.tenant_id == world.t)))
        world.run(at)
        after = (session.scalar(select(func.count()).select_from(Posting).where(Posting.tenant_id == world.t)),
                 session.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.tenant_id == world.t)))
        assert before == after
    events = session.scalars(select(MechanicEvent).where(MechanicEvent.tenant_id == world.t)).all()
    assert all(e.status == "done" for e in events)
    per_year = Counter((e.customer_id, e.occurrence) for e in events if e.mechanic == "birthday")
    assert all(n == 1 for n in per_year.values())
    registered = Counter(e.customer_id for e in events if e.mechanic == "registration")
    assert set(registered) <= {c.id for c in people} and all(n == 1 for n in registered.values())
    steps = Counter((e.customer_id, e.occurrence) for e in events if e.mechanic == "winback")
    assert all(n == 1 for n in steps.values())
    gifts = session.scalar(select(func.count()).select_from(Posting).where(
        Posting.tenant_id == world.t, Posting.kind == "gift"))
    assert gifts == sum(1 for e in events if e.amount)
    assert check_ledger(session, world.t) == []
