"""Promotions and promo codes: stored settings <-> the engine's Promotion, what a receipt's
calculation is given, and what a committed sale records (uses, code redemptions).

The stored form of a promotion (what the API's schema loads): money in kopecks (ints),
percents and multipliers as decimal strings, times "HH:MM", moments ISO 8601 with offset.
"""
from __future__ import annotations

import secrets
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.cache import VersionedCache
from hub.engine.promotions import COMBINE, REWARDS, PromoConditions, PromoContext, PromoIndex, promotion_index
from hub.engine.promotions import Promotion as EnginePromotion
from hub.errors import Invalid, NotFound
from hub.extensions import unit_of_work
from hub.staff.operations import Actor, record
from hub.customers.models import Customer
from hub.automation.models import CustomerSegment
from hub.tenants.models import ProgramSettings
from hub.orm import new_id, utcnow
from hub.promotions.models import PromoCode, PromoCodeRedemption, Promotion, PromotionRevision, PromotionUse
from hub.programs.operations import get_program, load_settings, program_version
from hub.engine.returns import PromoSet

MAX_PROMOTIONS = 500
MAX_BATCH = 10_000
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I/L: printable, dictable
CODE_LENGTH = 10                                      # 31^10 ≈ 2^49.5: not guessable

DEFAULTS: dict = {
    "active": True, "percent": None, "amount": None, "multiplier": None, "buy": None,
    "free": None, "priority": 0, "exclusive": False, "combine": "stack", "level_discount": True,
    "bonus_spend": True, "gift_product": None, "gift_name": None, "gift_price": None,
    "gift_quantity": None,
}
WHEN_DEFAULTS: dict = {
    "starts_at": None, "ends_at": None, "weekdays": [], "time_from": None, "time_to": None,
    "stores": [], "levels": [], "segments": [], "groups": [], "products": [], "min_amount": 0,
    "min_quantity": "0", "first_purchase": False, "birthday_days": None,
    "per_customer_limit": None, "requires_code": False,
}


# --- stored settings -> engine ----------------------------------------------------------------

def _dec(value, default: str = "0") -> Decimal:
    return Decimal(str(value if value is not None else default))


def _moment(text: str | None, tz: str) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))


def _time(text: str | None) -> time | None:
    return time.fromisoformat(text) if text else None


def to_engine(promotion_id: str, s: dict, tz: str) -> EnginePromotion:
    w = {**WHEN_DEFAULTS, **(s.get("when") or {})}
    return EnginePromotion(
        id=promotion_id, name=s["name"], reward=s["reward"],
        percent=_dec(s.get("percent")), amount=int(s.get("amount") or 0),
        multiplier=_dec(s.get("multiplier"), "1"), buy=int(s.get("buy") or 0),
        free=int(s.get("free") or 0), priority=int(s.get("priority") or 0),
        exclusive=bool(s.get("exclusive")), combine=s.get("combine") or "stack",
        level_discount=s.get("level_discount", True) is not False,
        bonus_spend=s.get("bonus_spend", True) is not False,
        gift_product=s.get("gift_product") or "", gift_name=s.get("gift_name") or "",
        gift_price=int(s.get("gift_price") or 0), gift_quantity=int(s.get("gift_quantity") or 1),
        when=PromoConditions(
            starts_at=_moment(w["starts_at"], tz), ends_at=_moment(w["ends_at"], tz),
            weekdays=tuple(int(d) for d in w["weekdays"]), time_from=_time(w["time_from"]),
            time_to=_time(w["time_to"]), stores=tuple(w["stores"]), levels=tuple(w["levels"]),
            segments=tuple(w["segments"]), groups=tuple(w["groups"]), products=tuple(w["products"]),
            min_amount=int(w["min_amount"] or 0), min_quantity=_dec(w["min_quantity"]),
            first_purchase=bool(w["first_purchase"]), birthday_days=w["birthday_days"],
            per_customer_limit=w["per_customer_limit"], requires_code=bool(w["requires_code"])))


# --- validation (the hub's rule; the API schema only converts) --------------------------------

def _check(s: dict, level_codes: set[str]) -> dict:
    errors: dict = {}

    def bad(path: str, message: str) -> None:
        node = errors
        *parents, leaf = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node.setdefault(leaf, []).append(message)

    if not (s.get("name") or "").strip():
        bad("name", "Укажите название акции.")
    reward = s.get("reward")
    if reward not in REWARDS:
        bad("reward", f"Допустимые значения: {', '.join(REWARDS)}.")
    percent = _dec(s.get("percent")) if s.get("percent") is not None else None
    if reward in ("percent_off", "spend_share") and (percent is None or not 0 < percent <= 100):
        bad("percent", "Нужен процент больше 0 и не больше 100.")
    if reward in ("amount_off", "bonus_extra") and not (s.get("amount") or 0) > 0:
        bad("amount", "Нужна сумма больше 0.")
    if reward == "bonus_multiplier":
        m = _dec(s.get("multiplier")) if s.get("multiplier") is not None else None
        if m is None or not 0 < m <= 100:
            bad("multiplier", "Нужен множитель больше 0 и не больше 100.")
    if reward == "free_items":
        for key in ("buy", "free"):
            if not isinstance(s.get(key), int) or not 1 <= s[key] <= 100:
                bad(key, "Нужно целое число от 1 до 100.")
    if reward == "gift_product":
        gift = s.get("gift_product")
        if not isinstance(gift, str) or not 1 <= len(gift.strip()) <= 100:
            bad("gift_product", "Укажите товар-подарок (его идентификатор).")
        price = s.get("gift_price")
        if price is not None and (not isinstance(price, int) or price < 0):
            bad("gift_price", "Цена подарка не может быть отрицательной.")
        qty = s.get("gift_quantity")
        if qty is not None and (not isinstance(qty, int) or not 1 <= qty <= 100):
            bad("gift_quantity", "Нужно целое число от 1 до 100.")
    if s.get("combine", "stack") not in COMBINE:
        bad("combine", "Допустимые значения: stack, best.")
    if not isinstance(s.get("priority", 0), int) or not -1000 <= s.get("priority", 0) <= 1000:
        bad("priority", "Нужно целое число от -1000 до 1000.")
    w = s.get("when") or {}
    moments = {}
    for key in ("starts_at", "ends_at"):
        if w.get(key):
            try:
                moments[key] = _moment(w[key], "UTC")
            except (ValueError, TypeError):
                bad(f"when.{key}", "Нужны дата и время в формате ISO 8601.")
    if len(moments) == 2 and moments["starts_at"] >= moments["ends_at"]:
        bad("when.ends_at", "Окончание должно быть позже начала.")
    for key in ("time_from", "time_to"):
        if w.get(key):
            try:
                _time(w[key])
            except (ValueError, TypeError):
                bad(f"when.{key}", "Нужно время в формате ЧЧ:ММ.")
    if w.get("time_from") and w.get("time_from") == w.get("time_to"):
        bad("when.time_to", "Начало и конец окна совпадают.")
    if any(not isinstance(d, int) or not 1 <= d <= 7 for d in w.get("weekdays") or []):
        bad("when.weekdays", "Дни недели — числа от 1 (понедельник) до 7 (воскресенье).")
    unknown = sorted(set(w.get("levels") or []) - level_codes)
    if unknown:
        bad("when.levels", f"Нет таких уровней: {', '.join(unknown)}.")
    days = w.get("birthday_days")
    if days is not None and (not isinstance(days, int) or not 0 <= days <= 31):
        bad("when.birthday_days", "Нужно целое число дней от 0 до 31.")
    limit = w.get("per_customer_limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        bad("when.per_customer_limit", "Нужно целое число не меньше 1.")
    try:
        if _dec(w.get("min_quantity")) < 0:
            bad("when.min_quantity", "Не может быть отрицательным.")
    except InvalidOperation:
        bad("when.min_quantity", "Должно быть число.")
    return errors


def _paths(errors: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in errors.items():
        name = f"{prefix}.{key}" if prefix else key
        out += _paths(value, name) if isinstance(value, dict) else [name]
    return out


def validate_promotion(session: Session, tenant_id: str, data: dict) -> dict:
    """The stored form with defaults filled in; Invalid (422) with every problem by path."""
    settings = {**DEFAULTS, **data, "when": {**WHEN_DEFAULTS, **(data.get("when") or {})}}
    program, _ = load_settings(session, tenant_id)
    errors = _check(settings, {lv["code"] for lv in program.get("levels") or []})
    if errors:
        raise Invalid("validation_error", f"Проверьте поля акции: {', '.join(sorted(_paths(errors)))}.",
                      errors)
    to_engine("check", settings, "UTC")   # must build, or nothing is stored
    return settings


# --- CRUD ---------------------------------------------------------------------------------------

def _bump(session: Session, tenant_id: str) -> None:
    """A change of the tenant's promotions: a new revision, and a new version of its program
    settings row (when it has one), which every calculation reads anyway — so processes that
    cached the promotions with the program they were read with see the change at once."""
    row = session.scalars(select(PromotionRevision).where(PromotionRevision.tenant_id == tenant_id)
                          .with_for_update()).first()
    if row is None:
        session.add(PromotionRevision(tenant_id=tenant_id, revision=1))
    else:
        row.revision += 1
    session.execute(update(ProgramSettings).where(ProgramSettings.tenant_id == tenant_id)
                    .values(version=ProgramSettings.version + 1))
    session.info.get("promotions", {}).pop(tenant_id, None)
    session.info.get("programs", {}).pop(tenant_id, None)
    _sets.invalidate(tenant_id)


def promotion_view(row: Promotion) -> dict:
    return {**row.settings, "id": row.id, "name": row.name, "active": row.active,
            "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}


def list_promotions(session: Session, tenant_id: str) -> list[dict]:
    rows = session.scalars(select(Promotion).where(Promotion.tenant_id == tenant_id,
                                                   Promotion.archived.is_(False))
                           .order_by(Promotion.created_at, Promotion.id)).all()
    return [promotion_view(r) for r in rows]


def _get(session: Session, tenant_id: str, promotion_id: str, *, lock: bool = False) -> Promotion:
    stmt = select(Promotion).where(Promotion.tenant_id == tenant_id, Promotion.id == promotion_id,
                                   Promotion.archived.is_(False))
    row = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFound("promotion_not_found", "Акция не найдена.")
    return row


def get_promotion(session: Session, tenant_id: str, promotion_id: str) -> dict:
    return promotion_view(_get(session, tenant_id, promotion_id))


def create_promotion(session: Session, tenant_id: str, data: dict, by: Actor | None = None) -> dict:
    """A new promotion (commits; `by`: the person, audited with it)."""
    settings = validate_promotion(session, tenant_id, data)
    count = session.scalar(select(func.count()).select_from(Promotion).where(
        Promotion.tenant_id == tenant_id, Promotion.archived.is_(False)))
    if count >= MAX_PROMOTIONS:
        raise Invalid("too_many_promotions", f"Не больше {MAX_PROMOTIONS} акций.")
    row = Promotion(tenant_id=tenant_id, name=settings["name"], active=settings["active"],
                    settings={k: v for k, v in settings.items() if k not in ("name", "active")})
    session.add(row)
    _bump(session, tenant_id)
    if by is not None:
        session.flush()
        record(session, tenant_id, by, "promotion.create", "promotion", row.id,
               {"name": row.name, "reward": promotion_view(row)["reward"]})
    session.commit()
    return promotion_view(row)


def update_promotion(session: Session, tenant_id: str, promotion_id: str, data: dict,
                     by: Actor | None = None) -> dict:
    """Change a promotion's settings (commits; `by`: the person, audited with it)."""
    row = _update(session, tenant_id, promotion_id, data)
    if by is not None:
        record(session, tenant_id, by, "promotion.update", "promotion", row.id,
               {"name": row.name, "reward": promotion_view(row)["reward"]})
    session.commit()
    return promotion_view(row)


def set_promotion_active(session: Session, tenant_id: str, promotion_id: str, on: bool, by: Actor) -> dict:
    """Switch a promotion on or off (its codes and history stay), audited, in one transaction."""
    with unit_of_work(session):
        current = promotion_view(_get(session, tenant_id, promotion_id, lock=True))
        data = {k: v for k, v in current.items() if k not in ("id", "created_at", "updated_at")}
        row = _update(session, tenant_id, promotion_id, {**data, "active": on})
        record(session, tenant_id, by, "promotion.activate" if on else "promotion.deactivate", "promotion",
               promotion_id, {"name": current["name"]})
    return promotion_view(row)


def _update(session: Session, tenant_id: str, promotion_id: str, data: dict) -> Promotion:
    row = _get(session, tenant_id, promotion_id, lock=True)
    settings = validate_promotion(session, tenant_id, data)
    row.name, row.active = settings["name"], settings["active"]
    row.settings = {k: v for k, v in settings.items() if k not in ("name", "active")}
    row.updated_at = utcnow()
    _bump(session, tenant_id)
    return row


def archive_promotion(session: Session, tenant_id: str, promotion_id: str) -> None:
    """Off and out of the list; its uses and codes stay for the history."""
    row = _get(session, tenant_id, promotion_id, lock=True)
    row.active, row.archived, row.updated_at = False, True, utcnow()
    _bump(session, tenant_id)
    session.commit()


# --- what a calculation is given --------------------------------------------------------------

# The tenant's active promotions, parsed and indexed, per version: the program settings'
# version when the tenant has a settings row (every change of the promotions bumps it, `_bump`,
# and a calculation reads it anyway: no query at all), else the promotions' own revision.
_sets = VersionedCache[tuple[tuple[EnginePromotion, ...], PromoIndex]]("promotions")


def _active_set(session: Session, tenant_id: str) -> tuple[tuple[EnginePromotion, ...], PromoIndex]:
    per_session = session.info.setdefault("promotions", {})
    if tenant_id in per_session:
        return per_session[tenant_id]
    version = program_version(session, tenant_id)
    if version:
        key: tuple = ("program", version)
    else:
        key = ("revision", session.scalar(select(PromotionRevision.revision)
                                          .where(PromotionRevision.tenant_id == tenant_id)) or 0)

    def build() -> tuple[tuple[EnginePromotion, ...], PromoIndex]:
        if key == ("revision", 0):
            parsed: tuple[EnginePromotion, ...] = ()
        else:
            tz = get_program(session, tenant_id).timezone
            rows = session.execute(select(Promotion.id, Promotion.settings, Promotion.name)
                                   .where(Promotion.tenant_id == tenant_id,
                                          Promotion.active.is_(True),
                                          Promotion.archived.is_(False))).all()
            parsed = tuple(sorted((to_engine(pid, {**s, "name": name}, tz) for pid, s, name in rows),
                                  key=lambda p: (-p.priority, p.id)))
        return parsed, promotion_index(parsed)
    found = per_session[tenant_id] = _sets.get(tenant_id, key, build)
    return found


def active_promotions(session: Session, tenant_id: str) -> tuple[EnginePromotion, ...]:
    """The tenant's active promotions as engine dataclasses, parsed once per version (`_sets`)."""
    return _active_set(session, tenant_id)[0]


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


# Built once: a calculate with segment-targeted promotions asks it every time.
_SEGMENTS_OF = select(CustomerSegment.segment).where(CustomerSegment.tenant_id == bindparam("tenant_id"),
                                                     CustomerSegment.customer_id == bindparam("customer_id"))


def _segments(session: Session, customer: Customer) -> frozenset[str]:
    """The customer's tags and recency segments (what a promotion's `segments` condition names)."""
    found = set(customer.tags or ())
    found.update(session.scalars(_SEGMENTS_OF, {"tenant_id": customer.tenant_id, "customer_id": customer.id}))
    return frozenset(found)


def _code_rows(session: Session, tenant_id: str, codes: tuple[str, ...], customer: Customer | None,
               moment: datetime, lock: bool) -> list[PromoCode]:
    """The rows of the presented codes, checked; Invalid names every code that cannot be used."""
    wanted = sorted({normalize_code(c) for c in codes if normalize_code(c)})
    if not wanted:
        return []
    stmt = select(PromoCode).where(PromoCode.tenant_id == tenant_id, PromoCode.code.in_(wanted)) \
        .order_by(PromoCode.code)
    if lock:   # in code order: two sales locking the same codes cannot deadlock
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    rows = {r.code: r for r in session.scalars(stmt).all()}
    problems: dict[str, list[str]] = {}
    for code in wanted:
        row = rows.get(code)
        if row is None:
            problems[code] = ["Промокод не найден."]
        elif row.blocked:
            problems[code] = ["Промокод заблокирован."]
        elif row.valid_from is not None and moment < row.valid_from:
            problems[code] = [f"Промокод действует с {row.valid_from:%d.%m.%Y}."]
        elif row.valid_to is not None and moment >= row.valid_to:
            problems[code] = ["Срок действия промокода истёк."]
        elif row.max_uses is not None and row.uses >= row.max_uses:
            problems[code] = ["Промокод уже использован."]
        elif row.per_customer_limit is not None:
            if customer is None:
                problems[code] = ["Промокод действует только по карте клиента."]
            elif session.scalar(select(func.count()).select_from(PromoCodeRedemption).where(
                    PromoCodeRedemption.code_id == row.id,
                    PromoCodeRedemption.customer_id == customer.id)) >= row.per_customer_limit:
                problems[code] = ["Клиент уже использовал этот промокод."]
    if problems:
        first = next(iter(problems))
        raise Invalid("promo_code_invalid", f"Промокод {first}: {problems[first][0]}",
                      {"promo_codes": problems})
    return [rows[c] for c in wanted]


def promotion_context(session: Session, tenant_id: str, customer: Customer | None,
                      moment: datetime, codes: tuple[str, ...] = (), *,
                      lock: bool = False) -> PromoContext | None:
    """What the engine needs to apply the tenant's promotions to a receipt (None: nothing to
    apply). With `lock` (commit) the presented codes' rows are locked until the transaction ends."""
    promotions, index = _active_set(session, tenant_id)
    rows = _code_rows(session, tenant_id, tuple(codes or ()), customer, moment, lock)
    if not promotions and not rows:
        return None
    active_ids = {p.id for p in promotions}
    for row in rows:
        if row.promotion_id not in active_ids:
            raise Invalid("promo_code_invalid", f"Промокод {row.code}: акция не действует.",
                          {"promo_codes": {row.code: ["Акция промокода не действует."]}})
    if customer is None:
        return PromoContext(promotions=promotions, unlocked=frozenset(r.promotion_id for r in rows), index=index)
    limited = [p.id for p in promotions if p.when.per_customer_limit is not None]
    uses = {}
    if limited:
        uses = dict(session.execute(
            select(PromotionUse.promotion_id, func.count()).where(
                PromotionUse.tenant_id == tenant_id, PromotionUse.customer_id == customer.id,
                PromotionUse.returned_at.is_(None),
                PromotionUse.promotion_id.in_(limited)).group_by(PromotionUse.promotion_id)).all())
    segments = (_segments(session, customer) if any(p.when.segments for p in promotions)
                else frozenset())
    return PromoContext(promotions=promotions, known_customer=True, segments=segments,
                        birth_date=customer.birth_date, uses=uses,
                        unlocked=frozenset(r.promotion_id for r in rows), index=index)


SET_REWARDS = ("free_items", "gift_product")


def _set_details(promo: EnginePromotion | None, applied, quote) -> dict | None:
    """What a return needs of a set promotion (hub.engine.returns.PromoSet)."""
    if promo is None or promo.reward not in SET_REWARDS or not applied.discount:
        return None
    discounts = {}
    for line in quote.positions:
        for lp in line.promotions:
            if lp.id == promo.id and lp.discount:
                discounts[line.id] = discounts.get(line.id, 0) + lp.discount
    return {"reward": promo.reward, "counted": list(applied.lines), "discounts": discounts,
            "buy": promo.buy, "free": promo.free, "min_amount": promo.when.min_amount,
            "min_quantity": str(promo.when.min_quantity)}


def record_promotions(session: Session, tenant_id: str, receipt_id: str, customer_id: str | None,
                      quote, codes: tuple[str, ...] = (),
                      context: PromoContext | None = None) -> None:
    """A committed sale's promotions: a use each (per-customer limits count them; a set
    promotion's use keeps what a return needs), and a redemption of every presented code whose
    promotion applied. The code rows were locked by promotion_context(lock=True) in this
    transaction, so a single-use code is redeemed once."""
    if not quote.promotions and not codes:
        return
    applied = {p.id for p in quote.promotions}
    terms = {p.id: p for p in context.promotions} if context is not None else {}
    for p in quote.promotions:
        session.add(PromotionUse(tenant_id=tenant_id, promotion_id=p.id, customer_id=customer_id,
                                 receipt_id=receipt_id, discount=p.discount, bonus=p.bonus,
                                 details=_set_details(terms.get(p.id), p, quote)))
    wanted = sorted({normalize_code(c) for c in codes or () if normalize_code(c)})
    if wanted:
        for row in session.scalars(select(PromoCode).where(PromoCode.tenant_id == tenant_id,
                                                           PromoCode.code.in_(wanted))).all():
            if row.promotion_id in applied:
                row.uses += 1
                session.add(PromoCodeRedemption(tenant_id=tenant_id, code_id=row.id,
                                                customer_id=customer_id, receipt_id=receipt_id))
    session.flush()


def receipt_sets(session: Session, receipt_id: str) -> tuple[list[PromotionUse], list]:
    """The sale's promotion uses and its set promotions as the return engine reads them."""
    uses = list(session.scalars(select(PromotionUse).where(PromotionUse.receipt_id == receipt_id)
                                .order_by(PromotionUse.promotion_id)))
    if not uses:
        return uses, []
    names = dict(session.execute(select(Promotion.id, Promotion.name).where(
        Promotion.id.in_([u.promotion_id for u in uses]))).all())
    sets = [PromoSet(id=u.promotion_id, name=names.get(u.promotion_id, ""), reward=d["reward"],
                     counted=tuple(d.get("counted") or ()), discounts=dict(d.get("discounts") or {}),
                     buy=int(d.get("buy") or 0), free=int(d.get("free") or 0),
                     min_amount=int(d.get("min_amount") or 0),
                     min_quantity=Decimal(d.get("min_quantity") or "0"))
            for u in uses if (d := u.details)]
    return uses, sets


def give_back_uses(uses: list[PromotionUse], moment: datetime, *, whole: bool,
                   lost: tuple[str, ...] = ()) -> list[str]:
    """A return gives back the uses of the promotions of a receipt returned whole, and of the
    set promotions nothing of whose discount stays with the customer: a "once per customer"
    promotion can be used again. Returns the promotion ids given back now."""
    back = []
    for use in uses:
        if use.returned_at is None and (whole or use.promotion_id in lost):
            use.returned_at = moment
            back.append(use.promotion_id)
    return back


def promotions_payload(q, payload: dict) -> dict:
    """The promotion part of a receipt's answer (kopecks), added to quote_payload's dict when
    a promotion applied or is one step away (the API.md core shape stays as it was otherwise)."""
    if not q.promotions and not q.hints:
        return payload
    for line, p in zip(payload.get("positions") or [], q.positions):
        line["promo_discount"] = p.promo_discount
        line["promotions"] = [{"id": lp.id, "name": lp.name, "discount": lp.discount,
                               "bonus": lp.bonus} for lp in p.promotions]
    payload.setdefault("totals", {})["promo_discount"] = q.promo_discount
    payload["promotions"] = [{"id": p.id, "name": p.name, "reward": p.reward,
                              "discount": p.discount, "bonus": p.bonus} for p in q.promotions]
    payload["offers"] = list(q.hints)
    return payload


# --- promo codes ----------------------------------------------------------------------------

def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def create_codes(session: Session, tenant_id: str, promotion_id: str, data: dict,
                 by: Actor | None = None) -> dict:
    """A batch of unguessable codes bound to the promotion (which then needs a code); commits,
    `by`: the person, audited with it."""
    row = _get(session, tenant_id, promotion_id, lock=True)
    count = data.get("count", 1)
    errors: dict = {}
    if not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
        errors["count"] = [f"Нужно целое число от 1 до {MAX_BATCH}."]
    for key in ("max_uses", "per_customer_limit"):
        v = data.get(key)
        if v is not None and (not isinstance(v, int) or v < 1):
            errors[key] = ["Нужно целое число не меньше 1."]
    tz = get_program(session, tenant_id).timezone
    bounds: dict[str, datetime | None] = {}
    for key in ("valid_from", "valid_to"):
        try:
            bounds[key] = _moment(data.get(key), tz)
        except (ValueError, TypeError):
            errors[key] = ["Нужны дата и время в формате ISO 8601."]
    vf, vt = bounds.get("valid_from"), bounds.get("valid_to")
    if vf and vt and vf >= vt:
        errors["valid_to"] = ["Окончание должно быть позже начала."]
    if errors:
        raise Invalid("validation_error", f"Проверьте поля: {', '.join(sorted(errors))}.", errors)
    batch = new_id()
    max_uses = data.get("max_uses", 1)
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(new_code())
    taken = set(session.scalars(select(PromoCode.code).where(PromoCode.tenant_id == tenant_id,
                                                             PromoCode.code.in_(codes))).all())
    while taken:           # astronomically rare; draw again for those
        codes -= taken
        fresh = {new_code() for _ in taken}
        taken = set(session.scalars(select(PromoCode.code).where(
            PromoCode.tenant_id == tenant_id, PromoCode.code.in_(fresh))).all())
        codes |= fresh - taken
    ordered = sorted(codes)
    session.add_all(PromoCode(tenant_id=tenant_id, promotion_id=row.id, batch=batch, code=c,
                              max_uses=max_uses, per_customer_limit=data.get("per_customer_limit"),
                              valid_from=vf, valid_to=vt) for c in ordered)
    if not row.settings.get("when", {}).get("requires_code"):
        row.settings = {**row.settings, "when": {**row.settings.get("when", {}), "requires_code": True}}
        _bump(session, tenant_id)
    if by is not None:
        record(session, tenant_id, by, "promo_codes.create", "promotion", row.id,
               {"batch": batch, "count": len(ordered), "max_uses": max_uses})
    try:
        session.commit()
    except IntegrityError:     # a concurrent batch drew the same code
        session.rollback()
        raise
    return {"batch": batch, "promotion_id": row.id, "count": len(ordered), "max_uses": max_uses,
            "per_customer_limit": data.get("per_customer_limit"),
            "valid_from": vf.isoformat() if vf else None, "valid_to": vt.isoformat() if vt else None,
            "codes": ordered}


def code_view(row: PromoCode) -> dict:
    return {"code": row.code, "promotion_id": row.promotion_id, "batch": row.batch,
            "max_uses": row.max_uses, "per_customer_limit": row.per_customer_limit, "uses": row.uses,
            "valid_from": row.valid_from.isoformat() if row.valid_from else None,
            "valid_to": row.valid_to.isoformat() if row.valid_to else None, "blocked": row.blocked}


def list_codes(session: Session, tenant_id: str, promotion_id: str) -> list[dict]:
    _get(session, tenant_id, promotion_id)
    rows = session.scalars(select(PromoCode).where(PromoCode.tenant_id == tenant_id,
                                                   PromoCode.promotion_id == promotion_id)
                           .order_by(PromoCode.created_at, PromoCode.code).limit(MAX_BATCH)).all()
    return [code_view(r) for r in rows]


def get_code(session: Session, tenant_id: str, code: str) -> PromoCode:
    row = session.scalars(select(PromoCode).where(PromoCode.tenant_id == tenant_id,
                                                  PromoCode.code == normalize_code(code))).first()
    if row is None:
        raise NotFound("promo_code_not_found", "Промокод не найден.")
    return row


def block_code(session: Session, tenant_id: str, code: str, blocked: bool = True) -> dict:
    row = get_code(session, tenant_id, code)
    row.blocked = blocked
    session.commit()
    return code_view(row)
