"""Manual and gift bonus operations from the cabinet or a partner."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.clock import utcnow
from hub.engine.expiry import end_of_validity, expiry_from
from hub.engine.text import rub
from hub.errors import Invalid
from hub.ledger import InsufficientBonuses, accrue, account_view, debit, lock_account
from hub.customers.operations import get_customer
from hub.programs.operations import get_program
from hub.idempotency import run_once
from hub.extensions import unit_of_work
from hub.staff.operations import Actor, record


def adjust_bonuses(session, tenant_id: str, customer_id: str, *, amount: int, kind: str,
                   reason: str | None, valid_days: int | None, moment: datetime,
                   idempotency_key: str | None, source: str, body: Any,
                   by: Actor | None = None) -> tuple[dict, bool]:
    """Credit (gift or manual) or debit bonuses; a debit never takes the balance below zero.
    `by`: the person, audited in the same transaction (a replay writes nothing, so no entry)."""
    get_customer(session, tenant_id, customer_id)

    def work() -> dict:
        program = get_program(session, tenant_id)
        account = lock_account(session, tenant_id, customer_id)
        now = utcnow()
        customer = get_customer(session, tenant_id, customer_id)
        meta = {"kind": kind}
        if amount > 0:
            level = program.level_for(customer.total_purchases)
            if valid_days:
                expires = end_of_validity(moment, valid_days, program.timezone)
            elif kind == "gift":
                raise Invalid("valid_days_required", "Для подарочных бонусов укажите срок действия (valid_days).",
                              {"valid_days": ["обязательно для подарочных бонусов"]})
            else:
                expires = expiry_from(program, level, moment)
            posting = accrue(session, account, amount, moment, active_from=moment, expires_at=expires,
                             kind="gift" if kind == "gift" else "manual_credit",
                             lot_kind="gift" if kind == "gift" else "manual",
                             follows_purchases=(kind != "gift" and not valid_days
                                                and program.expiry_mode == "since_last_purchase"),
                             reason=reason, meta=meta)
        else:
            try:
                # A debit dated `moment` takes what was alive then and not spent since
                # (hub.ledger.spend), whenever it arrives.
                from hub.receipts.operations import burn_dates_at
                posting = debit(session, account, -amount, moment, now=now, reason=reason, meta=meta,
                                dated=burn_dates_at(session, tenant_id, program, customer, moment))
            except InsufficientBonuses as exc:
                raise Invalid("insufficient_bonuses",
                              f"Недостаточно бонусов: доступно {rub(exc.available)}, "
                              f"списать нужно {rub(exc.requested)}.",
                              {"amount": [f"не больше {rub(exc.available)}"]}) from exc
        session.flush()
        if by is not None:
            record(session, tenant_id, by, "bonuses." + ("debit" if amount < 0 else kind), "customer",
                   customer_id, {"amount": amount, "reason": reason, "valid_days": valid_days})
        view = account_view(session, tenant_id, customer_id, now)
        return {"id": posting.id, "kind": posting.kind, "amount": posting.amount,
                "moment": moment.isoformat(), "reason": reason,
                "balance": {"available": view.available, "pending": view.pending}}

    if idempotency_key:
        # The key names one operation on one customer: the same key and body sent for
        # another customer is a conflict, not a replay of the first customer's answer.
        return run_once(session, tenant_id, source, idempotency_key, "bonus",
                        {"customer_id": customer_id, "body": body}, work)
    with unit_of_work(session):
        answer = work()
    return answer, True
