"""Schema management: Alembic migrations applied programmatically."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection

HERE = Path(__file__).parent


def alembic_config(url: str | None = None, connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine) -> None:  # noqa: ANN001
    """Bring the database to the newest schema."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "head")
