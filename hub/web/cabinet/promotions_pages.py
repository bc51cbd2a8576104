"""Promotions, promo codes and gift certificates in the owner's cabinet.

Every rule is the hub's (hub.promotions.operations, hub.certificates.operations): this module only
turns forms into their calls and their errors into messages next to the fields. Owners and
managers edit; a read-only user sees the same pages without the forms.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time as dtime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from hub.clock import utcnow
from hub.errors import DomainError
from hub.extensions import db
from hub.certificates.models import CertificatePosting, GiftCertificate
from hub.promotions.models import PromoCode
from hub.web.cabinet.blueprint import ACTIONS, bp
from hub.web.ui.auth import CABINET_ROLES, EDIT_ROLES, actor, require_roles
from hub.web.ui.formatting import parse_rub
from hub.paging import newest_first
from hub.web.ui.formatting import dt
from hub.certificates.operations import status_of
from hub.programs.operations import load_settings
from hub.staff.models import AuditEntry
from hub.web.ui.formatting import isodt, number
from hub.certificates.operations import normalize_number
from hub.web.my.cards import qr_svg
from hub.certificates.operations import block_certificate
from hub.certificates import operations as certificate_service
from hub.promotions import operations as service

PAGE = 50
CODES_SHOWN = 500            # codes listed on a promotion's page (the CSV has them all)
PRINT_MAX = 1000             # codes on one printable page

ACTIONS.update({"promotion.create": "создана акция", "promotion.update": "изменена акция",
                "promotion.deactivate": "выключена акция", "promotion.activate": "включена акция",
                "promo_codes.create": "выпущены промокоды", "certificate.issue": "выпущены сертификаты",
                "certificate.block": "заблокирован сертификат",
                "certificate.unblock": "разблокирован сертификат"})

REWARDS = {"percent_off": "Скидка в процентах", "amount_off": "Скидка суммой",
           "free_items": "N+M: самые дешёвые товары в подарок", "bonus_multiplier": "Бонусы с множителем",
           "bonus_extra": "Дополнительные бонусы", "spend_share": "Больше оплаты бонусами"}
REWARD_HINTS = {
    "percent_off": "Процент от суммы товаров акции: сезонная распродажа, −15% на первую покупку, счастливые часы.",
    "amount_off": "Фиксированная сумма на товары акции, распределяется по строкам чека.",
    "free_items": "«2+1», «1+1»: из каждых N+M товаров M самых дешёвых — бесплатно (как скидка).",
    "bonus_multiplier": "Бонусы за покупку умножаются: «двойные бонусы по выходным».",
    "bonus_extra": "Фиксированное число бонусов сверху за покупку, например от суммы чека.",
    "spend_share": "Какую долю чека можно оплатить бонусами по этой акции (вместо обычной доли).",
}
WEEKDAYS = ((1, "Пн"), (2, "Вт"), (3, "Ср"), (4, "Чт"), (5, "Пт"), (6, "Сб"), (7, "Вс"))
STATE_NAMES = {"active": "действует", "scheduled": "запланирована", "ended": "завершена", "off": "выключена"}
CERT_STATUSES = {"issued": "не продан", "active": "активен", "blocked": "заблокирован", "expired": "истёк"}
POSTING_KINDS = {"activation": "продажа (активация)", "redeem": "оплата покупки", "restore": "возврат покупки",
                 "expiry": "сгорание"}
LIST_FIELDS = ("stores", "segments", "groups", "products")
CHECKS = ("exclusive", "level_discount", "bonus_spend", "first_purchase", "requires_code")


# --- small conversions ---------------------------------------------------------------------------

def _tz() -> ZoneInfo:
    return ZoneInfo(g.tenant_tz)


def _kopecks_text(value: int | None) -> str:
    if not value:
        return ""
    return str(value // 100) if value % 100 == 0 else f"{value / 100:.2f}".replace(".", ",")


def _local_input(iso: str | None) -> str:
    """A stored ISO moment as a datetime-local input's value in the tenant's zone."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_tz())
    return moment.astimezone(_tz()).strftime("%Y-%m-%dT%H:%M")


def _local_moment(text: str) -> datetime:
    """"2026-12-01T10:00" or "2026-12-01" (the tenant's local time) -> an aware moment."""
    text = text.strip()
    value = datetime.fromisoformat(text) if "T" in text or " " in text else \
        datetime.combine(date.fromisoformat(text), dtime(0))
    return value.replace(tzinfo=_tz()) if value.tzinfo is None else value


def _number(text: str) -> Decimal:
    value = Decimal(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))
    if not value.is_finite():
        raise InvalidOperation
    return value


def _flat(errors: dict, prefix: str = "") -> dict[str, list[str]]:
    """The hub's errors by path ({"when": {"levels": [...]}}) as form field names ("levels")."""
    out: dict[str, list[str]] = {}
    for key, value in (errors or {}).items():
        if isinstance(value, dict):
            for k, v in _flat(value, key).items():
                out.setdefault(k, []).extend(v)
        else:
            out.setdefault(key, []).extend(value if isinstance(value, list) else [str(value)])
    return out


def _optional_int(form, name: str, errors: dict, low: int | None = None) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        errors[name] = ["Нужно целое число."]
        return None
    if low is not None and value < low:
        errors[name] = [f"Нужно целое число не меньше {low}."]
    return value


# --- promotion form <-> stored settings ------------------------------------------------------------

def _values_from_settings(s: dict) -> dict:
    w = s.get("when") or {}
    return {"name": s.get("name", ""), "active": s.get("active", True), "reward": s.get("reward") or "",
            "percent": str(s.get("percent") or "").replace(".", ","),
            "amount": _kopecks_text(s.get("amount")), "multiplier": str(s.get("multiplier") or "").replace(".", ","),
            "buy": s.get("buy") or "", "free": s.get("free") or "", "priority": s.get("priority") or 0,
            "combine": s.get("combine") or "stack",
            **{k: bool(s.get(k, k != "exclusive")) for k in ("exclusive", "level_discount", "bonus_spend")},
            "starts_at": _local_input(w.get("starts_at")), "ends_at": _local_input(w.get("ends_at")),
            "weekdays": [int(d) for d in w.get("weekdays") or []],
            "time_from": w.get("time_from") or "", "time_to": w.get("time_to") or "",
            **{k: ", ".join(w.get(k) or []) for k in LIST_FIELDS},
            "levels": list(w.get("levels") or []), "min_amount": _kopecks_text(w.get("min_amount")),
            "min_quantity": "" if str(w.get("min_quantity") or "0") in ("0", "0.0") else str(w.get("min_quantity")),
            "first_purchase": bool(w.get("first_purchase")), "requires_code": bool(w.get("requires_code")),
            "birthday_days": "" if w.get("birthday_days") is None else w["birthday_days"],
            "per_customer_limit": "" if w.get("per_customer_limit") is None else w["per_customer_limit"]}


def _settings_from_form(form, active: bool) -> tuple[dict, dict, dict]:
    """(the stored form for the service, the typed values for the page, our own parse errors)."""
    errors: dict[str, list[str]] = {}
    values = {k: (form.get(k) or "").strip() for k in (
        "name", "reward", "percent", "amount", "multiplier", "buy", "free", "priority", "combine",
        "starts_at", "ends_at", "time_from", "time_to", "min_amount", "min_quantity", "birthday_days",
        "per_customer_limit", *LIST_FIELDS)}
    values.update({k: form.get(k) == "1" for k in CHECKS})
    values["levels"] = [v for v in form.getlist("levels") if v]
    values["active"] = active
    reward = values["reward"]
    data: dict = {"name": values["name"], "active": active, "reward": reward,
                  **{k: values[k] for k in ("exclusive", "level_discount", "bonus_spend")},
                  "combine": values["combine"] or "stack"}
    if len(values["name"]) > 200:
        errors["name"] = ["Не длиннее 200 символов."]
    if reward not in REWARDS:
        errors["reward"] = ["Выберите механику акции."]
    if reward in ("percent_off", "spend_share") and values["percent"]:
        try:
            data["percent"] = str(_number(values["percent"]))
        except InvalidOperation:
            errors["percent"] = ["Введите число, например 15 или 7,5."]
    if reward == "bonus_multiplier" and values["multiplier"]:
        try:
            data["multiplier"] = str(_number(values["multiplier"]))
        except InvalidOperation:
            errors["multiplier"] = ["Введите число, например 2 или 1,5."]
    if reward in ("amount_off", "bonus_extra") and values["amount"]:
        try:
            data["amount"] = parse_rub(values["amount"])
        except ValueError:
            errors["amount"] = ["Введите сумму, например 100 или 99,50."]
    if reward == "free_items":
        for key in ("buy", "free"):
            data[key] = _optional_int(form, key, errors)
    data["priority"] = _optional_int(form, "priority", errors) or 0
    try:
        weekdays = sorted({int(d) for d in form.getlist("weekdays")})
    except ValueError:
        weekdays, errors["weekdays"] = [], ["Выберите дни недели из списка."]
    values["weekdays"] = weekdays
    when: dict = {"weekdays": weekdays, "levels": values["levels"],
                  "time_from": values["time_from"] or None, "time_to": values["time_to"] or None,
                  "first_purchase": values["first_purchase"], "requires_code": values["requires_code"],
                  "birthday_days": _optional_int(form, "birthday_days", errors),
                  "per_customer_limit": _optional_int(form, "per_customer_limit", errors)}
    for key in ("starts_at", "ends_at"):
        if values[key]:
            try:
                when[key] = _local_moment(values[key]).isoformat()
            except ValueError:
                errors[key] = ["Дата и время, например 01.12.2026 10:00."]
        else:
            when[key] = None
    for key in LIST_FIELDS:
        items = list(dict.fromkeys(p.strip() for p in values[key].replace("\n", ",").split(",") if p.strip()))
        if any(len(p) > 100 for p in items) or len(items) > 1000:
            errors[key] = ["Не больше 1000 значений, каждое — до 100 символов."]
        when[key] = items
    try:
        when["min_amount"] = parse_rub(values["min_amount"]) or 0
    except ValueError:
        errors["min_amount"] = ["Введите сумму, например 1 000 или 999,90."]
    if values["min_quantity"]:
        try:
            when["min_quantity"] = str(_number(values["min_quantity"]))
        except InvalidOperation:
            errors["min_quantity"] = ["Введите число, например 3."]
    data["when"] = when
    return data, values, errors


def _state(p: dict, now: datetime) -> str:
    if not p.get("active"):
        return "off"
    w = p.get("when") or {}
    ends = w.get("ends_at") and datetime.fromisoformat(w["ends_at"].replace("Z", "+00:00"))
    starts = w.get("starts_at") and datetime.fromisoformat(w["starts_at"].replace("Z", "+00:00"))
    if ends and ends <= now:
        return "ended"
    if starts and starts > now:
        return "scheduled"
    return "active"


def _summary(p: dict) -> str:
    """What the promotion gives, in a few words."""
    reward = p.get("reward")
    if reward == "percent_off":
        return f"скидка {str(p.get('percent') or '').replace('.', ',')}%"
    if reward == "amount_off":
        return f"скидка {number(p.get('amount'))}\u00a0₽"
    if reward == "free_items":
        return f"{p.get('buy')}+{p.get('free')}"
    if reward == "bonus_multiplier":
        return f"бонусы ×{str(p.get('multiplier') or '').replace('.', ',')}"
    if reward == "bonus_extra":
        return f"+{number(p.get('amount'))} бонусов"
    if reward == "spend_share":
        return f"оплата бонусами до {str(p.get('percent') or '').replace('.', ',')}%"
    return reward or ""


def _conditions(p: dict) -> list[str]:
    w = p.get("when") or {}
    out = []
    if w.get("starts_at") or w.get("ends_at"):
        out.append(" ".join(x for x in (w.get("starts_at") and f"с {isodt(w['starts_at'])}",
                                        w.get("ends_at") and f"до {isodt(w['ends_at'])}") if x))
    if w.get("weekdays"):
        names = dict(WEEKDAYS)
        out.append(", ".join(names.get(int(d), str(d)) for d in w["weekdays"]))
    if w.get("time_from") or w.get("time_to"):
        out.append(f"{w.get('time_from') or '00:00'}–{w.get('time_to') or '24:00'}")
    if w.get("min_amount"):
        out.append(f"чек от {number(w['min_amount'])}\u00a0₽")
    if w.get("first_purchase"):
        out.append("первая покупка")
    if w.get("birthday_days") is not None:
        out.append(f"день рождения ±{w['birthday_days']} дн.")
    if w.get("levels"):
        out.append("уровни: " + ", ".join(w["levels"]))
    if w.get("segments"):
        out.append("сегменты: " + ", ".join(w["segments"]))
    if w.get("groups") or w.get("products"):
        out.append("на товары: " + ", ".join((w.get("groups") or []) + (w.get("products") or []))[:80])
    if w.get("requires_code"):
        out.append("по промокоду")
    return out


def _levels() -> list[dict]:
    return [{"code": lv.get("code"), "name": lv.get("name") or lv.get("code")}
            for lv in (load_settings(db.session, g.tenant_id)[0] or {}).get("levels") or []]


def _promotion_or_404(promotion_id: str) -> dict:
    try:
        return service.get_promotion(db.session, g.tenant_id, promotion_id)
    except DomainError:
        abort(404)


# --- promotions ---------------------------------------------------------------------------------

@bp.get("/promotions")
@require_roles(*CABINET_ROLES)
def promotions():
    now = utcnow()
    rows = service.list_promotions(db.session, g.tenant_id)
    db.session.rollback()
    groups: dict[str, list] = {"active": [], "scheduled": [], "ended": []}
    for p in sorted(rows, key=lambda p: (-(p.get("priority") or 0), p["name"])):
        state = _state(p, now)
        groups["ended" if state == "off" else state].append(
            {**p, "state": state, "summary": _summary(p), "conditions": _conditions(p)})
    return render_template("cabinet/promotions.html", groups=groups, states=STATE_NAMES, rewards=REWARDS)


def _form_page(values: dict, errors: dict, promotion: dict | None, status: int = 200):
    levels = _levels()
    db.session.rollback()
    return render_template("cabinet/promotion.html", v=values, errors=errors, p=promotion, levels=levels,
                           rewards=REWARDS, hints=REWARD_HINTS, weekdays=WEEKDAYS, states=STATE_NAMES,
                           state=_state(promotion, utcnow()) if promotion else None), status


def _save(promotion: dict | None):
    data, values, errors = _settings_from_form(request.form, promotion["active"] if promotion else
                                               request.form.get("active") == "1")
    if not errors:
        try:
            if promotion is None:
                saved = service.create_promotion(db.session, g.tenant_id, data, by=actor())
            else:
                saved = service.update_promotion(db.session, g.tenant_id, promotion["id"], data, by=actor())
        except DomainError as exc:
            db.session.rollback()
            errors = _flat(exc.details) or {"_form": [exc.message]}
        else:
            flash("Акция создана." if promotion is None else "Акция сохранена.", "success")
            return redirect(url_for("cabinet.promotion", promotion_id=saved["id"]), code=303)
    return _form_page(values, errors, promotion, 422)


@bp.route("/promotions/new", methods=["GET", "POST"])
@require_roles(*EDIT_ROLES)
def promotion_new():
    if request.method == "POST":
        return _save(None)
    values = _values_from_settings({"reward": request.args.get("reward", ""), "active": True})
    return _form_page(values, {}, None)


@bp.route("/promotions/<promotion_id>", methods=["GET", "POST"])
@require_roles(*CABINET_ROLES)
def promotion(promotion_id: str):
    current = _promotion_or_404(promotion_id)
    if request.method == "POST":
        if not current_user.can_edit:
            abort(403)
        return _save(current)
    return _form_page(_values_from_settings(current), {}, current)


@bp.post("/promotions/<promotion_id>/active")
@require_roles(*EDIT_ROLES)
def promotion_active(promotion_id: str):
    """Switch a promotion off (it stops applying at once; its codes and history stay) or on."""
    _promotion_or_404(promotion_id)
    on = request.form.get("active") == "1"
    try:
        service.set_promotion_active(db.session, g.tenant_id, promotion_id, on, by=actor())
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("cabinet.promotion", promotion_id=promotion_id), code=303)
    flash("Акция включена." if on else "Акция выключена: на кассах она больше не применяется.", "success")
    return redirect(url_for("cabinet.promotion", promotion_id=promotion_id), code=303)


# --- promo codes --------------------------------------------------------------------------------

def _code_rows(promotion_id: str, batch: str | None = None, limit: int | None = None) -> list[PromoCode]:
    stmt = select(PromoCode).where(PromoCode.tenant_id == g.tenant_id, PromoCode.promotion_id == promotion_id)
    if batch:
        stmt = stmt.where(PromoCode.batch == batch)
    stmt = stmt.order_by(PromoCode.created_at.desc(), PromoCode.code)
    return list(db.session.scalars(stmt.limit(limit) if limit else stmt))


def _batches(promotion_id: str) -> list[dict]:
    from sqlalchemy import func
    rows = db.session.execute(
        select(PromoCode.batch, func.count(), func.coalesce(func.sum(PromoCode.uses), 0), func.min(PromoCode.created_at),
               func.min(PromoCode.max_uses), func.min(PromoCode.per_customer_limit),
               func.min(PromoCode.valid_from), func.min(PromoCode.valid_to))
        .where(PromoCode.tenant_id == g.tenant_id, PromoCode.promotion_id == promotion_id)
        .group_by(PromoCode.batch).order_by(func.min(PromoCode.created_at).desc())).all()
    return [{"batch": b, "count": n, "uses": u, "created_at": c, "max_uses": m, "per_customer_limit": pc,
             "valid_from": vf, "valid_to": vt} for b, n, u, c, m, pc, vf, vt in rows]


def _codes_page(promotion: dict, errors: dict | None = None, form=None, status: int = 200):
    codes = _code_rows(promotion["id"], limit=CODES_SHOWN)
    batches = _batches(promotion["id"])
    db.session.rollback()
    return render_template("cabinet/promo_codes.html", p=promotion, codes=codes, batches=batches,
                           errors=errors or {}, form=form or {"kind": "single", "count": "100"},
                           shown=CODES_SHOWN, now=utcnow()), status


@bp.get("/promotions/<promotion_id>/codes")
@require_roles(*CABINET_ROLES)
def promo_codes(promotion_id: str):
    return _codes_page(_promotion_or_404(promotion_id))


@bp.post("/promotions/<promotion_id>/codes")
@require_roles(*EDIT_ROLES)
def promo_codes_create(promotion_id: str):
    promotion = _promotion_or_404(promotion_id)
    form = request.form
    errors: dict[str, list[str]] = {}
    count = _optional_int(form, "count", errors)
    if count is None and "count" not in errors:
        errors["count"] = ["Укажите, сколько кодов выпустить."]
    kind = form.get("kind", "single")
    if kind not in ("single", "multi"):
        errors["kind"] = ["Выберите: одноразовые или многоразовые."]
    max_uses = 1 if kind == "single" else _optional_int(form, "max_uses", errors)
    data: dict = {"count": count, "max_uses": max_uses,
                  "per_customer_limit": _optional_int(form, "per_customer_limit", errors)}
    for key in ("valid_from", "valid_to"):
        raw = (form.get(key) or "").strip()
        if raw:
            try:
                moment = _local_moment(raw)
            except ValueError:
                errors[key] = ["Дата в формате ДД.ММ.ГГГГ."]
                continue
            if key == "valid_to" and "T" not in raw:
                moment += timedelta(days=1)              # through the whole last day
            data[key] = moment.isoformat()
    if not errors:
        try:
            batch = service.create_codes(db.session, g.tenant_id, promotion_id, data, by=actor())
        except DomainError as exc:
            db.session.rollback()
            errors = _flat(exc.details) or {"_form": [exc.message]}
        else:
            flash(f"Выпущено кодов: {batch['count']}. Акция теперь действует только по промокоду.", "success")
            return redirect(url_for("cabinet.promo_codes", promotion_id=promotion_id), code=303)
    db.session.rollback()
    return _codes_page(promotion, errors, form, 422)


@bp.get("/promotions/<promotion_id>/codes/print")
@require_roles(*CABINET_ROLES)
def promo_codes_print(promotion_id: str):
    promotion = _promotion_or_404(promotion_id)
    codes = _code_rows(promotion_id, request.args.get("batch") or None, PRINT_MAX)
    db.session.rollback()
    cards = [{"code": c.code, "qr": qr_svg(c.code), "valid_to": c.valid_to} for c in codes if not c.blocked]
    return render_template("cabinet/promo_codes_print.html", p=promotion, cards=cards, limit=PRINT_MAX)


@bp.get("/promotions/<promotion_id>/codes.csv")
@require_roles(*CABINET_ROLES)
def promo_codes_csv(promotion_id: str):
    promotion = _promotion_or_404(promotion_id)
    batch = request.args.get("batch") or None
    buf = io.StringIO()
    out = csv.writer(buf, delimiter=";")
    out.writerow(["Промокод", "Акция", "Выпуск", "Использован, раз", "Можно раз", "На клиента, раз",
                  "Действует с", "Действует до", "Заблокирован"])
    for c in _code_rows(promotion_id, batch):
        out.writerow([c.code, promotion["name"], c.batch[:8], c.uses, "" if c.max_uses is None else c.max_uses,
                      "" if c.per_customer_limit is None else c.per_customer_limit, dt(c.valid_from),
                      dt(c.valid_to), "да" if c.blocked else "нет"])
    db.session.rollback()
    name = f"promocodes-{(batch or promotion_id)[:8]}.csv"
    return Response("\ufeff" + buf.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- gift certificates ----------------------------------------------------------------------------

def _cert_filters(stmt, args, now: datetime):
    status, number = args.get("status", ""), (args.get("number") or "").strip()
    C = GiftCertificate
    if status == "expired":
        stmt = stmt.where(C.status == "active", C.expires_at.is_not(None), C.expires_at <= now)
    elif status == "active":
        stmt = stmt.where(C.status == "active", or_(C.expires_at.is_(None), C.expires_at > now))
    elif status in ("issued", "blocked"):
        stmt = stmt.where(C.status == status)
    if number:
        key = normalize_number(number)[:40]
        stmt = stmt.where(C.number.startswith(key, autoescape=True)) if key else stmt
    return stmt


def _certificates_page(errors: dict | None = None, form=None, status: int = 200):
    now = utcnow()
    stmt = _cert_filters(select(GiftCertificate).where(GiftCertificate.tenant_id == g.tenant_id), request.args, now)
    rows, nxt = newest_first(stmt, GiftCertificate.created_at, GiftCertificate.id, request.args.get("after", ""), PAGE)
    db.session.rollback()
    args = {k: v for k, v in request.args.items() if k != "after"}
    return render_template("cabinet/certificates.html", rows=[(c, status_of(c, now)) for c in rows],
                           next_cursor=nxt, args=args, statuses=CERT_STATUSES, errors=errors or {},
                           form=form or {"mode": "count", "count": "1"}), status


@bp.get("/certificates")
@require_roles(*CABINET_ROLES)
def certificates():
    return _certificates_page()


@bp.post("/certificates")
@require_roles(*EDIT_ROLES)
def certificates_issue():
    form = request.form
    errors: dict[str, list[str]] = {}
    data: dict = {}
    try:
        data["nominal"] = parse_rub(form.get("nominal"))
        if not data["nominal"]:
            errors["nominal"] = ["Укажите номинал больше 0, например 3 000."]
    except ValueError:
        errors["nominal"] = ["Введите сумму, например 3 000 или 2 500,50."]
    if form.get("mode") == "numbers":
        numbers = [n.strip() for n in (form.get("numbers") or "").replace(",", "\n").splitlines() if n.strip()]
        if not numbers:
            errors["numbers"] = ["Введите номера сертификатов, по одному в строке."]
        elif len(numbers) > certificate_service.MAX_ISSUE:
            errors["numbers"] = [f"Не больше {certificate_service.MAX_ISSUE} номеров за раз."]
        data["numbers"] = numbers
    else:
        data["count"] = _optional_int(form, "count", errors)
        if data["count"] is None and "count" not in errors:
            errors["count"] = ["Укажите, сколько сертификатов выпустить."]
    data["valid_days"] = _optional_int(form, "valid_days", errors)
    if not errors:
        try:
            issued = certificate_service.issue(db.session, g.tenant_id, data, utcnow(), by=actor())
        except DomainError as exc:
            db.session.rollback()
            errors = {k: (list(v) if isinstance(v, list) else [exc.message]) for k, v in (exc.details or {}).items()}
            errors = errors or {"_form": [exc.message]}
        else:
            flash(f"Выпущено сертификатов: {len(issued)}. Они станут действующими после продажи на кассе.",
                  "success")
            if len(issued) == 1:
                return redirect(url_for("cabinet.certificate", certificate_id=issued[0]["id"]), code=303)
            return redirect(url_for("cabinet.certificates", status="issued"), code=303)
    db.session.rollback()
    return _certificates_page(errors, form, 422)


def _certificate_or_404(certificate_id: str) -> GiftCertificate:
    row = db.session.get(GiftCertificate, certificate_id)
    if row is None or row.tenant_id != g.tenant_id:
        abort(404)
    return row


def _certificate_page(cert: GiftCertificate, errors: dict | None = None, status: int = 200):
    now = utcnow()
    postings = list(db.session.scalars(select(CertificatePosting).where(
        CertificatePosting.tenant_id == g.tenant_id, CertificatePosting.certificate_id == cert.id)
        .order_by(CertificatePosting.moment.desc(), CertificatePosting.created_at.desc()).limit(500)))
    history = list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.tenant_id == g.tenant_id, AuditEntry.object_type == "certificate",
        AuditEntry.object_id == cert.id, AuditEntry.action.in_(("certificate.block", "certificate.unblock")))
        .order_by(AuditEntry.created_at.desc()).limit(20)))
    state = status_of(cert, now)
    db.session.rollback()
    return render_template("cabinet/certificate.html", c=cert, state=state, postings=postings,
                           kinds=POSTING_KINDS, statuses=CERT_STATUSES, errors=errors or {},
                           history=history, actions=ACTIONS), status


@bp.get("/certificates/<certificate_id>")
@require_roles(*CABINET_ROLES)
def certificate(certificate_id: str):
    return _certificate_page(_certificate_or_404(certificate_id))


@bp.post("/certificates/<certificate_id>/block")
@require_roles(*EDIT_ROLES)
def certificate_block(certificate_id: str):
    cert = _certificate_or_404(certificate_id)
    blocked = request.form.get("blocked") == "1"
    reason = (request.form.get("reason") or "").strip()
    try:
        block_certificate(db.session, g.tenant_id, cert.number, blocked, reason, utcnow(), by=actor())
    except DomainError as exc:
        errors = {k: list(v) for k, v in (exc.details or {}).items()} or {"_form": [exc.message]}
        return _certificate_page(_certificate_or_404(certificate_id), errors, 422)
    flash("Сертификат заблокирован: на кассе им больше не заплатить." if blocked else "Сертификат разблокирован.",
          "success")
    return redirect(url_for("cabinet.certificate", certificate_id=certificate_id), code=303)

