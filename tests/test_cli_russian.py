"""The `kopilka` command speaks Russian (click's own words too) and never shows a traceback:
an un-migrated database, an unusable DATABASE_URL, a command run outside the instance's folder."""
from __future__ import annotations

import os
import re
import uuid

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from hub.cli.main import main
from hub.extensions import db

# click's English as printed by an unpatched click (usage, help, errors, metavars).
CLICK_ENGLISH = re.compile(r"Usage:|Options|Commands|Show this message|No such (command|option)|"
                           r"Missing (option|argument|parameter)|Try '|Error:|Invalid value|"
                           r"is not a valid|default:|\bTEXT\b|\bINTEGER\b|\[OPTIONS\]|\[ARGS\]|Did you mean")


def _invoke(args, env=None):
    result = CliRunner().invoke(main, list(args), env=env or {})
    db.session.remove()
    return result


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def test_help_of_every_command_is_russian():
    paths = [()] + list(_commands(main))
    assert len(paths) > 40     # the adapters' groups are there too
    for path in paths:
        result = _invoke([*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Использование:" in result.output and "Параметры:" in result.output, path
        assert not CLICK_ENGLISH.search(result.output), (path, CLICK_ENGLISH.search(result.output))
    # Our own words too: every command's description and every option's help.
    for path in paths[1:]:
        command = main
        for name in path:
            command = command.commands[name]
        assert re.search("[А-Яа-яЁё]", command.help or ""), path
        for param in command.params:
            if getattr(param, "help", None):
                assert re.search("[А-Яа-яЁё]", param.help), (path, param.name, param.help)
    top = _invoke(["--help"]).output
    assert "[ПАРАМЕТРЫ] КОМАНДА [АРГУМЕНТЫ]..." in top and "Команды:" in top
    assert "Показать эту справку и выйти." in top


@pytest.mark.parametrize(("args", "expected"), [
    (["nosuch"], "Ошибка: Нет такой команды: «nosuch»."),
    (["tenan"], "Возможно, имелось в виду 'tenant'?"),
    (["apikey", "create"], "Ошибка: Не указан параметр '--tenant'."),
    (["serve", "--port", "x"], "Ошибка: Недопустимое значение для '--port': «x» — не число."),
    (["serve", "--port", "0"], "0 вне допустимого диапазона 1<=x<=65535."),
    (["serve", "--bogus"], "Ошибка: Нет такого параметра: «--bogus»."),
    (["tenant", "list", "extra"], "Лишний аргумент (extra)"),
    (["user", "create", "--tenant", "t", "--email", "a@b.c", "--role", "boss"], "«boss» — не одно из значений"),
])
def test_usage_errors_are_russian(args, expected):
    result = _invoke(args)
    assert result.exit_code == 2
    assert expected in result.output, result.output
    assert "Справка: kopilka" in result.output or "Справка: main" in result.output
    assert not CLICK_ENGLISH.search(result.output), result.output


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, Exception) \
        or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Ошибка: ")
    return lines[0]


@pytest.mark.parametrize(("url", "expected"), [
    ("foo", "DATABASE_URL не разобрать"),
    ("postgresql://kopilka:s3cret@127.0.0.1:abc/x", "DATABASE_URL не разобрать"),
    ("mysql://kopilka:s3cret@db/kopilka", "база «mysql» не поддерживается"),
    ("postgresql+pg8000://kopilka:s3cret@db/kopilka", "драйвер «postgresql+pg8000» не установлен"),
])
def test_an_unusable_database_url_is_one_line(url, expected, tmp_path):
    for command in (["tenant", "list"], ["db", "upgrade"], ["check-ledger"], ["serve"], ["connection", "list", "--tenant", "x"]):
        result = _invoke(command, {"DATABASE_URL": url, "KOPILKA_HOME": str(tmp_path),
                                   "SECRET_KEY": "s", "KOPILKA_ENCRYPTION_KEY": None})
        line = _one_line_error(result)
        assert expected in line and "s3cret" not in line, (command, line)


def test_an_unmigrated_sqlite_file_says_db_upgrade(tmp_path):
    path = tmp_path / "k.sqlite3"
    path.touch()            # an existing, empty database file
    env = {"DATABASE_URL": f"sqlite:///{path}"}
    line = _one_line_error(_invoke(["tenant", "list"], env))
    assert line == f"Ошибка: в базе данных {path} нет схемы Копилки или она устарела: выполните `kopilka db upgrade`."
    assert _invoke(["db", "upgrade"], env).exit_code == 0
    assert _invoke(["tenant", "list"], env).exit_code == 0


def test_an_unmigrated_postgres_database_says_db_upgrade(pg_engine):
    from tests.conftest import _pg_url, admin_engine
    name = f"kopilka_empty_{uuid.uuid4().hex[:8]}"
    admin = admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        env = {"DATABASE_URL": _pg_url(name)}
        for command in (["tenant", "list"], ["check-ledger"], ["apikey", "list", "--tenant", "x"],
                        ["connection", "list", "--tenant", "x"], ["messages", "log", "--tenant", "x"]):
            line = _one_line_error(_invoke(command, env))
            assert line.endswith(f"/{name} нет схемы Копилки или она устарела: выполните `kopilka db upgrade`."), \
                (command, line)
    finally:
        db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_outside_the_instance_folder_nothing_is_created(tmp_path, monkeypatch):
    """A command run where there is no instance says where it looked and how to point it; it
    does not start an empty database (only `db upgrade` / `serve` create one)."""
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": None, "KOPILKA_HOME": None}
    for command in (["tenant", "list"], ["check-ledger"], ["connection", "list", "--tenant", "x"],
                    ["user", "create", "--tenant", "x", "--email", "a@b.c"]):
        line = _one_line_error(_invoke(command, env))
        assert f"нет файла {tmp_path / 'instance' / 'kopilka.sqlite3'}" in line, line
        assert f"в текущей папке {tmp_path}" in line and "KOPILKA_HOME" in line and "DATABASE_URL" in line
        assert os.listdir(tmp_path) == [], command
    home = tmp_path / "shop"
    line = _one_line_error(_invoke(["tenant", "list"], {"DATABASE_URL": None, "KOPILKA_HOME": str(home)}))
    assert "папка экземпляра задана в KOPILKA_HOME" in line and not home.exists()
    created = _invoke(["db", "upgrade"], {"DATABASE_URL": None, "KOPILKA_HOME": str(home)})
    assert created.exit_code == 0
    assert created.output.strip() == f"Схема базы данных обновлена: {home / 'kopilka.sqlite3'} (новая база)."
    assert _invoke(["tenant", "list"], {"DATABASE_URL": None, "KOPILKA_HOME": str(home)}).exit_code == 0


def test_unreachable_redis_and_an_impossible_folder_are_one_line(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}"}
    assert _invoke(["db", "upgrade"], env).exit_code == 0
    line = _one_line_error(_invoke(["automation", "run", "--queued"], {**env, "REDIS_URL": "redis://:pw@127.0.0.1:1/0"}))
    assert line.startswith("Ошибка: Redis 127.0.0.1:1 недоступен; проверьте REDIS_URL") and "pw" not in line
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = _one_line_error(_invoke(["db", "upgrade"], {"DATABASE_URL": None, "KOPILKA_HOME": str(blocker / "home")}))
    assert line == (f"Ошибка: не удаётся создать папку базы данных {blocker / 'home'}: часть пути — не папка; "
                    f"укажите другую в KOPILKA_HOME или базу в DATABASE_URL.")


def test_a_database_newer_than_the_code_is_one_line(tmp_path):
    """A schema from a newer Kopilka (a revision this code does not know): one line, no
    alembic traceback, for `db upgrade` and `serve` alike."""
    import sqlite3
    path = tmp_path / "k.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{path}", "KOPILKA_HOME": str(tmp_path)}
    assert _invoke(["db", "upgrade"], env).exit_code == 0
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    for command in (["db", "upgrade"], ["serve", "--port", "65001"]):
        line = _one_line_error(_invoke(command, env))
        assert line == (f"Ошибка: схема базы данных {path} новее этой версии Копилки (ревизия «9999_future» "
                        f"ей неизвестна): обновите Копилку или укажите другую базу в DATABASE_URL."), command
