"""adapters: connections unique per tenant, webhook secrets (issue 8)

Revision ID: 0007_adapters_safety
Revises: 0006_foundations
Create Date: 2026-11-29 23:55:00

* connections: unique per (tenant, kind, external account) instead of (kind, external
  account), so one tenant can neither see nor block another's account; an Evotor user stays
  linked to one tenant at a time (partial unique index: Evotor's own flow links it);
* connections.webhook_secret_hash: the secret in a МойСклад webhook URL;
* moysklad_counterparties.name: the name a till registered a counterparty with;
* evotor_pending_events: installation/subscription events of an Evotor user not linked yet.
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0007_adapters_safety'
down_revision = '0006_foundations'
branch_labels = None
depends_on = None

EVOTOR_ONLY = sa.text("kind = 'evotor'")


def upgrade() -> None:
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_secret_hash', sa.String(length=64), nullable=True))
        batch_op.drop_constraint('uq_connections_kind_external_account', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_connections_tenant_id_kind_external_account'),
                                          ['tenant_id', 'kind', 'external_account'])
    op.create_index('uq_connections_evotor_user', 'connections', ['external_account'], unique=True,
                    postgresql_where=EVOTOR_ONLY, sqlite_where=EVOTOR_ONLY)
    with op.batch_alter_table('moysklad_counterparties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=255), nullable=True))
    op.create_table('evotor_pending_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=100), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('received_at', hub.orm.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evotor_pending_events')),
    sa.UniqueConstraint('user_id', 'event_key', name=op.f('uq_evotor_pending_events_user_id_event_key'))
    )
    with op.batch_alter_table('evotor_pending_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evotor_pending_events_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evotor_pending_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evotor_pending_events_user_id'))
    op.drop_table('evotor_pending_events')
    with op.batch_alter_table('moysklad_counterparties', schema=None) as batch_op:
        batch_op.drop_column('name')
    op.drop_index('uq_connections_evotor_user', table_name='connections')
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_connections_tenant_id_kind_external_account'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_connections_kind_external_account'),
                                          ['kind', 'external_account'])
        batch_op.drop_column('webhook_secret_hash')
