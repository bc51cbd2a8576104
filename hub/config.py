"""Configuration from the environment, with the embedded default when nothing is set."""
from __future__ import annotations

import os
from pathlib import Path


def default_database_url() -> str:
    home = Path(os.environ.get("KOPILKA_HOME", Path.cwd() / "instance"))
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'kopilka.sqlite3'}"


class Config:
    def __init__(self, **overrides):
        env = os.environ
        self.DATABASE_URL = env.get("DATABASE_URL") or default_database_url()
        self.REDIS_URL = env.get("REDIS_URL") or None          # None: jobs run inline
        self.SECRET_KEY = env.get("SECRET_KEY", "kopilka-dev-secret")
        self.ENCRYPTION_KEY = env.get("KOPILKA_ENCRYPTION_KEY")  # Fernet key for credentials
        self.PUBLIC_URL = env.get("KOPILKA_PUBLIC_URL", "http://127.0.0.1:8000")
        self.SQL_ECHO = env.get("SQL_ECHO") == "1"
        # Evotor: the app token(s) set in Evotor's developer console (comma-separated when the
        # hub serves several Evotor apps) and the cloud API the hub calls.
        self.EVOTOR_APP_TOKEN = env.get("EVOTOR_APP_TOKEN") or None
        self.EVOTOR_API_BASE = env.get("EVOTOR_API_BASE", "https://api.evotor.ru")
        for key, value in overrides.items():
            setattr(self, key, value)

    def as_flask(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
