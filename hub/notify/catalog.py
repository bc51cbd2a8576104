"""Per-tenant template overrides, topic on/off, previews with SMS parts and cost."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.errors import Invalid
from hub.notify.models import NotifyTemplate
from hub.notify.channels import CHANNELS
from hub.notify.rules import get_settings
from hub.notify.templates import (DEFAULTS, PLACEHOLDERS, SAMPLE_CONTEXT, SUBJECTS, TITLES, TOPICS,
                                  render, sms_size, unknown_placeholders)


def _overrides(session: Session, tenant_id: str) -> dict[tuple[str, str], NotifyTemplate]:
    cache = session.info.setdefault("notify_templates", {})
    if tenant_id not in cache:
        rows = session.scalars(select(NotifyTemplate).where(NotifyTemplate.tenant_id == tenant_id))
        cache[tenant_id] = {(r.topic, r.channel): r for r in rows}
    return cache[tenant_id]


def template_for(session: Session, tenant_id: str, topic: str, channel: str | None
                 ) -> tuple[str, str, bool]:
    """(text, subject, enabled): the channel's own override, else the tenant's general one,
    else the default. A topic switched off in its general row is off in every channel."""
    rows = _overrides(session, tenant_id)
    general = rows.get((topic, "*"))
    own = rows.get((topic, channel)) if channel else None
    enabled = (general.enabled if general else True) and (own.enabled if own else True)
    text = (own.text if own and own.text else None) or (general.text if general and general.text else None) \
        or DEFAULTS[topic]
    subject = (own.subject if own and own.subject else None) or \
        (general.subject if general and general.subject else None) or SUBJECTS[topic]
    return text, subject, enabled


def check_topic(topic: str) -> None:
    if topic not in TOPICS:
        raise Invalid("unknown_topic", f"Неизвестная тема сообщения «{topic}».",
                      {"topic": [f"Одно из значений: {', '.join(TOPICS)}."]})


def estimate(session: Session, tenant_id: str, text: str) -> dict:
    size = sms_size(text)
    price = int(get_settings(session, tenant_id).get("sms_part_price", 0))
    return {"encoding": size.encoding, "length": size.length, "parts": size.parts,
            "expected_cost": size.parts * price}


def describe_all(session: Session, tenant_id: str) -> list[dict]:
    rows = _overrides(session, tenant_id)
    out = []
    for topic in TOPICS:
        text, subject, enabled = template_for(session, tenant_id, topic, None)
        general = rows.get((topic, "*"))
        sample = render(text, SAMPLE_CONTEXT)
        out.append({
            "topic": topic, "title": TITLES[topic], "enabled": enabled, "text": text,
            "subject": subject, "default_text": DEFAULTS[topic],
            "customized": bool(general and general.text),
            "channels": {ch: {"text": r.text, "enabled": r.enabled}
                         for (t, ch), r in rows.items() if t == topic and ch != "*"},
            "sample": sample, "sms": estimate(session, tenant_id, sample)})
    return out


def put_template(session: Session, tenant_id: str, topic: str, *, channel: str = "*",
                 text: str | None = None, subject: str | None = None,
                 enabled: bool | None = None, reset: bool = False) -> dict:
    check_topic(topic)
    if channel != "*" and channel not in CHANNELS:
        raise Invalid("unknown_channel", f"Неизвестный канал «{channel}».",
                      {"channel": [f"Одно из значений: *, {', '.join(CHANNELS)}."]})
    if text is not None:
        if not text.strip():
            raise Invalid("empty_template", "Текст сообщения не может быть пустым.",
                          {"text": ["Текст не может быть пустым."]})
        bad = unknown_placeholders(text)
        if bad:
            raise Invalid("unknown_placeholder",
                          "Неизвестные подстановки: " + ", ".join("{" + b + "}" for b in bad)
                          + ". Доступны: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS) + ".",
                          {"text": [f"Неизвестная подстановка {{{b}}}." for b in bad]})
    rows = _overrides(session, tenant_id)
    row = rows.get((topic, channel))
    if row is None:
        row = NotifyTemplate(tenant_id=tenant_id, topic=topic, channel=channel, enabled=True)
        session.add(row)
    if reset:
        row.text, row.subject = None, None
    if text is not None:
        row.text = text
    if subject is not None:
        row.subject = subject or None
    if enabled is not None:
        row.enabled = enabled
    row.updated_at = utcnow()
    session.flush()
    session.info.get("notify_templates", {}).pop(tenant_id, None)
    return next(t for t in describe_all(session, tenant_id) if t["topic"] == topic)


def preview(session: Session, tenant_id: str, topic: str, *, text: str | None = None,
            context: dict | None = None, channel: str | None = None) -> dict:
    check_topic(topic)
    base, subject, enabled = template_for(session, tenant_id, topic, channel)
    source = text if text is not None else base
    bad = unknown_placeholders(source)
    rendered = render(source, {**SAMPLE_CONTEXT, **(context or {})})
    return {"topic": topic, "enabled": enabled, "text": rendered, "subject": subject,
            "unknown_placeholders": bad, "sms": estimate(session, tenant_id, rendered)}
