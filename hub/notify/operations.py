"""notify's business acts done by a person in a cabinet: each one committed transaction with
its audit entry (catalog and rules hold the checks and the writes)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from hub.extensions import unit_of_work
from hub.notify import catalog, rules
from hub.staff.operations import Actor, record


def save_template(session: Session, tenant_id: str, topic: str, by: Actor, **changes) -> dict:
    """Change a topic's template (text, enabled, reset — catalog.put_template's checks)."""
    with unit_of_work(session):
        out = catalog.put_template(session, tenant_id, topic, **changes)
        record(session, tenant_id, by, "template.update", "template", topic, dict(changes))
    return out


def save_settings(session: Session, tenant_id: str, data: dict, by: Actor) -> dict:
    """Change the tenant's message settings (quiet hours …; rules.put_settings' checks)."""
    with unit_of_work(session):
        out = rules.put_settings(session, tenant_id, data)
        record(session, tenant_id, by, "notify.settings", "notify", None, data)
    return out
