"""receipts back to IP: the ledger of GRPO lines read from SAP

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sap_grpo_lines',
    sa.Column('doc_entry', sa.Integer(), nullable=False),
    sa.Column('line_num', sa.Integer(), nullable=False),
    sa.Column('doc_num', sa.Integer(), nullable=True),
    sa.Column('base_entry', sa.Integer(), nullable=False),
    sa.Column('base_line', sa.Integer(), nullable=False),
    sa.Column('item_code', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('doc_entry', 'line_num')
    )
    with op.batch_alter_table('sap_grpo_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sap_grpo_lines_base_entry'), ['base_entry'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sap_grpo_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sap_grpo_lines_base_entry'))
    op.drop_table('sap_grpo_lines')
