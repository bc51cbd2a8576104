"""The owner's cabinet (/cabinet): dashboard, clients and the client card with manual
bonus operations, program settings with the hub's own validation messages, receipts,
users with roles and the audit log."""
from __future__ import annotations

import uuid
from datetime import datetime

from flask import (abort, flash, g, redirect, render_template, request, session as web_session,
                   url_for)
from flask_login import current_user, logout_user
from sqlalchemy import select

from hub.clock import utcnow
from hub.errors import DomainError, Invalid
from hub.text import POSTING_KIND_NAMES
from hub.extensions import db
from hub.customers.models import Customer
from hub.ledger.models import Lot
from hub.receipts.models import Receipt, ReceiptReturn
from hub.ledger.models import Account
from hub.staff.models import AuditEntry, WebUser
from hub.web.cabinet import audit_words, program_form, setup
from hub.web.cabinet.blueprint import bp
from hub.web.ui.auth import (CABINET_ROLES, EDIT_ROLES, add_user, audit,
                             require_roles)
from hub.web.ui.formatting import money_error, parse_rub
from hub.web.ui.auth import actor, sign_in_view
from hub.paging import newest_first
from hub.programs.operations import get_program
from hub.web.cabinet import client_filters
from connectors.inbox import failed_count
from hub.web.cabinet.reports import dashboard as figures
from hub.customers.operations import block_customer
from hub.staff.operations import update_user
from hub.programs.operations import load_settings, put_program, validate_program
from hub.customers.bonuses import adjust_bonuses
from hub.notify.models import OutboxMessage
from hub.customers.operations import update_customer
from hub.customers.operations import ledger_entries, summarize
from hub.ledger import account_view
from hub import engine
from api.schemas.customers import CustomerPatchSchema
from hub.notify.templates import TITLES
from hub.programs.operations import program_from_settings
from hub.web.cabinet.messages import CHANNEL_NAMES, MESSAGE_STATUSES
from hub.customers.operations import search_conditions
from hub.automation.segments import conditions, create_segment

PAGE = 50


@bp.errorhandler(404)
def _not_found(exc):
    return render_template("ui/error.html", title="Не найдено", message="Такой страницы или записи нет.",
                           back=url_for("cabinet.dashboard")), 404


@bp.errorhandler(403)
def _forbidden(exc):
    if request.headers.get("HX-Request"):
        return render_template("ui/error_fragment.html", message="Недостаточно прав для этого действия."), 403
    return render_template("ui/error.html", title="Нет доступа",
                           message="Вашей роли это действие недоступно.", back=url_for("cabinet.dashboard")), 403


# --- sign in ---------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    def landing() -> str:
        nxt = request.args.get("next") or ""
        return nxt if nxt.startswith("/cabinet") else url_for("cabinet.dashboard")
    return sign_in_view(CABINET_ROLES, "cabinet/login.html", landing)


@bp.post("/logout")
def logout():
    logout_user()
    web_session.clear()
    return redirect(url_for("cabinet.login"))


# --- dashboard -------------------------------------------------------------------------------

@bp.get("/")
@require_roles(*CABINET_ROLES)
def dashboard():
    data = figures(db.session, g.tenant_id, utcnow(), g.tenant_tz)
    chart = {"labels": [m["label"] for m in data["months"]],
             "members": [m["members"]["revenue"] / 100 for m in data["months"]],
             "anonymous": [m["anonymous"]["revenue"] / 100 for m in data["months"]],
             "earned": [(m["members"]["earned"]) / 100 for m in data["months"]],
             "spent": [(m["members"]["spent"]) / 100 for m in data["months"]]}
    failed = failed_count(db.session, g.tenant_id)   # what the tills sent and the hub could not apply
    steps = setup.checklist(db.session, g.tenant_id)   # shown until every step is done
    db.session.rollback()
    return render_template("cabinet/dashboard.html", data=data, chart=chart, this=data["months"][-1],
                           failed_events=failed, setup=steps)


# --- clients ---------------------------------------------------------------------------------

def _clients_page(args, errors: dict | None = None, status: int = 200, form: dict | None = None):
    q = (args.get("q") or "").strip()
    filters, filter_errors = client_filters.check(db.session, g.tenant_id, args)
    errors = {**filter_errors, **(errors or {})}
    status = 422 if errors else status
    rows, nxt, balances = [], None, {}
    after = args.get("after", "")
    if after and "|" in after:      # a cursor without a time zone is a wrong URL, not a 500
        try:
            if datetime.fromisoformat(after.split("|", 1)[0]).tzinfo is None:
                abort(404)
        except ValueError:
            abort(404)
    if not filter_errors:
        stmt = select(Customer).where(*conditions(db.session, g.tenant_id, filters, utcnow(), g.tenant_tz),
                                      *search_conditions(db.session, q))
        rows, nxt = newest_first(stmt, Customer.created_at, Customer.id, after, PAGE)
        # «Доступно» and «Ожидает» as the card and the participant read them (account_view), not
        # the account's total, which counted pending bonuses as if they could be spent.
        now = utcnow()
        balances = {c.id: account_view(db.session, g.tenant_id, c.id, now) for c in rows}
    fargs = client_filters.form_args(args)
    list_args = {**fargs, **({"q": q} if q else {})}
    levels = [(lv.code, lv.name) for lv in get_program(db.session, g.tenant_id).levels]
    level_names = dict(levels)      # the list shows the level's name, not its code
    # Rendered before the rollback: a rollback expires the rows, and each would be loaded again.
    if request.headers.get("HX-Request") and args.get("after"):
        page = render_template("cabinet/_clients_rows.html", rows=rows, next_cursor=nxt, balances=balances,
                               list_args=list_args, level_names=level_names)
    else:
        page = render_template("cabinet/clients.html", rows=rows, q=q, next_cursor=nxt, balances=balances,
                               level_names=level_names,
                               first=not args.get("after"), args=args, fargs=fargs, list_args=list_args,
                               filtered=bool(fargs), errors=errors, levels=levels, form=form or {},
                               segment_choices=client_filters.segment_choices(db.session, g.tenant_id))
    db.session.rollback()
    return page, status


@bp.get("/clients")
@require_roles(*CABINET_ROLES)
def clients():
    return _clients_page(request.args)


@bp.post("/clients/segments")
@require_roles(*EDIT_ROLES)
def clients_save_segment():
    """«Сохранить как сегмент»: the list's current filters become a custom segment (the same
    filters hub.automation.segments evaluates for mailings and chains)."""
    form = request.form
    filters, errors = client_filters.check(db.session, g.tenant_id, form)
    if not errors and not filters:
        # The form saves the list's filters: with none chosen there is nothing to save yet.
        errors["_form"] = ["Сначала выберите хотя бы один фильтр, затем сохраните сегмент."]
    if not errors:
        try:
            seg = create_segment(db.session, g.tenant_id, form.get("segment_name"), filters, actor())
        except Invalid as exc:
            field = "segment_name" if "name" in exc.details else \
                next((client_filters.FORM_OF[k] for k in exc.details if k in client_filters.FORM_OF), "_form")
            errors[field] = [exc.message]
    if errors:
        db.session.rollback()
        return _clients_page(form, errors, 422, form)
    name = seg.name
    flash(f"Сегмент «{name}» сохранён: он есть в списке сегментов, в рассылках и цепочках.", "success")
    return redirect(url_for("cabinet.clients", segment=f"seg:{seg.id}"), code=303)


def _client_or_404(customer_id: str) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.tenant_id != g.tenant_id:
        abort(404)
    return customer


def _card_context(customer: Customer) -> dict:
    now = utcnow()
    summary = summarize(db.session, g.tenant_id, customer, now)
    lots = list(db.session.scalars(
        select(Lot).join(Account, Account.id == Lot.account_id)
        .where(Account.tenant_id == g.tenant_id, Account.customer_id == customer.id, Lot.remaining != 0)
        .order_by(Lot.expires_at.is_(None), Lot.expires_at, Lot.created_at).limit(200)))
    receipts = list(db.session.scalars(select(Receipt).where(
        Receipt.tenant_id == g.tenant_id, Receipt.customer_id == customer.id)
        .order_by(Receipt.moment.desc()).limit(50)))
    messages = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.tenant_id == g.tenant_id, OutboxMessage.customer_id == customer.id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(20)))
    return {"c": customer, "summary": summary, "view": account_view(db.session, g.tenant_id, customer.id, now),
            "lots": lots, "postings": ledger_entries(db.session, g.tenant_id, customer.id, limit=100),
            "receipts": receipts, "messages": messages, "now": now}


CONSENT_NAMES = {"personal_data": "обработка персональных данных", "sms": "SMS-рассылки",
                 "email": "письма", "messengers": "мессенджеры"}
POSTING_NAMES = POSTING_KIND_NAMES     # one label table for the ledger's codes (hub.text)
PROFILE_FORM = ("last_name", "first_name", "middle_name", "gender", "birth_date", "email", "tags", "comment")


def _card(customer_id: str, errors: dict | None = None, form=None, status: int = 200,
          op_key: str | None = None, which: str = ""):
    ctx = _card_context(_client_or_404(customer_id))
    page = render_template("cabinet/client.html", **ctx, consent_names=CONSENT_NAMES, posting_names=POSTING_NAMES,
                           op_key=op_key or str(uuid.uuid4()), errors=errors or {}, form=form or {}, which=which,
                           titles=TITLES, channels=CHANNEL_NAMES, statuses=MESSAGE_STATUSES)
    db.session.rollback()     # after rendering: a rollback expires the rows the page shows
    return page, status


@bp.get("/clients/<customer_id>")
@require_roles(*CABINET_ROLES)
def client(customer_id: str):
    return _card(customer_id)


@bp.post("/clients/<customer_id>/bonuses")
@require_roles(*EDIT_ROLES)
def adjust(customer_id: str):
    customer = _client_or_404(customer_id)
    form = request.form
    errors: dict[str, list[str]] = {}
    kind = form.get("kind", "manual")
    if kind not in ("manual", "gift", "debit"):
        errors["kind"] = ["Выберите операцию."]
    try:
        amount = parse_rub(form.get("amount"))
        if not amount:
            errors["amount"] = ["Укажите количество бонусов больше 0."]
    except ValueError as exc:
        amount, errors["amount"] = None, [money_error(exc, "Введите число, например 100 или 99,50.")]
    reason = (form.get("reason") or "").strip()
    if not reason:
        errors["reason"] = ["Укажите причину: она попадёт в историю и журнал."]
    valid_days = None
    if (form.get("valid_days") or "").strip():
        try:
            valid_days = int(form["valid_days"])
            if not 1 <= valid_days <= 3650:
                raise ValueError
        except ValueError:
            errors["valid_days"] = ["Целое число дней от 1 до 3650."]
    op_key = form.get("op_key") or ""
    if not errors:
        signed = -amount if kind == "debit" else amount
        try:
            answer, created = adjust_bonuses(
                db.session, g.tenant_id, customer.id, amount=signed, kind="gift" if kind == "gift" else "manual",
                reason=reason[:500], valid_days=valid_days, moment=utcnow(),
                idempotency_key=f"cab-{op_key}"[:200] if op_key else None, source="cabinet",
                body={"amount": signed, "kind": kind, "reason": reason, "valid_days": valid_days}, by=actor())
        except DomainError as exc:
            db.session.rollback()
            field = "amount" if exc.code == "insufficient_bonuses" else next(
                (k for k in (exc.details or {}) if k in ("amount", "valid_days", "reason")), "_form")
            errors.setdefault(field, []).append(exc.message)
        else:
            flash({"manual": "Бонусы начислены.", "gift": "Подарок начислен.",
                   "debit": "Бонусы списаны."}[kind], "success")
            return redirect(url_for("cabinet.client", customer_id=customer.id), code=303)
    return _card(customer_id, errors, form, 422, op_key, which="gift" if kind == "gift" else "bonuses")


def _profile_data(form) -> tuple[dict, dict]:
    """The profile form as the API's PATCH body, checked by the API's own schema (one set of
    rules and messages for both); (data, errors by field)."""
    from marshmallow import ValidationError

    raw = {}
    for name in PROFILE_FORM:
        value = (form.get(name) or "").strip()
        if name == "tags":
            raw[name] = [t.strip() for t in value.split(",") if t.strip()]
        else:
            raw[name] = value or None
    try:
        return CustomerPatchSchema(partial=True).load(raw), {}
    except ValidationError as exc:
        return {}, {k: (v if isinstance(v, list) else [m for ms in v.values() for m in ms])
                    for k, v in exc.messages.items()}


@bp.post("/clients/<customer_id>/profile")
@require_roles(*EDIT_ROLES)
def client_profile(customer_id: str):
    customer = _client_or_404(customer_id)
    data, errors = _profile_data(request.form)
    if not errors:
        changes = {k: [_plain(getattr(customer, k)), _plain(v)] for k, v in data.items()
                   if _plain(getattr(customer, k)) != _plain(v)}
        if changes:
            audit(db.session, "customer.update", "customer", customer.id, changes)
        try:   # the service the API's PATCH /customers uses; it commits (the audit entry too)
            update_customer(db.session, g.tenant_id, customer.id, data, source="cabinet", moment=utcnow())
        except DomainError as exc:
            db.session.rollback()
            errors = {k: [exc.message] for k in (exc.details or {}) if k in PROFILE_FORM} or {"_profile": [exc.message]}
        else:
            flash("Профиль сохранён." if changes else "Изменений нет.", "success")
            return redirect(url_for("cabinet.client", customer_id=customer_id), code=303)
    return _card(customer_id, errors, request.form, 422, which="profile")


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else (value if value not in ("", []) else None)


@bp.post("/clients/<customer_id>/block")
@require_roles(*EDIT_ROLES)
def client_block(customer_id: str):
    customer = _client_or_404(customer_id)
    blocking = request.form.get("action") == "block"
    reason = (request.form.get("reason") or "").strip()
    try:
        block_customer(db.session, g.tenant_id, customer.id, blocking, reason=reason, moment=utcnow(), by=actor())
    except DomainError as exc:
        return _card(customer_id, {"block_reason": [exc.message]}, request.form, 422, which="block")
    flash("Клиент заблокирован: на кассах он не получит и не спишет бонусы." if blocking
          else "Клиент разблокирован.", "success")
    return redirect(url_for("cabinet.client", customer_id=customer_id), code=303)


# --- program settings ------------------------------------------------------------------------

def _shown_paths(values: dict) -> set[str]:
    shown = {"type", "timezone", "bonus_lifetime_days", "expiry_mode", "expiry_dates",
             "activation_delay_days", "rounding", "restored_bonus_grace_days", "rules", "levels",
             *program_form.FLAGS}
    for n in range(len(values["levels"])):
        shown |= {f"levels.{n}.{f}" for f in ("code", "name", "threshold", "accrual", "discount",
                                              "max_spend_percent", "bonus_lifetime_days")}
    return shown


def _exact_levels_errors(errors: dict) -> list[str]:
    return list(errors.get("levels", []))


def _program_page(values: dict, settings: dict, errors: dict, version: int, status: int = 200,
                  preset: str | None = None):
    choices = program_form.rule_choices(db.session, g.tenant_id, settings, values["rule_rows"])
    db.session.rollback()
    unplaced = program_form.unplaced(errors, _shown_paths(values)) if errors else []
    return render_template("cabinet/program.html", v=values, errors=errors, unplaced=unplaced, version=version,
                           ef=program_form.errors_for, choices=choices, presets=program_form.PRESETS,
                           preset=preset, effects=program_form.EFFECTS, weekdays=program_form.WEEKDAYS,
                           payments=program_form.PAYMENTS, with_value=program_form.WITH_VALUE,
                           sentence=program_form.rule_sentence,
                           rule_of_row=program_form.rule_of_row), status


@bp.route("/program", methods=["GET", "POST"])
@require_roles(*CABINET_ROLES)
def program():
    current, version = load_settings(db.session, g.tenant_id)
    if request.method == "GET":
        preset = request.args.get("preset")
        settings = program_form.PRESETS[preset][1] if preset in program_form.PRESETS else current
        return _program_page(program_form.form_from_settings(settings), settings, {}, version,
                             preset=preset if preset in program_form.PRESETS else None)
    if not current_user.can_edit:
        abort(403)
    settings, values, parse_errors = program_form.settings_from_form(request.form, current)
    problems = validate_program(settings)
    errors = program_form.place_errors(problems, values["_index"], parse_errors, values["_rule_index"])
    if not errors:
        try:
            put_program(db.session, g.tenant_id, settings, by=actor())
        except DomainError as exc:       # the hub refused what its rules passed: show it as is
            db.session.rollback()
            errors = {"_form": [exc.message]}
        else:
            flash("Настройки программы сохранены.", "success")
            return redirect(url_for("cabinet.program"), code=303)
    db.session.rollback()
    return _program_page(values, settings, errors, version, 422)


@bp.post("/program/preview")
@require_roles(*CABINET_ROLES)
def program_preview():
    """What a receipt of the given amount would get at each level with the settings typed in
    (unsaved), computed by the engine itself."""
    current, _ = load_settings(db.session, g.tenant_id)
    db.session.rollback()
    settings, values, parse_errors = program_form.settings_from_form(request.form, current)
    # Each rule read back as it stands now, swapped into its row beside the preview.
    names = program_form.rule_choices(db.session, g.tenant_id, settings, values["rule_rows"])
    db.session.rollback()
    sentences = [(values["_rule_index"].get(str(i)), program_form.rule_sentence(rule, names))
                 for i, rule in enumerate(settings.get("rules") or []) if isinstance(rule, dict)]
    amount = program_form.preview_amount(request.form.get("preview_amount", ""))
    if amount is None or amount <= 0:
        return render_template("cabinet/_preview.html", error="Введите сумму чека, например 1 000.",
                               sentences=sentences)
    if parse_errors or validate_program(settings):
        return render_template("cabinet/_preview.html", error="Сначала исправьте ошибки в настройках.",
                               sentences=sentences)
    prog = program_from_settings(settings)
    # The sample receipt's moment: the one the owner picked (tenant-local), else now; rules by
    # days and hours apply to it as at a till.
    moment = program_form.preview_moment(request.form.get("preview_moment", ""), prog.timezone) or utcnow()
    rows = []
    for level in prog.levels:
        state = engine.AccountState(available=10 ** 12, total_purchases=level.threshold)
        receipt = engine.Receipt(positions=(engine.Position(id="1", amount=amount, price=amount),),
                                 moment=moment, spend_max=True)
        q = engine.calculate(prog, receipt, state)
        rows.append({"level": level.name, "discount": q.level_discount, "max_spend": q.max_spendable,
                     "earned": engine.calculate(prog, engine.Receipt(positions=receipt.positions, moment=receipt.moment),
                                                state).bonus_earned})
    return render_template("cabinet/_preview.html", rows=rows, amount=amount, error=None, sentences=sentences,
                           moment=moment)


# --- receipts --------------------------------------------------------------------------------

@bp.get("/receipts")
@require_roles(*CABINET_ROLES)
def receipts():
    from zoneinfo import ZoneInfo
    from datetime import date, timedelta, time as dtime
    stmt = select(Receipt).where(Receipt.tenant_id == g.tenant_id)
    store, cashier = request.args.get("store", "").strip(), request.args.get("cashier", "").strip()
    if store:
        stmt = stmt.where(Receipt.store == store)
    if cashier:
        stmt = stmt.where(Receipt.cashier == cashier)
    tz = ZoneInfo(g.tenant_tz)
    errors = {}
    for name, op in (("date_from", "ge"), ("date_to", "lt")):
        raw = request.args.get(name, "").strip()
        if raw:
            try:
                d = date.fromisoformat(raw) + (timedelta(days=1) if op == "lt" else timedelta())
            except ValueError:
                errors[name] = ["Дата в формате ГГГГ-ММ-ДД."]
                continue
            moment = datetime.combine(d, dtime(0), tz)
            stmt = stmt.where(Receipt.moment >= moment if op == "ge" else Receipt.moment < moment)
    rows, nxt = newest_first(stmt, Receipt.moment, Receipt.id, request.args.get("after", ""), PAGE)
    db.session.rollback()
    args = {k: v for k, v in request.args.items() if k != "after"}
    return render_template("cabinet/receipts.html", rows=rows, next_cursor=nxt, args=args, errors=errors)


@bp.get("/receipts/<receipt_id>")
@require_roles(*CABINET_ROLES)
def receipt(receipt_id: str):
    row = db.session.get(Receipt, receipt_id)
    if row is None or row.tenant_id != g.tenant_id:
        abort(404)
    customer = db.session.get(Customer, row.customer_id) if row.customer_id else None
    returns = list(db.session.scalars(select(ReceiptReturn).where(
        ReceiptReturn.tenant_id == g.tenant_id, ReceiptReturn.receipt_id == row.id).order_by(ReceiptReturn.moment)))
    db.session.rollback()
    return render_template("cabinet/receipt.html", r=row, customer=customer, returns=returns)


# --- users and audit -------------------------------------------------------------------------

@bp.route("/users", methods=["GET", "POST"])
@require_roles("owner")
def users():
    errors, form, created = {}, {}, None
    if request.method == "POST":
        form = request.form
        try:
            row = add_user(db.session, g.tenant_id, form.get("email", ""), form.get("role", ""),
                           form.get("password", ""), form.get("name", ""))
        except DomainError as exc:
            errors = {k: list(v) for k, v in (exc.details or {}).items()} or {"_form": [exc.message]}
        else:
            flash(f"Пользователь {row.email} создан. Передайте ему пароль.", "success")
            return redirect(url_for("cabinet.users"), code=303)
    rows = list(db.session.scalars(select(WebUser).where(WebUser.tenant_id == g.tenant_id).order_by(WebUser.created_at)))
    db.session.rollback()
    return render_template("cabinet/users.html", rows=rows, errors=errors, form=form, created=created), \
        (422 if errors else 200)


@bp.post("/users/<user_id>")
@require_roles("owner")
def user_update(user_id: str):
    row = db.session.get(WebUser, user_id)
    if row is None or row.tenant_id != g.tenant_id:
        abort(404)
    role = request.form.get("role")
    active = request.form.get("active")
    if row.id == current_user.id:
        flash("Свою роль и доступ изменить нельзя.", "error")
        return redirect(url_for("cabinet.users"), code=303)
    update_user(db.session, row, role if role in ("owner", "manager", "readonly", "cashier") else None,
                active == "1" if active in ("0", "1") else None, by=actor())
    flash("Изменения сохранены.", "success")
    return redirect(url_for("cabinet.users"), code=303)


@bp.get("/audit")
@require_roles("owner", "manager")
def audit_log():
    stmt = select(AuditEntry).where(AuditEntry.tenant_id == g.tenant_id)
    rows, nxt = newest_first(stmt, AuditEntry.created_at, AuditEntry.id, request.args.get("after", ""), PAGE)
    db.session.rollback()
    return render_template("cabinet/audit.html", rows=rows, next_cursor=nxt, action_name=audit_words.action_name,
                           object_name=audit_words.object_name, describe=audit_words.describe)


# The pages kept in their own modules register their routes on `bp` when imported.
from hub.web.cabinet import automation_pages, brand_pages, exports, promotions_pages, reviews, settings_pages  # noqa: F401
from hub.web.cabinet import messages as messages_pages  # noqa: F401 - `messages` is also a local name
