"""`kopilka connection …` and `kopilka inbox …`."""
from __future__ import annotations

import json

import click

from hub.extensions import db


def _session():
    from hub.config import Config
    db.configure(Config().DATABASE_URL)
    return db.session


@click.group("connection")
def cli() -> None:
    """Connections to МойСклад, Evotor and 1С."""


@cli.command("create")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--kind", required=True, type=click.Choice(("moysklad", "evotor", "onec")))
@click.option("--account", "external_account", required=True, help="their account / user id")
@click.option("--name", default="")
@click.option("--credentials", default="{}", help='JSON, e.g. {"token": "…"} (stored encrypted)')
@click.option("--settings", default="{}", help="JSON")
def create(tenant_id, kind, external_account, name, credentials, settings) -> None:  # noqa: ANN001
    """Create a connection; prints its id and the inbound token (shown once)."""
    from connectors.registry import create_connection, describe
    from hub.errors import DomainError
    try:
        creds, sets = json.loads(credentials), json.loads(settings)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"не JSON: {exc}") from exc
    session = _session()
    try:
        conn, token = create_connection(session, tenant_id, kind=kind, external_account=external_account,
                                        name=name, credentials=creds, settings=sets)
        session.commit()
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(json.dumps({**describe(conn), "inbound_token": token}, ensure_ascii=False))


@cli.command("list")
@click.option("--tenant", "tenant_id", required=True)
def list_(tenant_id) -> None:  # noqa: ANN001
    """List a tenant's connections (credentials are never shown)."""
    from connectors.registry import describe, list_connections
    for conn in list_connections(_session(), tenant_id):
        click.echo(json.dumps(describe(conn), ensure_ascii=False))


@cli.command("inbox")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--status", default=None)
@click.option("--retry", "retry_id", default=None, help="event id to try again")
def inbox_cmd(tenant_id, status, retry_id) -> None:  # noqa: ANN001
    """Show the inbox of inbound events, or retry one."""
    from connectors import inbox
    session = _session()
    if retry_id:
        click.echo(json.dumps(inbox.describe(inbox.retry_event(session, tenant_id, retry_id)),
                              ensure_ascii=False))
        return
    for event in inbox.list_events(session, tenant_id, status):
        click.echo(json.dumps(inbox.describe(event), ensure_ascii=False))
