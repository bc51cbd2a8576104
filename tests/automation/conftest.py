"""Helpers for the automation tests: customers, sales and runs at chosen moments."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hub.adapters import wire

wire()   # the sweeps, as create_app and every command register them
from connectors.receipts import make_position
from hub.automation.sweep import run
from hub.automation.settings import save
from hub.clock import frozen
from hub.ledger.models import Posting
from hub.automation.models import MechanicEvent
from hub.notify.models import OutboxMessage
from hub.customers.operations import register_customer
from hub.receipts.operations import ReturnRequest, SaleRequest, commit_sale, return_sale

MSK = ZoneInfo("Europe/Moscow")


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


class World:
    def __init__(self, session, tenant_id: str):
        self.session, self.t = session, tenant_id
        self.n = 0

    def customer(self, at: datetime, **data):
        self.n += 1
        data.setdefault("phone", f"+7916{self.n:07d}")
        with frozen(at):
            return register_customer(self.session, self.t, data, source=data.pop("source", "api"), moment=at)

    def sale(self, customer, at: datetime, rub: int = 1000, ref: str | None = None) -> dict:
        self.n += 1
        ref = ref or f"R-{self.n}"
        req = SaleRequest(external_id=ref, moment=at, customer={"id": customer.id},
                          positions=(make_position(id="1", price=rub * 100, quantity=Decimal(1)),))
        with frozen(at):
            answer, _ = commit_sale(self.session, self.t, "api", req, {"ref": ref})
        return answer

    def refund(self, receipt_ref: str, at: datetime, quantity: str | None = None, ref: str | None = None):
        self.n += 1
        req = ReturnRequest(external_id=ref or f"RET-{self.n}", moment=at,
                            quantities={"1": Decimal(quantity)} if quantity else None)
        with frozen(at):
            return return_sale(self.session, self.t, "api", receipt_ref, req, {"n": self.n})[0]

    def settings(self, at: datetime, data: dict) -> dict:
        with frozen(at):
            return save(self.session, self.t, data, at)

    def run(self, at: datetime) -> dict:
        with frozen(at):
            return run(self.session, at, [self.t])

    def events(self, mechanic: str | None = None) -> list[MechanicEvent]:
        stmt = select(MechanicEvent).where(MechanicEvent.tenant_id == self.t)
        if mechanic:
            stmt = stmt.where(MechanicEvent.mechanic == mechanic)
        return list(self.session.scalars(stmt.order_by(MechanicEvent.created_at, MechanicEvent.occurrence)))

    def messages(self, topic: str | None = None) -> list[OutboxMessage]:
        stmt = select(OutboxMessage).where(OutboxMessage.tenant_id == self.t)
        if topic:
            stmt = stmt.where(OutboxMessage.topic == topic)
        return list(self.session.scalars(stmt.order_by(OutboxMessage.created_at)))

    def gift_postings(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Posting).where(
            Posting.tenant_id == self.t, Posting.kind == "gift")) or 0


@pytest.fixture
def world(session, tenant):
    return World(session, tenant["id"])
