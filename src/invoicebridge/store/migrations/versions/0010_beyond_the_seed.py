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


# Plain ADD/DROP COLUMN, not batch mode: on SQLite batch mode rebuilds the table, and with foreign keys on,
# dropping the old sales_orders or invoice_links would cascade-delete every row, delivery, invoice and event under
# them (0005 says the same). SQLite (≥ 3.35) adds and drops a plain column itself — which is also why
# shipping_tax_rate_id carries no foreign key: SQLite cannot drop a column that one uses.
COLUMNS: dict[str, list[sa.Column[object]]] = {
    "product_variants": [sa.Column("category", sa.String(length=100), nullable=True)],
    "sales_orders": [
        sa.Column("shipping_fee", AMOUNT, nullable=True),
        sa.Column("shipping_tax_rate_id", sa.Integer(), nullable=True),
        sa.Column("payment_status", sa.String(length=16), nullable=True),
    ],
    "invoice_links": [
        sa.Column("carries_shipping", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("total_amount", AMOUNT, nullable=True),
        sa.Column("balance", AMOUNT, nullable=True),
    ],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for column in columns:
            op.add_column(table, column)
    # Two SOs linking one existing QBO invoice at once (sync/link_existing.py): the second is refused here.
    op.create_index(
        "uq_invoice_links_invoiced_qbo_invoice",
        "invoice_links",
        ["company_id", "qbo_invoice_id"],
        unique=True,
        sqlite_where=sa.text("state = 'invoiced'"),
        postgresql_where=sa.text("state = 'invoiced'"),
    )
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
    op.drop_index("uq_invoice_links_invoiced_qbo_invoice", table_name="invoice_links")
    for table, columns in reversed(COLUMNS.items()):
        for column in reversed(columns):
            op.drop_column(table, column.name)
