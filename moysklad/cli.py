"""`kopilka moysklad …`: connect an account's Loyalty API and subscribe to its webhooks."""
from __future__ import annotations

import json

import click

from hub.extensions import db
from hub.cli.support import cli_session as _session
from moysklad.vendor import VendorError, get_moysklad_connection
from moysklad.vendor import register_loyalty
from connectors.http import OutboundError
from moysklad.jsonapi.client import NotConfigured, subscribe


@click.group("moysklad")
def cli() -> None:
    """МойСклад: регистрация Loyalty API и подписка на вебхуки JSON API."""


@cli.command("register-loyalty")
@click.option("--connection", "connection_id", required=True, help="ID подключения МойСклад")
@click.option("--app-id", "app_id", required=True, help="appId решения МойСклад (UUID)")
@click.option("--url", "base_url", required=True,
              help="публичный адрес хаба, например https://kopilka.example.ru")
@click.option("--no-external-search", is_flag=True, help="МойСклад ищет покупателей сам (без внешнего поиска)")
def register_loyalty_cmd(connection_id: str, app_id: str, base_url: str, no_external_search: bool) -> None:
    """Выпустить новый токен подключения и зарегистрировать адрес и токен в МойСклад (Vendor API)."""
    session = _session()
    try:
        result = register_loyalty(session, connection_id, app_id, base_url,
                                  external_search=not no_external_search)
    except VendorError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.session.remove()
    click.echo(json.dumps(result, ensure_ascii=False))


@cli.command("subscribe")
@click.option("--connection", "connection_id", required=True, help="ID подключения МойСклад")
@click.option("--url", "public_url", required=True,
              help="публичный адрес хаба, например https://kopilka.example.ru")
def subscribe_cmd(connection_id: str, public_url: str) -> None:
    """Создать вебхуки (CREATE retaildemand и retailsalesreturn) на адрес хаба с новым секретом
    в URL (каждый запуск меняет секрет; старый адрес после этого отвечает 404)."""
    session = _session()
    try:
        conn = get_moysklad_connection(session, connection_id)
        done = subscribe(session, conn, public_url)
    except (VendorError, NotConfigured) as exc:
        raise click.ClickException(str(exc)) from exc
    except OutboundError as exc:
        raise click.ClickException(f"МойСклад отказал: HTTP {exc.status} {exc.body or ''}; "
                                   "повторите subscribe".strip()) from exc
    finally:
        db.session.remove()
    for row in done:
        click.echo(json.dumps(row, ensure_ascii=False))
