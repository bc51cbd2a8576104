"""clients_search (issue 17.16): trigram indexes for searching clients by any part of a phone
or a card number, on PostgreSQL only

The search box (hub.customers.operations.search_conditions) matches `phone LIKE '%3210%'` and
`card_number LIKE '%3210%'`: a B-tree cannot serve a leading wildcard, a pg_trgm GIN index can
(a million clients: milliseconds instead of a sequential scan). SQLite has no such index and
scans. The indexes live in this migration only: hub/migrations/env.py tells autogenerate not to
expect them in the models (SEARCH_INDEXES).

Revision ID: 0026_clients_search
Revises: 0025_cli_russian
Create Date: 2026-12-08 01:00:00
"""
from alembic import op


revision = '0026_clients_search'
down_revision = '0025_cli_russian'
branch_labels = None
depends_on = None

# Also named in hub/migrations/env.py (autogenerate skips them).
SEARCH_INDEXES = {"ix_customers_phone_trgm": "phone", "ix_customers_card_trgm": "card_number"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in SEARCH_INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON customers USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in SEARCH_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
