"""`kopilka user …`: cabinet users (the first owner is made here; the owner invites the rest
in the cabinet). Added to `kopilka` by hub.cli.main."""
from __future__ import annotations

import secrets

import click

from hub.extensions import db
from hub.web.ui.auth import create_user
from hub.cli.support import CliError, resolve_tenant_id
from hub.cli.support import configure_database
from hub.errors import DomainError


@click.group("user")
def cli() -> None:
    """Пользователи кабинета управления и рабочего места кассира."""


@cli.command("create")
@click.option("--tenant", "tenant_ref", required=True, help="ID или название организации")
@click.option("--email", required=True, help="электронная почта (логин)")
@click.option("--role", default="owner", show_default=True,
              type=click.Choice(("owner", "manager", "readonly", "cashier")), help="роль")
@click.option("--name", default="", help="имя")
@click.option("--password", default=None, help="пароль (не указан: будет создан и показан один раз)")
def create(tenant_ref: str, email: str, role: str, name: str, password: str | None) -> None:
    """Создать пользователя; печатает пароль, если он создан автоматически."""
    configure_database()
    tenant_id = resolve_tenant_id(tenant_ref)
    session = db.session
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        row = create_user(session, tenant_id, email, role, password, name)
        session.commit()
    except DomainError as exc:
        session.rollback()
        raise CliError(exc.message) from None
    click.echo(f"Пользователь {row.email} ({role}) создан.")
    if generated:
        click.echo(f"Пароль (показан один раз): {password}")
    click.echo("Вход: /cabinet/login" if role != "cashier" else "Вход: /cashier/login")
