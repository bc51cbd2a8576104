"""The participant's cabinet (/my/<tenant id>): log in with the phone and a one-time code;
balance, pending bonuses and the nearest expiry; level and the amount to the next one;
history; the card as QR and barcode; profile and consents (withdrawn at any time)."""
from __future__ import annotations

from datetime import date

from flask import (Response, abort, flash, g, redirect, render_template, request, session as web_session,
                   url_for)
from sqlalchemy import select

from hub.brand.operations import brand_of
from hub.clock import utcnow
from hub.errors import DomainError
from hub.extensions import db
from hub.customers.models import Customer
from hub.receipts.models import Receipt
from hub.codes import operations as codes

from hub.web.my.blueprint import CONSENTS, POSTING_NAMES, SESSION_KEY, _customer, bp
from hub.automation.settings import load
from hub.staff.operations import Actor
from hub.customers.operations import ledger_entries, summarize
from hub.automation.referrals import attach
from hub.phones import normalize_phone
from hub.wallet.operations import usable
from hub.reviews.operations import receipts_to_rate, store_names
from hub.web.my.cards import barcode_svg, qr_svg
from hub.notify.bots import nearest_expiry
from hub.customers.operations import update_customer
from hub.automation.referrals import invitation_link, referral_code
from hub.customers.operations import register_customer
from hub.automation.models import ReferralCode


REF_KEY = "my_ref"          # the inviter's code a newcomer arrived with, per tenant


@bp.get("/join/<code>")
def join(code: str):
    """The link a participant shares: the newcomer registers here with a code sent to the
    phone, and the inviter is recorded (the referral gifts follow the tenant's settings)."""
    code = code.strip().upper()[:32]
    if db.session.scalar(select(ReferralCode.customer_id).where(
            ReferralCode.tenant_id == g.tenant_id, ReferralCode.code == code)) is None:
        abort(404)
    db.session.rollback()
    web_session[REF_KEY] = {**(web_session.get(REF_KEY) or {}), g.tenant_id: code}
    return redirect(url_for("my.login"), code=303)


def _register(phone: str, sms: bool):
    """A newcomer who confirmed the phone: the customer, and the inviter when they came by a
    friend's link (a referral the program refuses does not stop the registration)."""
    now = utcnow()
    customer = register_customer(db.session, g.tenant_id,
                                 {"phone": phone, "consents": {"personal_data": True, "sms": sms}},
                                 source="self_registration", moment=now)
    code = (web_session.get(REF_KEY) or {}).get(g.tenant_id)
    if code:
        try:
            attach(db.session, g.tenant_id, customer.id, {"code": code}, now)   # commits
        except DomainError:
            db.session.rollback()
    return customer


def _back() -> str | None:
    """Where a page that needed the sign-in sent the participant from (?next=), this tenant's only."""
    nxt = request.args.get("next") or ""
    ok = nxt.startswith(f"/my/{g.tenant_id}/") and "//" not in nxt and "\\" not in nxt and len(nxt) < 300
    return nxt if ok else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    step, phone, errors = "phone", "", {}
    invited = bool((web_session.get(REF_KEY) or {}).get(g.tenant_id))
    newcomer = False
    if request.method == "POST":
        raw = request.form.get("phone", "")
        try:
            phone = normalize_phone(raw)
        except DomainError as exc:
            errors["phone"] = [exc.message]
            phone = raw
        if not errors:
            exists = db.session.scalar(select(Customer.id).where(Customer.tenant_id == g.tenant_id,
                                                                 Customer.phone == phone))
            newcomer = exists is None
            purpose = "my_join" if newcomer else "my_login"
            if newcomer and request.form.get("personal_data") != "on":
                errors["personal_data"] = ["Номер ещё не участвует в программе. Чтобы зарегистрироваться, "
                                           "дайте согласие на обработку персональных данных."]
            elif request.form.get("code") is None or request.form.get("resend"):
                try:
                    problem = codes.issue(db.session, g.tenant_id, phone, purpose, ip=request.remote_addr)
                    if problem:         # no channel: say so, not «Мы отправили код»
                        errors["phone"] = [problem]
                    else:
                        step = "code"
                except DomainError as exc:
                    errors["code"], step = [exc.message], "code"
            elif codes.confirm(db.session, g.tenant_id, phone, purpose, request.form.get("code", "")):
                if newcomer:
                    try:
                        exists = _register(phone, request.form.get("sms") == "on").id
                    except DomainError as exc:
                        db.session.rollback()
                        errors["phone"] = [exc.message]
                if not errors:
                    sessions = dict(web_session.get(SESSION_KEY) or {})
                    web_session.clear()
                    sessions[g.tenant_id] = exists
                    web_session[SESSION_KEY] = sessions
                    return redirect(_back() or url_for("my.home"), code=303)
            else:
                step, errors["code"] = "code", ["Неверный или просроченный код."]
        db.session.rollback()
    return render_template("my/login.html", step=step, phone=phone, errors=errors, invited=invited,
                           newcomer=newcomer, form=request.form), (422 if errors else 200)


@bp.post("/logout")
def logout():
    sessions = dict(web_session.get(SESSION_KEY) or {})
    sessions.pop(g.tenant_id, None)
    web_session[SESSION_KEY] = sessions
    return redirect(url_for("my.login"), code=303)


@bp.get("/")
def home():
    customer = _customer()
    if customer is None:
        return redirect(url_for("my.login"))
    now = utcnow()
    summary = summarize(db.session, g.tenant_id, customer, now)
    expiry = nearest_expiry(db.session, g.tenant_id, customer.id, now)
    history = ledger_entries(db.session, g.tenant_id, customer.id, limit=30)
    receipts = {r.id: r for r in db.session.scalars(select(Receipt).where(
        Receipt.tenant_id == g.tenant_id, Receipt.id.in_([p.receipt_id for p in history if p.receipt_id])))}
    card = customer.card_number or customer.phone
    invite = _invite(customer)
    to_rate = receipts_to_rate(db.session, g.tenant_id, customer.id, now)
    wallet = usable(db.session, g.tenant_id) is not None
    stores = store_names(db.session, g.tenant_id, [r.store for r in to_rate])
    db.session.rollback()
    return render_template("my/home.html", c=customer, s=summary, expiry=expiry, history=history,
                           receipts=receipts, qr=qr_svg(card), barcode=barcode_svg(card), card=card,
                           names=POSTING_NAMES, invite=invite, to_rate=to_rate, wallet=wallet, stores=stores,
                           invite_qr=qr_svg(invite["link"]) if invite else None)


def _invite(customer: Customer) -> dict | None:
    """The customer's invitation (code and link) when the tenant runs referrals."""
    if not load(db.session, g.tenant_id)["referral"].get("enabled"):
        return None
    code = referral_code(db.session, g.tenant_id, customer.id)
    return {"code": code, "link": invitation_link(request.host_url, g.tenant_id, code)}


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    customer = _customer()
    if customer is None:
        return redirect(url_for("my.login"))
    errors, form = {}, {}
    if request.method == "POST":
        form = request.form
        data = {"first_name": (form.get("first_name") or "").strip()[:100] or None,
                "last_name": (form.get("last_name") or "").strip()[:100] or None,
                "email": (form.get("email") or "").strip()[:200] or None}
        if data["email"] and ("@" not in data["email"] or " " in data["email"]):
            errors["email"] = ["Похоже, в адресе ошибка: нужен вид name@example.ru."]
        raw_birth = (form.get("birth_date") or "").strip()
        if raw_birth:
            try:
                birth = date.fromisoformat(raw_birth)
                if not date(1900, 1, 1) <= birth <= utcnow().date():
                    raise ValueError
                data["birth_date"] = birth
            except ValueError:
                errors["birth_date"] = ["Дата рождения в прошлом, например 1990-05-17."]
        else:
            data["birth_date"] = None
        # A consent is recorded when ticked or when it was recorded before (unticking it is a
        # withdrawal); one never given stays absent.
        known = customer.consents or {}
        consents = {key: form.get(f"consent_{key}") == "on" for key, _ in CONSENTS
                    if form.get(f"consent_{key}") == "on" or key in known}
        data["consents"] = consents
        if not errors:
            try:
                update_customer(db.session, g.tenant_id, customer.id, data, source="my_cabinet", moment=utcnow(),
                                by=Actor(email=customer.phone))
            except DomainError as exc:
                db.session.rollback()
                errors["_form"] = [exc.message]
            else:
                flash("Сохранено.", "success")
                return redirect(url_for("my.profile"), code=303)
        db.session.rollback()
        customer = _customer()
    db.session.rollback()
    return render_template("my/profile.html", c=customer, errors=errors, form=form, consents=CONSENTS), \
        (422 if errors else 200)


@bp.get("/logo.png")
def logo():
    """The shop's logo (stored re-encoded as PNG), public like the sign-in page it heads."""
    png = brand_of(db.session, g.tenant_id)["logo"]
    db.session.rollback()
    if png is None:
        abort(404)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "public, max-age=300",
                                                        "X-Content-Type-Options": "nosniff"})


@bp.get("/consent")
def consent():
    """The text of the consent to the processing of personal data (152-ФЗ) the participant gives
    on registering: the checkbox links here, so it is agreed to knowingly."""
    db.session.rollback()
    return render_template("my/consent.html", c=_customer())


# Pages kept in their own modules register their routes on `bp` when imported.
from hub.web.my import review_pages  # noqa: F401 - their routes
from hub.web.my import wallet as wallet_page  # noqa: F401 - `wallet` is also a local name
