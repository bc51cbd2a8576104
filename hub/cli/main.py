"""The `kopilka` command. Everything it prints is Russian; errors are one line, exit code 1."""
from __future__ import annotations

import errno
import json
import os
import socket
import sys
import threading
from datetime import datetime, timezone

import click
from sqlalchemy import func, select

from hub.clock import utcnow
from hub.cli.connections import cli as connection_commands
from evotor.cli import cli as evotor_commands
from hub.adapters import wire
from hub.cli import analytics, mechanics, messages, users, wallet
from moysklad.cli import cli as moysklad_commands
from onec.cli import cli as onec_commands
from hub.cli.support import CliError, _moment, _table, configure_database, resolve_tenant_id, schema_missing
from hub.config import Config
from hub.extensions import db
from hub.text import plural
from hub.tenants.operations import create_api_key
from hub.web.ui.auth import create_user
from hub.jobs.tasks import run_periodically, schedule_with_redis
from hub.exports.operations import build_queued_exports_job
from hub.db import upgrade
from hub.app import create_app
from hub.tenants.operations import revoke_api_key
from hub.secrets import rotate_all
from hub.sweeps import run_due
from hub.certificates.models import GiftCertificate
from hub.errors import DomainError
from hub.ledger.models import Account
from hub.unavailable import database_unavailable
from hub.secrets import KeyNotConfigured
from hub.ledger import check_certificates, check_ledger
from hub.jobs import worker_queue
from hub.logs import configure as configure_logs
from hub.config import encryption_key_problem
from hub.jobs.tasks import run_automation
from hub.tenants.operations import create_tenant
from hub.jobs import get_queue
from hub.tenants.operations import tenant_for_key
from hub.config import database_url_problem
from hub.programs.operations import put_program
from hub.tenants.models import Tenant
from hub.tenants.operations import list_api_keys
from hub.notify.registry import channel_rows, configure
from hub.tenants.operations import list_tenants
from hub.secrets import generate_key
from hub.web import demo_key_path


def database_place(url: str) -> str:
    """host:port/db of a database URL, without the user and password."""
    from sqlalchemy.engine import make_url
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - an unreadable URL is shown as "?"
        return "?"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or "память"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def database_unreachable(url: str, exc: BaseException) -> CliError:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = reason[0] if reason else type(exc).__name__
    # psycopg: 'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused'
    reason = reason.rsplit("failed: ", 1)[-1].strip()[:200]
    return CliError(f"база данных {database_place(url)} недоступна ({reason}); "
                    f"проверьте DATABASE_URL и что сервер базы данных запущен.")


def redis_place(url: str | None) -> str:
    """host:port of a Redis URL, without a password."""
    from urllib.parse import urlsplit
    try:
        parts = urlsplit(url or "")
        return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
    except ValueError:
        return "?"


def schema_not_ready(url: str) -> CliError:
    return CliError(f"в базе данных {database_place(url)} нет схемы Копилки или она устарела: "
                    f"выполните `kopilka db upgrade`.")


class HubGroup(click.Group):
    """The top group: a database that cannot be reached or was never migrated, a missing
    encryption key or a refused business rule end any command with one clear line, never a
    traceback."""

    def invoke(self, ctx: click.Context):
        from alembic.util.exc import CommandError as AlembicError
        from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
        from sqlalchemy.exc import TimeoutError as PoolTimeout

        try:
            from redis.exceptions import ConnectionError as RedisError
            from redis.exceptions import TimeoutError as RedisTimeout
            RedisError = (RedisError, RedisTimeout)
        except ImportError:                     # redis is optional: nothing of it can be raised
            RedisError = ()
        try:
            return super().invoke(ctx)
        except (ArgumentError, NoSuchModuleError):
            raise CliError(database_url_problem(Config().DATABASE_URL)
                           or "DATABASE_URL не подходит: проверьте адрес базы данных.") from None
        except (DBAPIError, PoolTimeout) as exc:
            if schema_missing(exc):
                raise schema_not_ready(Config().DATABASE_URL) from None
            if not database_unavailable(exc):
                raise
            raise database_unreachable(Config().DATABASE_URL, exc) from None
        except AlembicError as exc:
            import re
            url = Config().DATABASE_URL
            unknown = re.search(r"Can't locate revision identified by '([^']+)'", str(exc))
            if unknown:
                raise CliError(f"схема базы данных {database_place(url)} новее этой версии Копилки (ревизия "
                               f"«{unknown.group(1)}» ей неизвестна): обновите Копилку или укажите другую "
                               f"базу в DATABASE_URL.") from None
            raise CliError(f"миграции базы данных {database_place(url)} не применились: "
                           f"{str(exc).strip()[:200]}") from None
        except RedisError:
            # redis-py's reason is English ("Error 111 connecting to …"): the place says enough
            raise CliError(f"Redis {redis_place(Config().REDIS_URL)} недоступен; "
                           f"проверьте REDIS_URL и что Redis запущен (без REDIS_URL задачи выполняются "
                           f"в процессе).") from None
        except KeyNotConfigured:
            raise CliError("не задан KOPILKA_ENCRYPTION_KEY: вне встроенной базы SQLite учётные данные "
                           "шифруются только явно заданным ключом (`kopilka secrets generate-key`).") from None
        except DomainError as exc:
            raise CliError(exc.message) from None


def _setup(config: Config | None = None, create: bool = False) -> Config:
    """Configure the database of a command (configure_database: only `create` commands may
    start a new SQLite file)."""
    return configure_database(config, create=create)


DEMO_PROGRAM = {
    "type": "bonus", "timezone": "Europe/Moscow",
    "levels": [
        {"code": "base", "name": "Стандарт", "threshold": 0,
         "accrual": {"scheme": "progressive", "steps": [{"from": 0, "percent": "3"},
                                                        {"from": 100000, "percent": "10"}]},
         "discount": None, "max_spend_percent": "20", "bonus_lifetime_days": None},
        {"code": "gold", "name": "Золотая", "threshold": 1000000,
         "accrual": {"scheme": "percent", "percent": "5"},
         "discount": None, "max_spend_percent": "50", "bonus_lifetime_days": None},
    ],
    "bonus_lifetime_days": 365, "expiry_mode": "since_accrual", "expiry_dates": [],
    "activation_delay_days": 0, "rounding": "kopeck", "rules": [],
    "accrue_on_discounted": True, "accrue_on_bonus_payment": False, "spend_on_discounted": True,
}


@click.group(cls=HubGroup)
def main() -> None:
    """Копилка: программы лояльности и хаб интеграций с кассами."""
    wire()      # every command runs with the sweeps, inbox handlers and encrypted columns registered


@main.group("db")
def db_group() -> None:
    """Схема базы данных."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Применить миграции до новейшей схемы."""
    config = _setup(create=True)
    upgrade(db.engine)
    created = " (новая база)" if config.database_created else ""
    click.echo(f"Схема базы данных обновлена: {database_place(config.DATABASE_URL)}{created}.")


def _demo(config: Config) -> tuple[str | None, str | None]:
    """On the embedded default, the first start creates a demo tenant and keeps its key
    in the instance folder so that later starts can show it again: (tenant id, key)."""
    if not config.DATABASE_URL.startswith("sqlite") or "///" not in config.DATABASE_URL:
        return None, None
    path = demo_key_path(config.DATABASE_URL)
    session = db.session
    try:
        if session.scalar(select(func.count()).select_from(Tenant)) == 0:
            tenant, key = create_tenant(session, "Демо-магазин")
            session.commit()
            put_program(session, tenant.id, DEMO_PROGRAM)
            with open(path, "w") as fh:
                fh.write(key + "\n")
            os.chmod(path, 0o600)
        if not os.path.exists(path):
            return None, None
        with open(path) as fh:
            key = fh.read().strip()
        tenant_id = tenant_for_key(session, key)
        _demo_channel(session, tenant_id)
        return tenant_id, key
    finally:
        db.session.remove()


def _demo_channel(session, tenant_id: str | None) -> None:
    """The demo tenant without an SMS channel gets the console one: one-time codes (the
    cashier's registration, the participant's login) are printed on this console, so a
    newcomer can sign in without an SMS provider. A channel the owner set up stays."""
    if tenant_id and "sms" not in channel_rows(session, tenant_id):
        configure(session, tenant_id, "console")
        session.commit()


def _demo_users(config: Config, tenant_id: str) -> list[tuple[str, str, str]]:
    """On the embedded default, the demo tenant's owner and cashier for the cabinets, made on
    the first start and kept (mode 0600) beside the demo key: (role, email, password)."""
    import secrets as pysecrets
    path = os.path.join(os.path.dirname(config.DATABASE_URL.split("///", 1)[1]), "demo-users.txt")
    if not os.path.exists(path):
        rows = [(role, f"{role}@demo.kopilka", pysecrets.token_urlsafe(9)) for role in ("owner", "cashier")]
        try:
            for role, email, password in rows:
                create_user(db.session, tenant_id, email, role, password,
                            "Владелец" if role == "owner" else "Кассир")
            db.session.commit()
        finally:
            db.session.remove()
        with open(path, "w") as fh:
            fh.writelines(" ".join(row) + "\n" for row in rows)
        os.chmod(path, 0o600)
    with open(path) as fh:
        return [tuple(line.split()) for line in fh if line.strip()]


def _listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound before anything is printed: a port in use is one
    clear line and exit 1 (gunicorn then serves on this very socket, so nothing can take
    the port in between)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise CliError(f"не удаётся разобрать адрес «{host}»: {exc.strerror}.") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(f"порт {port} на {host} уже занят другой программой; "
                           f"остановите её или укажите другой порт: kopilka serve --port {port + 1}.") from None
        if exc.errno == errno.EACCES:
            raise CliError(f"нет прав открыть порт {port} на {host}; укажите порт от 1024: "
                           f"kopilka serve --port 8000.") from None
        raise CliError(f"не удаётся открыть {host}:{port}: {exc.strerror}.") from None
    sock.set_inheritable(True)
    return sock


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="адрес, на котором слушать")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="порт")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="процессов gunicorn (по умолчанию: 1 на SQLite, 2×ядра+1 на PostgreSQL)")
def serve(host: str, port: int, workers: int | None) -> None:
    """Применить миграции и запустить хаб (gunicorn, если установлен)."""
    config = Config()
    problem = config.startup_problem()
    if problem:
        raise CliError(problem)
    configure_logs()
    _setup(config, create=True)
    listener = _listen(host, port)
    try:
        upgrade(db.engine)
        tenant_id, key = _demo(config)
        users = _demo_users(config, tenant_id) if key and tenant_id else []
    except BaseException:
        listener.close()
        raise
    # Nothing opened by the migrations or the demo set-up may be inherited by forked workers:
    # each worker opens connections of its own (also post_fork below).
    db.session.remove()
    db.engine.dispose()
    shown = host if ":" not in host else f"[{host}]"
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}"  # noqa: S104 - the server binds where the owner asks (--host)
    click.echo(f"Копилка запущена: {base}")
    click.echo(f"  Справочник API:     {base}/api/v1/docs")
    click.echo(f"  OpenAPI:            {base}/api/v1/openapi.json")
    click.echo(f"  Проверка здоровья:  {base}/health")
    if key and tenant_id:
        click.echo(f"  Демо-магазин, ID:   {tenant_id}")
        click.echo(f"  API-ключ демо-магазина: {key}")
        click.echo(f"  Пример: curl -H 'Authorization: Bearer {key}' {base}/api/v1/program")
        for role, email, password in users:
            door = "Кабинет управления:   " if role == "owner" else "Рабочее место кассира:"
            click.echo(f"  {door} {base}/{'cabinet' if role == 'owner' else 'cashier'}/  "
                       f"вход {email}, пароль {password}")
        click.echo(f"  Кабинет участника:  {base}/my/{tenant_id}/")
        click.echo("  Коды подтверждения демо-магазина печатаются в этой консоли (демо-канал SMS)")
    click.echo(f"  База данных: {database_place(config.DATABASE_URL)}"
               f"{' (создана сейчас)' if config.database_created else ''}")
    click.echo(f"  Фоновые задачи: {'rq на ' + config.REDIS_URL if config.REDIS_URL else 'в процессе (без Redis)'}; "
               f"периодические проверки (сгорание, дни рождения, реанимация, рассылки) — каждые 15 минут")
    sys.stdout.flush()
    scheduler: list = []

    def start_scheduler():
        # Without Redis nobody else runs the periodic sweeps and builds the queued exports. A
        # child process, not a thread: gunicorn forks workers from this process at any time,
        # and a fork must not copy a thread that is half-way through the ORM.
        if not config.REDIS_URL:
            import subprocess
            scheduler.append(subprocess.Popen([sys.executable, "-m", "hub.cli.main", "automation", "schedule",  # noqa: S603 - our own interpreter and arguments
                                               "--parent", str(os.getpid())]))

    def stop_scheduler():
        for proc in scheduler:
            proc.terminate()
            proc.wait(timeout=30)

    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        listener.close()
        start_scheduler()
        try:
            create_app(config).run(host=host, port=port)
        finally:
            stop_scheduler()
        return
    sqlite = config.embedded

    def post_fork(server, worker):
        if db.engine is not None:
            db.engine.dispose(close=False)      # the parent's pooled connections are not ours

    def when_ready(server):
        start_scheduler()

    def on_exit(server):
        stop_scheduler()

    class HubServer(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"fd://{listener.fileno()}")
            self.cfg.set("workers", workers or (1 if sqlite else 2 * (os.cpu_count() or 1) + 1))
            self.cfg.set("threads", 4 if sqlite else 1)
            self.cfg.set("accesslog", None)
            self.cfg.set("post_fork", post_fork)
            self.cfg.set("when_ready", when_ready)
            self.cfg.set("on_exit", on_exit)

        def load(self):
            return create_app(config)

    HubServer().run()


@main.group()
def tenant() -> None:
    """Организации (клиенты хаба)."""


@tenant.command("create")
@click.option("--name", required=True, help="название организации")
@click.option("--json", "as_json", is_flag=True, help="вывести JSON")
def tenant_create(name: str, as_json: bool) -> None:
    """Создать организацию и показать её ID и API-ключ (показывается один раз)."""
    _setup()
    t, key = create_tenant(db.session, name)
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"tenant_id": t.id, "name": t.name, "api_key": key}, ensure_ascii=False))
    else:
        click.echo(f"Организация: {t.name}\nID: {t.id}\nAPI-ключ (показывается один раз): {key}")


@tenant.command("list")
@click.option("--json", "as_json", is_flag=True, help="вывести JSON, по объекту в строке")
def tenant_list(as_json: bool) -> None:
    """Все организации: ID, название, дата создания."""
    _setup()
    tenants = list_tenants(db.session)
    if as_json:
        for t in tenants:
            click.echo(json.dumps({"id": t.id, "name": t.name, "created_at": t.created_at.isoformat()},
                                  ensure_ascii=False))
        return
    if not tenants:
        click.echo("Организаций пока нет: kopilka tenant create --name …")
        return
    _table([[t.id, t.name, _moment(t.created_at)] for t in tenants], ["ID", "Название", "Создана"])
    click.echo(plural(len(tenants), "организация", "организации", "организаций") + ".")


@main.group()
def apikey() -> None:
    """API-ключи организаций."""


TENANT_HELP = "ID или название организации"


@apikey.command("create")
@click.option("--tenant", "tenant_ref", required=True, help=TENANT_HELP)
@click.option("--name", default="", help="подпись ключа (например, касса 1)")
def apikey_create(tenant_ref: str, name: str) -> None:
    """Выпустить ещё один API-ключ (показывается один раз)."""
    _setup()
    key = create_api_key(db.session, resolve_tenant_id(tenant_ref), name)
    db.session.commit()
    click.echo(key)


@apikey.command("list")
@click.option("--tenant", "tenant_ref", required=True, help=TENANT_HELP)
@click.option("--json", "as_json", is_flag=True, help="вывести JSON, по объекту в строке")
def apikey_list(tenant_ref: str, as_json: bool) -> None:
    """Ключи организации: префикс, дата выпуска, последнее использование, отозван ли."""
    _setup()
    keys = list_api_keys(db.session, resolve_tenant_id(tenant_ref))
    if as_json:
        for k in keys:
            click.echo(json.dumps({
                "id": k.id, "prefix": k.prefix, "name": k.name, "created_at": k.created_at.isoformat(),
                "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}, ensure_ascii=False))
        return
    if not keys:
        click.echo("У организации нет ключей: kopilka apikey create --tenant …")
        return
    _table([[k.id, k.prefix + "…", k.name, _moment(k.created_at), _moment(k.last_used_at),
             "отозван " + _moment(k.revoked_at) if k.revoked_at else "действует"] for k in keys],
           ["ID", "Префикс", "Подпись", "Выпущен", "Последнее использование", "Состояние"])
    live = sum(1 for k in keys if k.revoked_at is None)
    click.echo(f"{plural(len(keys), 'ключ', 'ключа', 'ключей')}, действующих: {live}.")


@apikey.command("revoke")
@click.option("--tenant", "tenant_ref", required=True, help=TENANT_HELP)
@click.argument("key")
def apikey_revoke(tenant_ref: str, key: str) -> None:
    """Отозвать ключ KEY (его ID, префикс из `apikey list` или сам ключ): дальше ответ 401."""
    _setup()
    row, revoked_now = revoke_api_key(db.session, resolve_tenant_id(tenant_ref), key)
    db.session.commit()
    if revoked_now:
        click.echo(f"Ключ {row.prefix}… отозван: запросы с ним получают 401.")
    else:
        click.echo(f"Ключ {row.prefix}… уже был отозван {_moment(row.revoked_at)}.")


@main.command("check-ledger")
def check_ledger_cmd() -> None:
    """Проверить каждый счёт: кэш баланса = сумма проводок = сумма остатков лотов; и каждый
    подарочный сертификат: баланс = сумма проводок, не меньше нуля, проводки целы."""
    _setup()
    bad = check_ledger(db.session)
    bad_certs = check_certificates(db.session)
    total = db.session.scalar(select(func.count()).select_from(Account))
    certs = db.session.scalar(select(func.count()).select_from(GiftCertificate))
    if bad:
        click.echo(f"Расхождения: {plural(len(bad), 'счёт', 'счёта', 'счетов')} из {total}:")
        for d in bad:
            click.echo(f"  tenant={d.tenant_id} account={d.account_id} customer={d.customer_id} "
                       f"cached={d.cached} postings={d.postings} lots={d.lots}")
    if bad_certs:
        click.echo(f"Расхождения в сертификатах: "
                   f"{plural(len(bad_certs), 'сертификат', 'сертификата', 'сертификатов')} из {certs}:")
        for c in bad_certs:
            click.echo(f"  tenant={c.tenant_id} certificate={c.certificate_id} number={c.number} "
                       f"cached={c.cached} postings={c.postings} problems={','.join(c.problems)}")
    if bad or bad_certs:
        sys.exit(1)
    if total == 0:
        click.echo("Счетов пока нет: проверять нечего.")
    else:
        click.echo(f"Все счета сходятся: {plural(total, 'счёт', 'счёта', 'счетов')}.")


@main.group()
def automation() -> None:
    """Плановая работа (сгорание бонусов и другие периодические проверки)."""


@automation.command("run")
@click.option("--at", "at", default=None, help="момент ISO 8601 (по умолчанию: сейчас)")
@click.option("--tenant", "tenant_ref", default=None, help=TENANT_HELP + " (по умолчанию: все)")
@click.option("--queued", is_flag=True, help="передать в очередь задач (rq, если задан REDIS_URL)")
def automation_run(at: str | None, tenant_ref: str | None, queued: bool) -> None:
    """Выполнить всё, что должно было произойти к моменту."""
    _setup()
    tenant_id = resolve_tenant_id(tenant_ref) if tenant_ref is not None else None
    if at:
        try:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise click.BadParameter("нужен ISO 8601, например 2026-12-31T00:00:00+03:00") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
    else:
        moment = utcnow()
    if queued:
        job = get_queue().enqueue(run_automation, moment.isoformat(), tenant_id)
        click.echo(json.dumps({"queued": getattr(job, "id", None)} if hasattr(job, "id") else job,
                              ensure_ascii=False))
        return
    result = run_due(db.session, moment, tenant_id)
    click.echo(json.dumps(result, ensure_ascii=False))


@automation.command("schedule")
@click.option("--every", default=15, show_default=True, type=click.IntRange(1, 1440), help="минут между запусками")
@click.option("--parent", type=int, default=None, hidden=True, help="завершиться вместе с этим процессом")
def automation_schedule(every: int, parent: int | None) -> None:
    """Запускать все проверки сейчас и затем по расписанию, а между ними собирать выгрузки из
    очереди, пока не остановят (без Redis; `kopilka serve` запускает это сам). С Redis —
    ставить проверки в очередь rq, если этот процесс выбран планировщиком (один на все хосты)."""
    import signal
    from datetime import timedelta

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    configure_logs()
    config = Config()
    if config.REDIS_URL:        # it only enqueues: the workers that run the jobs need the database
        schedule_with_redis(config, stop, every=timedelta(minutes=every))
        return
    run_periodically(stop, timedelta(minutes=every), parent=parent, poll=build_queued_exports_job)


@main.command()
@click.option("--burst", is_flag=True, help="выполнить то, что в очереди, и завершиться")
def worker(burst: bool) -> None:
    """Запустить обработчик очереди rq (нужен REDIS_URL) с периодическими проверками."""
    config = Config()
    problem = config.startup_problem()
    if problem:
        raise CliError(problem)
    _setup(config)
    if not config.REDIS_URL:
        raise CliError("REDIS_URL не задан: без Redis задачи выполняются в процессе, "
                       "а периодические проверки запускает `kopilka automation run` (cron).")
    from rq import Worker

    configure_logs()
    queue = worker_queue(config)
    stop = threading.Event()
    scheduler = None
    if not burst:
        # Every worker stands for election; only the elected one enqueues the periodic runs,
        # so any number of workers on any number of hosts share one schedule.
        scheduler = threading.Thread(target=schedule_with_redis, args=(config, stop),
                                     name="kopilka-scheduler", daemon=True)
        scheduler.start()
    try:
        Worker([queue], connection=queue.connection).work(burst=burst, with_scheduler=True)
    finally:
        stop.set()              # give up the lease now: another worker takes over at once
        if scheduler is not None:
            scheduler.join(timeout=5)


@main.group("secrets")
def secrets_group() -> None:
    """Ключи шифрования учётных данных подключений."""


@secrets_group.command("generate-key")
def secrets_generate_key() -> None:
    """Показать новый ключ для KOPILKA_ENCRYPTION_KEY."""
    click.echo(generate_key())


@secrets_group.command("rotate")
def secrets_rotate() -> None:
    """Перешифровать все учётные данные первым ключом из KOPILKA_ENCRYPTION_KEY."""
    config = _setup()
    if config.ENCRYPTION_KEY:
        problem = encryption_key_problem(config.ENCRYPTION_KEY)
        if problem:
            raise CliError(problem)
    result = rotate_all(db.session, config)
    db.session.commit()
    click.echo(f"Перешифровано: {plural(result.rotated, 'запись', 'записи', 'записей')} "
               f"с учётными данными.")
    if result.unreadable:
        click.echo(f"Не расшифровываются ни одним ключом: "
                   f"{plural(len(result.unreadable), 'запись', 'записи', 'записей')} — "
                   f"помечены «нужны новые учётные данные»:")
        for item in result.unreadable:
            click.echo(f"  {item}")
        sys.exit(1)


# The command groups of the hub's areas and of the adapters, by name.
COMMAND_GROUPS = (connection_commands, moysklad_commands, evotor_commands, onec_commands, messages.cli,
                  mechanics.cli, users.cli, wallet.cli, analytics.cli)
for _group in COMMAND_GROUPS:
    main.add_command(_group)

if __name__ == "__main__":
    main()
