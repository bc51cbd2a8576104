"""calculate(): the quote for a receipt — discounts, bonuses spent and earned, messages."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from hub.engine.allocation import allocate
from hub.engine.expiry import accrual_window, purchase_burn_date
from hub.engine.program import Level, Program, Scheme
from hub.engine.promotions import (
    AppliedPromotion, LinePromotion, PromoContext, PromoOutcome, apply_promotions, no_promotions,
)
from hub.engine.receipt import AccountState, Receipt
from hub.engine.rules import Terms, _matches, position_terms
from hub.engine.text import rub

_SCALE = Decimal(10) ** 6   # turns fractional accrual weights into integers for allocate()


class SpendNotAllowed(Exception):
    """A committed receipt asks to spend more bonuses than the program allows."""

    def __init__(self, requested: int, allowed: int):
        super().__init__(f"requested {requested}, allowed {allowed}")
        self.requested = requested
        self.allowed = allowed


@dataclass(frozen=True)
class PositionQuote:
    id: str
    amount: int
    level_discount: int
    bonus_spent: int
    bonus_earned: int
    promo_discount: int = 0
    promotions: tuple[LinePromotion, ...] = ()   # which promotion gave what on this line

    @property
    def discount(self) -> int:
        return self.promo_discount + self.level_discount + self.bonus_spent

    @property
    def amount_to_pay(self) -> int:
        return self.amount - self.discount


@dataclass(frozen=True)
class Quote:
    positions: tuple[PositionQuote, ...]
    level: Level
    next_level: Level | None
    amount: int
    level_discount: int
    bonus_spent: int
    max_spendable: int
    bonus_earned: int
    spend_requested: int
    balance: int                     # available before the receipt
    balance_after: int               # counts earned bonuses only if active at once
    earned_active_from: datetime | None
    earned_expires_at: datetime | None
    to_next_level_after: int | None  # what is left to the next level after this receipt
    earned_pending: bool             # earned bonuses wait for the activation delay
    cashier_message: str
    receipt_message: str
    promo_discount: int = 0
    promotions: tuple[AppliedPromotion, ...] = ()
    hints: tuple[str, ...] = ()      # "one step away" offers for the cashier and the customer
    certificates_sold: int = 0       # kopecks of gift certificates sold on the receipt
    anonymous: bool = False          # no customer: no bonus or card lines in the messages

    @property
    def discount(self) -> int:
        return self.promo_discount + self.level_discount + self.bonus_spent

    @property
    def amount_to_pay(self) -> int:
        return self.amount - self.discount

    @property
    def purchase_amount(self) -> int:
        """What counts as a purchase for levels: the amount to pay less gift certificates sold."""
        return self.amount_to_pay - self.certificates_sold

    @property
    def spend_limited(self) -> bool:
        return self.spend_requested > self.bonus_spent


def _floor_kopecks(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _round(program: Program, kopecks: int) -> int:
    return kopecks - kopecks % 100 if program.rounding == "rouble_down" else kopecks


def _level_discount(program: Program, level: Level, receipt: Receipt, terms: list[Terms],
                    after_promo: list[int], room: list[int], blocked: tuple[bool, ...]) -> list[int]:
    if not program.gives_discount or level.discount is None:
        return [0] * len(after_promo)
    eligible = [0 if t.no_discount or b else a for a, t, b in zip(after_promo, terms, blocked)]
    scheme = level.discount
    if scheme.kind == "per_amount":
        total = sum(eligible) // scheme.every * scheme.bonuses if scheme.every else 0
    else:
        total = _floor_kopecks(sum(eligible) * scheme.percent_for(receipt.amount) / 100)
    total = min(_round(program, total), sum(eligible))
    # Each line's share, then cut to what its group still allows (nothing spills over).
    return [min(part, r) for part, r in zip(allocate(total, eligible), room)]


def _spend_caps(program: Program, rest: list[int], terms: list[Terms],
                promo: PromoOutcome, earns: bool) -> list[int]:
    if not earns:
        return [0] * len(rest)
    caps = []
    for r, t, share, blocked in zip(rest, terms, promo.spend_percent, promo.no_spend):
        if t.no_spend or blocked:
            caps.append(0)
        else:
            percent = t.max_spend_percent if share is None else max(share, t.max_spend_percent)
            caps.append(_floor_kopecks(r * percent / 100))
    return caps


def _discount_caps(program: Program, level: Level, receipt: Receipt, local: datetime) -> list[int]:
    """What each line's group allows as promotion plus level discount (its amount by default)."""
    amounts = [p.amount for p in receipt.positions]
    capping = [r for r in program.rules if r.then.max_discount_percent is not None]
    if not capping:
        return amounts
    caps = []
    for p in receipt.positions:
        share = None
        for rule in capping:      # in order: a later matching rule overrides an earlier one
            if _matches(rule.when, p, receipt, level, local):
                share = rule.then.max_discount_percent
        caps.append(p.amount if share is None else min(p.amount, _floor_kopecks(p.amount * share / 100)))
    return caps


def _accrual_weights(scheme: Scheme | None, receipt_amount: int, bases: list[int],
                     terms: list[Terms]) -> tuple[list[Decimal], Decimal, int]:
    """Exact (fractional) accruals of percent positions; for per-amount positions their
    multiplied amounts; and the per-amount base (multiplied, and plain)."""
    exact: list[Decimal] = []
    per_amount_base = Decimal(0)
    per_amount_plain = 0
    for base, t in zip(bases, terms):
        if t.no_accrual or base <= 0:
            exact.append(Decimal(0))
        elif t.accrual_percent is not None:
            exact.append(base * t.accrual_percent * t.accrual_multiplier / 100)
        elif scheme is None:
            exact.append(Decimal(0))
        elif scheme.kind == "per_amount":
            per_amount_base += base * t.accrual_multiplier
            per_amount_plain += base
            exact.append(base * t.accrual_multiplier)    # scaled to bonuses in _accrual
        else:
            exact.append(base * scheme.percent_for(receipt_amount) * t.accrual_multiplier / 100)
    return exact, per_amount_base, per_amount_plain


def _accrual(program: Program, level: Level, receipt: Receipt, bases: list[int],
             terms: list[Terms], earns: bool) -> list[int]:
    if not earns:
        return [0] * len(bases)
    scheme = level.accrual
    exact, per_amount_base, per_amount_plain = _accrual_weights(scheme, receipt.amount, bases, terms)
    if scheme is not None and scheme.kind == "per_amount":
        # Y bonuses for every *full* X roubles of the whole receipt; the rest is percent rules.
        # Multipliers scale the bonuses, not the amount: double bonuses on 2999 roubles at
        # 50 per 1000 are 2 x 100, not 50 per full 1000 of 5998.
        per_amount_total = 0
        if per_amount_plain:
            full = (per_amount_plain // scheme.every) * scheme.bonuses
            per_amount_total = _floor_kopecks(full * per_amount_base / per_amount_plain)
        percent_part = sum((e for e, t in zip(exact, terms) if t.accrual_percent is not None),
                           Decimal(0))
        total = per_amount_total + _floor_kopecks(percent_part)
        # Each per-amount position's share of those bonuses follows its (multiplied) amount;
        # positions under a percent rule keep their own exact figures.
        exact = [e if t.accrual_percent is not None
                 else (e * per_amount_total / per_amount_base if per_amount_base else Decimal(0))
                 for e, t in zip(exact, terms)]
    else:
        total = _floor_kopecks(sum(exact, Decimal(0)))
    total = _round(program, total)
    weights = [int(e * _SCALE) for e in exact]
    if total and not any(weights):
        return [0] * len(bases)
    return allocate(total, weights, [total if w else 0 for w in weights])


# A gift certificate sold on a receipt: money for a future purchase, not a purchase itself.
_CERTIFICATE = Terms(accrual_percent=None, accrual_multiplier=Decimal(0), no_accrual=True,
                     max_spend_percent=Decimal(0), no_spend=True, no_discount=True)


def calculate(program: Program, receipt: Receipt, account: AccountState, *,
              strict: bool = False, promo: PromoContext | None = None) -> Quote:
    """The quote for `receipt` by `program` for a customer in `account`.

    Changes nothing and reads no clock. With `strict` (commit), asking to spend more
    than allowed raises SpendNotAllowed instead of being cut down to the maximum.
    `promo` carries the tenant's active promotions and what they may ask about the customer;
    the order is promotions, level discount, bonus spending, accrual (hub.engine.promotions).
    """
    level = program.level_for(account.total_purchases)
    # Bonuses need someone to hold them: a receipt without a customer earns and spends none.
    earns = program.earns_bonuses and not account.anonymous
    terms = [_CERTIFICATE if p.certificate else position_terms(program, level, receipt, p)
             for p in receipt.positions]
    amounts = [p.amount for p in receipt.positions]

    if promo is not None and promo.promotions:
        local = receipt.moment.astimezone(ZoneInfo(program.timezone))
        discount_caps = _discount_caps(program, level, receipt, local)
        if any(p.certificate for p in receipt.positions):
            discount_caps = [0 if p.certificate else c for p, c in zip(receipt.positions, discount_caps)]
        outcome = apply_promotions(promo, receipt, account, level.code, local, discount_caps,
                                   [earns and not t.no_accrual for t in terms])
    else:
        discount_caps = None
        outcome = no_promotions(len(amounts))
    promo_discounts = list(outcome.discounts)
    after_promo = [a - d for a, d in zip(amounts, promo_discounts)]
    if discount_caps is None and program.rules and any(
            r.then.max_discount_percent is not None for r in program.rules):
        discount_caps = _discount_caps(program, level, receipt,
                                       receipt.moment.astimezone(ZoneInfo(program.timezone)))
    room = after_promo if discount_caps is None else [
        max(0, c - d) for c, d in zip(discount_caps, promo_discounts)]

    level_discounts = _level_discount(program, level, receipt, terms, after_promo, room,
                                      outcome.no_level_discount)
    rest = [a - d for a, d in zip(after_promo, level_discounts)]

    caps = _spend_caps(program, rest, terms, outcome, earns)
    max_spendable = _round(program, max(0, min(sum(caps), account.available)))
    requested = max_spendable if receipt.spend_max else (receipt.spend or 0)
    if strict and requested > max_spendable:
        raise SpendNotAllowed(requested, max_spendable)
    spent_total = min(requested, max_spendable)
    spent = allocate(spent_total, rest, caps)

    bases = [r - (0 if program.accrue_on_bonus_payment else s) for r, s in zip(rest, spent)]
    if any(m != 1 for m in outcome.multipliers):
        terms = [t if m == 1 else Terms(t.accrual_percent, t.accrual_multiplier * m, t.no_accrual,
                                        t.max_spend_percent, t.no_spend, t.no_discount)
                 for t, m in zip(terms, outcome.multipliers)]
    earned = _accrual(program, level, receipt, bases, terms, earns)
    line_promos = _line_promotions(outcome, earned)
    if earns:
        earned = [e + sum(b for _, b in x) for e, x in zip(earned, outcome.extra)]

    positions = tuple(
        PositionQuote(p.id, p.amount, d, s, e, pd, lp)
        for p, d, s, e, pd, lp in zip(receipt.positions, level_discounts, spent, earned,
                                      promo_discounts, line_promos))
    earned_total = sum(earned)
    active_from, expires_at = (accrual_window(program, level, receipt.moment)
                               if earned_total else (None, None))
    amount_to_pay = sum(rest) - spent_total
    certificates = sum(p.amount for p in receipt.positions if p.certificate)
    purchase = amount_to_pay - certificates       # certificates sold are not a purchase
    promo_total = sum(promo_discounts)
    if earned_total and program.expiry_mode == "since_last_purchase":
        expires_at = purchase_burn_date(
            program, program.level_for(account.total_purchases + purchase),
            receipt.moment, account.last_purchase_at)
    # What the accrual adds to the available balance at once: all of it when active, else
    # only the debt it pays (the ledger pays a debt from a new lot before it activates).
    earned_active = active_from is not None and active_from <= receipt.moment
    earned_now = earned_total if earned_active else min(earned_total, account.debt)
    balance_after = account.available - spent_total + earned_now
    next_level = program.next_level(level)
    to_next = (max(0, next_level.threshold - account.total_purchases - purchase)
               if next_level else None)

    quote = Quote(
        positions=positions, level=level, next_level=next_level, amount=sum(amounts),
        level_discount=sum(level_discounts), bonus_spent=spent_total,
        max_spendable=max_spendable, bonus_earned=earned_total, spend_requested=requested,
        balance=account.available, balance_after=balance_after,
        earned_active_from=active_from, earned_expires_at=expires_at,
        to_next_level_after=to_next, earned_pending=bool(earned_total) and not earned_active,
        cashier_message="", receipt_message="", promo_discount=promo_total,
        promotions=_applied(outcome, line_promos, receipt), hints=outcome.hints,
        certificates_sold=certificates, anonymous=account.anonymous)
    return _with_messages(program, quote)


def _line_promotions(outcome: PromoOutcome, earned: list[int]) -> list[tuple[LinePromotion, ...]]:
    """Per line, what each promotion gave: its discount, and the bonuses it added (the extra
    bonuses; for multipliers, the line's accrual above the unmultiplied one: e x (m - 1) / m,
    split evenly when several multiply the line)."""
    names = {p.id: p.name for p in outcome.applied}
    out = []
    for i, given in enumerate(outcome.line_discounts):
        ids = outcome.multiplier_ids[i]
        if not given and not ids and not outcome.extra[i]:
            out.append(())
            continue
        rows: dict[str, list[int]] = {pid: [d, 0] for pid, d in given}
        if ids:
            m = outcome.multipliers[i]
            boost = _floor_kopecks(earned[i] * (m - 1) / m) if m > 1 else 0
            for pid, part in zip(ids, allocate(boost, [1] * len(ids), [boost] * len(ids))):
                rows.setdefault(pid, [0, 0])[1] += part
        for pid, bonus in outcome.extra[i]:
            rows.setdefault(pid, [0, 0])[1] += bonus
        out.append(tuple(LinePromotion(pid, names.get(pid, ""), d, b) for pid, (d, b) in rows.items()))
    return out


def _applied(outcome: PromoOutcome, lines: list[tuple[LinePromotion, ...]],
             receipt: Receipt) -> tuple[AppliedPromotion, ...]:
    totals: dict[str, list[int]] = {p.id: [0, 0] for p in outcome.applied}
    for row in lines:
        for lp in row:
            if lp.id in totals:
                totals[lp.id][0] += lp.discount
                totals[lp.id][1] += lp.bonus
    ids = [p.id for p in receipt.positions]
    counted = outcome.counted or ((),) * len(outcome.applied)
    return tuple(AppliedPromotion(p.id, p.name, p.reward, *totals[p.id], tuple(ids[i] for i in c))
                 for p, c in zip(outcome.applied, counted))


def _with_messages(program: Program, q: Quote) -> Quote:
    # Without a customer nothing is promised: a till prints this to a buyer with no card.
    cashier = ["Покупатель без карты: бонусы не начисляются."] if q.anonymous else \
        [f"Уровень «{q.level.name}»."]
    if program.earns_bonuses and not q.anonymous:
        cashier.append(f"Доступно {rub(q.balance)} бонусов, можно списать до {rub(q.max_spendable)}.")
        if q.spend_limited:
            cashier.append(f"Запрошено к списанию {rub(q.spend_requested)}, "
                           f"программа позволяет не больше {rub(q.max_spendable)}.")
        if q.bonus_spent:
            cashier.append(f"Списано {rub(q.bonus_spent)}.")
        if q.bonus_earned:
            line = f"Будет начислено {rub(q.bonus_earned)}"
            if q.earned_pending:
                line += f" (станут доступны с {q.earned_active_from:%d.%m.%Y})"
            cashier.append(line + ".")
    if q.level_discount:
        cashier.append(f"Скидка по карте {rub(q.level_discount)} ₽.")
    printed = []      # the receipt's line of each promotion
    for p in q.promotions:
        gave = [f"скидка {rub(p.discount)} ₽"] if p.discount else []
        if p.bonus:
            gave.append(f"+{rub(p.bonus)} бонусов")
        cashier.append(f"Акция «{p.name}»" + (f": {', '.join(gave)}." if gave else " применена."))
        printed.append(f"Акция «{p.name}»" + (f": {gave[0]}" if gave else ""))
    cashier.extend(q.hints)
    receipt = []
    if q.level_discount:
        receipt.append(f"Скидка по карте: {rub(q.level_discount)} ₽")
    receipt.extend(printed)
    receipt.extend(q.hints)
    if q.anonymous:
        return replace(q, cashier_message=" ".join(cashier), receipt_message="\n".join(receipt))
    if program.earns_bonuses:
        receipt.append(f"Списано бонусов: {rub(q.bonus_spent)}")
        receipt.append(f"Начислено бонусов: {rub(q.bonus_earned)}")
        receipt.append(f"Баланс бонусов: {rub(q.balance_after)}")
    receipt.append(f"Уровень карты: {q.level.name}")
    if q.next_level is not None and q.to_next_level_after:
        receipt.append(f"До уровня «{q.next_level.name}»: {rub(q.to_next_level_after)} ₽")
    return replace(q, cashier_message=" ".join(cashier), receipt_message="\n".join(receipt))


def with_balance_after(program: Program, q: Quote, balance_after: int) -> Quote:
    """The quote with the balance the ledger holds after the receipt (a late receipt's
    bonuses may have burnt before it arrived), its messages told again."""
    return _with_messages(program, replace(q, balance_after=balance_after))
