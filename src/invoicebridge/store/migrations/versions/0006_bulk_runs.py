"""bulk runs: the Sell screen's bulk actions, so their progress survives a reload

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=254), nullable=False),
        sa.Column("sales_order_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_bulk_runs_company_id_companies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_runs")),
    )
    with op.batch_alter_table("bulk_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulk_runs_company_id"), ["company_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bulk_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_runs_company_id"))
    op.drop_table("bulk_runs")
