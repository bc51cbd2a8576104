"""Configuration from the environment, with the embedded default when nothing is set."""
from __future__ import annotations

import os
from pathlib import Path

# The Flask secret of the embedded default only: outside SQLite the hub refuses to start
# without an explicitly set SECRET_KEY (Config.startup_problem).
DEV_SECRET_KEY = "kopilka-dev-secret"


def default_home() -> Path:
    """The instance's folder: $KOPILKA_HOME, or `instance` in the current folder."""
    return Path(os.environ.get("KOPILKA_HOME", Path.cwd() / "instance"))


def default_database_url() -> str:
    # Nothing is created here: only `kopilka serve` and `kopilka db upgrade` may create the
    # embedded database (hub.cli.support.configure_database); any other command run outside
    # the instance's folder says where it looked instead of starting an empty database.
    return f"sqlite:///{default_home() / 'kopilka.sqlite3'}"


SUPPORTED_DATABASES = ("postgresql", "sqlite")
URL_EXAMPLE = "postgresql+psycopg://пользователь:пароль@хост:5432/база или sqlite:///путь/kopilka.sqlite3"


def database_url_problem(url: str) -> str | None:
    """One Russian line if DATABASE_URL cannot be used (not a URL, a database the hub does not
    support, a driver that is not installed), or None. The value itself is not repeated: it
    may hold a password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError):
        return f"DATABASE_URL не разобрать как адрес базы данных; нужен вид {URL_EXAMPLE}."
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        return (f"DATABASE_URL: база «{backend}» не поддерживается; Копилка работает с PostgreSQL "
                f"или SQLite ({URL_EXAMPLE}).")
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        return (f"DATABASE_URL: драйвер «{parsed.drivername}» не установлен; для PostgreSQL "
                f"используйте postgresql+psycopg://….")
    return None


def sqlite_file(url: str) -> Path | None:
    """The file of a file-based SQLite URL (None for other databases and in-memory SQLite)."""
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:") \
            or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def encryption_keys(value: str) -> list[str]:
    """KOPILKA_ENCRYPTION_KEY split into its keys (comma-separated, the first one encrypts)."""
    return [k.strip() for k in value.split(",") if k.strip()]


def encryption_key_problem(value: str) -> str | None:
    """A Russian line if KOPILKA_ENCRYPTION_KEY holds something that is not a Fernet key."""
    from cryptography.fernet import Fernet
    keys = encryption_keys(value)
    if not keys:
        return "KOPILKA_ENCRYPTION_KEY пуст: нужен ключ Fernet (`kopilka secrets generate-key`)."
    for number, key in enumerate(keys, 1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            where = f"ключ №{number}" if len(keys) > 1 else "значение"
            return (f"KOPILKA_ENCRYPTION_KEY: {where} не является ключом Fernet "
                    f"(32 байта в base64; создайте командой `kopilka secrets generate-key`).")
    return None


class Config:
    def __init__(self, **overrides):
        env = os.environ
        self.DATABASE_URL = env.get("DATABASE_URL") or default_database_url()
        self.REDIS_URL = env.get("REDIS_URL") or None          # None: jobs run inline
        self.SECRET_KEY = env.get("SECRET_KEY") or DEV_SECRET_KEY
        # Fernet key(s) for stored credentials, comma-separated: the first encrypts, all decrypt
        # (rotation: put the new key first, run `kopilka secrets rotate`, then drop the old one).
        # Unset on SQLite: a key generated once into the database's folder (hub.secrets).
        self.ENCRYPTION_KEY = env.get("KOPILKA_ENCRYPTION_KEY") or None
        self.PUBLIC_URL = env.get("KOPILKA_PUBLIC_URL", "http://127.0.0.1:8000")
        self.SQL_ECHO = env.get("SQL_ECHO") == "1"
        # Evotor: the app token(s) set in Evotor's developer console (comma-separated when the
        # hub serves several Evotor apps) and the cloud API the hub calls.
        self.EVOTOR_APP_TOKEN = env.get("EVOTOR_APP_TOKEN") or None
        self.EVOTOR_API_BASE = env.get("EVOTOR_API_BASE", "https://api.evotor.ru")
        for key, value in overrides.items():
            setattr(self, key, value)

    @property
    def embedded(self) -> bool:
        """The single-shop default: a SQLite database (no secrets to configure)."""
        return self.DATABASE_URL.startswith("sqlite")

    def startup_problem(self) -> str | None:
        """One Russian line saying what must be set before the hub may start, or None.

        On the embedded SQLite default nothing is required; on any other database the Flask
        secret and the credentials key must be set explicitly."""
        problem = database_url_problem(self.DATABASE_URL)
        if problem:
            return problem
        if not self.embedded:
            missing = []
            if not self.SECRET_KEY or self.SECRET_KEY == DEV_SECRET_KEY:
                missing.append("SECRET_KEY")
            if not self.ENCRYPTION_KEY:
                missing.append("KOPILKA_ENCRYPTION_KEY")
            if missing:
                names = " и ".join(missing)
                return (f"Не задан{'ы' if len(missing) > 1 else ''} {names}: вне встроенной базы SQLite "
                        f"Копилка не запускается без явно заданных секретов "
                        f"(ключ шифрования создаётся командой `kopilka secrets generate-key`).")
        if self.ENCRYPTION_KEY:
            return encryption_key_problem(self.ENCRYPTION_KEY)
        return None

    def as_flask(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
