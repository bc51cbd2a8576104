"""Vendor API 1.0: telling МойСклад where the hub's Loyalty API is.

PUT {vendor base}/apps/{appId}/{accountId}/loyalty {"url", "token", "externalSearch"},
signed with a one-time JWT (HS256 with the app's secretKey; payload sub = appUid, iat, exp,
jti) and sent with `Accept-Encoding: gzip`. The connection's encrypted credentials hold
`app_uid` and `secret_key`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import base64
import hashlib
import hmac
import json
import logging
import secrets

from sqlalchemy.orm import Session

from connectors.http import HttpClient, OutboundError
from connectors.registry import (connection_by_id, credentials_of, restore_inbound_token,
                                 rotate_inbound_token, update_connection_settings)
from hub.connections.queries import connection_row
from hub.clock import utcnow
from moysklad.common import KIND, setting

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection

log = logging.getLogger("kopilka.moysklad.vendor")

TOKEN_LIFETIME = 300      # МойСклад caps a token's life at 300 s anyway


class VendorError(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vendor_jwt(app_uid: str, secret_key: str, now: float | None = None) -> str:
    """A one-time HS256 JWT for a request to the Vendor API."""
    iat = int(now if now is not None else utcnow().timestamp())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps({"sub": app_uid, "iat": iat, "exp": iat + TOKEN_LIFETIME,
                               "jti": secrets.token_hex(16)}, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = _b64(hmac.new(secret_key.encode(), signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def loyalty_url(base_url: str, conn: Connection) -> str:
    """The base URL МойСклад calls: <hub>/moysklad/loyalty/<connection id>."""
    base = base_url.rstrip("/")
    suffix = f"/moysklad/loyalty/{conn.id}"
    return base if base.endswith(suffix) else base + suffix


def get_moysklad_connection(session: Session, connection_id: str) -> Connection:
    conn = connection_by_id(session, KIND, connection_id)
    if conn is None:
        raise VendorError(f"Подключение МойСклад {connection_id} не найдено.")
    return conn


def register_loyalty(session: Session, connection_id: str, app_id: str, base_url: str, *,
                     external_search: bool = True, client: HttpClient | None = None) -> dict:
    """Rotate the connection's inbound token and register url + token with МойСклад.

    The new token is stored first (so МойСклад never holds a token the hub does not know);
    if МойСклад refuses, the previous token is put back and still works.
    """
    conn = get_moysklad_connection(session, connection_id)
    creds = credentials_of(conn)
    app_uid, secret_key = creds.get("app_uid"), creds.get("secret_key")
    if not app_uid or not secret_key:
        raise VendorError("В учётных данных подключения нужны app_uid и secret_key решения "
                          "(Vendor API).")
    url = loyalty_url(base_url, conn)
    token, previous = rotate_inbound_token(session, conn)
    # A JWT is good for one request only, so no automatic retries here.
    client = client or HttpClient(timeout=15.0, retries=0)
    endpoint = f"{str(setting(conn, 'vendor_api_base')).rstrip('/')}/apps/{app_id}/{conn.external_account}/loyalty"
    try:
        client.put(endpoint, json={"url": url, "token": token, "externalSearch": external_search},
                   headers={"Authorization": f"Bearer {vendor_jwt(app_uid, secret_key)}",
                            "Accept-Encoding": "gzip", "Content-Type": "application/json"})
    except OutboundError as exc:
        restore_inbound_token(session, connection_id, previous)
        detail = f" (HTTP {exc.status}: {exc.body})" if exc.status else f" ({exc})"
        raise VendorError("МойСклад не принял настройки лояльности; прежний токен сохранён" + detail) from exc
    conn = connection_row(session, connection_id, fresh=True)
    update_connection_settings(session, conn, loyalty_api=True, loyalty_url=url, app_id=app_id)
    log.info("moysklad connection %s: Loyalty API registered at %s", conn.id, url)
    return {"connection": conn.id, "account": conn.external_account, "url": url,
            "externalSearch": external_search}
