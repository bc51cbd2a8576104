"""`kopilka user create` makes the first owner, who can then sign in."""
from __future__ import annotations

import json

from click.testing import CliRunner

from hub.cli.main import main
from hub.extensions import db


def test_user_create(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}"}
    run = lambda *a: CliRunner().invoke(main, list(a), env=env)
    try:
        assert run("db", "upgrade").exit_code == 0
        tenant = json.loads(run("tenant", "create", "--name", "Кофейня", "--json").output)["tenant_id"]
        out = run("user", "create", "--tenant", "Кофейня", "--email", "Boss@Shop.test", "--role", "owner")
        assert out.exit_code == 0, out.output
        assert "boss@shop.test (owner) создан" in out.output and "Пароль (показан один раз): " in out.output
        password = out.output.split("Пароль (показан один раз): ")[1].split()[0]
        from werkzeug.security import check_password_hash
        from hub.staff.models import WebUser
        row = db.session.query(WebUser).one()
        assert row.tenant_id == tenant and row.role == "owner" and check_password_hash(row.password_hash, password)
        again = run("user", "create", "--tenant", tenant, "--email", "boss@shop.test", "--password", "long-enough-1")
        assert again.exit_code == 1 and "уже есть" in again.output
        weak = run("user", "create", "--tenant", tenant, "--email", "b@shop.test", "--password", "short")
        assert weak.exit_code == 1 and "не короче 8" in weak.output
        nobody = run("user", "create", "--tenant", "нет такой", "--email", "c@shop.test")
        assert nobody.exit_code == 1 and "не найдена" in nobody.output
    finally:
        db.session.remove()
