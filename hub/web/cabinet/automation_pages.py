"""Automation in the owner's cabinet: channels (SMS gateways, Telegram, MAX, email), gift
triggers, win-back chains with seed 001's gift calculator, mailings to a segment, results per
mechanic and the referral program.

Every rule is the hub's (hub.notify.registry, hub.automation.*), called exactly as
api/views/notify.py and api/views/automation.py call it: this module only turns forms into
those calls and the hub's errors into messages next to the fields. Owners and managers edit;
read-only users see the same pages without forms. Every change leaves an audit entry.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from hub.clock import utcnow
from hub.errors import DomainError
from hub.extensions import db
from hub.text import MAILING_STATUS_NAMES
from hub.web.cabinet.blueprint import ACTIONS, bp
from hub.web.ui.auth import CABINET_ROLES, EDIT_ROLES, actor, audit, require_roles
from hub.notify.operations import configure_channel, connect_webhook, save_settings, send_test_message
from hub.web.ui.formatting import parse_rub
from hub.paging import newest_first
from hub.automation import mailings
from hub.automation.models import WinbackChain
from hub.notify.channels import CHANNEL_OF, CHANNELS
from hub.automation import chains
from hub.notify.outbox import chat_for
from hub.notify import registry
from hub.notify import catalog
from hub.automation import segments
from hub.automation.segments import SEGMENTS
from hub.programs.operations import get_program
from hub.notify import rules
from hub.automation import settings as auto_settings
from hub.errors import Invalid
from hub.automation.stats import mechanic_stats
from hub.notify.channels import ChannelError
from hub.automation.models import MechanicEvent
from hub.phones import normalize_phone
from hub.notify.models import OutboxMessage
from hub.notify.registry import REQUIRED_CREDENTIALS
from hub.tenants.models import Tenant
from hub.automation.models import Mailing
from hub.automation.models import Segment

PAGE = 50
ACTIONS.update({
    "channel.save": "изменён канал сообщений", "channel.test": "тестовое сообщение",
    "channel.webhook": "подключён вебхук бота", "notify.channels": "изменены настройки каналов",
    "automation.triggers": "изменены подарки и уведомления", "automation.referral": "изменена реферальная программа",
    "chain.create": "создана цепочка реанимации", "chain.update": "изменена цепочка реанимации",
    "chain.delete": "удалена цепочка реанимации", "mailing.create": "создана рассылка",
    "mailing.send": "отправлена рассылка",
})

# --- shared form helpers ---------------------------------------------------------------------

_PATH_PREFIX = re.compile(r"^Поле [\w.]+:\s*")


def hub_message(exc: DomainError) -> str:
    """The hub's message without its leading "Поле gifts.0.amount:" (the field is shown by
    where the message stands)."""
    text = _PATH_PREFIX.sub("", exc.message)
    return text[:1].upper() + text[1:]


def place(exc: DomainError, fields: dict[str, str]) -> dict[str, list[str]]:
    """{form field: [the hub's message]} for each detail path the form shows; the rest on top."""
    errors: dict[str, list[str]] = {}
    for path in exc.details or {}:
        errors.setdefault(fields.get(path, "_form"), []).append(hub_message(exc))
    if not errors:
        errors["_form"] = [exc.message]
    for key in errors:
        errors[key] = list(dict.fromkeys(errors[key]))
    return errors


def _int(form, name: str, errors: dict, *, default=None):
    """An integer typed in a field; empty -> default; not a number -> a message, None."""
    raw = (form.get(name) or "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"-?\d{1,9}", raw):
        errors.setdefault(name, []).append("Введите целое число.")
        return None
    return int(raw)


def _bonuses(form, name: str, errors: dict, *, required: bool = False):
    try:
        value = parse_rub(form.get(name))
    except ValueError:
        errors.setdefault(name, []).append("Введите число бонусов, например 500.")
        return None
    if required and not value:
        errors.setdefault(name, []).append("Укажите количество бонусов больше 0.")
        return None
    return value


def _percent(raw: str | None) -> Decimal | None:
    text = (raw or "").replace(",", ".").replace("%", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def _checked(form, name: str) -> bool:
    return form.get(name) in ("1", "on", "true")


def _tz() -> str:
    return getattr(g, "tenant_tz", None) or "Europe/Moscow"


def _levels() -> list:
    return list(get_program(db.session, g.tenant_id).levels)


def _custom_segments() -> list:
    return list(db.session.scalars(select(Segment).where(Segment.tenant_id == g.tenant_id)
                                   .order_by(Segment.created_at).limit(500)))


def _audience_from_form(form) -> dict:
    """The audience picker (recency segments, levels, a saved segment) as hub filters."""
    out: dict = {}
    rfm = [v for v in form.getlist("rfm") if v]
    levels = [v for v in form.getlist("levels") if v]
    if rfm:
        out["rfm"] = rfm
    if levels:
        out["levels"] = levels
    if (form.get("segment_id") or "").strip():
        out["segment_id"] = form["segment_id"].strip()
    return out


AUDIENCE_FIELDS = {"rfm": "rfm", "levels": "levels", "segment_id": "segment_id"}


def _audience_context() -> dict:
    return {"rfm_names": SEGMENTS, "program_levels": _levels(), "custom_segments": _custom_segments()}


def audience_text(audience: dict, levels: list, segments: list) -> str:
    """"Засыпающие, Спящие · уровень Золото" — a chain's or mailing's audience in words."""
    parts = []
    if audience.get("rfm"):
        parts.append(", ".join(SEGMENTS.get(c, c) for c in audience["rfm"]))
    if audience.get("levels"):
        names = {lv.code: lv.name for lv in levels}
        parts.append("уровень " + ", ".join(names.get(c, c) for c in audience["levels"]))
    if audience.get("segment_id"):
        names = {s.id: s.name for s in segments}
        parts.append("сегмент «" + names.get(audience["segment_id"], "удалён") + "»")
    other = sorted(set(audience) - {"rfm", "levels", "segment_id"})
    if other:
        parts.append("ещё фильтры: " + ", ".join(other))
    return " · ".join(parts) or "все клиенты"


# --- 1. channels ---------------------------------------------------------------------------

PROVIDER_NAMES = {"smsru": "SMS.ru", "smsaero": "SMS Aero", "smsc": "SMSC", "telegram": "Telegram-бот",
                  "max": "MAX-бот", "smtp": "SMTP-сервер"}
CHANNEL_TITLES = {"sms": "SMS", "telegram": "Telegram", "max": "MAX", "email": "Электронная почта"}
FIELD_LABELS = {"api_id": "API-ключ (api_id)", "api_key": "API-ключ", "email": "Email аккаунта",
                "token": "Токен бота", "login": "Логин", "password": "Пароль", "psw": "Пароль",
                "username": "Пользователь SMTP", "apikey": "API-ключ"}
# Credentials that identify an account rather than unlock it: shown back, typed as text.
IDENTIFIERS = {"email", "login", "username"}
# What each channel's settings hold (besides credentials): name, label, kind, hint.
SETTING_FIELDS = {
    "sms": [("sender", "Имя отправителя", "text", "Подпись, согласованная с провайдером, например KOFEYNYA.")],
    "telegram": [], "max": [],
    "email": [("host", "Сервер SMTP", "text", "smtp.yandex.ru"), ("port", "Порт", "number", "465 или 587"),
              ("ssl", "SSL (порт 465)", "check", ""), ("starttls", "STARTTLS (порт 587)", "check", ""),
              ("from", "Адрес отправителя", "text", "shop@example.ru"),
              ("from_name", "Имя отправителя", "text", "Кофейня «Зерно»")],
}
TEST_RECIPIENT = {"sms": ("Телефон", "+7 916 123-45-67"), "email": ("Адрес", "owner@example.ru"),
                  "telegram": ("Телефон клиента, связанного с ботом, или ID чата", "+7 916 123-45-67"),
                  "max": ("Телефон клиента, связанного с ботом, или ID пользователя", "+7 916 123-45-67")}
TEST_TEXT = "Тестовое сообщение от программы лояльности «{shop}». Канал настроен."


def _providers() -> dict[str, list[str]]:
    """Channel -> its providers, as hub.notify.channels registers them (new gateways appear
    here by themselves)."""
    out: dict[str, list[str]] = {c: [] for c in CHANNELS}
    for provider, channel in CHANNEL_OF.items():
        out.setdefault(channel, []).append(provider)
    return out


def _credential_fields(provider: str) -> list[str]:
    fields = list(REQUIRED_CREDENTIALS.get(provider, ()))
    if provider == "smtp":
        fields = fields + [f for f in ("username", "password") if f not in fields]
    return fields


def _channel_cards() -> list[dict]:
    rows = registry.channel_rows(db.session, g.tenant_id)
    order = ["sms"] + [c for c in CHANNELS if c != "sms"]
    cards = []
    for ch in order:
        row = rows.get(ch)
        creds = registry.decrypt(row.credentials) if row is not None else {}
        providers = _providers().get(ch, [])
        cards.append({
            "channel": ch, "title": CHANNEL_TITLES.get(ch, ch), "row": row,
            "provider": row.provider if row is not None else (providers[0] if providers else ch),
            "providers": [(p, PROVIDER_NAMES.get(p, p), [
                {"name": f, "label": FIELD_LABELS.get(f, f), "secret": f not in IDENTIFIERS,
                 "set": bool(row is not None and row.provider == p and creds.get(f)),
                 "value": creds.get(f, "") if row is not None and row.provider == p and f in IDENTIFIERS else ""}
                for f in _credential_fields(p)]) for p in providers],
            "settings": (row.settings or {}) if row is not None else {},
            "setting_fields": SETTING_FIELDS.get(ch, []),
            "webhook_url": registry.webhook_url(row, _public_url()).split("?")[0] if row is not None else "",
            "test_label": TEST_RECIPIENT.get(ch, ("Получатель", ""))})
    return cards


def _public_url() -> str:
    return current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:8000"


def _channels_page(errors: dict | None = None, open_channel: str | None = None, form=None,
                   status: int = 200, test_result: dict | None = None):
    cards = _channel_cards()
    settings = rules.get_settings(db.session, g.tenant_id)
    db.session.rollback()
    return render_template("cabinet/channels.html", cards=cards, settings=settings, errors=errors or {},
                           open_channel=open_channel, form=form or {}, test_result=test_result,
                           provider_names=PROVIDER_NAMES), status


@bp.get("/channels")
@require_roles(*CABINET_ROLES)
def channels():
    return _channels_page()


def _channel_or_404(channel: str) -> str:
    if channel not in CHANNELS:
        abort(404)
    return channel


@bp.post("/channels/<channel>")
@require_roles(*EDIT_ROLES)
def channel_save(channel: str):
    channel = _channel_or_404(channel)
    form = request.form
    provider = form.get("provider") or ""
    if provider not in _providers()[channel]:
        return _channels_page({f"{channel}-provider": ["Выберите провайдера из списка."]}, channel, form, 422)
    credentials = {f: (form.get(f"{channel}-{provider}-{f}") or "").strip() for f in _credential_fields(provider)}
    settings: dict = {}
    errors: dict = {}
    for name, _label, kind, _hint in SETTING_FIELDS.get(channel, []):
        key = f"{channel}-{name}"
        if kind == "check":
            settings[name] = _checked(form, key)
        elif kind == "number":
            number = _int(form, key, errors)
            if number is not None:
                settings[name] = number
        else:
            settings[name] = (form.get(key) or "").strip()
    if errors:
        return _channels_page(errors, channel, form, 422)
    enabled = _checked(form, f"{channel}-enabled")
    try:
        configure_channel(db.session, g.tenant_id, channel, provider, settings=settings,
                          credentials=credentials, enabled=enabled, by=actor())
    except DomainError as exc:
        errors = {}
        missing = (exc.details or {}).get("credentials") or {}
        for f in missing:
            errors[f"{channel}-{provider}-{f}"] = [hub_message(exc)]
        return _channels_page(errors or {"_form": [exc.message]}, channel, form, 422)
    flash(f"Канал «{CHANNEL_TITLES.get(channel, channel)}» сохранён.", "success")
    return redirect(url_for("cabinet.channels") + f"#ch-{channel}", code=303)


@bp.post("/channels/settings")
@require_roles(*EDIT_ROLES)
def channels_settings():
    form = request.form
    errors: dict = {}
    try:
        price = parse_rub(form.get("sms_part_price"))
    except ValueError:
        price = None
        errors["sms_part_price"] = ["Введите цену, например 2,50."]
    if price is None and "sms_part_price" not in errors:
        errors["sms_part_price"] = ["Укажите цену одной части SMS."]
    if errors:
        return _channels_page(errors, None, form, 422)
    data = {"sms_fallback": _checked(form, "sms_fallback"), "sms_part_price": price}
    try:
        save_settings(db.session, g.tenant_id, data, by=actor(), action="notify.channels")
    except DomainError as exc:
        return _channels_page(place(exc, {}), None, form, 422)
    flash("Настройки каналов сохранены.", "success")
    return redirect(url_for("cabinet.channels") + "#fallback", code=303)


def _test_recipient(channel: str, raw: str) -> str:
    """Where the test goes: a phone for SMS; an address for email; for a bot the chat of the
    customer linked with that phone (or the chat id typed)."""
    raw = raw.strip()
    if not raw:
        raise Invalid("recipient_required", "Укажите, куда отправить тестовое сообщение.")
    if channel == "email":
        if "@" not in raw or len(raw) > 200:
            raise Invalid("bad_email", "Введите адрес электронной почты.")
        return raw
    if channel == "sms" or raw.startswith("+"):
        phone = normalize_phone(raw)
        if channel == "sms":
            return phone
        link = chat_for(db.session, g.tenant_id, channel, None, phone)
        if link is None:
            raise Invalid("no_chat", "Этот телефон ещё не связан с ботом: клиент должен написать боту и "
                                     "поделиться номером.")
        return link.chat_id
    if not re.fullmatch(r"-?\d{1,20}", raw):
        raise Invalid("bad_chat", "Введите телефон в формате +7… или числовой ID чата.")
    return raw


@bp.post("/channels/<channel>/test")
@require_roles(*EDIT_ROLES)
def channel_test(channel: str):
    """Send one test message right now through the saved channel and show what the provider
    answered (nothing is queued; the owner sees at once whether the credentials work)."""
    channel = _channel_or_404(channel)
    row = registry.channel_rows(db.session, g.tenant_id).get(channel)
    if row is None:
        return _channels_page({f"{channel}-test": ["Сначала сохраните настройки канала."]}, channel,
                              request.form, 422)
    try:
        recipient = _test_recipient(channel, request.form.get("recipient", ""))
    except DomainError as exc:
        db.session.rollback()
        return _channels_page({f"{channel}-test": [exc.message]}, channel, request.form, 422)
    tenant = db.session.get(Tenant, g.tenant_id)
    text = TEST_TEXT.format(shop=tenant.name if tenant else "")
    outcome = send_test_message(db.session, g.tenant_id, channel, row, recipient, text, by=actor())
    return _channels_page({}, channel, request.form, 200 if outcome["ok"] else 422, outcome)


@bp.post("/channels/<channel>/webhook")
@require_roles(*EDIT_ROLES)
def channel_webhook(channel: str):
    """Point the bot at the hub (Telegram setWebhook, MAX subscription) with a new secret."""
    channel = _channel_or_404(channel)
    row = registry.channel_rows(db.session, g.tenant_id).get(channel)
    if row is None:
        return _channels_page({f"{channel}-test": ["Сначала сохраните настройки канала."]}, channel, None, 422)
    try:
        connect_webhook(db.session, g.tenant_id, channel, row, _public_url(), by=actor())
    except ChannelError as exc:
        return _channels_page({f"{channel}-webhook": [f"Провайдер не принял вебхук: {exc.reason}"]},
                              channel, None, 422)
    flash("Вебхук подключён: бот будет отвечать клиентам.", "success")
    return redirect(url_for("cabinet.channels") + f"#ch-{channel}", code=303)


# --- 2. gift triggers ----------------------------------------------------------------------

# slot, hub event, sources, title, hint, has days_before
GIFT_SLOTS = (
    ("registration", "registration", [], "За регистрацию", "Любая регистрация: касса, API, личный кабинет.", False),
    ("self_registration", "registration", ["self_registration"], "За самостоятельную регистрацию",
     "Клиент зарегистрировался сам в личном кабинете (в дополнение к подарку за регистрацию).", False),
    ("first_purchase", "first_purchase", [], "За первую покупку", "После первого чека клиента.", False),
    ("birthday", "birthday", [], "На день рождения",
     "Пример: 500 бонусов за 7 дней до дня рождения, действуют 15 дней.", True),
    ("relative_birthday", "relative_birthday", [], "На дни рождения близких",
     "Близкие — из анкеты клиента (дети, супруги).", True),
)
GIFT_PARAMS = ("amount", "valid_days", "delay_days", "days_before")


def _slot_of(rule: dict) -> str | None:
    for slot, event, sources, *_ in GIFT_SLOTS:
        if rule.get("event") == event and list(rule.get("sources") or []) == sources and not rule.get("levels"):
            return slot
    return None


def _gift_slots(settings: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for rule in settings.get("gifts", []):
        slot = _slot_of(rule)
        if slot and slot not in out:
            out[slot] = rule
    return out


def _triggers_form_values(settings: dict) -> dict:
    values: dict = {}
    for slot, rule in _gift_slots(settings).items():
        values[f"{slot}-enabled"] = "1" if rule.get("enabled") else ""
        values[f"{slot}-amount"] = f"{rule['amount'] / 100:g}".replace(".", ",") if rule.get("amount") else ""
        for p in ("valid_days", "delay_days", "days_before"):
            values[f"{slot}-{p}"] = "" if rule.get(p) is None else str(rule[p])
    warn = settings.get("expiry_warning") or {}
    values["expiry-enabled"] = "1" if warn.get("enabled") else ""
    values["expiry-days_before"] = str(warn.get("days_before") or 7)
    values["activation-enabled"] = "1" if (settings.get("activation") or {}).get("enabled") else ""
    return values


def _triggers_page(values: dict, errors: dict, status: int = 200):
    current = auto_settings.load(db.session, g.tenant_id)
    slots = _gift_slots(current)
    extra = [r for r in current.get("gifts", []) if r not in slots.values()]
    db.session.rollback()
    return render_template("cabinet/automation_triggers.html", slots=GIFT_SLOTS, v=values, errors=errors,
                           extra=extra, referral=current.get("referral") or {}), status


@bp.get("/automation")
@require_roles(*CABINET_ROLES)
def automation_triggers():
    values = _triggers_form_values(auto_settings.load(db.session, g.tenant_id))
    return _triggers_page(values, {})


@bp.post("/automation")
@require_roles(*EDIT_ROLES)
def automation_triggers_save():
    form = request.form
    current = auto_settings.load(db.session, g.tenant_id)
    slots = _gift_slots(current)
    errors: dict = {}
    by_slot: dict[str, dict | None] = {}
    for slot, event, sources, _title, _hint, has_before in GIFT_SLOTS:
        enabled = _checked(form, f"{slot}-enabled")
        amount = _bonuses(form, f"{slot}-amount", errors, required=enabled)
        if not enabled and not amount:
            by_slot[slot] = None                 # switched off and empty: no rule
            continue
        rule = {**(slots.get(slot) or {}), "event": event, "sources": sources, "levels": [], "enabled": enabled,
                "amount": amount, "valid_days": _int(form, f"{slot}-valid_days", errors),
                "delay_days": _int(form, f"{slot}-delay_days", errors, default=0),
                "days_before": _int(form, f"{slot}-days_before", errors, default=0) if has_before else 0}
        by_slot[slot] = rule
    expiry = {"enabled": _checked(form, "expiry-enabled"),
              "days_before": _int(form, "expiry-days_before", errors, default=7)}
    activation = {"enabled": _checked(form, "activation-enabled")}
    if errors:
        return _triggers_page(form, errors, 422)
    gifts: list[dict] = []
    fields = {"expiry_warning.days_before": "expiry-days_before"}

    def add(rule: dict, slot: str) -> None:
        fields.update({f"gifts.{len(gifts)}.{p}": f"{slot}-{p}" for p in GIFT_PARAMS})
        gifts.append(rule)
    used = set()
    for rule in current.get("gifts", []):
        slot = _slot_of(rule)
        if slot and slots.get(slot) is rule:           # the rule this page edits: replaced
            used.add(slot)
            if by_slot[slot] is not None:
                add(by_slot[slot], slot)
        else:                                          # made through the API: kept as is
            gifts.append(rule)
    for slot, *_ in GIFT_SLOTS:
        if slot not in used and by_slot[slot] is not None:
            add(by_slot[slot], slot)
    data = {**current, "gifts": gifts, "expiry_warning": expiry, "activation": activation}
    audit(db.session, "automation.triggers", "automation", None,
          {"gifts": [{k: r.get(k) for k in ("event", "sources", "enabled", *GIFT_PARAMS)} for r in gifts],
           "expiry_warning": expiry, "activation": activation})
    try:
        auto_settings.save(db.session, g.tenant_id, data, utcnow())      # commits with the audit entry
    except DomainError as exc:
        db.session.rollback()
        return _triggers_page(form, place(exc, fields), 422)
    flash("Подарки и уведомления сохранены.", "success")
    return redirect(url_for("cabinet.automation_triggers"), code=303)


# --- 6. referral program -------------------------------------------------------------------

REFERRAL_ROWS = 3           # empty level rows offered below the filled ones (the hub allows 10)


def _referral_values(ref: dict) -> dict:
    values = {"enabled": "1" if ref.get("enabled") else "", "mode": ref.get("mode") or "first",
              "period_days": str(ref.get("period_days") or ""), "valid_days": str(ref.get("valid_days") or "")}
    for i, lv in enumerate(ref.get("levels") or []):
        values[f"lv-{i}-percent"] = str(lv.get("percent") or "").replace(".", ",")
        values[f"lv-{i}-amount"] = f"{lv['amount'] / 100:g}".replace(".", ",") if lv.get("amount") else ""
    gift = ref.get("newcomer_gift") or {}
    values["nc-amount"] = f"{gift['amount'] / 100:g}".replace(".", ",") if gift.get("amount") else ""
    values["nc-valid_days"] = str(gift.get("valid_days") or "")
    values["nc-delay_days"] = str(gift.get("delay_days") or "")
    return values


def _referral_page(values, errors: dict, status: int = 200):
    ref = auto_settings.load(db.session, g.tenant_id).get("referral") or {}
    db.session.rollback()
    filled = max(len(ref.get("levels") or []),
                 max((int(k.split("-")[1]) + 1 for k in values if k.startswith("lv-") and values.get(k)), default=0))
    rows = min(10, max(filled + 1, REFERRAL_ROWS))
    return render_template("cabinet/automation_referrals.html", v=values, errors=errors, rows=rows,
                           ref=ref), status


@bp.get("/automation/referrals")
@require_roles(*CABINET_ROLES)
def automation_referrals():
    ref = auto_settings.load(db.session, g.tenant_id).get("referral") or {}
    return _referral_page(_referral_values(ref), {})


@bp.post("/automation/referrals")
@require_roles(*EDIT_ROLES)
def automation_referrals_save():
    form = request.form
    errors: dict = {}
    levels, fields = [], {"referral.mode": "mode", "referral.period_days": "period_days",
                          "referral.valid_days": "valid_days", "referral.levels": "_levels",
                          **{f"referral.newcomer_gift.{p}": f"nc-{p}" for p in ("amount", "valid_days", "delay_days")}}
    for i in range(10):
        pct_raw = (form.get(f"lv-{i}-percent") or "").strip()
        amount = _bonuses(form, f"lv-{i}-amount", errors)
        if not pct_raw and not amount:
            continue
        try:
            pct = _percent(pct_raw)
        except ValueError:
            errors.setdefault(f"lv-{i}-percent", []).append("Введите процент, например 5 или 2,5.")
            continue
        n = len(levels)
        fields.update({f"referral.levels.{n}": f"lv-{i}-percent", f"referral.levels.{n}.percent": f"lv-{i}-percent",
                       f"referral.levels.{n}.amount": f"lv-{i}-amount"})
        levels.append({"percent": None if pct is None else format(pct, "f"), "amount": amount or None})
    nc_amount = _bonuses(form, "nc-amount", errors)
    newcomer = None
    if nc_amount:
        newcomer = {"amount": nc_amount, "valid_days": _int(form, "nc-valid_days", errors),
                    "delay_days": _int(form, "nc-delay_days", errors, default=0)}
    mode = form.get("mode") or "first"
    period = _int(form, "period_days", errors)
    valid = _int(form, "valid_days", errors)
    if errors:
        return _referral_page(form, errors, 422)
    current = auto_settings.load(db.session, g.tenant_id)
    ref = {**(current.get("referral") or {}), "enabled": _checked(form, "enabled"), "mode": mode,
           "levels": levels, "newcomer_gift": newcomer, "period_days": period, "valid_days": valid}
    audit(db.session, "automation.referral", "automation", None,
          {k: ref[k] for k in ("enabled", "mode", "levels", "newcomer_gift", "period_days", "valid_days")})
    try:
        auto_settings.save(db.session, g.tenant_id, {**current, "referral": ref}, utcnow())
    except DomainError as exc:
        db.session.rollback()
        return _referral_page(form, place(exc, fields), 422)
    flash("Реферальная программа сохранена.", "success")
    return redirect(url_for("cabinet.automation_referrals"), code=303)


# --- 3. win-back chains --------------------------------------------------------------------

STEP_ROWS = 3


def _proposal(args) -> dict:
    """Seed 001's calculator: average check x margin x share -> the gift (hub.automation.chains)."""
    out: dict = {"errors": {}, "check": args.get("check", ""), "margin": args.get("margin", ""),
                 "share": args.get("share", "")}
    try:
        check = parse_rub(out["check"])
    except ValueError:
        check = None
        out["errors"]["check"] = ["Введите сумму, например 900."]
    if check is None and not out["errors"]:
        check = chains.average_check(db.session, g.tenant_id, utcnow())
        out["from_receipts"] = True
    out["average_check"] = check
    for key in ("margin", "share"):
        try:
            value = _percent(out[key])
        except ValueError:
            value = None
        if value is None or not 0 <= value <= 100:
            out["errors"][key] = ["Процент от 0 до 100."]
        out[key + "_value"] = value
    if not out["errors"] and check is not None:
        out["gift"] = chains.propose_gift(check, out["margin_value"], out["share_value"])
    return out


@bp.get("/automation/chains")
@require_roles(*CABINET_ROLES)
def chains_list():
    rows = list(db.session.scalars(select(WinbackChain).where(WinbackChain.tenant_id == g.tenant_id)
                                   .order_by(WinbackChain.created_at, WinbackChain.id)))
    calc = _proposal(request.args) if request.args.get("margin") or request.args.get("share") else None
    levels, segments = _levels(), _custom_segments()
    audiences = {c.id: audience_text(c.audience or {}, levels, segments) for c in rows}
    db.session.rollback()
    return render_template("cabinet/chains.html", rows=rows, calc=calc, audiences=audiences)


@bp.get("/automation/chains/proposal")
@require_roles(*CABINET_ROLES)
def chain_proposal():
    calc = _proposal(request.args)
    db.session.rollback()
    return render_template("cabinet/chain_proposal.html", calc=calc), (422 if calc["errors"] else 200)


def _chain_or_404(chain_id: str):
    try:
        return chains.get_chain(db.session, g.tenant_id, chain_id)
    except DomainError:
        abort(404)


def _chain_values(chain) -> dict:
    values = {"name": chain.name, "enabled": "1" if chain.enabled else "",
              "rfm": list((chain.audience or {}).get("rfm") or []),
              "levels": list((chain.audience or {}).get("levels") or []),
              "segment_id": (chain.audience or {}).get("segment_id") or ""}
    for i, st in enumerate(chain.steps or []):
        values[f"step-{i}-days"] = str(st.get("days") or "")
        values[f"step-{i}-amount"] = f"{st['amount'] / 100:g}".replace(".", ",") if st.get("amount") else ""
        values[f"step-{i}-valid_days"] = str(st.get("valid_days") or "")
        values[f"step-{i}-text"] = st.get("text") or ""
    return values


def _form_values(form) -> dict:
    values = form.to_dict()
    values["rfm"], values["levels"] = form.getlist("rfm"), form.getlist("levels")
    return values


def _chain_page(chain, values: dict, errors: dict, status: int = 200):
    filled = max((int(k.split("-")[1]) + 1 for k, v in values.items() if k.startswith("step-") and v), default=0)
    ctx = _audience_context()
    db.session.rollback()
    return render_template("cabinet/chain.html", chain=chain, v=values, errors=errors,
                           rows=min(10, max(filled + 1, STEP_ROWS)), **ctx), status


@bp.get("/automation/chains/new")
@require_roles(*CABINET_ROLES)
def chain_new():
    values = {"name": "Реанимация", "enabled": "1", "rfm": [], "levels": [], "segment_id": ""}
    if request.args.get("gift"):          # from the calculator: the proposed gift as step 1
        values.update({"step-0-amount": request.args["gift"], "step-0-valid_days": "7"})
    return _chain_page(None, values, {})


@bp.get("/automation/chains/<chain_id>")
@require_roles(*CABINET_ROLES)
def chain_edit(chain_id: str):
    chain = _chain_or_404(chain_id)
    return _chain_page(chain, _chain_values(chain), {})


def _chain_save(chain_id: str | None):
    chain = _chain_or_404(chain_id) if chain_id else None
    form = request.form
    errors: dict = {}
    steps, fields = [], {**AUDIENCE_FIELDS, "steps": "_steps"}
    for i in range(10):
        days = _int(form, f"step-{i}-days", errors)
        amount = _bonuses(form, f"step-{i}-amount", errors) or 0
        valid = _int(form, f"step-{i}-valid_days", errors)
        text = (form.get(f"step-{i}-text") or "").strip()
        if days is None and not amount and not text and f"step-{i}-days" not in errors:
            continue
        n = len(steps)
        fields.update({f"steps.{n}.{p}": f"step-{i}-{p}" for p in ("days", "amount", "valid_days", "text")})
        steps.append({"days": days, "amount": amount, "valid_days": valid, "text": text or None})
    name = (form.get("name") or "").strip()
    if not name:
        errors["name"] = ["Назовите цепочку."]
    elif len(name) > 200:
        errors["name"] = ["Не длиннее 200 символов."]
    if errors:
        return _chain_page(chain, _form_values(form), errors, 422)
    data = {"name": name, "enabled": _checked(form, "enabled"), "audience": _audience_from_form(form),
            "steps": steps}
    try:
        saved = chains.save_chain(db.session, g.tenant_id, data, utcnow(), chain.id if chain else None,
                                  by=actor())
    except DomainError as exc:
        db.session.rollback()
        return _chain_page(chain, _form_values(form), place(exc, fields), 422)
    flash("Цепочка сохранена.", "success")
    return redirect(url_for("cabinet.chain_edit", chain_id=saved.id), code=303)


@bp.post("/automation/chains/new")
@require_roles(*EDIT_ROLES)
def chain_create():
    return _chain_save(None)


@bp.post("/automation/chains/<chain_id>")
@require_roles(*EDIT_ROLES)
def chain_update(chain_id: str):
    return _chain_save(chain_id)


@bp.post("/automation/chains/<chain_id>/delete")
@require_roles(*EDIT_ROLES)
def chain_delete(chain_id: str):
    chain = _chain_or_404(chain_id)
    chains.delete_chain(db.session, g.tenant_id, chain.id, by=actor())
    flash("Цепочка удалена.", "success")
    return redirect(url_for("cabinet.chains_list"), code=303)


# --- 4. mailings ---------------------------------------------------------------------------

MAILING_STATUSES = MAILING_STATUS_NAMES     # one label table (hub.text)


def _mailing_or_404(mailing_id: str):
    try:
        return mailings.get_mailing(db.session, g.tenant_id, mailing_id)
    except DomainError:
        abort(404)


def _message_counts(mailing_ids: list[str]) -> dict[str, dict]:
    """Per mailing: its messages by outbox status and what they cost."""
    out: dict[str, dict] = {mid: {"total": 0, "cost": 0} for mid in mailing_ids}
    if not mailing_ids:
        return out
    rows = db.session.execute(
        select(MechanicEvent.occurrence, OutboxMessage.status, func.count(),
               func.coalesce(func.sum(func.coalesce(OutboxMessage.cost, OutboxMessage.expected_cost)), 0))
        .join(OutboxMessage, (OutboxMessage.tenant_id == MechanicEvent.tenant_id)
              & (OutboxMessage.dedupe_key == MechanicEvent.message_key))
        .where(MechanicEvent.tenant_id == g.tenant_id, MechanicEvent.mechanic == "mailing",
               MechanicEvent.occurrence.in_(mailing_ids))
        .group_by(MechanicEvent.occurrence, OutboxMessage.status)).all()
    for mid, status, n, cost in rows:
        row = out.setdefault(mid, {"total": 0, "cost": 0})
        row[status] = n
        row["total"] += n
        row["cost"] += int(cost or 0)
    return out


@bp.get("/mailings")
@require_roles(*CABINET_ROLES)
def mailings_list():
    stmt = select(Mailing).where(Mailing.tenant_id == g.tenant_id)
    rows, nxt = newest_first(stmt, Mailing.created_at, Mailing.id, request.args.get("after", ""), PAGE)
    counts = _message_counts([m.id for m in rows])
    levels, segments = _levels(), _custom_segments()
    audiences = {m.id: audience_text(m.audience or {}, levels, segments) for m in rows}
    db.session.rollback()
    return render_template("cabinet/mailings.html", rows=rows, next_cursor=nxt, counts=counts,
                           statuses=MAILING_STATUSES, audiences=audiences)


def _estimate(form) -> dict:
    """What the hub expects: recipients by channel, SMS parts and cost, the text with sample
    data; errors in the audience come back as the hub's messages."""
    text = (form.get("text") or "").strip()
    out: dict = {"text": text, "errors": {}}
    try:
        audience = segments.check_audience(db.session, g.tenant_id, _audience_from_form(form))
        out["estimate"] = mailings.estimate(db.session, g.tenant_id, audience, text, utcnow())
    except DomainError as exc:
        out["errors"] = place(exc, AUDIENCE_FIELDS)
    if text:
        out["preview"] = catalog.preview(db.session, g.tenant_id, "gift", text=text)
    out["quiet"] = (rules.get_settings(db.session, g.tenant_id).get("quiet_hours") or {})
    return out


def _mailing_form_page(values: dict, errors: dict, status: int = 200):
    est = _estimate(request.form if request.method == "POST" else MultiDict())
    ctx = _audience_context()
    db.session.rollback()
    return render_template("cabinet/mailing_new.html", v=values, errors=errors, est=est, **ctx), status


@bp.get("/mailings/new")
@require_roles(*CABINET_ROLES)
def mailing_new():
    return _mailing_form_page({"name": "Рассылка", "rfm": [], "levels": [], "when": "now"}, {})


@bp.post("/mailings/estimate")
@require_roles(*CABINET_ROLES)
def mailing_estimate():
    est = _estimate(request.form)
    db.session.rollback()
    return render_template("cabinet/mailing_estimate.html", est=est)


def _scheduled_at(raw: str, errors: dict) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        errors["scheduled_at"] = ["Укажите дату и время отправки."]
        return None
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        errors["scheduled_at"] = ["Дата и время в формате ГГГГ-ММ-ДД ЧЧ:ММ."]
        return None
    moment = (local if local.tzinfo else local.replace(tzinfo=ZoneInfo(_tz()))).astimezone(ZoneInfo("UTC"))
    if moment <= utcnow():
        errors["scheduled_at"] = ["Это время уже прошло."]
        return None
    return moment


@bp.post("/mailings/new")
@require_roles(*EDIT_ROLES)
def mailing_create():
    form = request.form
    errors: dict = {}
    when = form.get("when") or "now"
    if when not in ("now", "schedule", "draft"):
        when = "draft"
    name = (form.get("name") or "").strip() or "Рассылка"
    if len(name) > 200:
        errors["name"] = ["Не длиннее 200 символов."]
    text = form.get("text") or ""
    if len(text) > 2000:
        errors["text"] = ["Не длиннее 2000 символов."]
    gift = None
    gift_amount = _bonuses(form, "gift_amount", errors)
    if gift_amount:
        gift = {"amount": gift_amount, "valid_days": _int(form, "gift_valid_days", errors), "delay_days": 0}
    scheduled = _scheduled_at(form.get("scheduled_at", ""), errors) if when == "schedule" else None
    if errors:
        return _mailing_form_page(_form_values(form), errors, 422)
    data = {"name": name, "audience": _audience_from_form(form), "text": text, "gift": gift,
            "scheduled_at": scheduled}
    try:
        mailing, _est = mailings.create_mailing(db.session, g.tenant_id, data, utcnow(), by=actor())
    except DomainError as exc:
        db.session.rollback()
        fields = {**AUDIENCE_FIELDS, "text": "text", "gift": "gift_amount"}
        return _mailing_form_page(_form_values(form), place(exc, fields), 422)
    if when == "now":
        return _send(mailing.id)
    flash("Рассылка запланирована." if scheduled else "Черновик рассылки сохранён.", "success")
    return redirect(url_for("cabinet.mailing", mailing_id=mailing.id), code=303)


def _send(mailing_id: str):
    result = mailings.send_mailing(db.session, g.tenant_id, mailing_id, utcnow(), by=actor())
    flash(f"Рассылка запущена: сообщений в очереди — {result['queued']}; доставку показывает журнал сообщений.", "success")
    return redirect(url_for("cabinet.mailing", mailing_id=mailing_id), code=303)


@bp.get("/mailings/<mailing_id>")
@require_roles(*CABINET_ROLES)
def mailing(mailing_id: str):
    row = _mailing_or_404(mailing_id)
    counts = _message_counts([row.id])[row.id]
    preview = catalog.preview(db.session, g.tenant_id, "gift", text=row.text)
    audience = audience_text(row.audience or {}, _levels(), _custom_segments())
    db.session.rollback()
    return render_template("cabinet/mailing.html", m=row, counts=counts, preview=preview, audience=audience,
                           statuses=MAILING_STATUSES)


@bp.post("/mailings/<mailing_id>/send")
@require_roles(*EDIT_ROLES)
def mailing_send(mailing_id: str):
    row = _mailing_or_404(mailing_id)
    if row.status == "sent":
        flash("Рассылка уже запущена.", "warning")
        return redirect(url_for("cabinet.mailing", mailing_id=row.id), code=303)
    return _send(row.id)


# --- 5. results per mechanic ---------------------------------------------------------------

MECHANIC_NAMES = {
    "registration": "Подарок за регистрацию", "first_purchase": "Подарок за первую покупку",
    "birthday": "День рождения", "relative_birthday": "Дни рождения близких",
    "winback": "Цепочки реанимации", "mailing": "Рассылки",
    "referral_registration": "Подарок приглашённому", "referral_reward": "Вознаграждение пригласившему",
    "referral_reversal": "Возвраты покупок приглашённых", "expiry_warning": "Предупреждения о сгорании",
    "activation": "Уведомления об активации",
}


@bp.get("/automation/results")
@require_roles(*CABINET_ROLES)
def automation_results():
    days = 90 if request.args.get("days") == "90" else 30
    until = utcnow()
    items = mechanic_stats(db.session, g.tenant_id, until - timedelta(days=days), until)
    totals = {k: sum(r[k] for r in items) for k in ("events", "converted", "revenue", "cost", "profit",
                                                    "granted", "spent", "message_cost")}
    totals["conversion"] = round(totals["converted"] * 100 / totals["events"], 2) if totals["events"] else 0.0
    db.session.rollback()
    return render_template("cabinet/automation_results.html", items=items, totals=totals, days=days,
                           names=MECHANIC_NAMES, since=until - timedelta(days=days), until=until)
