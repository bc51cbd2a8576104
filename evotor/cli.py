"""`kopilka evotor …`: pull what the Evotor cloud has (catalog and documents) for a user."""
from __future__ import annotations

from typing import TYPE_CHECKING

import json

import click

from hub.extensions import db
from hub.cli.support import cli_session as _session, parse_since
from evotor.client import EvotorCloud, NotConfigured, known_stores, sync_catalog, sync_documents
from connectors.registry import connection_by_account
from connectors.http import OutboundError
from evotor.common import KIND
from hub.connections.queries import connection_row

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    pass


@click.group("evotor")
def cli() -> None:
    """Эвотор: синхронизация с облаком Эвотор."""


@cli.command("sync")
@click.option("--connection", "connection_ref", required=True,
              help="id подключения evotor или идентификатор пользователя Эвотор (01-…)")
@click.option("--since", required=True, help="с какого момента брать документы: ISO 8601, мс, 2d, 6h")
@click.option("--until", default=None, help="по какой момент (по умолчанию — сейчас)")
@click.option("--store", "stores", multiple=True, help="только эти магазины (uuid), можно несколько")
@click.option("--no-catalog", is_flag=True, help="не обновлять магазины, терминалы, сотрудников и товары")
def sync_cmd(connection_ref: str, since: str, until: str | None, stores: tuple, no_catalog: bool) -> None:
    """Забрать из облака магазины, терминалы, сотрудников, товары и документы SELL/PAYBACK;
    документы идут через входящие так же, как вебхуки, и ничто не применяется дважды."""
    start, end = parse_since(since), parse_since(until) if until else None
    session = _session()
    try:
        conn = connection_row(session, connection_ref) or connection_by_account(session, KIND, connection_ref)
        if conn is None or conn.kind != KIND:
            raise click.ClickException(f"Подключение Эвотор «{connection_ref}» не найдено.")
        cloud = EvotorCloud(conn)
        result = {}
        store_ids = list(stores)
        if not no_catalog:
            result["catalog"] = sync_catalog(session, conn, cloud, store_ids or None)
            store_ids = store_ids or result["catalog"]["store_ids"]
        store_ids = store_ids or known_stores(session, conn)
        result["documents"] = sync_documents(session, conn, cloud, store_ids, start, end)
    except NotConfigured as exc:
        raise click.ClickException(str(exc)) from exc
    except OutboundError as exc:
        raise click.ClickException(f"Облако Эвотор отказало: HTTP {exc.status} {exc.body or ''}".strip()) from exc
    finally:
        db.session.remove()
    click.echo(json.dumps(result, ensure_ascii=False))
