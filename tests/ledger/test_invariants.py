"""The ledger's invariants under random sequences of business operations.

A hypothesis state machine drives the services (register, commit a sale, return goods,
gift / manual credit / manual debit, the expiry sweep, replays of POS calls) for one to
three customers of a fresh tenant, with moments moving forward by random days, and after
every step checks that:

* cached balance = sum of postings = sum of lots' remainders (hub.ledger.check_ledger);
* the available balance never goes below minus the debt;
* the postings of each kind add up to what the answers reported (earned, spent,
  restored, reversed, gifts, credits, debits) and expiry to what the sweep took;
* every posting is matched by its lot draws, lots stay within their amounts;
* customers' purchase statistics follow the sales and returns;
* a domain error (hub.errors.DomainError) leaves everything as it was;
* a replay of a POS call returns the first answer and changes nothing.
"""
from __future__ import annotations

import os

from collections import Counter
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test,
)
from sqlalchemy import func, select

from hub.errors import DomainError
from hub.ledger import account_view, check_ledger
from hub.ledger.models import Account, Lot, LotDraw, Posting
from hub.customers.models import Customer
from hub.sweeps import run_due
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from hub.programs.operations import program_from_settings
from hub.receipts.operations import calculate_receipt, commit_sale, return_sale
from tests.ledger.helpers import (
    SOURCE, T0, make_tenant, posting_sums, program_settings, return_of, sale, snapshot,
    strip_commit_fields,
)

CREDIT_KINDS = ("accrual", "gift", "manual_credit")
EXACT_DRAW_KINDS = ("spend", "manual_debit", "expiry", "restore")
REPORTED_KINDS = ("accrual", "spend", "restore", "reversal", "gift", "manual_credit",
                  "manual_debit", "expiry")

# The suite's default keeps the whole run within CI's time; KOPILKA_LEDGER_EXAMPLES=150 for a deep run.
EXAMPLES = int(os.environ.get("KOPILKA_LEDGER_EXAMPLES", "25"))
MACHINE_SETTINGS = settings(
    max_examples=EXAMPLES, stateful_step_count=25, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def build_machine(session, clock):  # one closure over the test's session
    class LedgerMachine(RuleBasedStateMachine):
        @property
        def moment(self):
            return self._moment

        @moment.setter
        def moment(self, value) -> None:
            # The hub processes each operation at its own moment (the clock moves with it).
            self._moment = clock.set(value)

        def __init__(self) -> None:
            super().__init__()
            self.tid: str | None = None
            self.moment = T0
            self.seq = 0
            self.customers: list[str] = []
            self.phones: dict[str, str] = {}
            self.expected: dict[str, Counter] = {}      # customer -> posting kind -> sum
            self.total: dict[str, int] = {}             # customer -> net purchases
            self.count: dict[str, int] = {}             # customer -> purchases not fully returned
            self.last_purchase: dict[str, object] = {}
            self.sales: list[dict] = []
            self.replayable: list[tuple[str, object, dict]] = []   # (what, call, first answer)
            self.expired_lots = 0

        # -- helpers -------------------------------------------------------------------

        def _next(self, prefix: str) -> str:
            self.seq += 1
            return f"{prefix}{self.seq}"

        def _fails(self, call, code: str) -> None:
            """The call raises the domain error `code` and leaves everything as it was."""
            before = snapshot(session, self.tid)
            with pytest.raises(DomainError) as info:
                call()
            assert info.value.code == code, (info.value.code, info.value.message)
            event(f"error {code}")
            assert snapshot(session, self.tid) == before, f"{code} changed the state"

        def _expiry_postings(self) -> int:
            return session.scalar(select(func.count()).select_from(Posting).where(
                Posting.tenant_id == self.tid, Posting.kind == "expiry"))

        def _view(self, cid: str):
            return account_view(session, self.tid, cid, self.moment)

        def _register(self) -> None:
            n = len(self.customers) + 1
            phone = f"+7916{self.seq:04d}{n:03d}"
            customer = register_customer(session, self.tid, {"phone": phone}, source=SOURCE,
                                         moment=self.moment)
            cid = customer.id
            self.customers.append(cid)
            self.phones[cid] = phone
            self.expected[cid] = Counter()
            self.total[cid] = 0
            self.count[cid] = 0
            self.last_purchase[cid] = None

        def _check_sale_lot(self, answer: dict, level_before: str) -> None:
            """The sale's lot starts and burns when the answer told the till."""
            lot = session.execute(
                select(Lot.amount, Lot.active_from, Lot.expires_at)
                .join(Posting, Posting.id == Lot.posting_id)
                .where(Posting.receipt_id == answer["id"], Posting.kind == "accrual")).one()
            told = [None if v is None else datetime.fromisoformat(v) for v in
                    (answer["bonus_earned_active_from"], answer["bonus_earned_expires_at"])]
            assert (lot.amount, lot.active_from) == (answer["totals"]["bonus_earned"], told[0])
            if (self.settings["expiry_mode"] == "since_last_purchase"
                    and answer["customer"]["level_after"]["code"] != level_before):
                # A level-up redates with the new level's lifetime and the answer misses it:
                # test_the_burn_date_a_sale_answers_is_its_lots.
                return
            assert lot.expires_at == told[1]

        def _pick(self, who: int) -> str:
            return self.customers[who % len(self.customers)]

        # -- set-up --------------------------------------------------------------------

        @initialize(mode=st.sampled_from(["since_accrual", "since_last_purchase"]),
                    delay=st.sampled_from([1, 2, 0]),
                    ptype=st.sampled_from(["bonus_discount", "bonus"]),
                    customers=st.integers(1, 3))
        def setup(self, mode: str, delay: int, ptype: str, customers: int) -> None:
            self.settings = program_settings(expiry_mode=mode, activation_delay_days=delay,
                                             type_=ptype)
            self.program = program_from_settings(self.settings)
            self.tid = make_tenant(session, self.settings)
            for _ in range(customers):
                self._register()

        # -- rules ---------------------------------------------------------------------

        @rule(days=st.integers(0, 70), minutes=st.integers(0, 24 * 60), sweep=st.booleans())
        def wait(self, days: int, minutes: int, sweep: bool) -> None:
            self.moment += timedelta(days=days, minutes=minutes)
            if sweep:
                self._expire()

        @rule(who=st.integers(-1, 2),
              lines=st.lists(st.tuples(st.integers(1, 250_000), st.integers(1, 3)),
                             min_size=1, max_size=3),
              how=st.sampled_from(["none", "part", "max", "all_allowed", "too_much"]),
              pct=st.integers(0, 100), extra=st.integers(1, 5_000),
              days=st.integers(0, 30))
        def sell(self, days: int, who: int, lines: list, how: str, pct: int, extra: int) -> None:
            self.moment += timedelta(days=days)
            self._sell(who, lines, how, pct, extra)

        @rule(who=st.integers(0, 2),
              lines=st.lists(st.tuples(st.integers(1, 250_000), st.integers(1, 3)),
                             min_size=1, max_size=3),
              how=st.sampled_from(["max", "part", "all_allowed", "none"]), pct=st.integers(0, 100),
              days=st.integers(0, 30))
        def sell_to_customer(self, days: int, who: int, lines: list, how: str, pct: int) -> None:
            self.moment += timedelta(days=days)
            self._sell(who, lines, how, pct, 1)

        def _sell(self, who: int, lines: list, how: str, pct: int, extra: int) -> None:
            cid = None if who < 0 else self._pick(who)
            eid = self._next("S")
            probe, _ = sale(eid, self.moment, lines, customer_id=cid)
            before = snapshot(session, self.tid)
            allowed = calculate_receipt(session, self.tid, probe)["totals"]["max_spendable"]
            assert snapshot(session, self.tid) == before, "calculate changed the state"
            if cid is None:
                assert allowed == 0
            kw: dict = {}
            expect = None
            if how == "part":
                kw["spend"] = allowed * pct // 100
            elif how == "max":
                kw["spend_max"] = True
            elif how == "all_allowed":
                kw["spend"] = allowed
            elif how == "too_much":
                kw["spend"] = allowed + extra
                expect = "spend_not_allowed"
            if cid is None and (kw.get("spend") or kw.get("spend_max")):
                expect = "customer_required"
            req, body = sale(eid, self.moment, lines, customer_id=cid, **kw)
            call = lambda: commit_sale(session, self.tid, SOURCE, req, body)
            if expect:
                self._fails(call, expect)
                return
            view_before = self._view(cid) if cid else None
            quoted = calculate_receipt(session, self.tid, req)
            answer, created = call()
            assert created
            event(f"sale spent={answer['totals']['bonus_spent'] > 0} "
                  f"level discount={answer['totals']['level_discount'] > 0}")
            # Invariant 5: commit re-runs the very calculation.
            assert strip_commit_fields(answer) == quoted
            totals = answer["totals"]
            assert totals["bonus_spent"] == (allowed if kw.get("spend_max") else kw.get("spend") or 0)
            assert totals["amount"] == sum(p * q for p, q in lines)
            assert totals["amount_to_pay"] == totals["amount"] - totals["level_discount"] - totals["bonus_spent"]
            assert answer["external_id"] == eid
            if cid:
                self.expected[cid]["accrual"] += totals["bonus_earned"]
                self.expected[cid]["spend"] -= totals["bonus_spent"]
                self.total[cid] += totals["amount_to_pay"]
                self.count[cid] += 1
                self.last_purchase[cid] = max(filter(None, (self.last_purchase[cid], self.moment)))
                if totals["bonus_earned"]:
                    self._check_sale_lot(answer, level_before=answer["customer"]["level"]["code"])
                after = self._view(cid)
                assert answer["customer"]["balance"] == view_before.available
                active_from = answer["bonus_earned_active_from"]
                if not (view_before.debt and active_from
                        and datetime.fromisoformat(active_from) > self.moment):
                    # (With a debt, a pending accrual pays it at once and balance_after
                    # misses that: test_balance_after_counts_the_debt_a_pending_accrual_pays.)
                    assert answer["customer"]["balance_after"] == after.available
                assert answer["customer"]["level_after"]["code"] == \
                    self.program.level_for(self.total[cid]).code
            else:
                assert answer["customer"] is None
            self.sales.append({
                "eid": eid, "cid": cid, "answer": answer,
                "qty": {str(i + 1): q for i, (_p, q) in enumerate(lines)},
                "returned": {str(i + 1): 0 for i in range(len(lines))},
                "restored": 0, "reversed": 0, "money": 0})
            self.replayable.append(("sale " + eid, call, answer))

        @precondition(lambda self: self.sales)
        @rule(which=st.integers(0, 10**6),
              mode=st.sampled_from(["all", "partial", "partial", "too_much", "unknown", "again"]), data=st.data(),
              days=st.integers(0, 30))
        def give_back(self, days: int, which: int, mode: str, data) -> None:
            self.moment += timedelta(days=days)
            pool = self.sales
            if mode in ("all", "partial"):   # mostly sales with something left to return
                pool = [x for x in self.sales if x["returned"] != x["qty"]] or self.sales
            s = pool[which % len(pool)]
            left = {pid: s["qty"][pid] - s["returned"][pid] for pid in s["qty"]}
            open_ = sorted(pid for pid, q in left.items() if q > 0)
            eid = self._next("R")
            expect = None
            quantities = None
            receipt = s["eid"]
            if mode in ("all", "again") or (mode == "partial" and not open_):
                expect = None if open_ else "nothing_to_return"
            elif mode == "partial":
                chosen = data.draw(st.lists(st.sampled_from(open_), min_size=1, unique=True))
                quantities = {pid: data.draw(st.integers(1, left[pid])) for pid in chosen}
            elif mode == "too_much":
                pid = data.draw(st.sampled_from(sorted(left)))
                quantities = {pid: left[pid] + 1}
                expect = "return_exceeds_sale"
            elif which % 2:
                quantities = {"99": 1}
                expect = "unknown_position"
            else:
                receipt = "no-such-receipt"
                expect = "receipt_not_found"
            req, body = return_of(eid, self.moment, quantities)
            call = lambda: return_sale(session, self.tid, SOURCE, receipt, req, body)
            if expect:
                self._fails(call, expect)
                return
            sums_before = posting_sums(session, self.tid, s["cid"]) if s["cid"] else {}
            count_before = self._expiry_postings()
            answer, created = call()
            assert created
            now = quantities or {pid: q for pid, q in left.items() if q > 0}
            for pid, q in now.items():
                s["returned"][pid] += q
            s["restored"] += answer["bonus_spent_restored"]
            s["reversed"] += answer["bonus_earned_reversed"]
            s["money"] += answer["amount_returned"]
            totals = s["answer"]["totals"]
            assert 0 <= s["restored"] <= totals["bonus_spent"]
            assert 0 <= s["reversed"] <= totals["bonus_earned"]
            assert 0 <= s["money"] <= totals["amount_to_pay"]
            fully = all(s["returned"][pid] == s["qty"][pid] for pid in s["qty"])
            event(f"return restored={answer['bonus_spent_restored'] > 0} "
                  f"reversed={answer['bonus_earned_reversed'] > 0}")
            if fully:   # in any number of steps, exactly what the sale recorded
                assert (s["restored"], s["reversed"], s["money"]) == \
                    (totals["bonus_spent"], totals["bonus_earned"], totals["amount_to_pay"])
            cid = s["cid"]
            if cid:
                self.expected[cid]["restore"] += answer["bonus_spent_restored"]
                # Burnt bonuses of the sale's own lot are not taken back, and restored parts of
                # burnt lots burn at once: the postings say how much of each.
                sums = posting_sums(session, self.tid, cid)
                taken = sums.get("reversal", 0) - sums_before.get("reversal", 0)
                assert -answer["bonus_earned_reversed"] <= taken <= 0
                self.expected[cid]["reversal"] += taken
                burnt_now = sums.get("expiry", 0) - sums_before.get("expiry", 0)
                assert -answer["bonus_spent_restored"] <= burnt_now <= 0
                self.expected[cid]["expiry"] += burnt_now
                self.expired_lots += self._expiry_postings() - count_before
                self.total[cid] -= answer["amount_returned"]
                if fully:
                    self.count[cid] -= 1
                view = self._view(cid)
                assert answer["customer"]["balance"] == view.available
                assert answer["customer"]["debt"] == view.debt
                assert answer["customer"]["level"]["code"] == \
                    self.program.level_for(self.total[cid]).code
            else:
                assert answer["customer"] is None
            self.replayable.append(("return " + eid, call, answer))

        def _adjust(self, cid: str, amount: int, kind: str, valid_days, keyed: bool):
            key = self._next("B") if keyed else None
            body = {"amount": amount, "kind": kind, "valid_days": valid_days,
                    "moment": self.moment.isoformat(), "key": key}
            moment = self.moment
            call = lambda: adjust_bonuses(
                session, self.tid, cid, amount=amount, kind=kind, reason=f"test {kind}",
                valid_days=valid_days, moment=moment, idempotency_key=key, source=SOURCE,
                body=body)
            return call, key

        def _adjusted(self, cid: str, call, keyed: bool, posting_kind: str, amount: int) -> None:
            answer, created = call()
            assert created
            assert answer["kind"] == posting_kind and answer["amount"] == amount
            view = self._view(cid)
            assert answer["balance"] == {"available": view.available, "pending": view.pending}
            self.expected[cid][posting_kind] += amount
            if keyed:
                self.replayable.append((f"{posting_kind} {amount}", call, answer))

        @rule(who=st.integers(0, 2), kind=st.sampled_from(["gift", "manual"]),
              amount=st.integers(1, 50_000), valid_days=st.one_of(st.none(), st.integers(1, 60)),
              keyed=st.booleans(),
              days=st.integers(0, 30))
        def credit(self, days: int, who: int, kind: str, amount: int, valid_days, keyed: bool) -> None:
            self.moment += timedelta(days=days)
            cid = self._pick(who)
            call, _ = self._adjust(cid, amount, kind, valid_days, keyed)
            if kind == "gift" and valid_days is None:
                self._fails(call, "valid_days_required")
                return
            self._adjusted(cid, call, keyed, "gift" if kind == "gift" else "manual_credit", amount)

        @rule(who=st.integers(0, 2), amount=st.integers(1, 60_000),
              how=st.sampled_from(["part", "all", "more", "any"]), keyed=st.booleans(),
              days=st.integers(0, 30))
        def debit(self, days: int, who: int, amount: int, how: str, keyed: bool) -> None:
            self.moment += timedelta(days=days)
            cid = self._pick(who)
            available = self._view(cid).available
            if how == "part" and available > 1:
                amount = 1 + amount % (available - 1)
            elif how == "all" and available > 0:
                amount = available
            elif how == "more":
                amount = max(available, 0) + 1 + amount % 100
            call, _ = self._adjust(cid, -amount, "manual", None, keyed)
            if amount > available:
                self._fails(call, "insufficient_bonuses")
                return
            self._adjusted(cid, call, keyed, "manual_debit", -amount)

        def _expire(self) -> None:
            # What the sweep must take: every lot past its date with something left in it.
            due = session.execute(
                select(Account.customer_id, func.count(), func.sum(Lot.remaining))
                .join(Account, Account.id == Lot.account_id)
                .where(Lot.tenant_id == self.tid, Lot.remaining > 0, Lot.expires_at <= self.moment)
                .group_by(Account.customer_id)).all()
            result = run_due(session, self.moment, self.tid)
            assert result["expired_lots"] == sum(n for _c, n, _s in due)
            self.expired_lots += result["expired_lots"]
            event(f"expired lots > 0: {result['expired_lots'] > 0}")
            for cid, _n, total in due:
                self.expected[cid]["expiry"] -= int(total)
            before = snapshot(session, self.tid)
            assert run_due(session, self.moment, self.tid)["expired_lots"] == 0, "not idempotent"
            assert snapshot(session, self.tid) == before
            left = session.scalar(select(func.count()).select_from(Lot).where(
                Lot.tenant_id == self.tid, Lot.remaining > 0, Lot.expires_at <= self.moment))
            assert left == 0

        @precondition(lambda self: self.replayable)
        @rule(which=st.integers(0, 10**6),
              variant=st.sampled_from(["same", "same", "other_body", "duplicate_phone"]))
        def replay(self, which: int, variant: str) -> None:
            if variant == "other_body" and self.sales:
                # The same key with a different body is a conflict, and changes nothing.
                s = self.sales[which % len(self.sales)]
                req, body = sale(s["eid"], self.moment, [(99, 1)], customer_id=s["cid"])
                self._fails(lambda: commit_sale(session, self.tid, SOURCE, req, body),
                            "idempotency_conflict")
                return
            if variant == "duplicate_phone":
                phone = self.phones[self._pick(which)]
                self._fails(lambda: register_customer(session, self.tid, {"phone": phone},
                                                      source=SOURCE, moment=self.moment),
                            "customer_exists")
                return
            what, call, first = self.replayable[which % len(self.replayable)]
            before = snapshot(session, self.tid)
            answer, created = call()
            assert not created, what
            assert answer == first, what
            assert snapshot(session, self.tid) == before, what

        # -- invariants ----------------------------------------------------------------

        @invariant()
        def ledger_agrees(self) -> None:
            if self.tid is None:
                return
            assert check_ledger(session, self.tid) == []
            for cid in self.customers:
                view = self._view(cid)
                assert view.available >= -view.debt
                assert view.balance >= -view.debt
                sums = posting_sums(session, self.tid, cid)
                assert set(sums) <= set(REPORTED_KINDS), sums
                for kind in REPORTED_KINDS:
                    assert sums.get(kind, 0) == self.expected[cid][kind], (kind, sums, self.expected[cid])
                cached = session.scalar(select(Account.balance).where(Account.customer_id == cid))
                # Burnt lots are not in the balance, swept or not (no holds here).
                assert cached == view.balance + view.burnt == sum(sums.values())
                stats = session.execute(select(Customer.total_purchases, Customer.purchase_count,
                                               Customer.level_code, Customer.last_purchase_at)
                                        .where(Customer.id == cid)).one()
                assert tuple(stats) == (self.total[cid], self.count[cid],
                                        self.program.level_for(self.total[cid]).code,
                                        self.last_purchase[cid])

        @invariant()
        def postings_match_their_draws(self) -> None:
            if self.tid is None:
                return
            created_lots = {pid: (kind, amount) for pid, kind, amount in session.execute(
                select(Lot.posting_id, Lot.kind, Lot.amount).where(Lot.tenant_id == self.tid))}
            drawn = (select(LotDraw.posting_id, func.sum(LotDraw.amount).label("s"))
                     .where(LotDraw.tenant_id == self.tid).group_by(LotDraw.posting_id).subquery())
            for pid, kind, amount, draws in session.execute(
                    select(Posting.id, Posting.kind, Posting.amount, func.coalesce(drawn.c.s, 0))
                    .outerjoin(drawn, drawn.c.posting_id == Posting.id)
                    .where(Posting.tenant_id == self.tid)):
                draws = int(draws)
                if kind in EXACT_DRAW_KINDS:
                    assert draws == amount and pid not in created_lots, (kind, amount, draws)
                elif kind == "reversal":   # taken from lots, the rest as a debt lot
                    debt = created_lots.get(pid, ("debt", 0))
                    assert debt[0] == "debt" and draws + debt[1] == amount, (amount, draws, debt)
                else:
                    assert kind in CREDIT_KINDS
                    assert created_lots[pid][1] == amount and 0 <= draws <= amount
            for kind, amount, remaining in session.execute(
                    select(Lot.kind, Lot.amount, Lot.remaining).where(Lot.tenant_id == self.tid)):
                if kind == "debt":
                    assert amount <= remaining <= 0
                else:
                    assert 0 <= remaining <= amount
            # Expiry is written at the moment the lot burnt (or, for a part restored to a lot
            # already burnt, at the return that restored it).
            for moment, expires_at in session.execute(
                    select(Posting.moment, Lot.expires_at)
                    .join(LotDraw, LotDraw.posting_id == Posting.id)
                    .join(Lot, Lot.id == LotDraw.lot_id)
                    .where(Posting.tenant_id == self.tid, Posting.kind == "expiry")):
                assert moment >= expires_at
            n = session.scalar(select(func.count()).select_from(Posting).where(
                Posting.tenant_id == self.tid, Posting.kind == "expiry"))
            assert n == self.expired_lots

    return LedgerMachine


def test_ledger_invariants_hold_under_random_operations(session, clock):
    run_state_machine_as_test(build_machine(session, clock), settings=MACHINE_SETTINGS)


def test_balance_after_counts_the_debt_a_pending_accrual_pays(session, clock):
    tid = make_tenant(session, program_settings(activation_delay_days=1, base_spend="100"))
    c = register_customer(session, tid, {"phone": "+79160000077"}, source=SOURCE, moment=T0)
    commit_sale(session, tid, SOURCE, *sale("A", T0, [(100_000, 1)], customer_id=c.id))  # +5000
    day = timedelta(days=1)
    commit_sale(session, tid, SOURCE, *sale("B", clock.set(T0 + day), [(5_000, 1)],
                                            customer_id=c.id, spend=5_000))
    r, _ = return_sale(session, tid, SOURCE, "A", *return_of("RA", clock.set(T0 + 2 * day)))
    assert (r["customer"]["balance"], r["customer"]["debt"]) == (-5_000, 5_000)
    answer, _ = commit_sale(session, tid, SOURCE, *sale("C", clock.set(T0 + 3 * day), [(20_000, 1)],
                                                        customer_id=c.id))
    assert answer["totals"]["bonus_earned"] == 1_000
    after = account_view(session, tid, c.id, T0 + 3 * day)
    assert (after.available, after.debt, after.pending) == (-4_000, 4_000, 0)
    assert answer["customer"]["balance_after"] == after.available      # answered: -5000


def test_the_burn_date_a_sale_answers_is_its_lots(session):
    tid = make_tenant(session, program_settings(expiry_mode="since_last_purchase", lifetime=60,
                                                silver_lifetime=30, activation_delay_days=0,
                                                silver_threshold=300_000))
    c = register_customer(session, tid, {"phone": "+79160000078"}, source=SOURCE, moment=T0)
    answer, _ = commit_sale(session, tid, SOURCE, *sale("A", T0, [(400_000, 1)], customer_id=c.id))
    assert (answer["customer"]["level"]["code"], answer["customer"]["level_after"]["code"]) == \
        ("base", "silver")
    expires_at = session.scalar(
        select(Lot.expires_at).join(Posting, Posting.id == Lot.posting_id)
        .where(Posting.receipt_id == answer["id"], Posting.kind == "accrual"))
    # answered: 60 days (base); the lot burns after 30 (silver)
    assert datetime.fromisoformat(answer["bonus_earned_expires_at"]) == expires_at
