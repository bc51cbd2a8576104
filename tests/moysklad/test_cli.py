"""`kopilka moysklad register-loyalty` (Vendor API) and `kopilka moysklad subscribe`
(JSON API webhooks) against fake МойСклад endpoints."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from uuid import uuid4

import pytest
import responses
from click.testing import CliRunner

from hub.cli.main import main
from hub.extensions import db
from hub.connections.models import Connection
from moysklad.vendor import VendorError, register_loyalty
from moysklad.jsonapi.client import subscribe
from tests.moysklad.conftest import ACCOUNT, JSON_API, STORE_ID, assert_ms_error

VENDOR = "https://apps-api.moysklad.ru/api/vendor/1.0"


def _jwt_payload(header_value: str, secret: str) -> dict:
    scheme, token = header_value.split(" ", 1)
    assert scheme == "Bearer"
    head, payload, signature = token.split(".")
    expected = base64.urlsafe_b64encode(
        hmac.new(secret.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    assert hmac.compare_digest(signature, expected), "HS256 signature with the app's secretKey"
    pad = lambda s: s + "=" * (-len(s) % 4)
    assert json.loads(base64.urlsafe_b64decode(pad(head))) == {"alg": "HS256", "typ": "JWT"}
    return json.loads(base64.urlsafe_b64decode(pad(payload)))


def _works(ms, token: str) -> int:
    """200 when the token is accepted (an unknown certificate's 404 is an authenticated answer)."""
    status = ms.get("/giftcard", {"name": "1", "retailStoreId": STORE_ID}, token=token).status_code
    return 200 if status == 404 else status


def test_register_loyalty_rotates_the_token_and_tells_moysklad(session, ms):
    app_id = str(uuid4())
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, f"{VENDOR}/apps/{app_id}/{ACCOUNT}/loyalty", status=200)
        result = register_loyalty(session, ms.connection_id, app_id, "https://kopilka.example.ru/")
        request = rsps.calls[0].request
    body = json.loads(request.body)
    url = f"https://kopilka.example.ru/moysklad/loyalty/{ms.connection_id}"
    assert body["url"] == url == result["url"] and body["externalSearch"] is True
    assert request.headers["Accept-Encoding"] == "gzip"
    claims = _jwt_payload(request.headers["Authorization"], "vendor-secret")
    assert claims["sub"] == "kopilka.test-vendor" and claims["jti"]
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert _works(ms, body["token"]) == 200
    assert_ms_error(ms.get("/giftcard", {"name": "1", "retailStoreId": STORE_ID}, token=ms.token), 401)
    conn = session.get(Connection, ms.connection_id)
    assert conn.settings["loyalty_api"] is True and conn.settings["loyalty_url"] == url
    session.rollback()


def test_a_refused_registration_keeps_the_old_token(session, ms):
    app_id = str(uuid4())
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, f"{VENDOR}/apps/{app_id}/{ACCOUNT}/loyalty", status=400,
                 json={"errors": [{"error": "Решение не поддерживает loyaltyApi", "code": 2006}]})
        with pytest.raises(VendorError, match="2006"):
            register_loyalty(session, ms.connection_id, app_id, "https://kopilka.example.ru")
        sent = json.loads(rsps.calls[0].request.body)["token"]
        assert len(rsps.calls) == 1          # a one-time JWT is never replayed
    assert _works(ms, ms.token) == 200
    assert _works(ms, sent) == 401


def test_registration_needs_vendor_credentials(session, tenant):
    from connectors.registry import create_connection
    conn, _ = create_connection(session, tenant["id"], kind="moysklad", external_account=str(uuid4()))
    session.commit()
    with pytest.raises(VendorError, match="app_uid"):
        register_loyalty(session, conn.id, str(uuid4()), "https://kopilka.example.ru")
    with pytest.raises(VendorError, match="не найдено"):
        register_loyalty(session, str(uuid4()), str(uuid4()), "https://kopilka.example.ru")


def test_subscribe_puts_a_new_secret_in_the_url_and_moves_the_old_webhooks(session, ms):
    conn = session.get(Connection, ms.connection_id)
    old = f"https://kopilka.example.ru/moysklad/webhook/{ms.connection_id}"     # before secrets
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{JSON_API}/entity/webhook", json={"rows": [
            {"id": "w-1", "entityType": "retaildemand", "action": "CREATE", "url": old, "enabled": True},
            {"id": "w-2", "entityType": "retailsalesreturn", "action": "UPDATE", "url": old, "enabled": True}]})
        rsps.add(responses.PUT, f"{JSON_API}/entity/webhook/w-1", json={"id": "w-1"})
        rsps.add(responses.POST, f"{JSON_API}/entity/webhook", json={"id": "w-3", "entityType": "retailsalesreturn",
                                                                   "action": "CREATE"})
        done = subscribe(session, conn, "https://kopilka.example.ru/")
        put, posted = json.loads(rsps.calls[1].request.body), rsps.calls[2].request
    assert [(d["entityType"], d["status"]) for d in done] == [("retaildemand", "updated"),
                                                              ("retailsalesreturn", "created")]
    url = json.loads(posted.body)["url"]
    assert put == {"url": url}
    assert json.loads(posted.body) == {"url": url, "action": "CREATE", "entityType": "retailsalesreturn"}
    prefix = f"{old}/"
    assert url.startswith(prefix) and len(url[len(prefix):]) >= 40, "a random secret in the URL"
    assert posted.headers["Authorization"] == "Bearer json-api-token"
    assert posted.headers["Accept-Encoding"] == "gzip"
    secret = url[len(prefix):]
    assert secret not in json.dumps(done), "the secret is not printed"
    body = {"events": [{"meta": {"type": "retaildemand", "href": f"{JSON_API}/entity/retaildemand/{uuid4()}"},
                        "action": "CREATE", "accountId": ACCOUNT}]}
    post = lambda path: ms.client.post(path, json=body)
    assert post(f"/moysklad/webhook/{ms.connection_id}/{secret}").status_code == 200
    # Rotated: the fixture's secret (the previous subscribe) no longer works.
    assert_ms_error(post(f"/moysklad/webhook/{ms.connection_id}/{ms.webhook_secret}"), 404)
    session.rollback()


def test_the_commands_on_a_fresh_database(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}"}
    run = lambda *args: CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    try:
        assert run("db", "upgrade").exit_code == 0
        tenant = json.loads(run("tenant", "create", "--name", "Магазин", "--json").output)
        created = run("connection", "create", "--tenant", tenant["tenant_id"], "--kind", "moysklad",
                      "--account", ACCOUNT, "--credentials",
                      json.dumps({"token": "json-api-token", "app_uid": "kopilka.test-vendor",
                                  "secret_key": "vendor-secret"}))
        conn_id = json.loads(created.output)["id"]
        app_id = str(uuid4())
        with responses.RequestsMock() as rsps:
            rsps.add(responses.PUT, f"{VENDOR}/apps/{app_id}/{ACCOUNT}/loyalty", status=200)
            rsps.add(responses.GET, f"{JSON_API}/entity/webhook", json={"rows": []})
            rsps.add(responses.POST, f"{JSON_API}/entity/webhook", json={"id": "w"})
            out = run("moysklad", "register-loyalty", "--connection", conn_id, "--app-id", app_id,
                      "--url", "https://kopilka.example.ru")
            assert out.exit_code == 0, out.output
            assert json.loads(out.output)["url"].endswith(f"/moysklad/loyalty/{conn_id}")
            out = run("moysklad", "subscribe", "--connection", conn_id, "--url", "https://kopilka.example.ru")
            assert out.exit_code == 0, out.output
            assert [json.loads(line)["status"] for line in out.output.splitlines()] == ["created", "created"]
            assert json.loads(rsps.calls[-1].request.body)["url"].startswith(
                f"https://kopilka.example.ru/moysklad/webhook/{conn_id}/")
        missing = CliRunner().invoke(main, ["moysklad", "subscribe", "--connection", str(uuid4()),
                                            "--url", "https://x"], env=env)
        assert missing.exit_code != 0 and "не найдено" in missing.output
    finally:
        db.session.remove()


