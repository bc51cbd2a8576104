"""Messages in the owner's cabinet: templates with preview and SMS cost, topics on/off, quiet
hours, the message log with costs. Every rule is hub.notify's (catalog, rules): this module
only turns forms into their calls and their errors into messages next to the fields."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from hub.errors import DomainError
from hub.extensions import db
from hub.notify.models import OutboxMessage
from hub.web.cabinet.blueprint import bp
from hub.web.ui.auth import CABINET_ROLES, EDIT_ROLES, actor, require_roles
from hub.paging import newest_first
from hub.notify import catalog, rules
from hub.notify.operations import save_settings, save_template
from hub.notify.templates import TOPICS
from hub.notify.templates import TITLES
from hub.notify.templates import PLACEHOLDERS

PAGE = 50
MESSAGE_STATUSES = {"queued": "в очереди", "sending": "отправляется", "sent": "отправлено",
                    "delivered": "доставлено", "failed": "не доставлено", "skipped": "пропущено",
                    "suppressed": "не отправлено (нет согласия или выключено)",
                    "unknown": "неизвестно"}
CHANNEL_NAMES = {"sms": "SMS", "telegram": "Telegram", "max": "MAX", "email": "почта"}


def _topic_or_404(topic: str) -> str:
    if topic not in TOPICS:
        abort(404)
    return topic


def _overview(errors: dict | None = None, form=None, status: int = 200):
    items = catalog.describe_all(db.session, g.tenant_id)
    settings = rules.get_settings(db.session, g.tenant_id)
    db.session.rollback()
    quiet = (form and {"start": form.get("quiet_start", ""), "end": form.get("quiet_end", "")}) \
        or settings.get("quiet_hours") or {}
    return render_template("cabinet/messages.html", items=items, settings=settings, quiet=quiet,
                           errors=errors or {}), status


@bp.get("/messages")
@require_roles(*CABINET_ROLES)
def messages():
    return _overview()


@bp.post("/messages/settings")
@require_roles(*EDIT_ROLES)
def messages_settings():
    form = request.form
    start, end = (form.get("quiet_start") or "").strip(), (form.get("quiet_end") or "").strip()
    try:
        save_settings(db.session, g.tenant_id, {"quiet_hours": {"start": start, "end": end}}, by=actor())
    except DomainError as exc:
        errors = {k.replace("quiet_hours.", "quiet_"): list(v) for k, v in (exc.details or {}).items()}
        return _overview(errors or {"_form": [exc.message]}, form, 422)
    flash("Тихие часы сохранены.", "success")
    return redirect(url_for("cabinet.messages"), code=303)


@bp.post("/messages/<topic>/toggle")
@require_roles(*EDIT_ROLES)
def message_toggle(topic: str):
    topic = _topic_or_404(topic)
    enabled = request.form.get("enabled") == "1"
    save_template(db.session, g.tenant_id, topic, by=actor(), enabled=enabled)
    flash("Сообщение включено." if enabled else "Сообщение выключено.", "success")
    return redirect(url_for("cabinet.messages") + f"#t-{topic}", code=303)


def _template_page(topic: str, errors: dict | None = None, text: str | None = None, status: int = 200):
    item = next(t for t in catalog.describe_all(db.session, g.tenant_id) if t["topic"] == topic)
    preview = catalog.preview(db.session, g.tenant_id, topic, text=text if text is not None else item["text"])
    db.session.rollback()
    return render_template("cabinet/message.html", t=item, text=text if text is not None else item["text"],
                           preview=preview, placeholders=PLACEHOLDERS, errors=errors or {}), status


@bp.get("/messages/<topic>")
@require_roles(*CABINET_ROLES)
def message(topic: str):
    return _template_page(_topic_or_404(topic))


@bp.post("/messages/<topic>")
@require_roles(*EDIT_ROLES)
def message_save(topic: str):
    topic = _topic_or_404(topic)
    if request.form.get("reset") == "1":
        save_template(db.session, g.tenant_id, topic, by=actor(), reset=True)
        flash("Восстановлен текст по умолчанию.", "success")
        return redirect(url_for("cabinet.message", topic=topic), code=303)
    text = request.form.get("text", "")
    try:
        save_template(db.session, g.tenant_id, topic, by=actor(), text=text)
    except DomainError as exc:
        errors = {k: list(v) for k, v in (exc.details or {}).items()}
        errors.setdefault("_form", []).append(exc.message)
        return _template_page(topic, errors, text, 422)
    flash("Шаблон сохранён.", "success")
    return redirect(url_for("cabinet.message", topic=topic), code=303)


@bp.post("/messages/<topic>/preview")
@require_roles(*CABINET_ROLES)
def message_preview(topic: str):
    """The text as the customer would see it with sample data, its SMS parts and cost
    (hub.notify.catalog.preview); nothing is saved."""
    topic = _topic_or_404(topic)
    text = request.form.get("text", "")
    preview = catalog.preview(db.session, g.tenant_id, topic, text=text)
    db.session.rollback()
    return render_template("cabinet/_message_preview.html", preview=preview)


@bp.get("/messages/log")
@require_roles(*CABINET_ROLES)
def message_log():
    stmt = select(OutboxMessage).where(OutboxMessage.tenant_id == g.tenant_id)
    status, topic = request.args.get("status", ""), request.args.get("topic", "")
    if status in MESSAGE_STATUSES:
        stmt = stmt.where(OutboxMessage.status == status)
    if topic in TOPICS:
        stmt = stmt.where(OutboxMessage.topic == topic)
    totals = db.session.execute(stmt.with_only_columns(
        func.count(), func.coalesce(func.sum(OutboxMessage.cost), 0),
        func.coalesce(func.sum(OutboxMessage.expected_cost), 0)).order_by(None)).one()
    rows, nxt = newest_first(stmt, OutboxMessage.created_at, OutboxMessage.id, request.args.get("after", ""), PAGE)
    db.session.rollback()
    args = {k: v for k, v in request.args.items() if k != "after"}
    return render_template("cabinet/message_log.html", rows=rows, next_cursor=nxt, args=args,
                           totals={"count": totals[0], "cost": totals[1], "expected": totals[2]},
                           statuses=MESSAGE_STATUSES, channels=CHANNEL_NAMES, titles=TITLES, topics=TOPICS)
