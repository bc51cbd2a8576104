"""Bearer API keys: each belongs to one tenant."""
from __future__ import annotations

from flask import g, request

from hub.errors import Unauthorized
from hub.extensions import db
from hub.services.tenants import tenant_for_key


def require_tenant() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("unauthorized", "Нужен заголовок Authorization: Bearer <API-ключ>.")
    tenant_id = tenant_for_key(db.session, key.strip())
    if tenant_id is None:
        raise Unauthorized("invalid_api_key", "API-ключ не найден или отозван.")
    g.tenant_id = tenant_id
