"""QBO calls counted per company and month (Core / CorePlus), for the meter

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qbo_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("core", sa.Integer(), server_default="0", nullable=False),
        sa.Column("coreplus", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_qbo_usage_company_id_companies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qbo_usage")),
        sa.UniqueConstraint("company_id", "month", name="uq_qbo_usage_company_month"),
    )
    with op.batch_alter_table("qbo_usage", schema=None) as batch_op:
        batch_op.create_index("ix_qbo_usage_month", ["month"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("qbo_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_qbo_usage_month")
    op.drop_table("qbo_usage")
