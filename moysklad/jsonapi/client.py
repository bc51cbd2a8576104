"""JSON API 1.2 as a client: fetching documents and registering webhooks.

Every request: `Authorization: Bearer <token>` (the connection's encrypted credential
"token") and `Accept-Encoding: gzip` (МойСклад answers 415 without it). Retries on 429 and
5xx with Retry-After are connectors.http.HttpClient's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import hmac
import time

from sqlalchemy.orm import Session

from connectors.http import HttpClient
from connectors.registry import credentials_of, rotate_webhook_secret
from hub.secrets import token_hash
from moysklad.common import UUID_RE, setting

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection

ENTITY_TYPES = ("retaildemand", "retailsalesreturn")
SLEEP = time.sleep      # the wait between retries; tests replace it


class NotConfigured(Exception):
    """The connection lacks what the call needs (a token); retrying will not help."""


def _sleep(seconds: float) -> None:
    SLEEP(seconds)


def api_base(conn: Connection) -> str:
    return str(setting(conn, "json_api_base")).rstrip("/")


def client_for(conn: Connection) -> HttpClient:
    token = credentials_of(conn).get("token")
    if not token:
        raise NotConfigured(f"у подключения {conn.id} нет токена JSON API (credentials.token)")
    return HttpClient(api_base(conn), headers={"Authorization": f"Bearer {token}",
                                              "Accept-Encoding": "gzip",
                                              "Accept": "application/json;charset=utf-8"},
                      timeout=10.0, retries=3, backoff=0.5, max_wait=30.0, sleep=_sleep)


def document_url(conn: Connection, entity_type: str, entity_id: str) -> str:
    """The document's address, built from its id: never a URL taken from a webhook body, so
    the token is only ever sent to МойСклад."""
    if entity_type not in ENTITY_TYPES or not UUID_RE.match(entity_id or ""):
        raise ValueError(f"not a МойСклад document: {entity_type}/{entity_id}")
    return f"{api_base(conn)}/entity/{entity_type}/{entity_id}"


def fetch_document(conn: Connection, entity_type: str, entity_id: str,
                   client: HttpClient | None = None) -> dict:
    """GET {href}?expand=positions,agent, with every position even past the first page."""
    client = client or client_for(conn)
    url = document_url(conn, entity_type, entity_id)
    doc = client.get(f"{url}?expand=positions,agent").json()
    positions = doc.get("positions") or {}
    rows = list(positions.get("rows") or [])
    size = int((positions.get("meta") or {}).get("size") or len(rows))
    while len(rows) < size:
        page = client.get(f"{url}/positions?offset={len(rows)}&limit=1000").json()
        more = page.get("rows") or []
        if not more:
            break
        rows += more
    doc["positions"] = {**positions, "rows": rows}
    return doc


WEBHOOK_PATH = "/moysklad/webhook/"


def webhook_url(public_url: str, conn: Connection, secret: str) -> str:
    """<hub>/moysklad/webhook/<connection id>/<secret>: the secret proves a delivery comes
    from the МойСклад account whose token registered the webhook (the URL is known only to
    МойСклад and the hub); without it, or with a wrong one, the hub answers 404."""
    return f"{public_url.rstrip('/')}{WEBHOOK_PATH}{conn.id}/{secret}"


def webhook_secret_ok(conn: Connection, secret: str | None) -> bool:
    if not secret or len(secret) > 200 or not conn.webhook_secret_hash:
        return False
    return hmac.compare_digest(token_hash(secret), conn.webhook_secret_hash)


def subscribe(session: Session, conn: Connection, public_url: str,
              client: HttpClient | None = None) -> list[dict]:
    """CREATE webhooks for retail sales and returns pointing at the hub, with a new secret
    in their URL (every run rotates it): the account's webhooks of this connection are moved
    to the new URL (PUT), the missing ones created. The new secret's hash is stored first,
    so МойСклад never holds a URL the hub does not know (committed by the registry)."""
    client = client or client_for(conn)
    existing = client.get(f"{api_base(conn)}/entity/webhook").json().get("rows") or []
    secret = rotate_webhook_secret(session, conn)
    url = webhook_url(public_url, conn, secret)
    ours = f"{WEBHOOK_PATH}{conn.id}"
    done = []
    for entity_type in ENTITY_TYPES:
        same = [w for w in existing if ours in str(w.get("url") or "")
                and w.get("entityType") == entity_type and w.get("action") == "CREATE"]
        if same:
            client.put(f"{api_base(conn)}/entity/webhook/{same[0].get('id')}", json={"url": url})
            done.append({"entityType": entity_type, "status": "updated", "id": same[0].get("id")})
            continue
        created = client.post(f"{api_base(conn)}/entity/webhook",
                              json={"url": url, "action": "CREATE", "entityType": entity_type}).json()
        done.append({"entityType": entity_type, "status": "created", "id": created.get("id")})
    return done
