"""Messaging through the API: templates (list, edit, preview), channels, settings, the log."""
from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from sqlalchemy import select

from api.parsing import Blueprint
from hub.money import kopecks_json
from api.schemas.notify import (ChannelInSchema, ChannelListSchema, ChannelSchema, MessageListSchema,
                                MessageQuerySchema, MessageSchema, NotifySettingsInSchema, NotifySettingsSchema,
                                PreviewInSchema,
                                PreviewSchema, TemplateInSchema, TemplateListSchema, TemplateSchema,
                                WebhookSchema)
from hub.errors import Invalid, NotFound
from hub.extensions import db
from hub.notify.models import OutboxMessage
from hub.notify import catalog, registry, rules
from hub.notify.channels import CHANNEL_OF, CHANNELS, ChannelError
from hub.notify.templates import PLACEHOLDERS, TOPICS

blp = Blueprint("notify", __name__, url_prefix="/api/v1/notify",
                description="Messages to customers: templates, channels (SMS, Telegram, MAX, email), "
                            "consent and quiet hours, the message log")


def _topic(topic: str) -> str:
    if topic not in TOPICS:
        raise NotFound("topic_not_found", f"Тема сообщения «{topic}» не найдена.")
    return topic


def _public_url() -> str:
    return current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:8000"


@blp.route("/templates")
class Templates(MethodView):
    @blp.response(200, TemplateListSchema)
    def get(self):
        items = catalog.describe_all(db.session, g.tenant_id)
        db.session.rollback()
        return {"items": items, "placeholders": PLACEHOLDERS}


@blp.route("/templates/<topic>")
class TemplateResource(MethodView):
    @blp.arguments(TemplateInSchema)
    @blp.response(200, TemplateSchema)
    def put(self, data, topic):
        out = catalog.put_template(db.session, g.tenant_id, _topic(topic), **data)
        db.session.commit()
        return out


@blp.route("/templates/<topic>/preview")
class TemplatePreview(MethodView):
    @blp.arguments(PreviewInSchema)
    @blp.response(200, PreviewSchema)
    def post(self, data, topic):
        out = catalog.preview(db.session, g.tenant_id, _topic(topic), **data)
        db.session.rollback()
        return out


def _describe(row, secret: str | None = None) -> dict:
    out = {**registry.describe(row), "webhook_url": registry.webhook_url(row, _public_url())}
    if row.channel == "sms":
        out["webhook_url"] = out["webhook_url"].split("?")[0] + "?secret=…"
    if secret:
        out["webhook_secret"] = secret
    return out


@blp.route("/channels")
class Channels(MethodView):
    @blp.response(200, ChannelListSchema)
    def get(self):
        rows = registry.channel_rows(db.session, g.tenant_id)
        items = [_describe(rows[c]) for c in CHANNELS if c in rows]
        db.session.rollback()
        return {"items": items}


@blp.route("/channels/<channel>")
class ChannelResource(MethodView):
    @blp.arguments(ChannelInSchema)
    @blp.response(200, ChannelSchema)
    def put(self, data, channel):
        if channel not in CHANNELS:
            raise NotFound("channel_not_found", f"Канал «{channel}» не найден.")
        if CHANNEL_OF[data["provider"]] != channel:
            raise Invalid("provider_mismatch", f"Провайдер {data['provider']} не относится к каналу {channel}.",
                          {"provider": [f"Провайдер не относится к каналу {channel}."]})
        row, secret = registry.configure(db.session, g.tenant_id, data["provider"],
                                         settings=data["settings"], credentials=data["credentials"],
                                         enabled=data["enabled"])
        db.session.commit()
        return _describe(row, secret)


@blp.route("/channels/<channel>/webhook")
class ChannelWebhook(MethodView):
    @blp.response(200, WebhookSchema)
    def post(self, channel):
        row = registry.channel_rows(db.session, g.tenant_id).get(channel)
        if row is None:
            raise NotFound("channel_not_found", f"Канал «{channel}» не настроен.")
        registry.rotate_secret(db.session, row)
        try:
            out = registry.register_webhook(row, _public_url())
        except ChannelError as exc:
            db.session.rollback()
            raise Invalid("webhook_refused", f"Провайдер не принял вебхук: {exc.reason}") from exc
        db.session.commit()
        return out


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, NotifySettingsSchema)
    def get(self):
        out = rules.get_settings(db.session, g.tenant_id)
        db.session.rollback()
        return out

    @blp.arguments(NotifySettingsInSchema(partial=True))
    @blp.response(200, NotifySettingsSchema)
    def put(self, data):
        out = rules.put_settings(db.session, g.tenant_id, data)
        db.session.commit()
        return out


@blp.route("/messages")
class Messages(MethodView):
    @blp.arguments(MessageQuerySchema, location="query")
    @blp.response(200, MessageListSchema)
    def get(self, args):
        stmt = select(OutboxMessage).where(OutboxMessage.tenant_id == g.tenant_id)
        for key in ("status", "topic", "channel", "customer_id"):
            if args.get(key):
                stmt = stmt.where(getattr(OutboxMessage, key) == args[key])
        rows = list(db.session.scalars(stmt.order_by(OutboxMessage.created_at.desc(),
                                                     OutboxMessage.id).limit(args["limit"])))
        db.session.rollback()
        totals: dict = {}
        for r in rows:
            totals[r.status] = totals.get(r.status, 0) + 1
        cost = sum(r.cost or 0 for r in rows)
        totals["cost"] = kopecks_json(cost)
        return {"items": rows, "totals": totals}


@blp.route("/messages/<message_id>")
class MessageResource(MethodView):
    @blp.response(200, MessageSchema)
    def get(self, message_id):
        row = db.session.get(OutboxMessage, message_id)
        if row is None or row.tenant_id != g.tenant_id:
            raise NotFound("message_not_found", "Сообщение не найдено.")
        db.session.rollback()
        return row
