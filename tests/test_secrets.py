"""Credentials at rest: keys of their own, rotation, and credentials no key opens any more."""
from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from connectors import registry
from hub.secrets import Undecryptable, decrypt, encrypt, generate_key
from hub.cli.main import main
from hub.config import Config
from hub.connections.models import Connection

USER_ID = "01-000000000000777"
APP_TOKEN = "evotor-app-token-secrets-test"


def test_the_embedded_key_is_a_key_of_its_own(tmp_path):
    """On SQLite without KOPILKA_ENCRYPTION_KEY a key is generated into the database's folder
    (0600): changing SECRET_KEY does not lose the credentials."""
    url = f"sqlite:///{tmp_path / 'k.sqlite3'}"
    token = encrypt({"token": "t"}, Config(DATABASE_URL=url, ENCRYPTION_KEY=None, SECRET_KEY="one"))
    key_file = tmp_path / "credentials.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert decrypt(token, Config(DATABASE_URL=url, ENCRYPTION_KEY=None, SECRET_KEY="two")) == {"token": "t"}
    with pytest.raises(Undecryptable):
        decrypt(token, Config(DATABASE_URL=url, ENCRYPTION_KEY=generate_key(), SECRET_KEY="one"))


def test_several_keys_first_encrypts_all_decrypt():
    old, new = generate_key(), generate_key()
    token = encrypt({"token": "t"}, Config(ENCRYPTION_KEY=old))
    both = Config(ENCRYPTION_KEY=f"{new}, {old}")
    assert decrypt(token, both) == {"token": "t"}
    assert decrypt(encrypt({"a": "b"}, both), Config(ENCRYPTION_KEY=new)) == {"a": "b"}
    with pytest.raises(Undecryptable):
        decrypt(token, Config(ENCRYPTION_KEY=new))


def test_credentials_of_marks_the_connection_instead_of_failing():
    conn = Connection(id="c1", tenant_id="t", kind="moysklad", external_account="a",
                      credentials=encrypt({"token": "t"}, Config(ENCRYPTION_KEY=generate_key())),
                      credentials_state="ok")
    assert registry.credentials_of(conn) == {}
    assert conn.credentials_state == registry.NEEDS_NEW_CREDENTIALS
    with pytest.raises(registry.CredentialsUnreadable) as err:
        registry.credentials_of(conn, required=True)
    assert err.value.status == 409 and err.value.code == "credentials_unreadable"
    registry.set_credentials(conn, {"token": "new"})
    assert conn.credentials_state == "ok" and registry.credentials_of(conn) == {"token": "new"}


def _run(env, *args):
    return CliRunner().invoke(main, list(args), env=env)


def test_rotate_and_a_lost_key_through_the_cli(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'k.sqlite3'}"
    a, b, c = generate_key(), generate_key(), generate_key()
    env = {"DATABASE_URL": db_url, "KOPILKA_ENCRYPTION_KEY": a, "KOPILKA_HOME": str(tmp_path)}
    assert _run(env, "db", "upgrade").exit_code == 0
    tenant = json.loads(_run(env, "tenant", "create", "--name", "Ключи", "--json").output)
    made = _run(env, "connection", "create", "--tenant", "Ключи", "--kind", "moysklad",
                "--account", "acc-1", "--credentials", '{"token": "ms-secret"}')
    assert made.exit_code == 0, made.output
    other = _run(env, "connection", "create", "--tenant", tenant["tenant_id"], "--kind", "onec",
                 "--account", "base-1")
    assert other.exit_code == 0, other.output

    # rotation: the new key first, the old one still accepted; rotate; the old key dropped
    rotated = _run({**env, "KOPILKA_ENCRYPTION_KEY": f"{b},{a}"}, "secrets", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "Перешифровано: 1 запись" in rotated.output
    listed = _run({**env, "KOPILKA_ENCRYPTION_KEY": b}, "connection", "list", "--tenant", "Ключи")
    assert listed.exit_code == 0, listed.output
    rows = {r["kind"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["moysklad"]["credentials_set"] == ["token"] and rows["moysklad"]["credentials_state"] == "ok"

    # the key is lost: that one connection needs new credentials, the list still works
    lost = {**env, "KOPILKA_ENCRYPTION_KEY": c}
    listed = _run(lost, "connection", "list", "--tenant", "Ключи")
    assert listed.exit_code == 0, listed.output
    rows = {r["kind"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["moysklad"]["credentials_set"] == [] and rows["moysklad"]["credentials_state"] == "needs_new"
    assert rows["onec"]["credentials_state"] == "ok"
    engine = create_engine(db_url)
    with engine.connect() as conn:
        states = dict(conn.execute(select(Connection.kind, Connection.credentials_state)).all())
    engine.dispose()
    assert states == {"moysklad": "needs_new", "onec": "ok"}
    failed = _run(lost, "secrets", "rotate")
    assert failed.exit_code == 1 and "connections " in failed.output and "1 запись" in failed.output

    # the old key put back: rotate heals it
    healed = _run({**env, "KOPILKA_ENCRYPTION_KEY": f"{c},{b}"}, "secrets", "rotate")
    assert healed.exit_code == 0, healed.output
    listed = _run({**env, "KOPILKA_ENCRYPTION_KEY": c}, "connection", "list", "--tenant", "Ключи")
    rows = {r["kind"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["moysklad"]["credentials_set"] == ["token"] and rows["moysklad"]["credentials_state"] == "ok"


def _unreadable(data: dict) -> str:
    return encrypt(data, Config(ENCRYPTION_KEY=generate_key()))


def test_connection_list_answers_with_an_unreadable_connection(api, session, tenant):
    session.add_all([
        Connection(tenant_id=tenant["id"], kind="moysklad", external_account="lost",
                   credentials=_unreadable({"token": "x"})),
        Connection(tenant_id=tenant["id"], kind="onec", external_account="fine",
                   credentials=encrypt({"password": "p"})),
    ])
    session.commit()
    response = api.get("/api/v1/connections")
    assert response.status_code == 200, response.get_json()
    items = {i["external_account"]: i for i in response.get_json()["items"]}
    assert items["lost"]["credentials_set"] == [] and items["fine"]["credentials_set"] == ["password"]


def test_evotor_user_verify_with_unreadable_credentials(app, client, session, tenant, monkeypatch):
    """A linked Evotor user whose stored token no key opens gets a fresh token, not a 500."""
    from hub.secrets import token_hash
    monkeypatch.setitem(app.config, "EVOTOR_APP_TOKEN", APP_TOKEN)
    conn = Connection(tenant_id=tenant["id"], kind="evotor", external_account=USER_ID,
                      credentials=_unreadable({"user_token": "old", "cloud_token": "c"}),
                      inbound_token_hash=token_hash("old"))
    session.add(conn)
    session.commit()
    conn_id = conn.id
    response = client.post("/evotor/api/v1/user/verify", json={"userId": USER_ID, "password": tenant["key"]},
                           headers={"Authorization": f"Bearer {APP_TOKEN}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    token = response.get_json()["token"]
    assert token and token != "old"
    conn = session.get(Connection, conn_id)
    assert registry.credentials_of(conn)["user_token"] == token and conn.credentials_state == "ok"
