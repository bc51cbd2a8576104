"""The `kopilka` command."""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone

import click
from sqlalchemy import func, select

from hub.clock import utcnow
from hub.config import Config
from hub.extensions import db


def _setup(config: Config | None = None) -> Config:
    from hub.adapters import load_adapters
    load_adapters()
    config = config or Config()
    db.configure(config.DATABASE_URL, echo=config.SQL_ECHO)
    return config


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


@click.group()
def main() -> None:
    """Kopilka: loyalty programs and POS integration hub."""


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations up to the newest schema."""
    from hub.db import upgrade
    _setup()
    upgrade(db.engine)
    click.echo("Схема базы данных обновлена.")


def _demo_key(config: Config) -> str | None:
    """On the embedded default, the first start creates a demo tenant and keeps its key
    in the instance folder so that later starts can show it again."""
    from hub.models import Tenant
    from hub.services.programs import put_program
    from hub.services.tenants import create_tenant
    if not config.DATABASE_URL.startswith("sqlite"):
        return None
    path = os.path.join(os.path.dirname(config.DATABASE_URL.split("///", 1)[1]), "demo-api-key.txt")
    session = db.session
    if session.scalar(select(func.count()).select_from(Tenant)) == 0:
        tenant, key = create_tenant(session, "Демо-магазин")
        session.commit()
        put_program(session, tenant.id, DEMO_PROGRAM)
        with open(path, "w") as fh:
            fh.write(key + "\n")
        os.chmod(path, 0o600)
    db.session.remove()
    if os.path.exists(path):
        with open(path) as fh:
            return fh.read().strip()
    return None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn workers (default: by database)")
def serve(host: str, port: int, workers: int | None) -> None:
    """Apply migrations and start the hub (gunicorn where available)."""
    from hub.app import create_app
    from hub.db import upgrade
    config = _setup()
    upgrade(db.engine)
    key = _demo_key(config)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    click.echo(f"Kopilka запущена: {base}")
    click.echo(f"  Справочник API:     {base}/api/v1/docs")
    click.echo(f"  OpenAPI:            {base}/api/v1/openapi.json")
    click.echo(f"  Проверка здоровья:  {base}/health")
    if key:
        click.echo(f"  API-ключ демо-магазина: {key}")
        click.echo(f"  Пример: curl -H 'Authorization: Bearer {key}' {base}/api/v1/program")
    click.echo(f"  База данных: {config.DATABASE_URL.split('@')[-1]}")
    click.echo(f"  Фоновые задачи: {'rq на ' + config.REDIS_URL if config.REDIS_URL else 'в процессе (без Redis)'}")
    sys.stdout.flush()
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        create_app(config).run(host=host, port=port)
        return
    sqlite = config.DATABASE_URL.startswith("sqlite")

    class HubServer(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers or (1 if sqlite else 2 * (os.cpu_count() or 1) + 1))
            self.cfg.set("threads", 4 if sqlite else 1)
            self.cfg.set("accesslog", None)

        def load(self):
            return create_app(config)

    HubServer().run()


@main.group()
def tenant() -> None:
    """Tenants (businesses)."""


@tenant.command("create")
@click.option("--name", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
def tenant_create(name: str, as_json: bool) -> None:
    """Create a tenant and print its id and a new API key (shown once)."""
    from hub.services.tenants import create_tenant
    _setup()
    t, key = create_tenant(db.session, name)
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"tenant_id": t.id, "name": t.name, "api_key": key}, ensure_ascii=False))
    else:
        click.echo(f"Организация: {t.name}\nID: {t.id}\nAPI-ключ (показывается один раз): {key}")


@main.group()
def apikey() -> None:
    """API keys."""


@apikey.command("create")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--name", default="")
def apikey_create(tenant_id: str, name: str) -> None:
    """Issue a new API key for a tenant (shown once)."""
    from hub.errors import DomainError
    from hub.services.tenants import create_api_key
    _setup()
    try:
        key = create_api_key(db.session, tenant_id, name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(key)


@main.command("check-ledger")
def check_ledger_cmd() -> None:
    """Prove cached balance = sum of postings = sum of lots' remainders for every account."""
    from hub.ledger import check_ledger
    from hub.models import Account
    _setup()
    bad = check_ledger(db.session)
    total = db.session.scalar(select(func.count()).select_from(Account))
    if bad:
        click.echo(f"Расхождения в {len(bad)} из {total} счетов:")
        for d in bad:
            click.echo(f"  tenant={d.tenant_id} account={d.account_id} customer={d.customer_id} "
                       f"cached={d.cached} postings={d.postings} lots={d.lots}")
        sys.exit(1)
    click.echo(f"Все {total} счетов сходятся.")


@main.group()
def automation() -> None:
    """Scheduled work (expiry; later: birthdays, win-back chains)."""


@automation.command("run")
@click.option("--at", "at", default=None, help="ISO 8601 moment (default: now)")
@click.option("--tenant", "tenant_id", default=None)
@click.option("--queued", is_flag=True, help="Hand the run to the job queue (rq when REDIS_URL is set)")
def automation_run(at: str | None, tenant_id: str | None, queued: bool) -> None:
    """Run everything due up to the moment."""
    from hub.services.automation import run_due
    _setup()
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
        from hub.jobs import get_queue
        from hub.jobs.tasks import run_automation
        job = get_queue().enqueue(run_automation, moment.isoformat(), tenant_id)
        click.echo(json.dumps({"queued": getattr(job, "id", None)} if hasattr(job, "id") else job,
                              ensure_ascii=False))
        return
    result = run_due(db.session, moment, tenant_id)
    click.echo(json.dumps(result, ensure_ascii=False))


@main.command()
@click.option("--burst", is_flag=True, help="Process what is queued, then exit")
def worker(burst: bool) -> None:
    """Run an rq worker (needs REDIS_URL) that also schedules the periodic sweeps."""
    config = _setup()
    if not config.REDIS_URL:
        raise click.ClickException("REDIS_URL не задан: без Redis задачи выполняются в процессе, "
                                   "а периодические проверки запускает `kopilka automation run` (cron).")
    from rq import Worker

    from hub.jobs import get_queue
    from hub.jobs.tasks import run_automation
    queue = get_queue(config)
    if not burst:
        queue.enqueue(run_automation, reschedule=True)
    Worker([queue], connection=queue.connection).work(burst=burst, with_scheduler=True)


def _add_adapter_commands() -> None:
    from hub.adapters import adapter_commands
    for group in adapter_commands():
        main.add_command(group)


_add_adapter_commands()

if __name__ == "__main__":
    main()
