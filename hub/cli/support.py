"""What every `kopilka` command group needs, kept apart from hub.cli so that adapters' command
groups can import it without importing the command tree (which imports the adapters)."""
from __future__ import annotations

from datetime import datetime, timezone

import click
from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.errors import DomainError
from hub.extensions import db
from hub.tenants.operations import resolve_tenant
from hub.config import Config, database_url_problem, default_home, sqlite_file


class CliError(click.ClickException):
    """One Russian line on stderr, exit code 1."""

    def show(self, file=None) -> None:
        click.echo(f"Ошибка: {self.format_message()}", err=True, file=file)


def configure_database(config=None, create: bool = False):
    """Configure the engine of a command from DATABASE_URL (or the embedded default) and
    return the Config. A URL that cannot be used is one line; a SQLite file that does not
    exist is created only by the commands that set an instance up (`create`: `kopilka serve`,
    `kopilka db upgrade`): any other command says where it looked and how to point it."""
    import os

    config = config or Config()
    problem = database_url_problem(config.DATABASE_URL)
    if problem:
        raise CliError(problem)
    path = sqlite_file(config.DATABASE_URL)
    config.database_created = False
    if path is not None and not path.exists():
        if not create:
            if os.environ.get("DATABASE_URL"):
                where = "её путь задан в DATABASE_URL"
            elif os.environ.get("KOPILKA_HOME"):
                where = "папка экземпляра задана в KOPILKA_HOME"
            else:
                where = f"искали папку экземпляра «instance» в текущей папке {os.getcwd()}"
            raise CliError(
                f"база данных не найдена: нет файла {path} ({where}). Запустите команду из папки, "
                f"где запускали `kopilka serve`, или укажите папку экземпляра в KOPILKA_HOME "
                f"(сейчас {default_home()}), или базу в DATABASE_URL; новую базу создают "
                f"`kopilka serve` и `kopilka db upgrade`.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            import errno
            reason = {errno.ENOENT: "нет такого пути", errno.EACCES: "нет прав", errno.EPERM: "нет прав",
                      errno.EROFS: "файловая система только для чтения",
                      errno.ENOTDIR: "часть пути — не папка"}.get(exc.errno, exc.strerror)
            raise CliError(f"не удаётся создать папку базы данных {path.parent}: {reason}; "
                           f"укажите другую в KOPILKA_HOME или базу в DATABASE_URL.") from None
        config.database_created = True
    db.configure(config.DATABASE_URL, echo=getattr(config, "SQL_ECHO", False))
    return config


def schema_missing(exc: BaseException) -> bool:
    """Whether a database error means the schema is not there or older than the code (a
    database nobody ran `kopilka db upgrade` on): PostgreSQL's undefined table/column,
    SQLite's "no such table/column"."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in ("42P01", "42703"):
        return True
    text = str(orig or "")
    return text.startswith(("no such table", "no such column")) or " has no column named " in text


def cli_session() -> Session:
    """The database session of a command (the `kopilka` group registered the sweeps and handlers), the engine
    configured from the environment (configure_database)."""
    configure_database()
    return db.session


def parse_since(value: str) -> datetime:
    """A CLI moment: ISO 8601 (UTC when no offset), milliseconds since the epoch, or "2d" /
    "6h" ago. Anything else (or out of range) is click's BadParameter, never a traceback."""
    from datetime import timedelta
    value = (value or "").strip()
    try:
        if value[:-1].isdigit() and value[-1:] in ("d", "h"):
            amount = int(value[:-1])
            return utcnow() - (timedelta(days=amount) if value[-1] == "d" else timedelta(hours=amount))
        if value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, timezone.utc)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise click.BadParameter(f"«{value[:40]}»: нужно время ISO 8601, миллисекунды или 2d/6h") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# click's own words (usage, help headings, parameter errors) in Russian. click takes every such
# string through gettext (`from gettext import gettext as _` in each of its modules); a small
# catalog swapped in for those names makes `kopilka --help`, an unknown command or a bad option
# Russian without a compiled .mo file or a process-wide textdomain.
CLICK_RU = {
    "Aborted!": "Прервано.",
    "deprecated": "устарело",
    "Options": "Параметры",
    "Positional arguments": "Аргументы",
    "Commands": "Команды",
    "Missing command.": "Не указана команда.",
    "Value must be an iterable.": "Нужен список значений.",
    "env var: {var}": "переменная окружения: {var}",
    "default: {default}": "по умолчанию: {default}",
    "(dynamic)": "(вычисляется)",
    "required": "обязательно",
    "Do you want to continue?": "Продолжить?",
    "Confirm the action without prompting.": "Подтвердить действие без вопроса.",
    "%(prog)s, version %(version)s": "%(prog)s, версия %(version)s",
    "Show the version and exit.": "Показать версию и выйти.",
    "Show this message and exit.": "Показать эту справку и выйти.",
    "Error: {message}": "Ошибка: {message}",
    "Try '{command} {option}' for help.": "Справка: {command} {option}",
    "Invalid value: {message}": "Недопустимое значение: {message}",
    "Invalid value for {param_hint}: {message}": "Недопустимое значение для {param_hint}: {message}",
    "Missing argument": "Не указан аргумент",
    "Missing option": "Не указан параметр",
    "Missing parameter": "Не указан параметр",
    "Missing {param_type}": "Не указан {param_type}",
    "Missing parameter: {param_name}": "Не указан параметр {param_name}",
    "No such option {name!r}.": "Нет такого параметра: «{name}».",
    "No such command {name!r}.": "Нет такой команды: «{name}».",
    "unknown error": "неизвестная ошибка",
    "Could not open file {filename!r}: {message}": "Не удаётся открыть файл {filename}: {message}",
    "Usage:": "Использование:",
    "Invalid start character for option ({option})": "Недопустимый первый символ параметра ({option})",
    "Argument {name!r} takes {nargs} values.": "Аргумент {name} принимает значений: {nargs}.",
    "Option {name!r} does not take a value.": "Параметр {name} не принимает значения.",
    "Choose from:\n\t{choices}": "Выберите из:\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "«{value}» — не число.",
    "{value} is not in the range {range}.": "{value} вне допустимого диапазона {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "«{value}» — не логическое значение; допустимо: {states}",
    "{value!r} is not a valid UUID.": "«{value}» — не UUID.",
    "file": "Файл", "directory": "Папка", "path": "Путь",
    "{name} {filename!r} does not exist.": "{name} {filename} не существует.",
    "{name} {filename!r} is a file.": "{name} {filename} — это файл.",
    "{name} {filename!r} is a directory.": "{name} {filename} — это папка.",
    "{name} {filename!r} is not readable.": "{name} {filename} не читается.",
    "{name} {filename!r} is not writable.": "{name} {filename} недоступен для записи.",
    "{name} {filename!r} is not executable.": "{name} {filename} не исполняемый.",
    "Repeat for confirmation": "Повторите для подтверждения",
    "Error: The two entered values do not match.": "Ошибка: введённые значения не совпадают.",
    "Error: invalid input": "Ошибка: недопустимый ввод",
    "Press any key to continue...": "Нажмите любую клавишу…",
}
# Plural messages: (singular, plural) -> (one, many); Russian needs no number agreement here
# because each line names the count in a form that reads for any number.
CLICK_RU_N = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("Лишний аргумент ({args})", "Лишние аргументы ({args})"),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("Нужно значений: {nargs}, передано: 1.", "Нужно значений: {nargs}, передано: {len}."),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("Возможно, имелось в виду {possibility}?", "(Возможно, имелось в виду одно из: {possibilities}?)"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("Параметру {name} нужно значение.", "Параметру {name} нужно значений: {nargs}."),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("«{value}» — не {choice}.", "«{value}» — не одно из значений: {choices}."),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("«{value}» не в формате {format}.", "«{value}» не в одном из форматов {formats}."),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("Нужно значений: {len_type}, передано: {len_value}.", "Нужно значений: {len_type}, передано: {len_value}."),
}
# Metavars of parameter types and the usage line's placeholders.
CLICK_RU_METAVARS = {"TEXT": "ТЕКСТ", "INTEGER": "ЧИСЛО", "INTEGER RANGE": "ЧИСЛО", "FLOAT": "ЧИСЛО",
                     "FLOAT RANGE": "ЧИСЛО", "BOOLEAN": "ДА|НЕТ", "UUID": "UUID", "FILENAME": "ФАЙЛ",
                     "FILE": "ФАЙЛ", "PATH": "ПУТЬ", "DIRECTORY": "ПАПКА", "DATETIME": "ВРЕМЯ"}
CLICK_RU_USAGE = (("[OPTIONS]", "[ПАРАМЕТРЫ]"), ("COMMAND [ARGS]...", "КОМАНДА [АРГУМЕНТЫ]..."),
                  ("[COMMAND] [ARGS]...", "[КОМАНДА] [АРГУМЕНТЫ]..."))


def _ru(message: str) -> str:
    return CLICK_RU.get(message, message)


def _ru_n(singular: str, plural_: str, n: int) -> str:
    one, many = CLICK_RU_N.get((singular, plural_), (singular, plural_))
    return one if n == 1 else many


def russify_click() -> None:
    """Swap click's gettext for the catalog above (idempotent; done when the CLI is imported)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.termui
    import click.types
    if getattr(click.core, "_kopilka_ru", False):
        return
    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser,
                   click.termui, click.types):
        if hasattr(module, "_"):
            module._ = _ru
        if hasattr(module, "ngettext"):
            module.ngettext = _ru_n
    make_metavar = click.core.Parameter.make_metavar

    def russian_metavar(self, ctx):
        metavar = make_metavar(self, ctx)
        base, dots = (metavar[:-3], "...") if metavar.endswith("...") else (metavar, "")
        return CLICK_RU_METAVARS.get(base, base) + dots

    click.core.Parameter.make_metavar = russian_metavar
    write_usage = click.formatting.HelpFormatter.write_usage

    def russian_usage(self, prog, args="", prefix=None):
        for english, russian in CLICK_RU_USAGE:
            args = args.replace(english, russian)
        return write_usage(self, prog, args, prefix)

    click.formatting.HelpFormatter.write_usage = russian_usage
    click.core._kopilka_ru = True


russify_click()


def resolve_tenant_id(ref: str) -> str:
    """`--tenant` takes a tenant's id or its name; an unknown one ends the command (exit 1)."""
    try:
        return resolve_tenant(db.session, ref).id
    except DomainError as exc:
        raise CliError(exc.message) from None


def _moment(value) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
