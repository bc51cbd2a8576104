"""promotions, coupons, gift certificates (issue 12)

Revision ID: 0011_promotions
Revises: 0010_automation
Create Date: 2026-11-29 23:58:00
"""
from alembic import op
import sqlalchemy as sa
import hub.orm


revision = '0011_promotions'
down_revision = '0010_automation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gift_certificates',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('nominal', sa.BigInteger(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expires_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('activated_at', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('sale_reference', sa.String(length=200), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_gift_certificates_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_certificates')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_gift_certificates_tenant_id_number'))
    )
    with op.batch_alter_table('gift_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gift_certificates_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('promotion_revisions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_promotion_revisions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotion_revisions')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_promotion_revisions_tenant_id'))
    )
    with op.batch_alter_table('promotion_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promotion_revisions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('promotions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_promotions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotions'))
    )
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promotions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('certificate_postings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('certificate_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('moment', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['gift_certificates.id'], name=op.f('fk_certificate_postings_certificate_id_gift_certificates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_certificate_postings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_postings')),
    sa.UniqueConstraint('certificate_id', 'kind', 'reference', name=op.f('uq_certificate_postings_certificate_id_kind_reference'))
    )
    with op.batch_alter_table('certificate_postings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_postings_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_postings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('promo_codes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('promotion_id', sa.String(length=36), nullable=False),
    sa.Column('batch', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('per_customer_limit', sa.Integer(), nullable=True),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('valid_from', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('valid_to', hub.orm.UTCDateTime(), nullable=True),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotions.id'], name=op.f('fk_promo_codes_promotion_id_promotions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_promo_codes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_codes')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_promo_codes_tenant_id_code'))
    )
    with op.batch_alter_table('promo_codes', schema=None) as batch_op:
        batch_op.create_index('ix_promo_codes_batch', ['tenant_id', 'batch'], unique=False)
        batch_op.create_index(batch_op.f('ix_promo_codes_promotion_id'), ['promotion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_promo_codes_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('promo_code_redemptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=True),
    sa.Column('receipt_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['code_id'], ['promo_codes.id'], name=op.f('fk_promo_code_redemptions_code_id_promo_codes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_promo_code_redemptions_receipt_id_receipts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_promo_code_redemptions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_code_redemptions')),
    sa.UniqueConstraint('code_id', 'receipt_id', name=op.f('uq_promo_code_redemptions_code_id_receipt_id'))
    )
    with op.batch_alter_table('promo_code_redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_promo_code_redemptions_customer', ['code_id', 'customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_promo_code_redemptions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('promotion_uses',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('promotion_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=True),
    sa.Column('receipt_id', sa.String(length=36), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('bonus', sa.BigInteger(), nullable=False),
    sa.Column('created_at', hub.orm.UTCDateTime(), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotions.id'], name=op.f('fk_promotion_uses_promotion_id_promotions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_promotion_uses_receipt_id_receipts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_promotion_uses_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotion_uses')),
    sa.UniqueConstraint('receipt_id', 'promotion_id', name=op.f('uq_promotion_uses_receipt_id_promotion_id'))
    )
    with op.batch_alter_table('promotion_uses', schema=None) as batch_op:
        batch_op.create_index('ix_promotion_uses_customer', ['tenant_id', 'customer_id', 'promotion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_promotion_uses_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('promotion_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promotion_uses_tenant_id'))
        batch_op.drop_index('ix_promotion_uses_customer')

    op.drop_table('promotion_uses')
    with op.batch_alter_table('promo_code_redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promo_code_redemptions_tenant_id'))
        batch_op.drop_index('ix_promo_code_redemptions_customer')

    op.drop_table('promo_code_redemptions')
    with op.batch_alter_table('promo_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promo_codes_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_promo_codes_promotion_id'))
        batch_op.drop_index('ix_promo_codes_batch')

    op.drop_table('promo_codes')
    with op.batch_alter_table('certificate_postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_postings_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_postings_certificate_id'))

    op.drop_table('certificate_postings')
    with op.batch_alter_table('promotions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promotions_tenant_id'))

    op.drop_table('promotions')
    with op.batch_alter_table('promotion_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promotion_revisions_tenant_id'))

    op.drop_table('promotion_revisions')
    with op.batch_alter_table('gift_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gift_certificates_tenant_id'))

    op.drop_table('gift_certificates')
