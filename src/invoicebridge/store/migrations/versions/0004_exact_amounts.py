"""exact amounts on SQLite: NUMERIC values become integer counts of 10⁻⁴ (store.tables.ExactNumeric)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:12:40.513904

SQLite kept NUMERIC(18, 4) values as REAL, which holds about 16 significant digits (12345678901234.5678 read back
as 12345678901234.5684). From this revision on, SQLite stores each amount as an exact integer count of the
column's smallest unit (12.5 at scale 4 is 125000); the declared types do not change, so no table is rebuilt —
rebuilding product_variants or tax_rates would trip SQLite's foreign keys (sales_order_rows refers to them).
Each existing value becomes exactly the amount the application showed for it before (it read a REAL as
"%.4f"), so nothing changes for anyone looking. PostgreSQL's NUMERIC is exact already: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# table → amount columns; every one is NUMERIC(p, 4) (tax_rates.percent is NUMERIC(9, 4), the rest (18, 4)).
AMOUNTS = {
    "product_variants": ("sales_price", "unit_cost"),
    "tax_rates": ("percent",),
    "sales_order_rows": ("quantity", "unit_price", "unit_cost", "delivered_quantity"),
    "cogs_entries": ("amount",),
}
SCALE = 4
CHUNK = 1000  # rows read and rewritten at a time, so a large book never sits in memory whole
INT64 = 2**63


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rewrite(_to_units)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rewrite(_to_real)


def _to_units(value: object) -> object:
    """A legacy value as exact units of 10⁻⁴: a REAL as the application showed it ("%.4f"), an INTEGER (SQLite
    keeps whole REALs as INTEGER in a NUMERIC column) or a numeric TEXT as written."""
    if value is None:
        return None
    exact = Decimal(f"{value:.{SCALE}f}") if isinstance(value, float) else Decimal(str(value))
    units = int(exact.quantize(Decimal(1).scaleb(-SCALE), rounding=ROUND_HALF_UP).scaleb(SCALE))
    if not -INT64 <= units < INT64:
        raise ValueError(f"amount {exact} is too large to store exactly; fix it by hand, then upgrade again")
    return units


def _to_real(value: object) -> object:
    """Back to what revision 0003 stored: a float (with the digits a REAL cannot hold lost again)."""
    return None if value is None else float(Decimal(str(value)).scaleb(-SCALE))


def _rewrite(convert: Callable[[object], object]) -> None:
    """Rewrite every amount of every table in place, CHUNK rows at a time, in id order."""
    bind = op.get_bind()
    for table, columns in AMOUNTS.items():
        listed = ", ".join(columns)
        read = sa.text(f"SELECT id, {listed} FROM {table} WHERE id > :after ORDER BY id LIMIT {CHUNK}")
        write = sa.text(f"UPDATE {table} SET {', '.join(f'{c} = :{c}' for c in columns)} WHERE id = :id")
        after = 0
        while rows := bind.execute(read, {"after": after}).all():
            bind.execute(
                write, [{"id": r[0], **{c: convert(v) for c, v in zip(columns, r[1:], strict=True)}} for r in rows]
            )
            after = rows[-1][0]
