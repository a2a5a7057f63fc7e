"""a per-company mirror of the QBO customers and items matched against

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _company(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f(f"fk_{table}_company_id_companies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "qbo_mirror_state",
        *_company("qbo_mirror_state"),
        sa.Column("realm_id", sa.String(length=32), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("company_id", name="uq_qbo_mirror_state_company"),
    )
    op.create_table(
        "qbo_mirror_customers",
        *_company("qbo_mirror_customers"),
        sa.Column("qbo_id", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=500), nullable=False),
        sa.Column("name_key", sa.String(length=500), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_key", sa.String(length=254), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("terms_id", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("company_id", "qbo_id", name="uq_qbo_mirror_customers_company_qbo"),
    )
    op.create_table(
        "qbo_mirror_items",
        *_company("qbo_mirror_items"),
        sa.Column("qbo_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("sku_key", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("company_id", "qbo_id", name="uq_qbo_mirror_items_company_qbo"),
    )
    for table in ("qbo_mirror_state", "qbo_mirror_customers", "qbo_mirror_items"):
        op.create_index(op.f(f"ix_{table}_company_id"), table, ["company_id"])
    op.create_index("ix_qbo_mirror_customers_company_email", "qbo_mirror_customers", ["company_id", "email_key"])
    op.create_index("ix_qbo_mirror_customers_company_name", "qbo_mirror_customers", ["company_id", "name_key"])
    op.create_index("ix_qbo_mirror_items_company_sku", "qbo_mirror_items", ["company_id", "sku_key"])


def downgrade() -> None:
    op.drop_table("qbo_mirror_items")
    op.drop_table("qbo_mirror_customers")
    op.drop_table("qbo_mirror_state")
