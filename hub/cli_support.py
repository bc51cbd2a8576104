"""What every `kopilka` command group needs, kept apart from hub.cli so that adapters' command
groups can import it without importing the command tree (which imports the adapters)."""
from __future__ import annotations

from datetime import datetime, timezone

import click
from sqlalchemy.orm import Session

from hub.clock import utcnow


def cli_session() -> Session:
    """The database session of a command: adapters loaded (their models and sweeps), the engine
    configured from the environment."""
    from hub.adapters import load_adapters
    from hub.config import Config
    from hub.extensions import db
    load_adapters()
    db.configure(Config().DATABASE_URL)
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
