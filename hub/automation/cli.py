"""`kopilka mechanics …`: segments, the win-back gift proposal, results per mechanic.

(The sweep itself runs with `kopilka automation run --at MOMENT`.)"""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import click

from hub.cli_support import cli_session as _session


def _tenant(ref: str) -> str:
    from hub.cli import resolve_tenant_id
    return resolve_tenant_id(ref)


@click.group("mechanics")
def cli() -> None:
    """Сегменты, реанимация и результаты механик автоматизации."""


@cli.command("segments")
@click.option("--tenant", "tenant_ref", required=True, help="ID или название организации")
@click.option("--recompute", is_flag=True, help="пересчитать сегменты сейчас")
def segments_cmd(tenant_ref: str, recompute: bool) -> None:
    """Сегменты по давности покупок (RFM) и число клиентов в каждом."""
    from hub.automation.segments import recompute as do_recompute, segment_counts
    from hub.clock import utcnow
    from hub.services.programs import get_program
    session = _session()
    tid = _tenant(tenant_ref)
    if recompute:
        do_recompute(session, tid, get_program(session, tid).timezone, utcnow())
    for code, row in segment_counts(session, tid).items():
        click.echo(f"{row['name']:<15} {row['count']:>9}  {row['share']:>6}%  ({code})")


@cli.command("propose-gift")
@click.option("--check", "check", default=None, help="средний чек, ₽ (по умолчанию: средний чек магазина за год)")
@click.option("--margin", required=True, help="валовая маржа, %")
@click.option("--share", required=True, help="доля маржи на возврат клиента, %")
@click.option("--tenant", "tenant_ref", default=None, help="для среднего чека магазина")
def propose_cmd(check: str | None, margin: str, share: str, tenant_ref: str | None) -> None:
    """Размер подарка для реанимации: чек × маржа × доля (900 × 40% × 50% = 180)."""
    from hub.automation.chains import average_check, propose_gift
    from hub.clock import utcnow
    try:
        if check is not None:
            kopecks = int(Decimal(check) * 100)
        elif tenant_ref:
            kopecks = average_check(_session(), _tenant(tenant_ref), utcnow())
        else:
            raise click.BadParameter("укажите --check или --tenant", param_hint="--check")
        gift = propose_gift(kopecks, Decimal(margin), Decimal(share))
    except (InvalidOperation, ValueError) as exc:
        raise click.BadParameter(f"нужны числа, проценты от 0 до 100 ({exc})") from None
    click.echo(f"Средний чек {kopecks / 100:g} ₽ → подарок {gift // 100} бонусов")


@cli.command("stats")
@click.option("--tenant", "tenant_ref", required=True, help="ID или название организации")
@click.option("--days", default=30, show_default=True, help="за сколько последних дней")
def stats_cmd(tenant_ref: str, days: int) -> None:
    """Конверсия, выручка, затраты и прибыль по механикам (JSON, суммы в копейках)."""
    from hub.automation.stats import mechanic_stats
    from hub.clock import utcnow
    session = _session()
    now = utcnow()
    click.echo(json.dumps(mechanic_stats(session, _tenant(tenant_ref), now - timedelta(days=days), now),
                          ensure_ascii=False, indent=2))
