"""`kopilka analytics …`: rebuild the rollups from receipts and returns, and check that
rollups plus pending deltas equal the direct aggregation (specs/analytics.md §8.5). Added to
`kopilka` by hub.cli.main."""
from __future__ import annotations

import sys

import click
from sqlalchemy import select

from hub.analytics.operations import rebuild as rebuild_rollups
from hub.analytics.queries import check as check_rollups
from hub.cli.support import configure_database, resolve_tenant_id
from hub.extensions import db
from hub.programs.operations import get_program
from hub.tenants.models import Tenant


@click.group("analytics")
def cli() -> None:
    """Аналитика: пересборка и проверка сводных таблиц."""


def _tenants(tenant_ref: str | None) -> list[str]:
    configure_database()
    if tenant_ref:
        return [resolve_tenant_id(tenant_ref)]
    return list(db.session.scalars(select(Tenant.id).order_by(Tenant.id)))


@cli.command("rebuild")
@click.option("--tenant", "tenant_ref", default=None, help="ID или название организации (по умолчанию все)")
def rebuild(tenant_ref: str | None) -> None:
    """Пересобрать сводные таблицы из чеков и возвратов."""
    for tenant_id in _tenants(tenant_ref):
        rows = rebuild_rollups(db.session, tenant_id, get_program(db.session, tenant_id).timezone)
        click.echo(f"tenant={tenant_id}: строк сводки {rows}")


@cli.command("check")
@click.option("--tenant", "tenant_ref", default=None, help="ID или название организации (по умолчанию все)")
def check(tenant_ref: str | None) -> None:
    """Сверить сводные таблицы (с необработанными изменениями) с чеками и возвратами; код 1 при расхождении."""
    bad = 0
    for tenant_id in _tenants(tenant_ref):
        for month, measure, stored, direct in check_rollups(db.session, tenant_id,
                                                            get_program(db.session, tenant_id).timezone):
            bad += 1
            click.echo(f"tenant={tenant_id} month={month} {measure}: в сводке {stored}, по чекам {direct}")
    db.session.rollback()
    if bad:
        sys.exit(1)
    click.echo("Сводные таблицы сходятся с чеками.")
