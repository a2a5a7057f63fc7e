"""beyond the seed: product categories, shipping fees, payment status, returns and their credit memos

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Amounts are NUMERIC(18, 4) like every amount column (on SQLite they hold scaled integers: 0004).
AMOUNT = sa.Numeric(precision=18, scale=4)

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=100), nullable=True))
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipping_fee", AMOUNT, nullable=True))
        batch_op.add_column(sa.Column("shipping_tax_rate_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("payment_status", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sales_orders_shipping_tax_rate_id_tax_rates"), "tax_rates", ["shipping_tax_rate_id"], ["id"]
        )
    with op.batch_alter_table("invoice_links", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("carries_shipping", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("total_amount", AMOUNT, nullable=True))
        batch_op.add_column(sa.Column("balance", AMOUNT, nullable=True))
    _returns()


def _returns() -> None:
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("sales_order_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("qbo_credit_memo_id", sa.String(length=32), nullable=True),
        sa.Column("doc_number", sa.String(length=21), nullable=True),
        sa.Column("sync_token", sa.String(length=16), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_returns_company_id_companies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sales_order_id"],
            ["sales_orders.id"],
            name=op.f("fk_returns_sales_order_id_sales_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("sales_order_id", "number", name="uq_returns_order_number"),
    )
    op.create_index(op.f("ix_returns_company_id"), "returns", ["company_id"], unique=False)
    op.create_index("ix_returns_company_state", "returns", ["company_id", "state"], unique=False)
    op.create_table(
        "return_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("quantity", AMOUNT, nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.id"], name=op.f("fk_return_lines_return_id_returns"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["row_id"],
            ["sales_order_rows.id"],
            name=op.f("fk_return_lines_row_id_sales_order_rows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_lines")),
    )
    op.create_index(op.f("ix_return_lines_return_id"), "return_lines", ["return_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_return_lines_return_id"), table_name="return_lines")
    op.drop_table("return_lines")
    op.drop_index("ix_returns_company_state", table_name="returns")
    op.drop_index(op.f("ix_returns_company_id"), table_name="returns")
    op.drop_table("returns")
    with op.batch_alter_table("invoice_links", schema=None) as batch_op:
        for name in ("balance", "total_amount", "carries_shipping"):
            batch_op.drop_column(name)
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sales_orders_shipping_tax_rate_id_tax_rates"), type_="foreignkey")
        for name in ("payment_status", "shipping_tax_rate_id", "shipping_fee"):
            batch_op.drop_column(name)
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.drop_column("category")
