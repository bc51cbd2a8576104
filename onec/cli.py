"""`kopilka onec …`: pull posted receipts from a 1С base's OData publication."""
from __future__ import annotations

import json
import click

from hub.clock import utcnow
from hub.extensions import db
from hub.cli.support import cli_session as _session, parse_since
from connectors.http import OutboundError
from onec.odata import NotConfigured, sync
from onec.common import KIND
from hub.connections.queries import connection_row


@click.group("onec")
def cli() -> None:
    """1С: сверка чеков через OData."""


@cli.command("sync")
@click.option("--connection", "connection_id", required=True, help="id подключения onec")
@click.option("--since", required=True, help="с какого момента брать чеки: ISO 8601, 2d, 6h")
@click.option("--until", default=None, help="по какой момент (по умолчанию — сейчас)")
def sync_cmd(connection_id: str, since: str, until: str | None) -> None:
    """Pull posted Document_ЧекККМ (and returns) of the window from the base's standard.odata;
    they go through the inbox, so a document is applied once however often it is pulled."""
    start, end = parse_since(since), parse_since(until) if until else utcnow()
    if start >= end:
        raise click.BadParameter("--since должно быть раньше --until")
    session = _session()
    try:
        conn = connection_row(session, connection_id)
        if conn is None or conn.kind != KIND:
            raise click.ClickException(f"Подключение 1С «{connection_id}» не найдено.")
        result = sync(session, conn, start, end)
    except NotConfigured as exc:
        raise click.ClickException(str(exc)) from exc
    except OutboundError as exc:
        raise click.ClickException(f"OData 1С отказала: {exc} {exc.body or ''}".strip()) from exc
    finally:
        db.session.remove()
    click.echo(json.dumps(result, ensure_ascii=False))
