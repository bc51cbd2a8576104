"""Bearer API keys: each belongs to one tenant."""
from __future__ import annotations

from flask import g, request

from hub.errors import Unauthorized
from hub.staff.operations import Actor
from hub.extensions import db
from hub.tenants.operations import key_for, key_use_stale


def require_tenant() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("unauthorized", "Нужен заголовок Authorization: Bearer <API-ключ>.")
    row = key_for(db.session, key.strip())
    if row is None:
        raise Unauthorized("invalid_api_key", "API-ключ не найден или отозван.")
    g.tenant_id = row.tenant_id
    # Who the audit log names for an act done through the API: the key (its public prefix).
    g.actor = Actor(email=f"API-ключ {row.prefix}…")
    if key_use_stale(row.last_used_at):
        # Recorded after the request (hub.app's teardown), in a transaction of its own.
        g.api_key_used = row.id
