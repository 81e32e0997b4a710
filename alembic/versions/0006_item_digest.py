"""stock sync: a digest per item (unchanged items skip evaluation), no index on seen_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sync_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.drop_index(batch_op.f('ix_sync_items_seen_at'))


def downgrade() -> None:
    with op.batch_alter_table('sync_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_items_seen_at'), ['seen_at'], unique=False)
        batch_op.drop_column('digest')
