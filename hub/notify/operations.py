"""notify's business acts done by a person in a cabinet: each one committed transaction with
its audit entry (catalog and rules hold the checks and the writes)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from hub.extensions import unit_of_work
from hub.notify import catalog, registry, rules
from hub.notify.channels import ChannelError
from hub.staff.operations import Actor, record


def save_template(session: Session, tenant_id: str, topic: str, by: Actor, **changes) -> dict:
    """Change a topic's template (text, enabled, reset — catalog.put_template's checks)."""
    with unit_of_work(session):
        out = catalog.put_template(session, tenant_id, topic, **changes)
        record(session, tenant_id, by, "template.update", "template", topic, dict(changes))
    return out


def save_settings(session: Session, tenant_id: str, data: dict, by: Actor,
                  action: str = "notify.settings") -> dict:
    """Change the tenant's message settings (quiet hours, SMS fallback …; rules.put_settings'
    checks); `action` names the page's act in the audit log."""
    with unit_of_work(session):
        out = rules.put_settings(session, tenant_id, data)
        record(session, tenant_id, by, action, "notify", None, data)
    return out


def configure_channel(session: Session, tenant_id: str, channel: str, provider: str, *, settings: dict,
                      credentials: dict, enabled: bool, by: Actor):
    """Save a channel's provider, settings and credentials (registry.configure's checks); the
    audit names which credentials changed, never their values."""
    with unit_of_work(session):
        row, secret = registry.configure(session, tenant_id, provider, settings=settings,
                                         credentials=credentials, enabled=enabled)
        record(session, tenant_id, by, "channel.save", "channel", channel,
               {"provider": provider, "enabled": enabled, "settings": settings,
                "credentials_changed": sorted(k for k, v in credentials.items() if v)})
    return row, secret


def send_test_message(session: Session, tenant_id: str, channel: str, row, recipient: str, text: str,
                 by: Actor) -> dict:
    """Send one test message now through the saved channel (nothing queued) and audit what the
    provider answered."""
    with unit_of_work(session):
        try:
            result = registry.build(row).send(recipient, text, subject="Тестовое сообщение")
        except ChannelError as exc:
            outcome = {"channel": channel, "ok": False, "reason": exc.reason}
        else:
            outcome = {"channel": channel, "ok": True, "id": result.provider_message_id, "cost": result.cost}
        record(session, tenant_id, by, "channel.test", "channel", channel,
               {"recipient": recipient, "ok": outcome["ok"], "reason": outcome.get("reason")})
    return outcome


def connect_webhook(session: Session, tenant_id: str, channel: str, row, public_url: str, by: Actor) -> None:
    """Point the bot at the hub with a new secret; the provider refusing (ChannelError) keeps
    the old secret."""
    with unit_of_work(session):
        registry.rotate_secret(session, row)
        registry.register_webhook(row, public_url)
        record(session, tenant_id, by, "channel.webhook", "channel", channel, {})
