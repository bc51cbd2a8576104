"""A tenant's configured channels: credentials encrypted, webhook secrets hashed."""
from __future__ import annotations

import secrets as pysecrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.secrets import Undecryptable, encrypt, token_hash
from hub.secrets import decrypt as _decrypt
from hub.clock import utcnow
from hub.errors import Invalid, NotFound
from hub.notify.models import NotifyChannel
from hub.notify.channels import CHANNEL_OF, PROVIDERS, Channel
from hub.notify.channels import Max, Telegram

WEBHOOK_SECRET = "_webhook_secret"   # kept encrypted too: SMS Aero needs it in each callbackUrl
REQUIRED_CREDENTIALS = {"smsru": ("api_id",), "smsaero": ("email", "api_key"), "smsc": ("login", "password"),
                        "telegram": ("token",), "max": ("token",), "smtp": (), "console": ()}

# `kopilka secrets rotate` re-encrypts channel credentials too.



def decrypt(token: str | None) -> dict:
    """A channel's credentials; none when no configured key opens them (the owner enters
    them again) -- a lost key disables that channel, never the whole outbox."""
    try:
        return _decrypt(token)
    except Undecryptable:
        return {}


def channel_rows(session: Session, tenant_id: str) -> dict[str, NotifyChannel]:
    cache = session.info.setdefault("notify_channels", {})
    if tenant_id not in cache:
        rows = session.scalars(select(NotifyChannel).where(NotifyChannel.tenant_id == tenant_id))
        cache[tenant_id] = {r.channel: r for r in rows}
    return cache[tenant_id]


def forget(session: Session, tenant_id: str) -> None:
    session.info.get("notify_channels", {}).pop(tenant_id, None)


def enabled_channels(session: Session, tenant_id: str) -> dict[str, NotifyChannel]:
    return {k: r for k, r in channel_rows(session, tenant_id).items() if r.enabled}


def build(row: NotifyChannel) -> Channel:
    return PROVIDERS[row.provider](row.settings or {}, decrypt(row.credentials))


def webhook_secret(row: NotifyChannel) -> str | None:
    return decrypt(row.credentials).get(WEBHOOK_SECRET)


def webhook_url(row: NotifyChannel, public_url: str) -> str:
    base = public_url.rstrip("/")
    if row.channel == "sms":
        return f"{base}/notify/sms/{row.webhook_id}/status?secret={webhook_secret(row) or ''}"
    return f"{base}/notify/{row.channel}/{row.webhook_id}"


def register_webhook(row: NotifyChannel, public_url: str) -> dict:
    """Point the bot at the hub: Telegram setWebhook with the secret token; MAX
    POST /subscriptions with the secret. SMS gateways: the URL to paste in their cabinet
    (SMS.ru, SMSC: "Настройки" → the status handler) or sent with every message (SMS Aero)."""
    url, secret = webhook_url(row, public_url), webhook_secret(row)
    bot = build(row)
    if isinstance(bot, Telegram):
        bot.call("setWebhook", {"url": url, "secret_token": secret,
                                "allowed_updates": ["message"]})
    elif isinstance(bot, Max):
        bot.call("POST", "subscriptions", {"url": url, "secret": secret,
                                           "update_types": ["message_created", "bot_started"]})
    return {"url": url}


def configure(session: Session, tenant_id: str, provider: str, *, settings: dict | None = None,
              credentials: dict | None = None, enabled: bool = True) -> tuple[NotifyChannel, str | None]:
    """Create or update the tenant's channel of this provider's kind. Returns the row and,
    when created, the webhook secret (shown once; only its hash is kept)."""
    if provider not in PROVIDERS:
        raise Invalid("unknown_provider", f"Неизвестный провайдер «{provider}».",
                      {"provider": [f"Одно из значений: {', '.join(PROVIDERS)}."]})
    channel = CHANNEL_OF[provider]
    row = session.scalar(select(NotifyChannel).where(NotifyChannel.tenant_id == tenant_id,
                                                     NotifyChannel.channel == channel))
    secret = None
    now = utcnow()
    creds = {**(decrypt(row.credentials) if row is not None and row.provider == provider else {}),
             **{k: v for k, v in (credentials or {}).items() if v not in (None, "")}}
    missing = [k for k in REQUIRED_CREDENTIALS[provider] if not creds.get(k)]
    if missing:
        raise Invalid("credentials_missing", "Не хватает учётных данных провайдера: " + ", ".join(missing) + ".",
                      {"credentials": {k: ["Обязательное поле."] for k in missing}})
    if row is None:
        secret = pysecrets.token_urlsafe(32)
        row = NotifyChannel(tenant_id=tenant_id, channel=channel, provider=provider,
                            webhook_secret_hash=token_hash(secret), created_at=now, settings={})
        session.add(row)
        creds[WEBHOOK_SECRET] = secret
    elif WEBHOOK_SECRET not in creds:
        creds[WEBHOOK_SECRET] = (decrypt(row.credentials) or {}).get(WEBHOOK_SECRET)
    if settings is not None and "api_base" in settings:
        settings = {**settings, "api_base": check_api_base(settings["api_base"])}
    if row.provider != provider and row.settings and "balance" in row.settings:
        # the balance another provider's account had (hub.notify.delivery) is not this one's
        row.settings = {k: v for k, v in row.settings.items() if k not in ("balance", "balance_at")}
    row.provider = provider
    if settings is not None:
        row.settings = {**(row.settings or {}), **settings}
    row.credentials = encrypt(creds)
    row.enabled = enabled
    row.updated_at = now
    session.flush()
    forget(session, tenant_id)
    return row, secret


def check_api_base(value) -> str | None:
    """The provider's base URL (Telegram's own Bot API server, an SMS gateway's other host):
    an http(s) URL without query or fragment, or empty for the provider's default."""
    from urllib.parse import urlsplit
    if value in (None, ""):
        return None
    parts = urlsplit(value) if isinstance(value, str) and len(value) <= 300 else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.query or parts.fragment:
        raise Invalid("bad_api_base", "Адрес API провайдера: ссылка http(s)://хост[/путь] без параметров.",
                      {"settings": {"api_base": ["Например, https://api.telegram.org или http://127.0.0.1:8081."]}})
    return value.rstrip("/")


def rotate_secret(session: Session, row: NotifyChannel) -> str:
    secret = pysecrets.token_urlsafe(32)
    row.webhook_secret_hash = token_hash(secret)
    row.credentials = encrypt({**decrypt(row.credentials), WEBHOOK_SECRET: secret})
    forget(session, row.tenant_id)
    row.updated_at = utcnow()
    return secret


def by_webhook(session: Session, webhook_id: str, channel: str | None = None) -> NotifyChannel:
    row = session.scalar(select(NotifyChannel).where(NotifyChannel.webhook_id == webhook_id))
    if row is None or (channel is not None and row.channel != channel):
        raise NotFound("channel_not_found", "Канал не найден.")
    return row


def secret_ok(row: NotifyChannel, given: str | None) -> bool:
    return bool(given) and row.webhook_secret_hash is not None and \
        pysecrets.compare_digest(row.webhook_secret_hash, token_hash(given))


def describe(row: NotifyChannel) -> dict:
    return {"channel": row.channel, "provider": row.provider, "enabled": row.enabled,
            "settings": row.settings or {}, "credentials_set": sorted(k for k in decrypt(row.credentials) if k != WEBHOOK_SECRET),
            "webhook_id": row.webhook_id, "updated_at": row.updated_at.isoformat()}
