"""Configuration from the environment, with the embedded default when nothing is set."""
from __future__ import annotations

import os
from pathlib import Path

# The Flask secret of the embedded default only: outside SQLite the hub refuses to start
# without an explicitly set SECRET_KEY (Config.startup_problem).
DEV_SECRET_KEY = "kopilka-dev-secret"


def default_home() -> Path:
    return Path(os.environ.get("KOPILKA_HOME", Path.cwd() / "instance"))


def default_database_url() -> str:
    home = default_home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'kopilka.sqlite3'}"


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
        # Unset on SQLite: a key generated once into the database's folder (connectors.secrets).
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
