"""the web cabinets: users with roles, audit log, one-time codes; keyset indexes (issue 11)

Revision ID: 0012_cabinets
Revises: 0011_promotions
Create Date: 2026-11-30 00:20:00
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0012_cabinets'
down_revision = '0011_promotions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_users',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('last_login_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_web_users_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_users')),
    sa.UniqueConstraint('email', name=op.f('uq_web_users_email'))
    )
    with op.batch_alter_table('web_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_users_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('web_audit',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('user_email', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('object_type', sa.String(length=30), nullable=False),
    sa.Column('object_id', sa.String(length=200), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_web_audit_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_audit'))
    )
    with op.batch_alter_table('web_audit', schema=None) as batch_op:
        batch_op.create_index('ix_web_audit_tenant_created', ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_audit_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('web_codes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.String(length=30), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('expires_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('consumed_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_web_codes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_codes'))
    )
    with op.batch_alter_table('web_codes', schema=None) as batch_op:
        batch_op.create_index('ix_web_codes_lookup', ['tenant_id', 'phone', 'purpose'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_codes_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index('ix_receipts_tenant_moment', ['tenant_id', 'moment', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_receipts_tenant_moment')
    for table, indexes in (('web_codes', ('ix_web_codes_tenant_id', 'ix_web_codes_lookup')),
                           ('web_audit', ('ix_web_audit_tenant_id', 'ix_web_audit_tenant_created')),
                           ('web_users', ('ix_web_users_tenant_id',))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(name)
        op.drop_table(table)
