"""Concurrency on PostgreSQL with real commits: spending never races, a POS call is done
once however many times it arrives at once, and replays change nothing.

Each test creates its own tenant (unique name) through committing sessions, so tests do
not see each other's rows in the run's shared database.
"""
from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

from hub.errors import DomainError, Invalid
from hub.ledger import account_view, check_ledger
from hub.ledger.models import Account, Posting
from hub.customers.models import Customer
from hub.receipts.models import Operation, Receipt
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from hub.receipts.operations import calculate_receipt, commit_sale, return_sale
from hub.tenants.operations import ensure_store
from tests.ledger.helpers import (
    SOURCE, T0, make_tenant, program_settings, return_of, sale, snapshot,
)

THREADS = 20
BALANCE = 1_000


def _in_session(pg_sessions, fn):
    """Run fn(session) in a fresh committing session, as one request would."""
    s = pg_sessions()
    try:
        return fn(s)
    finally:
        s.close()


def _world(pg_sessions, *, balance: int = BALANCE, customers: int = 1, **program):
    """A tenant, its program, customers; the first one gets `balance` as a gift."""
    settings = program_settings(**{"activation_delay_days": 1, "base_spend": "100",
                                   "lifetime": None, **program})

    def build(s):
        tid = make_tenant(s, settings, name=f"concurrency-{uuid.uuid4().hex}")
        ids = [register_customer(s, tid, {"phone": f"+7916555{i:04d}"}, source=SOURCE,
                                 moment=T0).id for i in range(customers)]
        if balance:
            adjust_bonuses(s, tid, ids[0], amount=balance, kind="gift", reason="start",
                           valid_days=365, moment=T0, idempotency_key=None, source=SOURCE, body={})
        return SimpleNamespace(tid=tid, cid=ids[0], customers=ids)
    return _in_session(pg_sessions, build)


def _all_at_once(n: int, work) -> list:
    """Run work(i) in n threads released together; each result is ("ok", value) or ("err", exc)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = ("ok", work(i))
        except Exception as exc:  # noqa: BLE001 - an unreadable URL is shown as "?"
            results[i] = ("err", exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


def _check_clean(pg_sessions, w, moment):
    def check(s):
        assert check_ledger(s, w.tid) == []
        cached = s.scalar(select(Account.balance).where(Account.customer_id == w.cid))
        view = account_view(s, w.tid, w.cid, moment)
        return cached, view
    return _in_session(pg_sessions, check)


@pytest.mark.parametrize("each", [BALANCE, 300], ids=["full-balance", "part"])
def test_parallel_sales_spending_the_same_bonuses_never_overdraw(pg_sessions, each):
    w = _world(pg_sessions)
    moment = T0 + timedelta(hours=2)

    def work(i: int):
        req, body = sale(f"spend-{i}", moment, [(BALANCE, 1)], customer_id=w.cid, spend=each)
        return _in_session(pg_sessions, lambda s: commit_sale(s, w.tid, SOURCE, req, body))

    results = _all_at_once(THREADS, work)
    ok = [r[1] for r in results if r[0] == "ok"]
    errors = [r[1] for r in results if r[0] == "err"]
    assert len(ok) == BALANCE // each, errors[:3]
    assert all(created for _answer, created in ok)
    assert all(a["totals"]["bonus_spent"] == each for a, _ in ok)
    assert all(isinstance(e, Invalid) and e.code == "spend_not_allowed" for e in errors), errors[:3]
    cached, view = _check_clean(pg_sessions, w, moment)
    assert cached == view.balance and view.available == BALANCE - len(ok) * each >= 0

    def facts(s):
        spends = s.scalar(select(func.count()).select_from(Posting)
                          .where(Posting.tenant_id == w.tid, Posting.kind == "spend"))
        count = s.scalar(select(Customer.purchase_count).where(Customer.id == w.cid))
        receipts = s.scalar(select(func.count()).select_from(Receipt).where(Receipt.tenant_id == w.tid))
        ops = s.scalar(select(func.count()).select_from(Operation).where(Operation.tenant_id == w.tid))
        return spends, count, receipts, ops
    assert _in_session(pg_sessions, facts) == (len(ok),) * 4


def test_parallel_sales_and_debits_of_one_account_never_overdraw(pg_sessions):
    w = _world(pg_sessions)
    moment = T0 + timedelta(hours=2)

    def work(i: int):
        if i % 2:
            req, body = sale(f"mix-{i}", moment, [(BALANCE, 1)], customer_id=w.cid, spend=300)
            return _in_session(pg_sessions, lambda s: commit_sale(s, w.tid, SOURCE, req, body))
        return _in_session(pg_sessions, lambda s: adjust_bonuses(
            s, w.tid, w.cid, amount=-300, kind="manual", reason="debit", valid_days=None,
            moment=moment, idempotency_key=f"debit-{i}", source=SOURCE, body={"i": i}))

    results = _all_at_once(THREADS, work)
    ok = [r for r in results if r[0] == "ok"]
    errors = [r[1] for r in results if r[0] == "err"]
    assert len(ok) == BALANCE // 300
    assert all(isinstance(e, Invalid) and e.code in ("spend_not_allowed", "insufficient_bonuses")
               for e in errors), errors[:3]
    cached, view = _check_clean(pg_sessions, w, moment)
    assert cached == view.balance and view.available == BALANCE - 300 * len(ok) >= 0


def test_parallel_commits_of_the_same_receipt_create_it_once(pg_sessions):
    w = _world(pg_sessions)
    moment = T0 + timedelta(hours=2)
    req, body = sale("same-receipt", moment, [(BALANCE, 2)], customer_id=w.cid, spend=700,
                     store="S1", cashier="C1")

    results = _all_at_once(THREADS, lambda i: _in_session(
        pg_sessions, lambda s: commit_sale(s, w.tid, SOURCE, req, body)))
    errors = [r[1] for r in results if r[0] == "err"]
    assert not errors, errors[:3]
    answers = [r[1] for r in results]
    assert sum(created for _a, created in answers) == 1
    first = next(a for a, created in answers if created)
    assert all(a == first for a, _created in answers)
    assert first["totals"]["bonus_spent"] == 700

    def facts(s):
        return (s.scalar(select(func.count()).select_from(Receipt).where(Receipt.tenant_id == w.tid)),
                s.scalar(select(func.count()).select_from(Operation).where(Operation.tenant_id == w.tid)),
                s.scalar(select(func.count()).select_from(Posting).where(
                    Posting.tenant_id == w.tid, Posting.kind.in_(("spend", "accrual")))),
                s.scalar(select(Customer.purchase_count).where(Customer.id == w.cid)))
    assert _in_session(pg_sessions, facts) == (1, 1, 2, 1)
    cached, view = _check_clean(pg_sessions, w, moment)
    assert view.available == BALANCE - 700 and cached == view.balance


def test_parallel_returns_of_the_same_sale_give_back_once(pg_sessions):
    w = _world(pg_sessions)
    moment = T0 + timedelta(hours=2)
    _in_session(pg_sessions, lambda s: commit_sale(
        s, w.tid, SOURCE, *sale("to-return", moment, [(BALANCE, 3)], customer_id=w.cid, spend=900)))

    # Ten tills return one unit each with their own ids; ten more replay one id.
    def work(i: int):
        rid = f"ret-{i}" if i < 10 else "ret-same"
        req, body = return_of(rid, moment + timedelta(hours=1), {"1": 1})
        return _in_session(pg_sessions, lambda s: return_sale(s, w.tid, SOURCE, "to-return", req, body))

    results = _all_at_once(THREADS, work)
    ok = [r[1] for r in results if r[0] == "ok"]
    errors = [r[1] for r in results if r[0] == "err"]
    assert all(isinstance(e, Invalid) and e.code == "return_exceeds_sale" for e in errors), errors[:3]
    created = [a for a, c in ok if c]
    assert len(created) == 3                      # three units were sold
    assert sum(a["bonus_spent_restored"] for a in created) == 900
    cached, view = _check_clean(pg_sessions, w, moment + timedelta(hours=1))
    assert view.available == BALANCE and cached == view.balance


def _run(pg_sessions, op):
    """One POS call in its own session: ("ok", answer, created) or ("err", code)."""
    def call(s):
        if op["kind"] == "sale":
            return commit_sale(s, op["tid"], SOURCE, op["req"], op["body"])
        return return_sale(s, op["tid"], SOURCE, op["receipt"], op["req"], op["body"])
    try:
        answer, created = _in_session(pg_sessions, call)
    except DomainError as exc:
        return ("err", exc.code)
    return ("ok", answer, created)


def test_replaying_receipts_and_returns_changes_nothing(pg_sessions):
    w = _world(pg_sessions, balance=50_000, customers=3, activation_delay_days=1,
               expiry_mode="since_last_purchase", lifetime=60, base_spend="50")
    rng = random.Random(20250115)
    moment = T0 + timedelta(hours=1)
    ops: list[dict] = []
    first: list[tuple] = []
    open_sales: dict[str, dict] = {}          # external id -> {position: quantity left}

    for i in range(200):
        moment += timedelta(hours=rng.randint(0, 40))
        if rng.random() < 0.6 or not open_sales:
            cid = rng.choice(w.customers + [None])
            lines = [(rng.randint(100, 200_000), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
            kw: dict = {}
            if cid and rng.random() < 0.6:
                probe, _ = sale(f"p{i}", moment, lines, customer_id=cid)
                allowed = _in_session(pg_sessions, lambda s: calculate_receipt(s, w.tid, probe))[
                    "totals"]["max_spendable"]
                choice = rng.random()
                if choice < 0.3:
                    kw["spend_max"] = True
                elif allowed:
                    kw["spend"] = rng.randint(1, allowed)
            eid = f"sale-{i}"
            req, body = sale(eid, moment, lines, customer_id=cid, store=f"store-{i % 3}", **kw)
            op = {"kind": "sale", "tid": w.tid, "req": req, "body": body}
            result = _run(pg_sessions, op)
            assert result[0] == "ok", result
            open_sales[eid] = {str(n + 1): q for n, (_p, q) in enumerate(lines)}
        else:
            target = rng.choice(sorted(open_sales))
            left = open_sales[target]
            roll = rng.random()
            quantities = None
            if roll < 0.35:
                pass                                        # all that is left
            elif roll < 0.85:
                open_ = [p for p, q in left.items() if q > 0]
                quantities = {p: rng.randint(1, left[p]) for p in rng.sample(open_, rng.randint(1, len(open_)))} if open_ else None
            elif roll < 0.95:
                p = rng.choice(sorted(left))
                quantities = {p: left[p] + 1}                # more than was sold: refused
            else:
                target = "no-such-receipt"
            req, body = return_of(f"ret-{i}", moment, quantities)
            op = {"kind": "return", "tid": w.tid, "receipt": target, "req": req, "body": body}
            result = _run(pg_sessions, op)
            if result[0] == "ok":
                for p, q in (quantities or dict(left)).items():
                    left[p] -= q
                if not any(left.values()):
                    del open_sales[target]
        ops.append(op)
        first.append(result)

    kinds = Counter((op["kind"], r[0]) for op, r in zip(ops, first))
    assert kinds[("sale", "ok")] > 80 and kinds[("return", "ok")] > 30 and kinds[("return", "err")] > 3
    state = _in_session(pg_sessions, lambda s: snapshot(s, w.tid))
    assert len(state["postings"]) > 150

    def same_again(results) -> None:
        for op, before, again in zip(ops, first, results):
            if before[0] == "ok":
                assert again == ("ok", before[1], False), op["body"]["external_id"]
            else:
                assert again == before, op["body"]["external_id"]
        assert _in_session(pg_sessions, lambda s: snapshot(s, w.tid)) == state

    # The second pass, in order, with identical bodies.
    same_again([_run(pg_sessions, op) for op in ops])
    # And once more from eight tills at once.
    with ThreadPoolExecutor(8) as pool:
        same_again(list(pool.map(lambda op: _run(pg_sessions, op), ops)))
    assert _in_session(pg_sessions, lambda s: check_ledger(s, w.tid)) == []


def test_first_receipts_of_a_new_store_from_two_tills_both_commit(pg_sessions, pg_engine):
    w = _world(pg_sessions, balance=0)
    # Another till's first receipt at store NEW is in flight: its store row is not committed.
    other = pg_sessions()
    try:
        ensure_store(other, w.tid, "NEW")
        other.flush()
        outcome: dict = {}

        def till() -> None:
            req, body = sale("first-at-new", T0, [(1_000, 1)], store="NEW")
            try:
                outcome["ok"] = _in_session(pg_sessions, lambda s: commit_sale(s, w.tid, SOURCE, req, body))
            except Exception as exc:  # noqa: BLE001 - an unreadable URL is shown as "?"
                outcome["err"] = exc

        thread = threading.Thread(target=till)
        thread.start()
        deadline = time.monotonic() + 10
        with pg_engine.connect() as conn:       # wait until the till waits on the store row
            while time.monotonic() < deadline and not conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar():
                time.sleep(0.02)
        other.commit()
    finally:
        other.close()
    thread.join(30)
    assert "err" not in outcome, repr(outcome.get("err"))[:300]
    assert outcome["ok"][1] is True
