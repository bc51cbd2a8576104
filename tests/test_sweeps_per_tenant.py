"""`kopilka automation run --tenant T` narrows every registered sweep to T: none is skipped,
and the inbox's retries touch only T's events."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from connectors.inbox import retry_due, store_event
from hub.adapters import wire
from hub.connections.models import InboundEvent
from hub.sweeps import _sweeps
from hub.tenants.operations import create_tenant

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_every_registered_sweep_can_run_for_one_tenant() -> None:
    wire()
    cannot = sorted(name for name, reg in _sweeps.items() if reg.tenant_keyword is None)
    assert cannot == []


def test_inbox_retries_for_one_tenant_leave_the_others_waiting(session) -> None:
    a, _ = create_tenant(session, "Инбокс А")
    b, _ = create_tenant(session, "Инбокс Б")
    session.commit()
    for tenant in (a, b):
        store_event(session, tenant_id=tenant.id, connection_id=None, source="test-sweep",
                    kind="no-such-kind", dedupe_key=f"sweep-{tenant.id}", body={})
    assert retry_due(session, NOW, tenant_id=a.id) == 1
    status = dict(session.execute(select(InboundEvent.tenant_id, InboundEvent.status)
                                  .where(InboundEvent.source == "test-sweep",
                                         InboundEvent.tenant_id.in_([a.id, b.id]))).all())
    assert status[b.id] == "received" and status[a.id] != "received"
