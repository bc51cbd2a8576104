"""codes_screens (issue 17, item 11): one-time codes written before codes were masked are
masked in the outbox too, so no cabinet page or API answer shows a code in clear.

Revision ID: 0024_codes_screens
Revises: 0023_faults
Create Date: 2026-12-08 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0024_codes_screens'
down_revision = '0023_faults'
branch_labels = None
depends_on = None


MASK = "******"      # hub.notify.outbox.CODE_MASK, copied: a migration must not change with the code


def upgrade() -> None:
    outbox = sa.table("notify_outbox", sa.column("id", sa.String), sa.column("topic", sa.String),
                      sa.column("text", sa.Text), sa.column("context", sa.JSON))
    conn = op.get_bind()
    rows = conn.execute(sa.select(outbox.c.id, outbox.c.text, outbox.c.context)
                        .where(outbox.c.topic == "code")).all()
    for row_id, text, context in rows:
        context = dict(context or {})
        code = str(context.get("code") or "")
        if not code or code == MASK:
            continue
        context["code"] = MASK
        conn.execute(sa.update(outbox).where(outbox.c.id == row_id)
                     .values(text=(text or "").replace(code, MASK), context=context))


def downgrade() -> None:
    pass
