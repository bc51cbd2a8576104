"""infrastructure (issue 18 and after) — a slot for this session's parallel work

Revision ID: 0030_infrastructure
Revises: 0029_money_segments
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0030_infrastructure'
down_revision = '0029_money_segments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The catalog's version per tenant, bumped with every change of its products or groups:
    # the per-process cache of a product's groups is keyed by it (hub/catalog/operations.py).
    op.create_table('catalog_versions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_catalog_versions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_versions')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_catalog_versions_tenant_id'))
    )
    with op.batch_alter_table('catalog_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_versions_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('catalog_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_versions_tenant_id'))
    op.drop_table('catalog_versions')
