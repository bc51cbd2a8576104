"""Postings: every change of a balance, with the lots it creates or draws from.

Callers hold the account's lock (lock_account) for the whole transaction. Each function
writes one posting (plus, where a part given back lands in a burnt lot, the expiry posting
that burns it at once), moves lot remainders to match, and keeps the cached balance equal
to the sum of postings, which equals the sum of lot remainders.

Sweep independence: a lot whose expiry moment has passed is burnt, whether or not the
sweep (`expire_due`) has written its expiry posting yet. Every choice below is made from
the documents' moments and the moment the hub processes the operation (`now`, by default
the one clock), never from whether the sweep already ran; the sweep only writes down what
is already true. The operation's own moment dates its postings and the lots it creates.
Arrival order: a spend (or manual debit) dated t draws the lots alive at t, as of t
(`spendable_at`), and a purchase dated t redates the lots alive at t (`redate_lots`), so a
late document ends where an on-time one would have; what a return takes back and where
restored bonuses go are decided at `now`.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.ledger.accounts import lock_account
from hub.ledger.models import Account, Lot, LotDraw, Posting
from hub.orm import new_id


class InsufficientBonuses(Exception):
    def __init__(self, requested: int, available: int):
        super().__init__(f"requested {requested}, available {available}")
        self.requested = requested
        self.available = available


def burnt(lot: Lot, at: datetime) -> bool:
    """The lot's expiry moment has passed at `at` (swept or not)."""
    return lot.expires_at is not None and lot.expires_at <= at


def _now(now: datetime | None) -> datetime:
    return utcnow() if now is None else now


def _post(session: Session, account: Account, kind: str, amount: int, moment: datetime,
          **fields) -> Posting:
    posting = Posting(id=new_id(), tenant_id=account.tenant_id, account_id=account.id,
                      kind=kind, amount=amount, moment=moment, **fields)
    session.add(posting)
    account.balance += amount
    return posting


def _draw(session: Session, posting: Posting, lot: Lot, amount: int) -> None:
    lot.remaining += amount
    session.add(LotDraw(tenant_id=lot.tenant_id, posting=posting, lot=lot, amount=amount))


def _lots(session: Session, account: Account, *conditions) -> list[Lot]:
    return list(session.scalars(
        select(Lot).where(Lot.account_id == account.id, *conditions)
        .order_by(Lot.expires_at.is_(None), Lot.expires_at, Lot.active_from, Lot.created_at, Lot.id)))


def _give_back(session: Session, account: Account, posting: Posting,
               parts: list[tuple[Lot, int]], at: datetime) -> None:
    """Give `parts` back to their lots; a part whose lot has burnt by `at` burns at once,
    in sight: an expiry posting right after the one that gave it back."""
    for lot, amount in parts:
        _draw(session, posting, lot, amount)
    for lot, amount in parts:
        if amount > 0 and burnt(lot, at):
            expiry = _post(session, account, "expiry", -amount, max(posting.moment, lot.expires_at),
                           meta={"lot_id": lot.id, "after": posting.id})
            _draw(session, expiry, lot, -amount)


def _written_off(session: Session, lot_ids: list[str]) -> dict[str, int]:
    """What expiry postings took from each lot, net of what revivals and corrections gave back."""
    if not lot_ids:
        return {}
    rows = session.execute(
        select(LotDraw.lot_id, func.sum(LotDraw.amount))
        .join(Posting, Posting.id == LotDraw.posting_id)
        .where(LotDraw.lot_id.in_(lot_ids), Posting.kind == "expiry").group_by(LotDraw.lot_id))
    return {lot_id: -int(total) for lot_id, total in rows if int(total) < 0}


BurnDateAt = Callable[[Lot, datetime], "datetime | None"]


def spendable_at(session: Session, account: Account, moment: datetime,
                 now: datetime | None = None, *, dated: BurnDateAt | None = None
                 ) -> tuple[list[tuple[Lot, int]], int]:
    """What a spend dated `moment` may draw, processed at `now`, in drawing order, each lot
    with what it can give, and the total available (their sum less every outstanding debt,
    whenever it arose). First the lots alive at `moment` (accrued by it, active at it, not
    burnt at it), each with what it holds now plus, if it has burnt since, what burnt (swept
    or not); then the other lots active and not burnt at `now`.

    Drawing order is the burn date as it stood at `moment` (`dated(lot, accrued_at)`; by
    default the lot's burn date, which only since-last-purchase lots change), then the
    activation moment, the accrual's moment and the id — all fixed by the documents, not by
    when they arrived, so an on-time and a late spend draw the same lots."""
    now = _now(now)
    rows = session.execute(
        select(Lot, Posting.moment).join(Posting, Posting.id == Lot.posting_id)
        .where(Lot.account_id == account.id, Lot.amount > 0, Posting.moment <= moment,
               Lot.active_from <= moment)).all()
    alive = [(lot, at) for lot, at in rows if not burnt(lot, moment)]

    def order(item: tuple[Lot, datetime]) -> tuple:
        lot, at = item
        date = lot.expires_at if dated is None else dated(lot, at)
        return (date is None, date or at, lot.active_from, at, lot.id)

    gone = _written_off(session, [lot.id for lot, _ in alive if burnt(lot, now)])
    parts = [(lot, lot.remaining + gone.get(lot.id, 0)) for lot, _ in sorted(alive, key=order)]
    parts = [(lot, can) for lot, can in parts if can > 0]
    # Then what the ledger holds now beyond them (active and not burnt at `now`): a till
    # whose clock runs behind, or a document dated before a credit it means to spend, is not
    # refused. Only a spend that needs these depends on when it arrives.
    seen = {lot.id for lot, _ in parts}
    parts += [(lot, lot.remaining) for lot in _lots(session, account, Lot.remaining > 0)
              if lot.id not in seen and lot.active_from <= now and not burnt(lot, now)]
    debt = int(session.scalar(select(func.coalesce(func.sum(Lot.remaining), 0))
                              .where(Lot.account_id == account.id, Lot.remaining < 0)) or 0)
    return parts, sum(can for _, can in parts) + debt


def accrue(session: Session, account: Account, amount: int, moment: datetime, *,
           active_from: datetime, expires_at: datetime | None, kind: str = "accrual",
           lot_kind: str = "purchase", follows_purchases: bool = False,
           now: datetime | None = None, **fields) -> Posting:
    """Credit bonuses as a new lot; an outstanding debt is paid from it first — unless the
    lot has already burnt when the hub processes it (`now`): a late receipt whose bonuses
    burnt before it arrived pays nothing, as it would have paid nothing had it arrived on
    time and the debt come after (the return would not take back burnt bonuses)."""
    if amount <= 0:
        raise ValueError("an accrual must be positive")
    posting = _post(session, account, kind, amount, moment, **fields)
    left = amount
    dead = expires_at is not None and expires_at <= _now(now)
    for debt in ([] if dead else _lots(session, account, Lot.remaining < 0)):
        pay = min(left, -debt.remaining)
        _draw(session, posting, debt, pay)
        left -= pay
        if not left:
            break
    session.add(Lot(tenant_id=account.tenant_id, account_id=account.id, posting=posting,
                    kind=lot_kind, amount=amount, remaining=left, active_from=active_from,
                    expires_at=expires_at, follows_purchases=follows_purchases))
    return posting


def spend(session: Session, account: Account, amount: int, moment: datetime, *,
          kind: str = "spend", now: datetime | None = None, dated: BurnDateAt | None = None,
          **fields) -> Posting:
    """Debit bonuses as of the operation's own `moment`, remembering the lots drawn.

    A spend dated t draws from the lots alive at t, soonest-burning first as of t
    (`spendable_at`), whenever it arrives: as long as they cover it, the result does not
    depend on the order the documents arrive in. Beyond them it draws the other lots the
    ledger holds at `now`; what it may take in all is what those lots hold (not spent since)
    less every outstanding debt; more is refused (InsufficientBonuses). A part drawn from a
    lot that has burnt since t comes out of what burnt: if the expiry is already written, a
    positive "expiry" posting dated t gives that part back first (append-only), then the
    spend draws it — as if the spend had arrived on time, before the lot burnt."""
    if amount <= 0:
        raise ValueError("a debit must be positive")
    now = _now(now)
    parts, available = spendable_at(session, account, moment, now, dated=dated)
    if amount > available:
        raise InsufficientBonuses(amount, max(available, 0))
    plan: list[tuple[Lot, int]] = []
    left = amount
    for lot, can in parts:
        take = min(left, can)
        plan.append((lot, take))
        left -= take
        if not left:
            break
    for lot, take in plan:
        back = take - max(lot.remaining, 0)
        if back > 0:      # burnt since t and written off: that part comes back to be spent
            correction = _post(session, account, "expiry", back, moment,
                               meta={"lot_id": lot.id, "spent_at": moment.isoformat()})
            _draw(session, correction, lot, back)
    posting = _post(session, account, kind, -amount, moment, **fields)
    for lot, take in plan:
        _draw(session, posting, lot, -take)
    return posting


def debit(session: Session, account: Account, amount: int, moment: datetime, *,
          now: datetime | None = None, dated: BurnDateAt | None = None, **fields) -> Posting:
    """A manual debit: the same rule as a spend (`spend`), dated `moment`."""
    return spend(session, account, amount, moment, kind="manual_debit", now=now, dated=dated,
                 **fields)


def restore(session: Session, account: Account, amount: int, moment: datetime, *,
            receipt_id: str, now: datetime | None = None, grace_until: datetime | None = None,
            **fields) -> Posting | None:
    """Give spent bonuses back to the very lots the receipt's spending drew from.

    Latest-expiring lots first (a partial return favours the customer); each part keeps
    its lot's expiry. A part whose lot has burnt by `now` is restored and burns at once
    (a restore and an expiry posting), unless `grace_until` is given and still ahead: then
    the burnt lots' parts go to one new "restore" lot that lives until `grace_until`.
    """
    if amount <= 0:
        return None
    now = _now(now)
    ours = (Posting.account_id == account.id, Posting.receipt_id == receipt_id)
    spent_postings = select(Posting.id).where(*ours, Posting.kind.in_(("spend", "restore")))
    room: dict[str, int] = defaultdict(int)
    for draw in session.scalars(select(LotDraw).where(LotDraw.posting_id.in_(spent_postings))):
        room[draw.lot_id] -= draw.amount      # drawn (negative) adds room; restored takes it
    for meta in session.scalars(select(Posting.meta).where(*ours, Posting.kind == "restore")):
        for lot_id, part in ((meta or {}).get("grace") or {}).items():
            room[lot_id] -= int(part)         # restored to a grace lot on this lot's behalf
    lots = [lot for lot in _lots(session, account, Lot.id.in_(list(room))) if room[lot.id] > 0]
    parts: list[tuple[Lot, int]] = []
    left = amount
    for lot in reversed(lots):                # latest-expiring first: the customer's favour
        give = min(left, room[lot.id])
        parts.append((lot, give))
        left -= give
        if not left:
            break
    if left:
        raise ValueError(f"receipt {receipt_id} spent less than {amount} to restore")
    graced = {}
    if grace_until is not None and grace_until > now:
        graced = {lot.id: give for lot, give in parts if burnt(lot, now)}
    if graced:
        fields["meta"] = {**(fields.get("meta") or {}), "grace": graced}
    posting = _post(session, account, "restore", amount, moment, receipt_id=receipt_id, **fields)
    _give_back(session, account, posting, [(lot, give) for lot, give in parts
                                           if lot.id not in graced], now)
    if graced:
        total = sum(graced.values())
        session.add(Lot(tenant_id=account.tenant_id, account_id=account.id, posting=posting,
                        kind="restore", amount=total, remaining=total, active_from=moment,
                        expires_at=grace_until))
    return posting


def reverse_accrual(session: Session, account: Account, amount: int, moment: datetime, *,
                    receipt_id: str, reversed_before: int = 0, now: datetime | None = None,
                    **fields) -> Posting | None:
    """Take back `amount` of what a returned purchase earned (its share for this return).

    First from what is left of the receipt's own lot; the part of that lot that burnt is
    not taken back (the customer never had the use of it); the rest — what the customer
    spent — from the balance: the other lots not burnt by `now`, active or still pending
    activation alike, soonest-expiring first, and only what they cannot cover becomes a
    debt lot (negative), paid by later accruals.

    `reversed_before` is the sum of the shares earlier returns of this receipt reversed
    (taken or written off as burnt), so the burnt part is written off once in all.
    Returns the posting of what was taken, or None when nothing was (all burnt).
    """
    if amount <= 0:
        return None
    now = _now(now)
    ours = (Posting.account_id == account.id, Posting.receipt_id == receipt_id)
    own = _lots(session, account, Lot.posting_id.in_(
        select(Posting.id).where(*ours, Posting.kind == "accrual")))
    own_ids = [lot.id for lot in own]
    expired = -int(session.scalar(
        select(func.coalesce(func.sum(LotDraw.amount), 0))
        .join(Posting, Posting.id == LotDraw.posting_id)
        .where(LotDraw.lot_id.in_(own_ids), Posting.kind == "expiry")) or 0) if own_ids else 0
    burnt_total = expired + sum(lot.remaining for lot in own
                                if lot.remaining > 0 and burnt(lot, now))
    # Only returns' reversals: `reversed_before` counts returns alone (a sale's settlement,
    # hub.receipts.operations.settle_sale_spend, may reverse part of its accrual too).
    taken_before = -int(session.scalar(select(func.coalesce(func.sum(Posting.amount), 0))
                                       .where(*ours, Posting.kind == "reversal",
                                              Posting.return_id.isnot(None))) or 0)
    written_off = max(0, reversed_before - taken_before)

    left = amount
    parts: list[tuple[Lot, int]] = []

    def take_from(lots: list[Lot]) -> None:
        nonlocal left
        for lot in lots:
            if not left:
                return
            if lot.remaining > 0 and not burnt(lot, now):
                take = min(left, lot.remaining)
                parts.append((lot, take))
                left -= take

    take_from(own)
    burnt_part = min(left, max(0, burnt_total - written_off))
    left -= burnt_part
    take_from([lot for lot in _lots(session, account, Lot.remaining > 0) if lot.id not in own_ids])
    taken = amount - burnt_part
    if not taken:
        return None
    if burnt_part:
        fields["meta"] = {**(fields.get("meta") or {}), "burnt": burnt_part}
    posting = _post(session, account, "reversal", -taken, moment, receipt_id=receipt_id, **fields)
    for lot, take in parts:
        _draw(session, posting, lot, -take)
    if left:
        session.add(Lot(tenant_id=account.tenant_id, account_id=account.id, posting=posting,
                        kind="debt", amount=-left, remaining=-left, active_from=moment,
                        expires_at=None))
    return posting


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    """The later of two burn dates; None (never burns) is the latest."""
    return None if a is None or b is None else max(a, b)


def followed_expiry(expires_at: datetime | None, moment: datetime, burn_at: datetime | None,
                    later: Sequence[tuple[datetime, datetime | None]] = ()) -> datetime | None:
    """Since-last-purchase: the burn date of a lot alive at a purchase at `moment` (which
    sets `burn_at`), followed through the customer's purchases after it (`later`: their
    moments and burn dates, ascending) — each one moves the date if the lot is still alive
    at that purchase. The same date whatever order the purchases arrived in."""
    if expires_at is not None and expires_at <= moment:
        return expires_at
    date = _later(expires_at, burn_at)
    for at, burn in later:
        if date is not None and at < date:
            date = _later(date, burn)
    return date


def redate_lots(session: Session, account: Account, moment: datetime,
                burn_at: datetime | None, *, later: Sequence[tuple[datetime, datetime | None]] = (),
                now: datetime | None = None) -> None:
    """Since-last-purchase expiry: a purchase at `moment` moves the burn date of every lot
    that was alive at `moment` (accrued by then and not burnt by then), by the receipt's
    moment, not by when it arrived (DESIGN.md invariant 6: the moment governs accrual
    dates). `later` lists the purchases after `moment` the hub already has, so a late
    receipt leaves every date where arrival in order would have left it.

    A lot alive at `moment` that burnt before the receipt arrived lives again; if the sweep
    had already written its expiry, a positive "expiry" posting gives back what that expiry
    (and any part that burnt at once on its way back to the lot) took, so the result does not
    depend on whether the sweep ran. Lots burnt at `moment` stay burnt."""
    now = _now(now)
    accrued_by = select(Posting.id).where(Posting.account_id == account.id,
                                          Posting.moment <= moment)
    for lot in _lots(session, account, Lot.follows_purchases.is_(True),
                     Lot.posting_id.in_(accrued_by)):
        if burnt(lot, moment):
            continue
        date = followed_expiry(lot.expires_at, moment, burn_at, later)
        if date == lot.expires_at:
            continue
        was_burnt = burnt(lot, now)
        lot.expires_at = date
        if not was_burnt or burnt(lot, now):
            continue
        session.flush()
        gone = -int(session.scalar(
            select(func.coalesce(func.sum(LotDraw.amount), 0))
            .join(Posting, Posting.id == LotDraw.posting_id)
            .where(LotDraw.lot_id == lot.id, Posting.kind == "expiry")) or 0)
        if gone > 0:
            revival = _post(session, account, "expiry", gone, moment,
                            meta={"lot_id": lot.id, "revived": True})
            _draw(session, revival, lot, gone)


def expire_due(session: Session, tenant_id: str, at: datetime) -> int:
    """Write an expiry posting for every lot that burnt by `at`; returns how many.

    Only writes down what every other operation already treats as true."""
    due = session.execute(
        select(Lot.id, Account.customer_id).join(Account, Account.id == Lot.account_id)
        .where(Lot.tenant_id == tenant_id, Lot.remaining > 0, Lot.expires_at <= at)
    ).all()
    by_customer: dict[str, list[str]] = defaultdict(list)
    for lot_id, customer_id in due:
        by_customer[customer_id].append(lot_id)
    count = 0
    for customer_id in sorted(by_customer):
        account = lock_account(session, tenant_id, customer_id)
        for lot in _lots(session, account, Lot.id.in_(by_customer[customer_id]),
                         Lot.remaining > 0, Lot.expires_at <= at):
            posting = _post(session, account, "expiry", -lot.remaining, lot.expires_at,
                            meta={"lot_id": lot.id})
            _draw(session, posting, lot, -lot.remaining)
            count += 1
    return count
