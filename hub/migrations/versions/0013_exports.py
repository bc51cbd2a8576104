"""the owner's cabinet: Excel exports built by a background job, with progress (issue 11)

Revision ID: 0013_exports
Revises: 0012_cabinets
Create Date: 2026-11-30 01:00:00
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0013_exports'
down_revision = '0012_cabinets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_exports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('user_email', sa.String(length=200), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('started_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('finished_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_web_exports_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_exports'))
    )
    with op.batch_alter_table('web_exports', schema=None) as batch_op:
        batch_op.create_index('ix_web_exports_tenant_created', ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_exports_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_exports_tenant_id'))
        batch_op.drop_index('ix_web_exports_tenant_created')
    op.drop_table('web_exports')
