"""notify's business acts done by a person in a cabinet: each one committed transaction with
its audit entry (catalog and rules hold the checks and the writes)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.customers.models import Customer
from hub.errors import DomainError
from hub.notify import bots
from hub.notify.models import OutboxMessage
from hub.notify.rules import CONSENT_KEY, is_stop, withdraw
from hub.phones import normalize_phone

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


# --- acts of the messaging webhooks (hub/web/notify.py) ----------------------------------------

def answer_bot(session: Session, tenant_id: str, channel: str, chat_id: str, **message) -> tuple[str, bool]:
    """A customer's message to the shop's bot: bots.handle's links and opt-outs, committed;
    (reply text, show the contact button)."""
    with unit_of_work(session):
        return bots.handle(session, tenant_id, channel, chat_id, **message)


def apply_sms_statuses(session: Session, tenant_id: str, updates: list[tuple[str, str | None, int | None]]) -> None:
    """An SMS provider's delivery reports (provider id, state, cost in kopecks), committed."""
    with unit_of_work(session):
        for provider_id, state, cost in updates:
            _apply_status(session, tenant_id, provider_id, state, cost)


def _apply_status(session: Session, tenant_id: str, provider_id: str, state: str | None,
                  cost: int | None = None) -> bool:
    if state is None:
        return False
    msg = session.scalar(select(OutboxMessage).where(
        OutboxMessage.tenant_id == tenant_id, OutboxMessage.channel == "sms",
        OutboxMessage.provider_message_id == provider_id))
    if msg is None:
        return False
    now = utcnow()
    if state == "delivered" and msg.status in ("sent", "sending", "queued"):
        msg.status, msg.delivered_at = "delivered", now
    elif state == "failed" and msg.status != "delivered":
        msg.status, msg.reason, msg.reason_code = "failed", "Оператор не доставил сообщение", "undelivered"
    if cost is not None:
        msg.cost = cost
    msg.updated_at = now
    return True


def stop_by_sms(session: Session, tenant_id: str, phone: str | None, text: str | None) -> bool:
    """An SMS reply: STOP from a member's phone withdraws the SMS consent (committed);
    whether someone was unsubscribed."""
    with unit_of_work(session):
        if not phone or not is_stop(text):
            return False
        try:
            phone = normalize_phone(phone if phone.startswith("+") else "+" + phone)
        except DomainError:
            return False
        customer = session.scalar(select(Customer).where(Customer.tenant_id == tenant_id, Customer.phone == phone))
        if customer is None:
            return False
        withdraw(customer, ("sms",), utcnow(), "sms_stop")
        return True


def unsubscribe(session: Session, customer: Customer) -> None:
    """The unsubscribe link, confirmed: every advertising consent withdrawn, committed."""
    with unit_of_work(session):
        withdraw(customer, tuple(dict.fromkeys(CONSENT_KEY)), utcnow(), "unsubscribe_link")
