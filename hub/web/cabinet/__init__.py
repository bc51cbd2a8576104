"""The owner's cabinet (/cabinet): dashboard, clients and the client card with manual
bonus operations, program settings with the hub's own validation messages, receipts,
users with roles and the audit log."""
from __future__ import annotations

import uuid
from datetime import datetime

from flask import (Blueprint, abort, flash, g, redirect, render_template, request, session as web_session,
                   url_for)
from flask_login import current_user, logout_user
from sqlalchemy import or_, select

from hub.clock import utcnow
from hub.errors import DomainError
from hub.extensions import db
from hub.models import Customer, Lot, Receipt, ReceiptReturn
from hub.models.ledger import Account
from hub.models.web import AuditEntry, WebUser
from hub.web.cabinet import program_form
from hub.web.ui.auth import (CABINET_ROLES, EDIT_ROLES, audit, create_user,
                             require_roles)
from hub.web.ui.formatting import parse_rub
from hub.web.ui.auth import sign_in_view
from hub.web.ui.paging import newest_first

bp = Blueprint("cabinet", __name__, url_prefix="/cabinet", template_folder="templates")
PAGE = 50


@bp.errorhandler(404)
def _not_found(exc):  # noqa: ANN001, ANN202
    return render_template("ui/error.html", title="Не найдено", message="Такой страницы или записи нет.",
                           back=url_for("cabinet.dashboard")), 404


@bp.errorhandler(403)
def _forbidden(exc):  # noqa: ANN001, ANN202
    if request.headers.get("HX-Request"):
        return render_template("ui/error_fragment.html", message="Недостаточно прав для этого действия."), 403
    return render_template("ui/error.html", title="Нет доступа",
                           message="Вашей роли это действие недоступно.", back=url_for("cabinet.dashboard")), 403


# --- sign in ---------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    def landing() -> str:
        nxt = request.args.get("next") or ""
        return nxt if nxt.startswith("/cabinet") else url_for("cabinet.dashboard")
    return sign_in_view(CABINET_ROLES, "cabinet/login.html", landing)


@bp.post("/logout")
def logout():  # noqa: ANN201
    logout_user()
    web_session.clear()
    return redirect(url_for("cabinet.login"))


# --- dashboard -------------------------------------------------------------------------------

@bp.get("/")
@require_roles(*CABINET_ROLES)
def dashboard():  # noqa: ANN201
    from hub.web.cabinet.reports import dashboard as figures
    data = figures(db.session, g.tenant_id, utcnow(), g.tenant_tz)
    chart = {"labels": [m["label"] for m in data["months"]],
             "members": [m["members"]["revenue"] / 100 for m in data["months"]],
             "anonymous": [m["anonymous"]["revenue"] / 100 for m in data["months"]],
             "earned": [(m["members"]["earned"]) / 100 for m in data["months"]],
             "spent": [(m["members"]["spent"]) / 100 for m in data["months"]]}
    db.session.rollback()
    return render_template("cabinet/dashboard.html", data=data, chart=chart, this=data["months"][-1])


# --- clients ---------------------------------------------------------------------------------

def _client_query(q: str):  # noqa: ANN202
    stmt = select(Customer).where(Customer.tenant_id == g.tenant_id)
    q = (q or "").strip()
    if not q:
        return stmt
    from hub.phones import normalize_phone
    digits = "".join(ch for ch in q if ch.isdigit())
    conds = [Customer.card_number == q]
    if len(digits) >= 10:
        try:
            conds.append(Customer.phone == normalize_phone(q))
        except DomainError:
            pass
    if not digits or len(digits) < len(q.replace(" ", "")):
        like = q.replace("%", "").replace("_", "")[:50] + "%"
        conds += [Customer.last_name.ilike(like), Customer.first_name.ilike(like)]
    return stmt.where(or_(*conds))


@bp.get("/clients")
@require_roles(*CABINET_ROLES)
def clients():  # noqa: ANN201
    q = request.args.get("q", "")
    stmt = _client_query(q)
    after = request.args.get("after", "")
    rows, nxt = newest_first(stmt, Customer.created_at, Customer.id, after, PAGE)
    balances = {}
    if rows:
        balances = dict(db.session.execute(select(Account.customer_id, Account.balance).where(
            Account.tenant_id == g.tenant_id, Account.customer_id.in_([c.id for c in rows]))).all())
    db.session.rollback()
    template = "cabinet/_clients_rows.html" if request.headers.get("HX-Request") else "cabinet/clients.html"
    return render_template(template, rows=rows, q=q, next_cursor=nxt, balances=balances, first=not after)


def _client_or_404(customer_id: str) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.tenant_id != g.tenant_id:
        abort(404)
    return customer


def _card_context(customer: Customer) -> dict:
    from hub.ledger import account_view
    from hub.services.customers import ledger_entries, summarize
    now = utcnow()
    summary = summarize(db.session, g.tenant_id, customer, now)
    lots = list(db.session.scalars(
        select(Lot).join(Account, Account.id == Lot.account_id)
        .where(Account.tenant_id == g.tenant_id, Account.customer_id == customer.id, Lot.remaining != 0)
        .order_by(Lot.expires_at.is_(None), Lot.expires_at, Lot.created_at).limit(200)))
    receipts = list(db.session.scalars(select(Receipt).where(
        Receipt.tenant_id == g.tenant_id, Receipt.customer_id == customer.id)
        .order_by(Receipt.moment.desc()).limit(50)))
    return {"c": customer, "summary": summary, "view": account_view(db.session, g.tenant_id, customer.id, now),
            "lots": lots, "postings": ledger_entries(db.session, g.tenant_id, customer.id, limit=100),
            "receipts": receipts, "now": now}


CONSENT_NAMES = {"personal_data": "обработка персональных данных", "sms": "SMS-рассылки",
                 "email": "письма", "messengers": "мессенджеры"}
POSTING_NAMES = {"accrual": "начисление за покупку", "spend": "списание в покупке", "expiry": "сгорание",
                 "manual_credit": "ручное начисление", "manual_debit": "ручное списание", "gift": "подарок",
                 "restore": "возврат списанных", "reversal": "отмена начисления", "debit": "списание"}


@bp.get("/clients/<customer_id>")
@require_roles(*CABINET_ROLES)
def client(customer_id: str):  # noqa: ANN201
    customer = _client_or_404(customer_id)
    ctx = _card_context(customer)
    db.session.rollback()
    return render_template("cabinet/client.html", **ctx, consent_names=CONSENT_NAMES,
                           posting_names=POSTING_NAMES, op_key=str(uuid.uuid4()), errors={}, form={})


@bp.post("/clients/<customer_id>/bonuses")
@require_roles(*EDIT_ROLES)
def adjust(customer_id: str):  # noqa: ANN201
    from hub.services.bonuses import adjust_bonuses
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
    except ValueError:
        amount, errors["amount"] = None, ["Введите число, например 100 или 99,50."]
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
                body={"amount": signed, "kind": kind, "reason": reason, "valid_days": valid_days})
        except DomainError as exc:
            db.session.rollback()
            for field, msgs in (exc.details or {}).items():
                if field in ("amount", "valid_days"):
                    errors.setdefault(field, [])
            errors.setdefault("amount" if exc.code == "insufficient_bonuses" else "_form", []).append(exc.message)
        else:
            if created:
                audit(db.session, "bonuses." + kind, "customer", customer.id,
                      {"amount": signed, "reason": reason, "valid_days": valid_days})
                db.session.commit()
            flash({"manual": "Бонусы начислены.", "gift": "Подарок начислен.",
                   "debit": "Бонусы списаны."}[kind], "success")
            return redirect(url_for("cabinet.client", customer_id=customer.id), code=303)
    customer = _client_or_404(customer_id)
    ctx = _card_context(customer)
    db.session.rollback()
    return render_template("cabinet/client.html", **ctx, consent_names=CONSENT_NAMES, posting_names=POSTING_NAMES,
                           op_key=op_key or str(uuid.uuid4()), errors=errors, form=form), 422


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


@bp.route("/program", methods=["GET", "POST"])
@require_roles(*CABINET_ROLES)
def program():  # noqa: ANN201
    from hub.services.programs import load_settings, put_program, validate_program
    current, version = load_settings(db.session, g.tenant_id)
    if request.method == "GET":
        db.session.rollback()
        values = program_form.form_from_settings(current)
        return render_template("cabinet/program.html", v=values, errors={}, unplaced=[], version=version,
                               ef=program_form.errors_for)
    if not current_user.can_edit:
        abort(403)
    settings, values, parse_errors = program_form.settings_from_form(request.form, current)
    problems = validate_program(settings)
    errors = program_form.place_errors(problems, values["_index"], parse_errors)
    if not errors:
        try:
            put_program(db.session, g.tenant_id, settings)
        except DomainError as exc:       # the hub refused what its rules passed: show it as is
            db.session.rollback()
            errors = {"_form": [exc.message]}
        else:
            audit(db.session, "program.update", "program", None, {"version": version + 1})
            db.session.commit()
            flash("Настройки программы сохранены.", "success")
            return redirect(url_for("cabinet.program"), code=303)
    db.session.rollback()
    unplaced = program_form.unplaced(errors, _shown_paths(values))
    return render_template("cabinet/program.html", v=values, errors=errors, unplaced=unplaced,
                           version=version, ef=program_form.errors_for), 422


@bp.post("/program/preview")
@require_roles(*CABINET_ROLES)
def program_preview():  # noqa: ANN201
    """What a receipt of the given amount would get at each level with the settings typed in
    (unsaved), computed by the engine itself."""
    from hub import engine
    from hub.services.programs import load_settings, program_from_settings, validate_program
    current, _ = load_settings(db.session, g.tenant_id)
    db.session.rollback()
    settings, _values, parse_errors = program_form.settings_from_form(request.form, current)
    amount = program_form.preview_amount(request.form.get("preview_amount", ""))
    if amount is None or amount <= 0:
        return render_template("cabinet/_preview.html", error="Введите сумму чека, например 1 000.")
    if parse_errors or validate_program(settings):
        return render_template("cabinet/_preview.html", error="Сначала исправьте ошибки в настройках.")
    prog = program_from_settings(settings)
    rows = []
    for level in prog.levels:
        state = engine.AccountState(available=10 ** 12, total_purchases=level.threshold)
        receipt = engine.Receipt(positions=(engine.Position(id="1", amount=amount, price=amount),),
                                 moment=utcnow(), spend_max=True)
        q = engine.calculate(prog, receipt, state)
        rows.append({"level": level.name, "discount": q.level_discount, "max_spend": q.max_spendable,
                     "earned": engine.calculate(prog, engine.Receipt(positions=receipt.positions, moment=receipt.moment),
                                                state).bonus_earned})
    return render_template("cabinet/_preview.html", rows=rows, amount=amount, error=None)


# --- receipts --------------------------------------------------------------------------------

@bp.get("/receipts")
@require_roles(*CABINET_ROLES)
def receipts():  # noqa: ANN201
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
def receipt(receipt_id: str):  # noqa: ANN201
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
def users():  # noqa: ANN201
    errors, form, created = {}, {}, None
    if request.method == "POST":
        form = request.form
        try:
            row = create_user(db.session, g.tenant_id, form.get("email", ""), form.get("role", ""),
                              form.get("password", ""), form.get("name", ""))
            audit(db.session, "user.create", "user", row.id, {"email": row.email, "role": row.role})
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
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
def user_update(user_id: str):  # noqa: ANN201
    row = db.session.get(WebUser, user_id)
    if row is None or row.tenant_id != g.tenant_id:
        abort(404)
    role = request.form.get("role")
    active = request.form.get("active")
    if row.id == current_user.id:
        flash("Свою роль и доступ изменить нельзя.", "error")
        return redirect(url_for("cabinet.users"), code=303)
    changes = {}
    if role in ("owner", "manager", "readonly", "cashier") and role != row.role:
        changes["role"] = [row.role, role]
        row.role = role
    if active in ("0", "1") and (active == "1") != row.active:
        changes["active"] = [row.active, active == "1"]
        row.active = active == "1"
    if changes:
        audit(db.session, "user.update", "user", row.id, changes)
    db.session.commit()
    flash("Изменения сохранены.", "success")
    return redirect(url_for("cabinet.users"), code=303)


@bp.get("/audit")
@require_roles("owner", "manager")
def audit_log():  # noqa: ANN201
    stmt = select(AuditEntry).where(AuditEntry.tenant_id == g.tenant_id)
    rows, nxt = newest_first(stmt, AuditEntry.created_at, AuditEntry.id, request.args.get("after", ""), PAGE)
    db.session.rollback()
    return render_template("cabinet/audit.html", rows=rows, next_cursor=nxt, actions=ACTIONS)


ACTIONS = {"program.update": "изменены настройки программы", "bonuses.manual": "ручное начисление",
           "bonuses.gift": "подарок", "bonuses.debit": "ручное списание", "user.create": "приглашён пользователь",
           "user.update": "изменён пользователь", "customer.register": "зарегистрирован клиент (касса)",
           "sale.commit": "продажа (касса)", "sale.return": "возврат (касса)",
           "customer.consents": "изменены согласия (личный кабинет)"}
ACTIONS.update({"export.create": "выгрузка в Excel", "store.save": "сохранён магазин",
                "cashier.save": "сохранён кассир", "apikey.create": "выпущен API-ключ",
                "apikey.revoke": "отозван API-ключ", "inbox.retry": "повтор входящего события",
                "template.update": "изменён шаблон сообщения", "notify.settings": "изменены тихие часы"})

# The pages kept in their own modules register their routes on `bp` when imported.
from hub.web.cabinet import automation_pages, exports, messages, promotions_pages, reviews, settings_pages  # noqa: E402,F401
