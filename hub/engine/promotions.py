"""Promotions: which ones a receipt qualifies for and what each gives every line.

Pure: frozen dataclasses in, frozen dataclasses out; money in kopecks, percents Decimal; the
moment comes with the receipt and everything customer-specific (segments, birth date, how many
times the customer already used a promotion, which promotions a presented code unlocks) comes
in a `PromoContext` built by the service.

The one order (README, "Program rules in brief"):

1. Eligible promotions are sorted by priority (higher first), then by id.
2. The first *applicable* one (it gives something to this receipt) decides exclusivity: when it
   is exclusive it applies alone; otherwise every applicable non-exclusive promotion applies
   and exclusive ones further down are skipped.
3. Discounts, line by line: of the "best" promotions only the largest discount on the line
   applies (ties: the earlier one); then every "stack" promotion in order, each computed on
   what is left of the line. A line's promotion discounts never exceed its amount nor the
   share its group allows (`Effect.max_discount_percent`).
4. The level discount follows, on what the promotions left (not on lines of a promotion that
   says `level_discount=False`), within the same cap; then bonus spending on the rest (not on
   lines of a promotion that says `bonus_spend=False`; a `spend_share` promotion raises the share
   payable with bonuses); then accrual on what is paid with money, multiplied by the bonus
   multipliers (best: the largest; stack: the product), plus fixed extra bonuses.

A gift product ("buy X — get G free or at a price") is a discount promotion like the others:
its conditions (groups/products, minimum amount or quantity) are counted on the receipt's lines
other than the gift's; when they hold and G is on the receipt, G's line gets the discount (up
to `gift_quantity` units, each down to `gift_price`, never below zero) in the same order as
every discount; when G is missing the quote says "Добавьте в чек подарок: <name>." instead.

Speed: a receipt only evaluates the promotions that can apply to it. `promotion_index` files
each promotion under its most selective key — its code, a segment, a level, first purchase, birthday, a weekday, its
groups/products, a store, or "everywhere" — and a receipt looks up only its own keys. The
engine keeps nothing between calls: the service builds the index once per version of the
tenant's promotions and hands it in `PromoContext.index` (without one it is built per call).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_FLOOR, Decimal
from typing import Mapping, Sequence

from hub.engine.allocation import allocate
from hub.engine.receipt import AccountState, Position, Receipt
from hub.engine.text import rub
from hub.text import decimal_text

REWARDS = ("percent_off", "amount_off", "free_items", "bonus_multiplier", "bonus_extra",
           "spend_share", "gift_product")
DISCOUNT_REWARDS = ("percent_off", "amount_off", "free_items", "gift_product")
BONUS_REWARDS = ("bonus_multiplier", "bonus_extra", "spend_share")
COMBINE = ("stack", "best")


@dataclass(frozen=True)
class PromoConditions:
    """When a promotion applies. Empty tuples and None mean 'any'."""
    starts_at: datetime | None = None          # inclusive, aware
    ends_at: datetime | None = None            # exclusive, aware
    weekdays: tuple[int, ...] = ()             # ISO 1 = Monday … 7 = Sunday, tenant-local
    time_from: time | None = None              # tenant-local, inclusive (may wrap midnight)
    time_to: time | None = None                # tenant-local, exclusive
    stores: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()               # needs a known customer
    segments: tuple[str, ...] = ()             # any of them; needs a known customer
    groups: tuple[str, ...] = ()               # lines it targets (any group); empty: every line
    products: tuple[str, ...] = ()             # lines it targets by product (or position id)
    min_amount: int = 0                        # kopecks of the targeted lines
    min_quantity: Decimal = Decimal(0)         # units of the targeted lines
    first_purchase: bool = False               # the customer has no purchase yet
    birthday_days: int | None = None           # within ± days of the customer's birthday
    per_customer_limit: int | None = None      # times one customer may use it
    requires_code: bool = False                # only with a promo code (coupon) of it

    needs_customer: bool = field(init=False, repr=False, compare=False)
    timed: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once per promotion, not once per receipt.
        object.__setattr__(self, "needs_customer", bool(
            self.levels or self.segments or self.first_purchase
            or self.birthday_days is not None or self.per_customer_limit is not None))
        object.__setattr__(self, "timed", self.time_from is not None or self.time_to is not None)


@dataclass(frozen=True)
class Promotion:
    id: str
    name: str
    reward: str                                # one of REWARDS
    percent: Decimal = Decimal(0)              # percent_off; spend_share (share payable)
    amount: int = 0                            # amount_off, bonus_extra (kopecks)
    multiplier: Decimal = Decimal(1)           # bonus_multiplier
    buy: int = 0                               # free_items: N paid …
    free: int = 0                              # … and M free (the cheapest units)
    when: PromoConditions = field(default_factory=PromoConditions)
    priority: int = 0
    exclusive: bool = False
    combine: str = "stack"                     # "stack" | "best"
    level_discount: bool = True                # its lines still get the level discount
    bonus_spend: bool = True                   # its lines can still be paid with bonuses
    gift_product: str = ""                     # gift_product: the gift's product (or position) id
    gift_name: str = ""                        # … as the cashier and the customer read it
    gift_price: int = 0                        # … kopecks per unit it sells at (0: free)
    gift_quantity: int = 1                     # … units per receipt

    @property
    def gives_discount(self) -> bool:
        return self.reward in DISCOUNT_REWARDS


@dataclass(frozen=True)
class PromoContext:
    """Everything about the customer and the receipt a promotion may ask, besides the receipt."""
    promotions: tuple[Promotion, ...] = ()
    known_customer: bool = False
    segments: frozenset[str] = frozenset()
    birth_date: date | None = None
    uses: Mapping[str, int] = field(default_factory=dict)   # promotion id -> times used
    unlocked: frozenset[str] = frozenset()     # promotion ids a presented code unlocks
    # promotion_index(promotions), when the caller keeps one per version of the set
    index: PromoIndex | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LinePromotion:
    """What one promotion gave one line."""
    id: str
    name: str
    discount: int = 0
    bonus: int = 0


@dataclass(frozen=True)
class AppliedPromotion:
    id: str
    name: str
    reward: str
    discount: int
    bonus: int
    lines: tuple[str, ...] = ()    # the lines it counted (a gift: those that earned the gift)


@dataclass(frozen=True)
class PromoOutcome:
    """Per line: promotion discounts, who gave them, and the bonus/spend modifiers."""
    discounts: tuple[int, ...]
    line_discounts: tuple[tuple[tuple[str, int], ...], ...]   # per line: (promotion id, kopecks)
    multipliers: tuple[Decimal, ...]
    multiplier_ids: tuple[tuple[str, ...], ...]
    extra: tuple[tuple[tuple[str, int], ...], ...]            # per line: (promotion id, bonuses)
    spend_percent: tuple[Decimal | None, ...]
    no_level_discount: tuple[bool, ...]
    no_spend: tuple[bool, ...]
    applied: tuple[Promotion, ...]
    hints: tuple[str, ...]
    counted: tuple[tuple[int, ...], ...] = ()     # per applied promotion: the lines it counted


EMPTY_CONTEXT = PromoContext()


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _in_time(start: time | None, end: time | None, now: time) -> bool:
    if start is not None and end is not None and start > end:      # wraps midnight
        return now >= start or now < end
    if start is not None and now < start:
        return False
    return not (end is not None and now >= end)


def _birthday_near(birth: date, today: date, days: int) -> bool:
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            anniversary = birth.replace(year=year)
        except ValueError:                       # 29 February in a common year
            anniversary = date(year, 2, 28)
        if abs((anniversary - today).days) <= days:
            return True
    return False


def _customer_ok(cond: PromoConditions, ctx: PromoContext, account: AccountState,
                 level_code: str, today: date) -> bool:
    if not ctx.known_customer:
        return False
    if cond.levels and level_code not in cond.levels:
        return False
    if cond.segments and ctx.segments.isdisjoint(cond.segments):
        return False
    if cond.first_purchase and account.purchase_count > 0:
        return False
    if cond.birthday_days is not None and (
            ctx.birth_date is None or not _birthday_near(ctx.birth_date, today, cond.birthday_days)):
        return False
    return True


@dataclass(frozen=True)
class _Now:
    """The receipt's moment in the tenant's zone, worked out once for all promotions."""
    moment: datetime
    weekday: int
    clock: time
    today: date


def _receipt_ok(promo: Promotion, receipt: Receipt, now: _Now, ctx: PromoContext,
                account: AccountState, level_code: str) -> bool:
    cond = promo.when
    if cond.starts_at is not None and now.moment < cond.starts_at:
        return False
    if cond.ends_at is not None and now.moment >= cond.ends_at:
        return False
    if cond.weekdays and now.weekday not in cond.weekdays:
        return False
    if cond.timed and not _in_time(cond.time_from, cond.time_to, now.clock):
        return False
    if cond.stores and receipt.store not in cond.stores:
        return False
    if cond.requires_code and promo.id not in ctx.unlocked:
        return False
    if cond.per_customer_limit is not None and (
            not ctx.known_customer or ctx.uses.get(promo.id, 0) >= cond.per_customer_limit):
        return False
    return not cond.needs_customer or _customer_ok(cond, ctx, account, level_code, now.today)


def _units(quantity: Decimal) -> int:
    return int(quantity) if quantity > 0 else 0


def _free_units(promo: Promotion, positions: Sequence[Position], lines: list[int]) -> dict[int, int]:
    """Line index -> free units: of every buy+free units (cheapest last), the free cheapest."""
    units: list[tuple[Decimal, int]] = []           # (unit price, line) for whole units
    for i in lines:
        p = positions[i]
        n = _units(p.quantity)
        if n <= 0 or p.amount <= 0:
            continue
        unit = Decimal(p.amount) / p.quantity
        units.extend([(unit, i)] * n)
    size = promo.buy + promo.free
    if size <= 0 or promo.free <= 0:
        return {}
    sets = len(units) // size
    if not sets:
        return {}
    # The most expensive units fill the sets; in each set the cheapest `free` are free. So
    # the customer gets the `free` cheapest of every set of `size` units, counted from the top.
    units.sort(key=lambda u: (-u[0], u[1]))
    free: dict[int, int] = {}
    for s in range(sets):
        block = units[s * size:(s + 1) * size]
        for _, i in block[-promo.free:]:
            free[i] = free.get(i, 0) + 1
    return free


def _discount(promo: Promotion, positions: Sequence[Position], lines: list[int],
              base: list[int], room: list[int]) -> dict[int, int]:
    """Kopecks `promo` takes off each targeted line, computed on `base` within `room`."""
    if promo.reward == "percent_off":
        out = {i: min(room[i], _floor(base[i] * promo.percent / 100)) for i in lines}
    elif promo.reward == "amount_off":
        rooms = [room[i] for i in lines]
        total = min(promo.amount, sum(rooms))
        parts = allocate(total, [base[i] for i in lines], rooms) if total else [0] * len(lines)
        out = dict(zip(lines, parts))
    elif promo.reward == "free_items":
        out = {}
        for i, k in _free_units(promo, positions, lines).items():
            q = positions[i].quantity
            out[i] = min(room[i], _floor(base[i] * k / q))
    elif promo.reward == "gift_product":
        out = _gift_discount(promo, positions, lines, base, room)
    else:
        return {}
    return {i: d for i, d in out.items() if d > 0}


def _ordinal(n: int) -> str:
    words = {2: "второй", 3: "третий", 4: "четвёртый", 5: "пятый", 6: "шестой", 7: "седьмой",
             8: "восьмой", 9: "девятый", 10: "десятый"}
    return words.get(n, f"{n}-й")


def _items(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} товар"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"{n} товара"
    return f"{n} товаров"


def _what(promo: Promotion) -> str:
    if promo.reward == "percent_off":
        return f"скидка {decimal_text(promo.percent)}%"
    if promo.reward == "amount_off":
        return f"скидка {rub(promo.amount)} ₽"
    if promo.reward == "bonus_multiplier":
        return f"бонусы ×{decimal_text(promo.multiplier)}"
    if promo.reward == "bonus_extra":
        return f"+{rub(promo.amount)} бонусов"
    if promo.reward == "spend_share":
        return f"оплата бонусами до {decimal_text(promo.percent)}%"
    if promo.reward == "gift_product":
        return f"подарок: {_gift_name(promo)}"
    return "подарок"


def _gift_name(promo: Promotion) -> str:
    return promo.gift_name or promo.gift_product


def _gift_hint(promo: Promotion) -> str:
    price = f" за {rub(promo.gift_price)} ₽" if promo.gift_price else ""
    return f"Добавьте в чек подарок: {_gift_name(promo)}{price} (акция «{promo.name}»)."


def _gift_discount(promo: Promotion, positions: Sequence[Position], lines: list[int],
                   base: list[int], room: list[int]) -> dict[int, int]:
    """Up to `gift_quantity` whole units of the gift lines, each down to `gift_price`."""
    left = promo.gift_quantity
    out = {}
    for i in lines:
        if left <= 0:
            break
        q = positions[i].quantity
        k = min(_units(q), left)
        if k <= 0:
            continue
        left -= k
        out[i] = min(room[i], max(0, _floor(base[i] * k / q) - promo.gift_price * k))
    return out


def _hint(promo: Promotion, positions: Sequence[Position], lines: list[int]) -> str | None:
    """'One step away' for a promotion whose only unmet condition is the amount/quantity,
    or an N+M one short of the next free item."""
    cond = promo.when
    if promo.reward == "free_items" and promo.buy + promo.free > 0 and lines:
        size = promo.buy + promo.free
        have = sum(_units(positions[i].quantity) for i in lines) % size
        missing = size - have
        if have >= promo.buy and missing <= promo.free:
            prize = (_ordinal(size) if promo.free == 1 else f"{_items(promo.free)}")
            return f"«{promo.name}»: ещё {_items(missing)} — и {prize} в подарок."
        return None
    amount = sum(positions[i].amount for i in lines)
    if cond.min_amount and amount < cond.min_amount:
        # One step: the receipt has at least 70% of the minimum.
        if (cond.min_amount - amount) * 10 > cond.min_amount * 3:
            return None
        return f"«{promo.name}»: ещё на {rub(cond.min_amount - amount)} ₽ — и {_what(promo)}."
    quantity = sum((positions[i].quantity for i in lines), Decimal(0))
    if cond.min_quantity and quantity < cond.min_quantity:
        short = cond.min_quantity - quantity
        if short <= 2 and short == short.to_integral_value():
            return f"«{promo.name}»: ещё {_items(int(short))} — и {_what(promo)}."
    return None


MAX_HINTS = 3


def _order(promo: Promotion) -> tuple[int, str]:
    return (-promo.priority, promo.id)


@dataclass(frozen=True)
class PromoIndex:
    """A promotion set in the one order, each promotion filed under the key a receipt must
    have for it to possibly apply (see the module's "Speed")."""
    ordered: tuple[Promotion, ...]
    keys: Mapping[tuple[str, str], tuple[int, ...]]     # key -> positions in `ordered`
    everywhere: tuple[int, ...]
    gift_products: frozenset[str]


def _key(promo: Promotion) -> list[tuple[str, str]]:
    """The most selective condition a receipt must meet for `promo`, as lookup keys (any)."""
    c = promo.when
    if c.requires_code:
        return [("code", promo.id)]
    if c.segments:
        return [("segment", x) for x in c.segments]
    if c.levels:
        return [("level", x) for x in c.levels]
    if c.first_purchase:
        return [("first", "")]
    if c.birthday_days is not None:
        return [("birthday", "")]
    if c.products and not c.groups:
        return [("product", x) for x in c.products]
    if c.groups and not c.products:
        return [("group", x) for x in c.groups]
    if c.groups and c.products:
        return [("group", x) for x in c.groups] + [("product", x) for x in c.products]
    if c.stores:
        return [("store", x) for x in c.stores]
    if c.weekdays:
        return [("weekday", str(d)) for d in c.weekdays]
    return []


def _build_index(promotions: tuple[Promotion, ...]) -> PromoIndex:
    ordered = tuple(sorted(promotions, key=_order))
    keys: dict[tuple[str, str], list[int]] = {}
    everywhere = []
    for k, promo in enumerate(ordered):
        found = _key(promo)
        if not found:
            everywhere.append(k)
        for key in dict.fromkeys(found):
            keys.setdefault(key, []).append(k)
    return PromoIndex(ordered, {k: tuple(v) for k, v in keys.items()}, tuple(everywhere),
                      frozenset(p.gift_product for p in ordered if p.reward == "gift_product"))


def promotion_index(promotions: tuple[Promotion, ...]) -> PromoIndex:
    """The index of a promotion set (the caller keeps it for as long as the set is current)."""
    return _build_index(promotions)


def _candidates(index: PromoIndex, ctx: PromoContext, receipt: Receipt, account: AccountState,
                level_code: str, weekday: int, groups: Mapping[str, object],
                products: Mapping[str, object]) -> list[int]:
    keys = index.keys
    if not keys:
        return list(index.everywhere)
    found = set(index.everywhere)

    def add(kind: str, value: str) -> None:
        hit = keys.get((kind, value))
        if hit:
            found.update(hit)

    for pid in ctx.unlocked:
        add("code", pid)
    if ctx.known_customer:
        for seg in ctx.segments:
            add("segment", seg)
        add("level", level_code)
        if account.purchase_count == 0:
            add("first", "")
        if ctx.birth_date is not None:
            add("birthday", "")
    for g in groups:
        add("group", g)
    for pid in products:
        add("product", pid)
    if receipt.store is not None:
        add("store", receipt.store)
    add("weekday", str(weekday))
    return sorted(found)


def apply_promotions(ctx: PromoContext, receipt: Receipt, account: AccountState, level_code: str,
                     local: datetime, caps: list[int], accrual_allowed: list[bool]) -> PromoOutcome:
    """Promotion discounts and bonus modifiers for every line (see the module's order).

    `caps` is what each line's group allows as promotion plus level discount (kopecks);
    `accrual_allowed` marks lines that may earn bonuses at all.
    """
    positions = receipt.positions
    n = len(positions)
    amounts = [p.amount for p in positions]
    everything = [i for i, p in enumerate(positions) if not p.certificate]
    by_group: dict[str, set[int]] = {}
    by_product: dict[str, set[int]] = {}
    for i in everything:
        p = positions[i]
        for g in p.groups:
            by_group.setdefault(g, set()).add(i)
        by_product.setdefault(p.id, set()).add(i)
        if p.product is not None:
            by_product.setdefault(p.product, set()).add(i)
    index = ctx.index if ctx.index is not None else promotion_index(ctx.promotions)
    weekday = local.isoweekday()
    now = _Now(receipt.moment, weekday, local.time().replace(tzinfo=None), local.date())
    hints: list[str] = []
    # (promotion, lines it discounts or boosts, its standalone discounts, lines it counted)
    candidates: list[tuple[Promotion, list[int], dict[int, int], list[int]]] = []
    for k in _candidates(index, ctx, receipt, account, level_code, weekday, by_group, by_product):
        promo = index.ordered[k]
        if not _receipt_ok(promo, receipt, now, ctx, account, level_code):
            continue
        cond = promo.when
        if cond.groups or cond.products:
            hit: set[int] = set()
            for g in cond.groups:
                hit.update(by_group.get(g, ()))
            for g in cond.products:
                hit.update(by_product.get(g, ()))
            lines = sorted(hit)
        else:
            lines = everything
        gifts: list[int] = []
        if promo.reward == "gift_product":
            gifts = sorted(by_product.get(promo.gift_product, ()))
            if gifts:
                lines = [i for i in lines if i not in gifts]
        if not lines:
            continue
        if (cond.min_amount and sum(amounts[i] for i in lines) < cond.min_amount) or (
                cond.min_quantity and sum((positions[i].quantity for i in lines), Decimal(0))
                < cond.min_quantity):
            if len(hints) < MAX_HINTS:
                hint = _hint(promo, positions, lines)
                if hint:
                    hints.append(hint)
            continue
        counted = lines
        if promo.reward == "gift_product":
            if not gifts:
                if len(hints) < MAX_HINTS:
                    hints.append(_gift_hint(promo))
                continue
            lines = gifts
        if promo.gives_discount:
            alone = _discount(promo, positions, lines, amounts, caps)
            if promo.reward == "free_items" and len(hints) < MAX_HINTS:
                hint = _hint(promo, positions, lines)
                if hint:
                    hints.append(hint)
            if not alone:
                continue
        else:
            if promo.reward in ("bonus_multiplier", "bonus_extra"):
                lines = [i for i in lines if accrual_allowed[i]]
                if not lines:
                    continue
            alone = {}
        candidates.append((promo, lines, alone, counted))

    exclusive_first = candidates and candidates[0][0].exclusive
    chosen = candidates[:1] if exclusive_first else [c for c in candidates if not c[0].exclusive]

    discounts = [0] * n
    given: list[dict[str, int]] = [{} for _ in range(n)]
    # Best-of discounts: the largest standalone discount per line.
    for promo, _lines, alone, _ in chosen:
        if promo.gives_discount and promo.combine == "best":
            for i, d in alone.items():
                if d > discounts[i]:
                    discounts[i] = d
                    given[i] = {promo.id: d}
    for promo, lines, alone, _ in chosen:
        if promo.gives_discount and promo.combine != "best":
            if any(discounts[i] for i in lines):
                base = [a - d for a, d in zip(amounts, discounts)]
                room = [max(0, c - d) for c, d in zip(caps, discounts)]
                mine = _discount(promo, positions, lines, base, room)
            else:      # nothing taken off its lines yet: what it gives alone
                mine = alone
            for i, d in mine.items():
                discounts[i] += d
                given[i][promo.id] = given[i].get(promo.id, 0) + d

    multipliers = [Decimal(1)] * n
    best_mult = [Decimal(1)] * n
    mult_ids: list[list[str]] = [[] for _ in range(n)]
    best_mult_id: list[str | None] = [None] * n
    spend_percent: list[Decimal | None] = [None] * n
    extra: list[list[tuple[str, int]]] = [[] for _ in range(n)]
    no_level = [False] * n
    no_spend = [False] * n
    best_extra: tuple[Promotion, list[int]] | None = None
    used: set[str] = set()
    for promo, lines, _, _ in chosen:
        if promo.gives_discount:
            for i in lines:
                if promo.id in given[i]:
                    used.add(promo.id)
                    no_level[i] = no_level[i] or not promo.level_discount
                    no_spend[i] = no_spend[i] or not promo.bonus_spend
        elif promo.reward == "bonus_multiplier":
            for i in lines:
                if promo.combine == "best":
                    if promo.multiplier > best_mult[i]:
                        best_mult[i], best_mult_id[i] = promo.multiplier, promo.id
                else:
                    multipliers[i] *= promo.multiplier
                    mult_ids[i].append(promo.id)
        elif promo.reward == "spend_share":
            used.add(promo.id)
            for i in lines:
                if spend_percent[i] is None or promo.percent > spend_percent[i]:
                    spend_percent[i] = promo.percent
        elif promo.reward == "bonus_extra" and promo.amount > 0:
            if promo.combine == "best":
                if best_extra is None or promo.amount > best_extra[0].amount:
                    best_extra = (promo, lines)
            else:
                used.add(promo.id)
                _spread_extra(promo, lines, amounts, extra)
    if best_extra is not None:
        used.add(best_extra[0].id)
        _spread_extra(best_extra[0], best_extra[1], amounts, extra)
    for i in range(n):
        if best_mult_id[i] is not None:
            multipliers[i] *= best_mult[i]
            mult_ids[i].insert(0, best_mult_id[i])
        used.update(mult_ids[i])
    applied = tuple(p for p, _, _, _ in chosen if p.id in used)
    counted = tuple(tuple(c) for p, _, _, c in chosen if p.id in used)
    return PromoOutcome(
        discounts=tuple(discounts),
        line_discounts=tuple(tuple(g.items()) for g in given),
        multipliers=tuple(multipliers), multiplier_ids=tuple(tuple(m) for m in mult_ids),
        extra=tuple(tuple(e) for e in extra), spend_percent=tuple(spend_percent),
        no_level_discount=tuple(no_level), no_spend=tuple(no_spend), applied=applied,
        hints=tuple(hints), counted=counted)


def _spread_extra(promo: Promotion, lines: list[int], amounts: list[int],
                  extra: list[list[tuple[str, int]]]) -> None:
    weights = [amounts[i] for i in lines]
    parts = allocate(promo.amount, weights, [promo.amount] * len(lines))
    for i, part in zip(lines, parts):
        if part:
            extra[i].append((promo.id, part))


def no_promotions(n: int, hints: tuple[str, ...] = ()) -> PromoOutcome:
    return PromoOutcome(
        discounts=(0,) * n, line_discounts=((),) * n, multipliers=(Decimal(1),) * n,
        multiplier_ids=((),) * n, extra=((),) * n, spend_percent=(None,) * n,
        no_level_discount=(False,) * n, no_spend=(False,) * n, applied=(), hints=hints)


__all__ = ["REWARDS", "COMBINE", "PromoConditions", "Promotion", "PromoContext", "LinePromotion",
           "AppliedPromotion", "PromoOutcome", "PromoIndex", "apply_promotions", "no_promotions",
           "promotion_index", "EMPTY_CONTEXT"]
