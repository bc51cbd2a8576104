"""`kopilka connection …`: connections and the inbox of what they send."""
from __future__ import annotations

import json

import click

from hub.cli.support import cli_session as _session
from hub.cli.support import CliError
from connectors import inbox
from hub.errors import DomainError
from connectors.registry import describe, list_connections
from connectors.registry import create_connection
from hub.cli.support import resolve_tenant_id

TENANT_HELP = "ID или название организации"


def _tenant(ref: str) -> str:
    """The tenant's id for `--tenant` (an id or a name); unknown: one line, exit 1."""
    return resolve_tenant_id(ref)


def _error(message: str) -> click.ClickException:
    return CliError(message)


def _json(value: str, option: str) -> dict:
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"не JSON: {exc.msg} (позиция {exc.pos})", param_hint=option) from None
    if not isinstance(data, dict):
        raise click.BadParameter("нужен JSON-объект {…}", param_hint=option)
    return data


@click.group("connection")
def cli() -> None:
    """Подключения к МойСклад, Эвотор и 1С."""


@cli.command("create")
@click.option("--tenant", "tenant_ref", required=True, help=TENANT_HELP)
@click.option("--kind", required=True, type=click.Choice(("moysklad", "evotor", "onec")), help="система")
@click.option("--account", "external_account", required=True, help="учётная запись в той системе")
@click.option("--name", default="", help="название подключения")
@click.option("--credentials", default="{}", help='JSON, например {"token": "…"} (хранится зашифрованным)')
@click.option("--settings", default="{}", help="JSON с настройками")
def create(tenant_ref, kind, external_account, name, credentials, settings) -> None:
    """Создать подключение; показывает его ID и входящий токен (один раз)."""
    creds, sets = _json(credentials, "--credentials"), _json(settings, "--settings")
    session = _session()
    tenant_id = _tenant(tenant_ref)
    try:
        conn, token = create_connection(session, tenant_id, kind=kind, external_account=external_account,
                                        name=name, credentials=creds, settings=sets)
        session.commit()
    except DomainError as exc:
        raise _error(exc.message) from None
    click.echo(json.dumps({**describe(conn), "inbound_token": token}, ensure_ascii=False))


@cli.command("list")
@click.option("--tenant", "tenant_ref", required=True, help=TENANT_HELP)
def list_(tenant_ref) -> None:
    """Подключения организации, по JSON-объекту в строке (учётные данные не показываются;
    credentials_state "needs_new" — их нужно ввести заново)."""
    session = _session()
    connections = list_connections(session, _tenant(tenant_ref))
    for conn in connections:
        click.echo(json.dumps(describe(conn), ensure_ascii=False))
    session.commit()     # connections found unreadable are remembered as needing new credentials
    if not connections:
        click.echo("У организации нет подключений.", err=True)


@cli.command("inbox")
@click.option("--tenant", "tenant_ref", required=True, help=TENANT_HELP)
@click.option("--status", default=None, type=click.Choice(("received", "retry", "done", "failed")),
              help="только события в этом состоянии")
@click.option("--retry", "retry_id", default=None, help="ID события, которое повторить")
def inbox_cmd(tenant_ref, status, retry_id) -> None:
    """Входящие события (вебхуки) организации или повтор одного из них."""
    session = _session()
    tenant_id = _tenant(tenant_ref)
    if retry_id:
        try:
            event = inbox.retry_event(session, tenant_id, retry_id)
        except DomainError as exc:
            raise _error(exc.message) from None
        click.echo(json.dumps(inbox.describe(event), ensure_ascii=False))
        return
    events = inbox.list_events(session, tenant_id, status)
    for event in events:
        click.echo(json.dumps(inbox.describe(event), ensure_ascii=False))
    if not events:
        click.echo("Событий нет.", err=True)
