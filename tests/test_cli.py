"""The `kopilka` command against a real database file and the run's PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import update

from hub import engine
from hub.cli.main import main
from hub.extensions import db
from hub.ledger.models import Account
from hub.customers.operations import register_customer
from hub.receipts.operations import SaleRequest, commit_sale
from hub.tenants.operations import tenant_for_key


def _run(env, *args):
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result


def test_tenant_and_keys_on_a_fresh_sqlite_file(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}"}
    assert _run(env, "db", "upgrade").exit_code == 0
    out = _run(env, "tenant", "create", "--name", "Кофейня", "--json")
    assert out.exit_code == 0, out.output
    created = json.loads(out.output)
    assert created["api_key"].startswith("kp_")
    assert tenant_for_key(db.session, created["api_key"]) == created["tenant_id"]
    key2 = _run(env, "apikey", "create", "--tenant", created["tenant_id"]).output.strip()
    assert tenant_for_key(db.session, key2) == created["tenant_id"]
    missing = CliRunner().invoke(main, ["apikey", "create", "--tenant", "nope"], env=env)
    assert missing.exit_code != 0 and "не найдена" in missing.output
    db.session.remove()


def test_check_ledger_and_automation_on_postgres(pg_engine, pg_sessions):
    url = pg_engine.url.render_as_string(hide_password=False)
    env = {"DATABASE_URL": url}
    session = pg_sessions()
    from hub.tenants.operations import create_tenant
    from hub.programs.operations import put_program, DEFAULT_SETTINGS
    t, _ = create_tenant(session, "CLI")
    session.commit()
    put_program(session, t.id, {**DEFAULT_SETTINGS, "bonus_lifetime_days": 10})
    moment = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    c = register_customer(session, t.id, {"phone": "+79160000001"}, source="test", moment=moment)
    commit_sale(session, t.id, "test", SaleRequest(
        external_id="S1", moment=moment, customer={"id": c.id},
        positions=(engine.Position(id="1", amount=100000, quantity=Decimal(1), price=100000),)), {"n": 1})
    session.close()

    ok = _run(env, "check-ledger")
    assert ok.exit_code == 0, ok.output
    from hub.text import plural
    assert ok.output.startswith("Все счета сходятся: ")
    total = int(ok.output.split(": ")[1].split()[0])
    assert ok.output.strip() == f"Все счета сходятся: {plural(total, 'счёт', 'счёта', 'счетов')}."

    later = (moment + timedelta(days=30)).isoformat()
    ran = _run(env, "automation", "run", "--at", later, "--tenant", t.id)
    assert ran.exit_code == 0 and json.loads(ran.output)["expired_lots"] == 1
    again = _run(env, "automation", "run", "--at", later, "--tenant", t.id)
    assert json.loads(again.output)["expired_lots"] == 0

    session = pg_sessions()
    session.execute(update(Account).where(Account.customer_id == c.id).values(balance=Account.balance + 1))
    session.commit()
    session.close()
    bad = CliRunner().invoke(main, ["check-ledger"], env=env)
    assert bad.exit_code == 1 and c.id in bad.output
    assert bad.output.startswith("Расхождения: 1 счёт из ")
    session = pg_sessions()
    session.execute(update(Account).where(Account.customer_id == c.id).values(balance=Account.balance - 1))
    session.commit()
    session.close()
    db.session.remove()


def _env(tmp_path):
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}", "KOPILKA_HOME": str(tmp_path)}


def test_tenant_list_and_tenant_by_id_or_name(tmp_path):
    env = _env(tmp_path)
    assert _run(env, "db", "upgrade").exit_code == 0
    a = json.loads(_run(env, "tenant", "create", "--name", "Кофейня на Мира", "--json").output)
    b = json.loads(_run(env, "tenant", "create", "--name", "Салон", "--json").output)
    listed = _run(env, "tenant", "list")
    assert listed.exit_code == 0
    assert a["tenant_id"] in listed.output and "Кофейня на Мира" in listed.output and b["tenant_id"] in listed.output
    assert "2 организации" in listed.output
    rows = [json.loads(line) for line in _run(env, "tenant", "list", "--json").output.splitlines()]
    assert {r["name"] for r in rows} == {"Кофейня на Мира", "Салон"}
    # --tenant: the id, the name, the name in another case
    for ref in (a["tenant_id"], "Кофейня на Мира", "кофейня НА мира"):
        key = _run(env, "apikey", "create", "--tenant", ref).output.strip()
        assert tenant_for_key(db.session, key) == a["tenant_id"]
    db.session.remove()


def test_an_unknown_tenant_is_an_error_everywhere(tmp_path):
    env = _env(tmp_path)
    assert _run(env, "db", "upgrade").exit_code == 0
    _run(env, "tenant", "create", "--name", "Есть")
    for command in (["apikey", "create", "--tenant", "Нет"], ["apikey", "list", "--tenant", "Нет"],
                    ["apikey", "revoke", "--tenant", "Нет", "kp_1234567"],
                    ["automation", "run", "--tenant", "Нет"],
                    ["connection", "create", "--tenant", "Нет", "--kind", "moysklad", "--account", "a"],
                    ["connection", "list", "--tenant", "Нет"], ["connection", "inbox", "--tenant", "Нет"]):
        result = CliRunner().invoke(main, command, env=env)
        assert result.exit_code == 1, (command, result.output)
        assert result.stderr.strip() == "Ошибка: Организация «Нет» не найдена (все организации: kopilka tenant list).", \
            (command, result.output)
        assert "уже существует" not in result.output
    # two tenants of one name: the id is asked for
    _run(env, "tenant", "create", "--name", "Есть")
    twin = CliRunner().invoke(main, ["apikey", "list", "--tenant", "Есть"], env=env)
    assert twin.exit_code == 1 and "несколько" in twin.stderr
    db.session.remove()


def _serve_from(engine):
    """Point the app's session at `engine` (real commits); returns the engine it used before."""
    previous = db.engine
    db.session.remove()
    db.engine = engine
    db.session.configure(bind=engine)
    return previous


def test_apikey_list_and_revoke(tmp_path, app):
    from hub.extensions import make_engine
    from hub.tenants.models import ApiKey
    env = _env(tmp_path)
    assert _run(env, "db", "upgrade").exit_code == 0
    made = json.loads(_run(env, "tenant", "create", "--name", "Ключи", "--json").output)
    first = made["api_key"]
    second = _run(env, "apikey", "create", "--tenant", "Ключи", "--name", "касса 2").output.strip()

    listed = _run(env, "apikey", "list", "--tenant", "Ключи")
    assert listed.exit_code == 0
    assert first[:10] + "…" in listed.output and second[:10] + "…" in listed.output
    assert first not in listed.output and second not in listed.output     # never the keys themselves
    assert "2 ключа, действующих: 2." in listed.output
    rows = [json.loads(line) for line in _run(env, "apikey", "list", "--tenant", "Ключи", "--json").output.splitlines()]
    assert [r["last_used_at"] for r in rows] == [None, None]

    # a request with the key records its use (to the minute)
    engine = make_engine(env["DATABASE_URL"])
    bound = _serve_from(engine)
    try:
        client = app.test_client()
        assert client.get("/api/v1/program", headers={"Authorization": f"Bearer {second}"}).status_code in (200, 404)
    finally:
        _serve_from(bound)
    rows = [json.loads(line) for line in _run(env, "apikey", "list", "--tenant", "Ключи", "--json").output.splitlines()]
    used = {r["prefix"]: r["last_used_at"] for r in rows}
    assert used[first[:10]] is None and used[second[:10]] is not None

    revoked = _run(env, "apikey", "revoke", "--tenant", "Ключи", second[:10])
    assert revoked.exit_code == 0 and "отозван" in revoked.output
    again = _run(env, "apikey", "revoke", "--tenant", "Ключи", second)
    assert again.exit_code == 0 and "уже был отозван" in again.output
    missing = CliRunner().invoke(main, ["apikey", "revoke", "--tenant", "Ключи", "kp_nothing"], env=env)
    assert missing.exit_code == 1 and "не найден" in missing.stderr
    assert "1 действующ" not in _run(env, "apikey", "list", "--tenant", "Ключи").output
    assert "2 ключа, действующих: 1." in _run(env, "apikey", "list", "--tenant", "Ключи").output

    bound = _serve_from(engine)
    try:
        client = app.test_client()
        answer = client.get("/api/v1/program", headers={"Authorization": f"Bearer {second}"})
        assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "invalid_api_key"
        assert client.get("/api/v1/program", headers={"Authorization": f"Bearer {first}"}).status_code != 401
        assert db.session.query(ApiKey).filter(ApiKey.revoked_at.is_not(None)).count() == 1
    finally:
        _serve_from(bound)
        engine.dispose()
    db.session.remove()


def test_russian_plurals():
    from hub.text import plural
    assert [plural(n, "счёт", "счёта", "счетов") for n in (0, 1, 2, 3, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111)] == [
        "0 счетов", "1 счёт", "2 счёта", "3 счёта", "4 счёта", "5 счетов", "11 счетов", "12 счетов",
        "14 счетов", "21 счёт", "22 счёта", "25 счетов", "101 счёт", "111 счетов"]


def test_since_out_of_range_is_one_clear_line(tmp_path):
    """`--since 99999999999d` (or a year 10000) is a usage error, not an OverflowError traceback."""
    from hub.cli.support import parse_since
    import click
    import pytest
    for bad in ("99999999999d", "999999999999999999", "10000-01-01", "вчера"):
        with pytest.raises(click.BadParameter):
            parse_since(bad)
    assert parse_since("1504168645290") == datetime.fromtimestamp(1504168645.29, timezone.utc)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/k.sqlite3", "KOPILKA_HOME": str(tmp_path)}
    result = _run(env, "onec", "sync", "--connection", "x", "--since", "99999999999d")
    assert result.exit_code == 2 and "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
