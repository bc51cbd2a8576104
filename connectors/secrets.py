"""Credentials of outside systems, encrypted at rest with a key from configuration."""
from __future__ import annotations

import base64
import hashlib
import json
import logging

from cryptography.fernet import Fernet, InvalidToken

from hub.config import Config

log = logging.getLogger("kopilka.secrets")


def _fernet(config: Config | None = None) -> Fernet:
    config = config or Config()
    if config.ENCRYPTION_KEY:
        return Fernet(config.ENCRYPTION_KEY.encode())
    # The embedded default has no key configured: derive one from SECRET_KEY so a newcomer
    # needs no set-up; production sets KOPILKA_ENCRYPTION_KEY (Fernet.generate_key()).
    digest = hashlib.sha256(("kopilka-credentials:" + config.SECRET_KEY).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(data: dict, config: Config | None = None) -> str:
    return _fernet(config).encrypt(json.dumps(data, ensure_ascii=False).encode()).decode()


def decrypt(token: str | None, config: Config | None = None) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet(config).decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("credentials cannot be decrypted with the configured key") from exc


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


SECRET_WORDS = ("token", "password", "secret", "authorization", "key")


def mask(data):  # noqa: ANN001, ANN201
    """A copy fit for logs: values of secret-looking keys replaced."""
    if isinstance(data, dict):
        return {k: ("***" if any(w in str(k).lower() for w in SECRET_WORDS) else mask(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [mask(v) for v in data]
    return data
