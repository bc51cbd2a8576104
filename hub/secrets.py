"""Credentials of outside systems, encrypted at rest with keys of their own.

KOPILKA_ENCRYPTION_KEY holds one or more Fernet keys, comma-separated: the first encrypts,
every one decrypts (MultiFernet), so a key is rotated by putting a new key first, running
`kopilka secrets rotate` (re-encrypts every stored credential with the first key) and then
dropping the old key. On the embedded SQLite default, when the variable is unset, a key is
generated once into the database's folder (`credentials.key`, mode 0600).

Besides the configured keys, the key earlier versions derived from SECRET_KEY is accepted for
decryption only, so credentials stored before keys of their own still open (and are moved to
the new key by `kopilka secrets rotate`).
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hub.config import Config, default_home, encryption_keys

log = logging.getLogger("kopilka.secrets")

KEY_FILE = "credentials.key"


class Undecryptable(ValueError):
    """Stored credentials that no configured key opens (the key was lost or replaced)."""


class KeyNotConfigured(RuntimeError):
    """No encryption key outside the embedded default (the server refuses to start earlier)."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _embedded_key_file(config: Config) -> Path:
    url = config.DATABASE_URL
    path = url.split("///", 1)[1] if "///" in url else ""
    folder = Path(path).parent if path and path != ":memory:" else default_home()
    return folder / KEY_FILE


def _embedded_key(config: Config) -> str:
    """The embedded default's own key: read, or generated once (atomically, 0600)."""
    path = _embedded_key_file(config)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:                  # another process wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def _legacy_key(config: Config) -> bytes:
    digest = hashlib.sha256(("kopilka-credentials:" + config.SECRET_KEY).encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _fernet(config: Config | None = None) -> MultiFernet:
    config = config or Config()
    if config.ENCRYPTION_KEY:
        keys = encryption_keys(config.ENCRYPTION_KEY)
    elif config.embedded:
        keys = [_embedded_key(config)]
    else:
        raise KeyNotConfigured("KOPILKA_ENCRYPTION_KEY не задан.")
    fernets = [Fernet(k.encode()) for k in keys]
    legacy = _legacy_key(config)
    if legacy not in {k.encode() for k in keys}:
        fernets.append(Fernet(legacy))
    return MultiFernet(fernets)


def encrypt(data: dict, config: Config | None = None) -> str:
    return _fernet(config).encrypt(json.dumps(data, ensure_ascii=False).encode()).decode()


def decrypt(token: str | None, config: Config | None = None) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet(config).decrypt(token.encode()))
    except (InvalidToken, ValueError) as exc:
        raise Undecryptable("credentials cannot be decrypted with the configured keys") from exc


def rotate(token: str, config: Config | None = None) -> str:
    """The same credentials encrypted with the first configured key."""
    try:
        return _fernet(config).rotate(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise Undecryptable("credentials cannot be decrypted with the configured keys") from exc


# Every column that holds encrypted credentials: (model, attribute, what to do with a row whose
# value no key opens). `kopilka secrets rotate` re-encrypts all of them.
ENCRYPTED_COLUMNS: list[tuple[type, str, Callable | None]] = []


def register_encrypted(model: type, attribute: str, on_unreadable: Callable | None = None) -> None:
    if not any(m is model and a == attribute for m, a, _ in ENCRYPTED_COLUMNS):
        ENCRYPTED_COLUMNS.append((model, attribute, on_unreadable))


@dataclass
class RotationResult:
    rotated: int = 0
    unreadable: list[str] = field(default_factory=list)     # "table id" of rows no key opens


def rotate_all(session, config: Config | None = None, batch: int = 500) -> RotationResult:
    """Re-encrypt every registered credential with the first configured key, committing in
    batches. Rows no key opens are left as they are, handed to their on_unreadable hook
    (a connection is marked as needing new credentials) and listed."""
    from sqlalchemy import select
    fernet = _fernet(config)
    result = RotationResult()
    for model, attribute, on_unreadable in ENCRYPTED_COLUMNS:
        column = getattr(model, attribute)
        last_id = ""
        while True:
            rows = list(session.scalars(select(model).where(column.is_not(None), model.id > last_id)
                                        .order_by(model.id).limit(batch)))
            if not rows:
                break
            for row in rows:
                try:
                    setattr(row, attribute, fernet.rotate(getattr(row, attribute).encode()).decode())
                    result.rotated += 1
                    if getattr(row, "credentials_state", "ok") != "ok":
                        row.credentials_state = "ok"        # a lost key was put back
                except (InvalidToken, ValueError):
                    result.unreadable.append(f"{model.__tablename__} {row.id}")
                    if on_unreadable is not None:
                        on_unreadable(row)
            last_id = rows[-1].id
            session.commit()
    return result


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


SECRET_WORDS = ("token", "password", "secret", "authorization", "key")


def mask(data):
    """A copy fit for logs: values of secret-looking keys replaced."""
    if isinstance(data, dict):
        return {k: ("***" if any(w in str(k).lower() for w in SECRET_WORDS) else mask(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [mask(v) for v in data]
    return data
