"""`kopilka wallet …`: a tenant's Apple Wallet pass identity (Pass Type ID certificate and
key, Apple's WWDR certificate). Added to `kopilka` by hub.cli.main."""
from __future__ import annotations

from pathlib import Path

import click

from hub.extensions import db
from hub.cli.support import resolve_tenant_id
from hub.cli.support import CliError
from hub.cli.support import configure_database
from hub.wallet.operations import remove as drop
from hub.wallet.operations import usable
from hub.wallet.operations import configure as save
from hub.errors import DomainError
from hub.clock import utcnow


@click.group("wallet")
def cli() -> None:
    """Карта участника в Apple Wallet (.pkpass): сертификат организации."""


def _session_for(tenant_ref: str):
    configure_database()
    return db.session, resolve_tenant_id(tenant_ref)


def _read(path: str | None) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"Не удалось прочитать файл {path}: {exc.strerror or exc}.") from None


@cli.command("configure")
@click.option("--tenant", "tenant_ref", required=True, help="ID или название организации")
@click.option("--pass-type-id", required=True, help="Pass Type ID из Apple Developer, например pass.ru.shop.loyalty")
@click.option("--team-id", required=True, help="Team ID аккаунта Apple Developer (10 знаков)")
@click.option("--cert", "cert_path", required=True, help="сертификат Pass Type ID (PEM)")
@click.option("--key", "key_path", required=True, help="закрытый ключ сертификата (PEM)")
@click.option("--key-password", default=None, help="пароль ключа, если он зашифрован")
@click.option("--wwdr", "wwdr_path", default=None, help="промежуточный сертификат Apple WWDR (PEM)")
def configure(tenant_ref: str, pass_type_id: str, team_id: str, cert_path: str, key_path: str,
              key_password: str | None, wwdr_path: str | None) -> None:
    """Сохранить сертификат и ключ (зашифрованно): участники смогут добавить карту в Apple Wallet."""
    session, tenant_id = _session_for(tenant_ref)
    cert, key, wwdr = _read(cert_path), _read(key_path), _read(wwdr_path)
    try:
        row = save(session, tenant_id, pass_type_id=pass_type_id, team_id=team_id, cert_pem=cert, key_pem=key,
                   wwdr_pem=wwdr, key_password=key_password.encode() if key_password else None, moment=utcnow())
        session.commit()
    except DomainError as exc:
        session.rollback()
        lines = [exc.message] + [f"  {field}: {' '.join(msgs)}" for field, msgs in exc.details.items()]
        raise CliError("\n".join(lines)) from None
    click.echo(f"Apple Wallet настроен: {row.pass_type_id}, команда {row.team_id}.")
    click.echo(f"Сертификат: {row.cert_subject}, действует до {row.cert_expires_at:%d.%m.%Y}.")
    if not wwdr:
        click.echo("Внимание: без сертификата Apple WWDR (--wwdr) iPhone может не принять карту.")


@cli.command("status")
@click.option("--tenant", "tenant_ref", required=True, help="ID или название организации")
def status(tenant_ref: str) -> None:
    """Показать, настроена ли карта Apple Wallet."""
    session, tenant_id = _session_for(tenant_ref)
    found = usable(session, tenant_id)
    if found is None:
        click.echo("Apple Wallet не настроен.")
        return
    row, creds = found
    click.echo(f"Apple Wallet настроен: {row.pass_type_id}, команда {row.team_id}, сертификат {row.cert_subject}, "
               f"действует до {row.cert_expires_at:%d.%m.%Y}" + ("" if creds.get("wwdr") else " (без WWDR)") + ".")


@cli.command("remove")
@click.option("--tenant", "tenant_ref", required=True, help="ID или название организации")
def remove(tenant_ref: str) -> None:
    """Удалить сертификат: кнопка «Добавить в Apple Wallet» пропадёт."""
    session, tenant_id = _session_for(tenant_ref)
    removed = drop(session, tenant_id)
    session.commit()
    click.echo("Настройки Apple Wallet удалены." if removed else "Apple Wallet не был настроен.")
