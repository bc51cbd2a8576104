"""Messaging: templates, channels, settings and the message log."""
from __future__ import annotations

from api import fields, validate
from api.fields import Money
from api.schemas.base import Schema
from hub.notify.channels import CHANNELS, PROVIDERS
from hub.notify.templates import TOPICS

_TEXT = validate.Length(min=1, max=2000)


class SmsEstimateSchema(Schema):
    encoding = fields.String(metadata={"description": "gsm7 (160/153 per part) or ucs2 (70/67)"})
    length = fields.Integer()
    parts = fields.Integer()
    expected_cost = Money(metadata={"description": "parts × the tenant's price per part, roubles"})


class ChannelTextSchema(Schema):
    text = fields.String(allow_none=True)
    enabled = fields.Boolean()


class TemplateSchema(Schema):
    topic = fields.String()
    title = fields.String()
    enabled = fields.Boolean()
    text = fields.String()
    subject = fields.String()
    default_text = fields.String()
    customized = fields.Boolean()
    channels = fields.Dict(keys=fields.String(), values=fields.Nested(ChannelTextSchema))
    sample = fields.String(metadata={"description": "The text with sample values"})
    sms = fields.Nested(SmsEstimateSchema)


class TemplateListSchema(Schema):
    items = fields.List(fields.Nested(TemplateSchema))
    placeholders = fields.Dict(keys=fields.String(), values=fields.String())


class TemplateInSchema(Schema):
    channel = fields.String(load_default="*", validate=validate.OneOf(("*",) + CHANNELS))
    text = fields.String(validate=_TEXT)
    subject = fields.String(validate=validate.Length(max=200))
    enabled = fields.Boolean()
    reset = fields.Boolean(load_default=False, metadata={"description": "Back to the default text"})


class PreviewInSchema(Schema):
    text = fields.String(validate=_TEXT)
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    context = fields.Dict(keys=fields.String(), load_default=dict)


class PreviewSchema(Schema):
    topic = fields.String()
    enabled = fields.Boolean()
    text = fields.String()
    subject = fields.String()
    unknown_placeholders = fields.List(fields.String())
    sms = fields.Nested(SmsEstimateSchema)


class ChannelInSchema(Schema):
    provider = fields.String(required=True, validate=validate.OneOf(tuple(PROVIDERS)))
    enabled = fields.Boolean(load_default=True)
    settings = fields.Dict(keys=fields.String(), load_default=dict, metadata={
        "description": "sms: sender; email: host, port, ssl, starttls, from, from_name; "
                       "sms, telegram, max: api_base — the provider's base URL (string, http(s)://host[/path], "
                       "no query; empty or null = the provider's own: https://sms.ru, https://gate.smsaero.ru/v2, "
                       "https://smsc.ru/sys, https://api.telegram.org, https://platform-api.max.ru), e.g. "
                       "a local Telegram Bot API server or an SMS gateway's other host; console (the demo "
                       "SMS channel): prints messages to the server's console, for trying the hub only"})
    credentials = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict,
                              metadata={"description": "smsru: api_id; smsaero: email, api_key; "
                                                       "smsc: login, password; "
                                                       "telegram/max: token; smtp: username, password"})


class ChannelSchema(Schema):
    channel = fields.String()
    provider = fields.String()
    enabled = fields.Boolean()
    settings = fields.Dict()
    credentials_set = fields.List(fields.String())
    webhook_id = fields.String()
    webhook_url = fields.String()
    updated_at = fields.String()
    webhook_secret = fields.String(metadata={"description": "Shown once, when the channel is created"})


class ChannelListSchema(Schema):
    items = fields.List(fields.Nested(ChannelSchema))


class WebhookSchema(Schema):
    url = fields.String()


class QuietHoursSchema(Schema):
    start = fields.String(required=True, validate=validate.Regexp(r"^\d{2}:\d{2}$"))
    end = fields.String(required=True, validate=validate.Regexp(r"^\d{2}:\d{2}$"))


class CodeLimitSchema(Schema):
    per_phone_interval = fields.Integer(validate=validate.Range(min=0, max=86400), metadata={
        "description": "Seconds before a phone may get the next code"})
    per_phone_hour = fields.Integer(validate=validate.Range(min=1, max=1000), metadata={
        "description": "Codes per phone and purpose per hour"})
    per_ip_hour = fields.Integer(validate=validate.Range(min=1, max=10000), metadata={
        "description": "Codes per hour asked from one IP address (web cabinets), whatever the phones"})


class NotifySettingsSchema(Schema):
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)
    sms_fallback = fields.Boolean()
    sms_part_price = Money(metadata={"description": "Price of one SMS part, roubles"})
    max_attempts = fields.Integer(validate=validate.Range(min=1, max=50))
    code_limit = fields.Nested(CodeLimitSchema)
    first_purchase_message = fields.Boolean(metadata={
        "description": "After a customer's first purchase send the \"first purchase\" message "
                       "instead of the usual one about the sale's bonuses"})
    review_requests = fields.Boolean(metadata={
        "description": "After a purchase ask for a review (a link to the review page); "
                       "advertising: needs consent, waits for the end of quiet hours"})


class MessageSchema(Schema):
    id = fields.String()
    customer_id = fields.String(allow_none=True)
    topic = fields.String()
    channel = fields.String(allow_none=True)
    provider = fields.String(allow_none=True)
    recipient = fields.String(allow_none=True)
    advertising = fields.Boolean()
    text = fields.String()
    dedupe_key = fields.String()
    status = fields.String()
    reason = fields.String(allow_none=True, metadata={"description": "Why it failed, is suppressed or waits (Russian)"})
    reason_code = fields.String(allow_none=True, metadata={
        "description": "The same as a machine code: no_consent, no_channel, consent_withdrawn, quiet_hours, "
                       "bad_number, no_funds, auth, rejected, blocked, unavailable, timeout, fallback..."})
    provider_message_id = fields.String(allow_none=True)
    parts = fields.Integer()
    expected_cost = Money()
    cost = Money(allow_none=True)
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


class MessageQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(
        ("queued", "sending", "sent", "delivered", "failed", "suppressed")))
    topic = fields.String(validate=validate.OneOf(TOPICS))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    customer_id = fields.String(validate=validate.Length(max=36))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class MessageListSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema))
    totals = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "count per status, and cost (roubles) of the listed messages"})


class NotifySettingsInSchema(NotifySettingsSchema):
    """The same fields; every one optional (used with partial=True)."""
