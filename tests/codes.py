"""The one-time code a customer got, for tests: the outbox keeps codes masked (text, context,
dedupe key) and only encrypted for delivery, so tests read them the way delivery does."""
from __future__ import annotations

from sqlalchemy import select


def last_code_message(session, tenant_id: str):
    from hub.notify.models import OutboxMessage
    session.expire_all()
    msg = session.scalars(select(OutboxMessage).where(
        OutboxMessage.tenant_id == tenant_id, OutboxMessage.topic == "code")
        .order_by(OutboxMessage.created_at.desc())).first()
    assert msg is not None, "no code was sent"
    return msg


def code_of(msg) -> str:
    """The code a message carries (asserting it is stored masked)."""
    from hub.secrets import decrypt
    from hub.notify.outbox import CODE_MASK, CODE_SECRET
    assert msg.status != "suppressed", msg.reason
    assert msg.context["code"] == CODE_MASK and CODE_MASK in msg.text
    code = str(decrypt(msg.context[CODE_SECRET])["code"])
    assert code not in msg.text and code not in msg.dedupe_key
    return code


def last_code(session, tenant_id: str) -> str:
    return code_of(last_code_message(session, tenant_id))
