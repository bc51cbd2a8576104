"""Webhooks and callbacks of the messaging channels (no API key: each is verified by its
channel's secret; a wrong or missing secret is 401 and nothing is written).

* POST /notify/telegram/<webhook_id> — Telegram updates; `X-Telegram-Bot-Api-Secret-Token`.
  The reply goes back in the webhook answer (Telegram executes a method given there).
* POST /notify/max/<webhook_id> — MAX updates; `X-Max-Bot-Api-Secret`.
* POST /notify/sms/<webhook_id>/status?secret=… — delivery statuses: SMS.ru
  (`data[N]=sms_status\\n<id>\\n<code>`, answered `100`), SMS Aero (`id`, `status`) and SMSC
  (form fields `id`, `phone`, `status`, `err`; the URL goes into SMSC's cabinet, answered `OK`).
* POST /notify/sms/<webhook_id>/inbound?secret=… — a customer's SMS reply (phone, text):
  "СТОП" withdraws the SMS advertising consent.
* GET|POST /notify/u/<tenant_id>/<token> — the unsubscribe link of advertising messages.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, jsonify, request

from hub.errors import DomainError
from hub.extensions import db
from hub.customers.models import Customer
from hub.notify import bots, registry
from hub.notify.channels import SMSAERO_STATES, ChannelError, Max, _kopecks, smsc_state, smsru_state
from hub.notify.outbox import check_unsubscribe_token
from api.errors import error_response
from hub.unavailable import register_unavailable_renderer
from hub.web.ui import unavailable_page
from hub.notify.operations import answer_bot, apply_sms_statuses, stop_by_sms
from hub.notify.operations import unsubscribe as unsubscribe_customer

log = logging.getLogger("kopilka.notify")
blp = Blueprint("notify_hooks", __name__, url_prefix="/notify")


def _unauthorized():
    db.session.rollback()
    return jsonify({"error": {"code": "unauthorized", "message": "Неверный секрет вебхука.",
                              "details": {}}}), 401


def _channel_or_401(webhook_id: str, channel: str, secret: str | None):
    try:
        row = registry.by_webhook(db.session, webhook_id, channel)
    except DomainError:
        return None
    return row if registry.secret_ok(row, secret) else None


def _json_body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _obj(value) -> dict:
    """A JSON object from an update, or {} when the sender put anything else there."""
    return value if isinstance(value, dict) else {}


def _scalar(value) -> str:
    """An id or a text from an update: strings and integers only (no floats, lists, objects)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    text = str(value) if isinstance(value, str) or abs(value) < 10 ** 20 else ""
    return text if len(text) <= 4096 and "\x00" not in text else ""


# --- Telegram ------------------------------------------------------------------------------

@blp.post("/telegram/<webhook_id>")
def telegram(webhook_id: str):
    row = _channel_or_401(webhook_id, "telegram",
                          request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
    if row is None:
        return _unauthorized()
    update = _json_body()
    message = _obj(update.get("message"))
    chat = _obj(message.get("chat"))
    sender = _obj(message.get("from"))
    chat_id = _scalar(chat.get("id"))
    if not chat_id or chat.get("type", "private") != "private":
        db.session.rollback()
        return jsonify({})                         # nothing for us; 200 so Telegram stops retrying
    contact = _obj(message.get("contact"))
    sender_id = _scalar(sender.get("id"))
    reply, ask = answer_bot(
        db.session, row.tenant_id, "telegram", chat_id, text=_scalar(message.get("text")) or None,
        contact_phone=_scalar(contact.get("phone_number")) if contact else None,
        contact_is_sender=bool(contact) and bool(sender_id) and _scalar(contact.get("user_id")) == sender_id)
    return jsonify({"method": "sendMessage", "chat_id": chat["id"], "text": reply,
                    "reply_markup": bots.telegram_keyboard(ask)})


# --- MAX -----------------------------------------------------------------------------------

_TEL = re.compile(r"TEL[^:\n]*:\s*([+\d][\d\s()-]+)", re.I)


@blp.post("/max/<webhook_id>")
def max_bot(webhook_id: str):
    row = _channel_or_401(webhook_id, "max", request.headers.get("X-Max-Bot-Api-Secret"))
    if row is None:
        return _unauthorized()
    update = _json_body()
    kind = update.get("update_type")
    if kind == "bot_started":
        user_id = _scalar(_obj(update.get("user")).get("user_id"))
        if not user_id:
            db.session.rollback()
            return jsonify({})
        reply, ask = answer_bot(db.session, row.tenant_id, "max", user_id, started=True)
    elif kind == "message_created":
        message = _obj(update.get("message"))
        user_id = _scalar(_obj(message.get("sender")).get("user_id"))
        if not user_id:
            db.session.rollback()
            return jsonify({})
        body = _obj(message.get("body"))
        attachments = body.get("attachments") if isinstance(body.get("attachments"), list) else []
        contact = next((a for a in attachments if isinstance(a, dict) and a.get("type") == "contact"), None)
        phone = None
        is_sender = False
        if contact is not None:
            payload = _obj(contact.get("payload"))
            found = _TEL.search(_scalar(payload.get("vcf_info")))
            phone = re.sub(r"[^\d+]", "", found.group(1)) if found else _scalar(payload.get("vcf_phone"))
            is_sender = _scalar(_obj(payload.get("max_info")).get("user_id")) == user_id
        reply, ask = answer_bot(db.session, row.tenant_id, "max", user_id, text=_scalar(body.get("text")) or None,
                                contact_phone=phone, contact_is_sender=is_sender)
    else:
        db.session.rollback()
        return jsonify({})
    bot = registry.build(row)
    try:
        if isinstance(bot, Max):
            bot.call("POST", "messages", {"text": reply, "attachments": bots.max_keyboard(ask)},
                     params={"user_id": user_id})
    except ChannelError as exc:
        log.warning("notify: MAX reply failed: %s", exc.reason)
    return jsonify({})


# --- SMS delivery statuses and replies -----------------------------------------------------

@blp.post("/sms/<webhook_id>/status")
def sms_status(webhook_id: str):
    row = _channel_or_401(webhook_id, "sms", request.args.get("secret"))
    if row is None:
        return _unauthorized()
    if row.provider == "smsru":
        # SMS.ru: form fields data[0..N], each "sms_status\n<sms id>\n<status code>"
        updates = []
        for key, value in request.form.items(multi=True):
            if not key.startswith("data"):
                continue
            lines = value.split("\n")
            if len(lines) >= 3 and lines[0].strip() == "sms_status":
                updates.append((lines[1].strip(), smsru_state(lines[2].strip()), None))
        apply_sms_statuses(db.session, row.tenant_id, updates)
        return "100", 200, {"Content-Type": "text/plain"}
    if row.provider == "smsc":
        data = request.form.to_dict() or _json_body()
        provider_id = _scalar(data.get("id"))
        apply_sms_statuses(db.session, row.tenant_id, [(
            provider_id, smsc_state(_scalar(data.get("status"))[:4]),
            _kopecks(data.get("cost")) if isinstance(data.get("cost"), (str, int)) else None)] if provider_id else [])
        return "OK", 200, {"Content-Type": "text/plain"}
    data = _json_body() or request.form.to_dict()
    items = data.get("data") if isinstance(data.get("data"), list) else [data]
    updates = []
    for item in items:
        if not isinstance(item, dict) or item.get("id") in (None, ""):
            continue
        provider_id, status = _scalar(item.get("id")), _scalar(item.get("status"))
        state = SMSAERO_STATES.get(int(status)) if status.lstrip("-").isdigit() and len(status) < 4 else None
        if provider_id:
            updates.append((provider_id, state, _kopecks(item.get("cost"))))
    apply_sms_statuses(db.session, row.tenant_id, updates)
    return jsonify({"success": True})


@blp.post("/sms/<webhook_id>/inbound")
def sms_inbound(webhook_id: str):
    row = _channel_or_401(webhook_id, "sms", request.args.get("secret"))
    if row is None:
        return _unauthorized()
    data = _json_body() or request.form.to_dict()
    text = _scalar(data.get("text")) or _scalar(data.get("message"))
    phone = _scalar(data.get("phone")) or _scalar(data.get("from"))
    done = stop_by_sms(db.session, row.tenant_id, phone, text)
    return jsonify({"unsubscribed": done})


# --- the unsubscribe link ------------------------------------------------------------------

@blp.route("/u/<tenant_id>/<token>", methods=["GET", "POST"])
def unsubscribe(tenant_id: str, token: str):
    customer_id = check_unsubscribe_token(tenant_id, token)
    customer = db.session.get(Customer, customer_id) if customer_id else None
    if customer is None or customer.tenant_id != tenant_id:
        db.session.rollback()
        return "<p>Ссылка недействительна.</p>", 404, {"Content-Type": "text/html; charset=utf-8"}
    if request.method == "POST" or request.args.get("confirm") == "1":
        unsubscribe_customer(db.session, customer)
        return ("<p>Вы отписались от рекламных сообщений. Сервисные уведомления о бонусах "
                "сохранятся.</p>", 200, {"Content-Type": "text/html; charset=utf-8"})
    db.session.rollback()
    # A GET only asks: mail scanners follow links, and must not unsubscribe anyone.
    return ("<form method='post'><p>Отписаться от рекламных сообщений?</p>"
            "<button type='submit'>Отписаться</button></form>", 200,
            {"Content-Type": "text/html; charset=utf-8"})


def _unavailable(message: str):
    # The unsubscribe link is a page a person opens; the providers' webhooks get the API's JSON.
    if request.endpoint == "notify_hooks.unsubscribe":
        return unavailable_page(message)
    return error_response(503, "database_unavailable", message)


def init_app(app) -> None:
    app.register_blueprint(blp)
    register_unavailable_renderer("notify_hooks", _unavailable)
