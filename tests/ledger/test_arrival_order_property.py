"""The same documents in two arrival orders end in the same ledger (issue 17, item 2).

Hypothesis draws a set of dated documents — sales, returns of those sales (full or partial),
gifts and manual credits — spread over 200 days, with a 30- or 120-day lifetime in either
expiry mode, and two random arrival orders (a return always after its sale). Each order is
committed to its own tenant; the hub processes each document when it arrives, never before
its own moment (the clock is the later of the document's moment and the previous arrival).
In one variant the expiry sweep runs before random arrivals (only in the first order).
After both, at the same final moment and a final sweep: equal balance, debt, and lots
(kind, amount, remaining, active-from, burn date), and check-ledger holds.

Spends (sales paying with bonuses) and manual debits are in: a spend dated t draws the lots
alive at t, as of t (hub.ledger.spendable_at), and a part of one burnt since comes out of
what burnt. Sequences where a spend is refused in either order are discarded (assume). With
spends present, documents that draw lots (spends, debits, returns) arrive in moment order,
each after every document dated before it, while purchases without a spend, gifts and
credits may arrive late behind them: the hub does not re-draw a spend already made, so a
drawing document overtaken by an earlier-dated one is outside what the rule promises.

KOPILKA_LEDGER_EXAMPLES sets the examples per backend (default 25, as the other properties).
"""
from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, assume, event, given, note, settings, strategies as st
from sqlalchemy import select

from hub.errors import DomainError
from hub.ledger import account_view, check_ledger
from hub.ledger.models import Account, Lot, Posting
from hub.sweeps import run_due
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from hub.receipts.operations import commit_sale, return_sale
from tests.ledger.helpers import SOURCE, T0, make_tenant, program_settings, return_of, sale

END = T0 + timedelta(days=220)

SPEND = st.sampled_from([0, 100, 700, 2_500])     # kopecks a sale pays with bonuses
DOC = st.one_of(
    st.tuples(st.just("sale"), st.integers(0, 200), st.integers(1_000, 200_000), st.integers(1, 3), SPEND),
    st.tuples(st.just("return"), st.integers(0, 50), st.integers(0, 10**6), st.booleans(), st.just(0)),
    st.tuples(st.just("gift"), st.integers(0, 200), st.integers(100, 5_000), st.integers(5, 60), st.just(0)),
    st.tuples(st.just("credit"), st.integers(0, 200), st.integers(100, 5_000), st.just(0), st.just(0)),
    st.tuples(st.just("debit"), st.integers(0, 200), st.integers(1, 1_500), st.integers(0, 10**6), st.just(1)),
)


class Refused(Exception):
    """A spend or debit the hub refused in this order (the property needs none refused)."""


def _documents(raw: list) -> list[dict]:
    """Dated documents: a return refers to an earlier-listed sale and is dated after it."""
    docs: list[dict] = []
    sales: list[dict] = []
    for kind, a, b, c, spend in raw:
        if kind == "return":
            if not sales:
                continue
            s = sales[b % len(sales)]
            if s["returns"] >= s["qty"]:
                continue
            qty = s["qty"] - s["returns"] if c else 1
            s["returns"] += qty
            docs.append({"id": f"R{len(docs)}", "kind": "return", "sale": s["id"],
                         "at": s["at"] + timedelta(days=a, hours=1), "qty": qty})
        else:
            d = {"id": f"{kind[0].upper()}{len(docs)}", "kind": kind,
                 "at": T0 + timedelta(days=a, minutes=len(docs)), "amount": b, "n": c,
                 "spend": spend}
            if spend and sales:
                # A spend (a sale paying with bonuses, a manual debit) follows an earlier-listed
                # sale within 25 days and takes a share of what it earned, so most sequences
                # refuse no spend in either order.
                ref = sales[(b + c) % len(sales)]
                d["at"] = ref["at"] + timedelta(days=a % 25, hours=2, minutes=len(docs))
                share = max(1, ref["amount"] * ref["qty"] // 10 // 4)
                if kind == "debit":
                    d.update(amount=min(b, share), n=0)
                else:
                    d["spend"] = min(spend, share)
            elif spend:
                d["spend"] = 0
                if kind == "debit":
                    continue
            if kind == "sale":
                d.update(qty=c, returns=0)
                sales.append(d)
            docs.append(d)
    return docs


def _draws(d: dict) -> bool:
    """The document draws lots: a spend, a manual debit, or a return (its reversal)."""
    return d["kind"] in ("return", "debit") or bool(d["kind"] == "sale" and d.get("spend"))


def _order(docs: list[dict], keys: list[int]) -> list[dict]:
    """The documents shuffled by `keys`; each return lands anywhere after its sale and the
    sale's earlier returns.

    With spends among them, the documents that draw lots (spends, debits, returns) arrive in
    the order of their moments, each after every document dated before it; the others
    (purchases without a spend, gifts, credits) arrive anywhere before the first drawing
    document dated after them — so a spend arrives late behind purchases, gifts and credits
    dated after it (lots redated, burnt and revived since its moment), but no drawing
    document overtakes another, and no accrual dated before a spend arrives after it: the
    hub does not re-draw a spend already made (see the module docstring)."""
    rank = {d["id"]: keys[i % len(keys)] for i, d in enumerate(docs)}
    if any(_draws(d) and d["kind"] != "return" for d in docs):
        anchored = sorted((d for d in docs if _draws(d)), key=lambda d: d["at"])
        slots: list[list[dict]] = [[] for _ in range(len(anchored) + 1)]
        for d in (x for x in docs if not _draws(x)):
            latest = sum(1 for a in anchored if a["at"] < d["at"])
            slots[rank[d["id"]] % (latest + 1)].append(d)
        placed = []
        for i, slot in enumerate(slots):
            placed += sorted(slot, key=lambda d: (rank[d["id"]], d["id"]))
            placed += anchored[i:i + 1]
        return placed
    placed = sorted((d for d in docs if d["kind"] != "return"), key=lambda d: (rank[d["id"]], d["id"]))
    for d in (x for x in docs if x["kind"] == "return"):
        after = max(i for i, x in enumerate(placed)
                    if x["id"] == d["sale"] or x.get("sale") == d["sale"])
        placed.insert(after + 1 + rank[d["id"]] % (len(placed) - after), d)
    return placed


def _commit(session, clock, order: list[dict], mode: str, lifetime: int, sweeps: set[int]) -> dict:
    s = program_settings(expiry_mode=mode, lifetime=lifetime, activation_delay_days=0,
                         base_percent="10", base_spend="100", silver_threshold=10**12)
    tid = make_tenant(session, s)
    cid = register_customer(session, tid, {"phone": "+79160002727"}, source=SOURCE, moment=T0).id
    now = T0
    for i, d in enumerate(order):
        now = clock.set(max(now, d["at"]))
        if i in sweeps:
            run_due(session, now, tid)
        if d["kind"] == "sale":
            try:
                commit_sale(session, tid, SOURCE, *sale(d["id"], d["at"], [(d["amount"], d["qty"])],
                                                        customer_id=cid, spend=d["spend"] or None))
            except DomainError as exc:
                raise Refused(exc.code) from exc
        elif d["kind"] == "return":
            return_sale(session, tid, SOURCE, d["sale"], *return_of(d["id"], d["at"], {"1": d["qty"]}))
        else:
            try:
                adjust_bonuses(session, tid, cid, amount=-d["amount"] if d["kind"] == "debit" else d["amount"],
                               kind="gift" if d["kind"] == "gift" else "manual", reason=None,
                               valid_days=d["n"] or None, moment=d["at"], idempotency_key=None,
                               source=SOURCE, body={})
            except DomainError as exc:     # credits are never refused, debits may be
                if d["kind"] != "debit":
                    raise AssertionError(exc.code) from exc
                raise Refused(exc.code) from exc
        assert check_ledger(session, tid) == []
    clock.set(END)
    run_due(session, END, tid)
    assert check_ledger(session, tid) == []
    view = account_view(session, tid, cid, END)
    account = session.scalars(select(Account).where(Account.tenant_id == tid)
                              .execution_options(populate_existing=True)).one()
    # The burn date of a lot that holds nothing any more has no effect, so it is left out; so is
    # a settled debt lot (remaining 0): a return dated t that arrives after a later-dated gift
    # takes the spent part from that gift at once, in the other order it leaves a debt the gift
    # then pays — the same balance, debt and lots, plus a paid-off debt record.
    lots = sorted((lot.kind, lot.amount, lot.remaining, lot.active_from,
                   lot.expires_at if lot.remaining else None)
                  for lot in session.scalars(select(Lot).where(Lot.account_id == account.id)
                                             .execution_options(populate_existing=True))
                  if not (lot.kind == "debt" and lot.remaining == 0))
    corrections = sum(1 for p in session.scalars(select(Posting).where(
        Posting.account_id == account.id, Posting.kind == "expiry", Posting.amount > 0))
        if "spent_at" in (p.meta or {}))
    event(f"a late spend took from what had burnt: {corrections > 0}")
    return {"balance": account.balance, "available": view.available, "debt": view.debt,
            "lots": lots}


# Under CI the examples are the same every run (derandomize): random exploration still finds
# the order-dependence issue 17 leaves open (a drawing document overtaken by an earlier-dated
# one; see the xfail tests in test_arrival_order.py), which must not make a landing flaky.
# Locally, and with KOPILKA_LEDGER_EXAMPLES for deep runs, every run draws new examples.
@settings(max_examples=int(os.environ.get("KOPILKA_LEDGER_EXAMPLES", "25")), deadline=None,
          derandomize=bool(os.environ.get("CI")) and "KOPILKA_LEDGER_EXAMPLES" not in os.environ,
          database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.filter_too_much])
@given(raw=st.lists(DOC, min_size=2, max_size=9),
       mode=st.sampled_from(["since_accrual", "since_last_purchase"]),
       lifetime=st.sampled_from([30, 120]),
       keys=st.tuples(st.lists(st.integers(0, 1000), min_size=9, max_size=9),
                      st.lists(st.integers(0, 1000), min_size=9, max_size=9)),
       sweeps=st.sets(st.integers(0, 12)))
def test_two_arrival_orders_end_in_the_same_ledger(session, clock, raw, mode, lifetime, keys, sweeps):
    docs = _documents(raw)
    for label, k in (("first", keys[0]), ("second", keys[1])):
        note(f"{label} order ({mode}, {lifetime} days, sweeps before {sorted(sweeps) if label == 'first' else []}): "
             + "; ".join(f"{d['id']} {d['kind']} {d['at']:%m-%d %H:%M} "
                         + " ".join(f"{key}={d[key]}" for key in ("amount", "qty", "n", "spend", "sale") if d.get(key))
                         for d in _order(docs, k)))
    try:
        first = _commit(session, clock, _order(docs, keys[0]), mode, lifetime, sweeps)
        second = _commit(session, clock, _order(docs, keys[1]), mode, lifetime, set())
    except Refused:
        session.rollback()
        assume(False)       # a spend refused in one order: not a sequence the property is about
    event(f"spends: {sum(1 for d in docs if d.get('spend') and d['kind'] in ('sale', 'debit'))}")
    assert first == second
