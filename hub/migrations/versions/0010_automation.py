"""automation: gift grants, win-back chains, segments, referrals (issue 10)

Revision ID: 0010_automation
Revises: 0009_notify
Create Date: 2026-11-29 23:58:00
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0010_automation'
down_revision = '0009_notify'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('automation_settings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('interval_days', sa.Integer(), nullable=True),
    sa.Column('interval_computed_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('segments_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('segments_full_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('segments_key', sa.String(length=80), nullable=True),
    sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_automation_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_automation_settings')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_automation_settings_tenant_id'))
    )
    with op.batch_alter_table('automation_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_automation_settings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('mailings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('gift', sa.JSON(), nullable=True),
    sa.Column('scheduled_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('estimated_cost', sa.BigInteger(), nullable=False),
    sa.Column('sent_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mailings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailings'))
    )
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('segments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_segments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments'))
    )
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_segments_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('winback_chains',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('since', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_winback_chains_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_winback_chains'))
    )
    with op.batch_alter_table('winback_chains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_winback_chains_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('customer_segments',
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('segment', sa.String(length=20), nullable=False),
    sa.Column('valuable', sa.Boolean(), nullable=False),
    sa.Column('computed_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_segments_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_customer_segments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_segments'))
    )
    with op.batch_alter_table('customer_segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_segments_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_customer_segments_tenant_segment', ['tenant_id', 'segment'], unique=False)

    op.create_table('mechanic_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('mechanic', sa.String(length=30), nullable=False),
    sa.Column('rule_id', sa.String(length=36), nullable=True),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('occurrence', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('delay_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('receipt_id', sa.String(length=36), nullable=True),
    sa.Column('posting_id', sa.String(length=36), nullable=True),
    sa.Column('active_from', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('expires_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('message_key', sa.String(length=200), nullable=True),
    sa.Column('moment', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('done_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_mechanic_events_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mechanic_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mechanic_events')),
    sa.UniqueConstraint('tenant_id', 'mechanic', 'customer_id', 'occurrence', name=op.f('uq_mechanic_events_tenant_id_mechanic_customer_id_occurrence'))
    )
    with op.batch_alter_table('mechanic_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mechanic_events_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_mechanic_events_receipt', ['receipt_id'], unique=False)
        batch_op.create_index('ix_mechanic_events_status', ['tenant_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_mechanic_events_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('referral_codes',
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_referral_codes_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_referral_codes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_referral_codes')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_referral_codes_tenant_id_code'))
    )
    with op.batch_alter_table('referral_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_codes_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('invitee_id', sa.String(length=36), nullable=False),
    sa.Column('inviter_id', sa.String(length=36), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['invitee_id'], ['customers.id'], name=op.f('fk_referrals_invitee_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inviter_id'], ['customers.id'], name=op.f('fk_referrals_inviter_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_referrals_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('invitee_id', name=op.f('uq_referrals_invitee_id'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_inviter_id'), ['inviter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_tenant_last_purchase', ['tenant_id', 'last_purchase_at'], unique=False)
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.create_index('ix_lots_tenant_expires', ['tenant_id', 'expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.drop_index('ix_lots_tenant_expires')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_tenant_last_purchase')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_inviter_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('referral_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_codes_tenant_id'))

    op.drop_table('referral_codes')
    with op.batch_alter_table('mechanic_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mechanic_events_tenant_id'))
        batch_op.drop_index('ix_mechanic_events_status')
        batch_op.drop_index('ix_mechanic_events_receipt')
        batch_op.drop_index(batch_op.f('ix_mechanic_events_customer_id'))

    op.drop_table('mechanic_events')
    with op.batch_alter_table('customer_segments', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_segments_tenant_segment')
        batch_op.drop_index(batch_op.f('ix_customer_segments_tenant_id'))

    op.drop_table('customer_segments')
    with op.batch_alter_table('winback_chains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_winback_chains_tenant_id'))

    op.drop_table('winback_chains')
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_segments_tenant_id'))

    op.drop_table('segments')
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailings_tenant_id'))

    op.drop_table('mailings')
    with op.batch_alter_table('automation_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_automation_settings_tenant_id'))

    op.drop_table('automation_settings')
