"""Alembic environment: the URL and connection come from hub.db (see hub/db.py)."""
from __future__ import annotations

from alembic import context

import hub.adapters
import hub.schema  # noqa: F401 - every table of the hub
from hub.orm import Base
from hub.extensions import make_engine

# The adapters (evotor, moysklad, onec, …) define models of their own: importing them puts
# their tables into Base.metadata, so autogenerate sees every table the migrations create.

config = context.config
target_metadata = Base.metadata

# PostgreSQL-only trigram indexes of migration 0026 (searching clients by part of a phone or a
# card number): the models cannot declare an index SQLite lacks, so autogenerate ignores them.
SEARCH_INDEXES = {"ix_customers_phone_trgm", "ix_customers_card_trgm"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name in SEARCH_INDEXES)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, compare_type=True,
                          include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, target_metadata=target_metadata,
                              render_as_batch=True, compare_type=True,
                          include_object=include_object)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
