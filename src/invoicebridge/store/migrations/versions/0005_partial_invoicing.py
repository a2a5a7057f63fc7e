"""partial invoicing: deliveries, several invoices per SO, one COGS entry per delivery

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 09:41:17.204611

An SO used to have at most one invoice link, whose `generation` counted the times its invoice was deleted in QBO
and the link set back to not_invoiced. From this revision on an SO has deliveries and several invoices: each link
has a `number` (the SO's invoices counted from 1), a `scope` ("whole" or "deliveries") and a DocNumber `slot`;
a link whose invoice was deleted in QBO stays, in state "deleted", and frees its slot.

The existing book is carried over as the new code would have written it:
- every SO with something delivered gets delivery 1 holding each row's delivered quantity (copied as stored:
  amounts have one representation per backend, store.tables.ExactNumeric), dated the SO's delivered_at or, for
  an SO not delivered in full, the time of the upgrade (when its rows went out was never recorded);
- a link keeps its generation as its number and becomes a "whole" invoice in slot 1, covering no delivery
  (delivery_ids NULL). A link set back to not_invoiced stood for its deleted invoice: it becomes that invoice,
  "deleted", number generation - 1. One still at generation 1 never had an invoice (a new link starts there):
  it goes, with its events, deleted explicitly (ON DELETE CASCADE holds only where SQLite's foreign keys are on);
- each SO's invoice_scope/invoice_status say what its links say; COGS entries are the SO's one entry (0).

SQLite cannot alter a constraint, so invoice_links and cogs_entries are rebuilt (batch mode); nothing else is.
With SQLite's foreign keys on, dropping the old invoice_links deletes its invoice_link_events by cascade:
`_link_events_kept` sets them aside and puts them back. sales_orders is never rebuilt (it is the parent of
nearly everything): its columns are added, and dropped on downgrade, with SQLite's own ALTER TABLE.

Downgrade refuses a book that one link per SO (and one COGS entry per SO) cannot hold, before changing anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LIVE = "state != 'deleted'"  # the links whose DocNumber slot is taken (the partial unique index's WHERE)


def upgrade() -> None:
    bind = op.get_bind()

    # -- sales_orders: ADD COLUMN on both backends (no rebuild); the server defaults fill the existing rows.
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_scope", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("invoice_status", sa.String(length=24), server_default="not_invoiced", nullable=False)
        )
        batch_op.add_column(sa.Column("invoice_lock", sa.Integer(), server_default="0", nullable=False))

    # -- deliveries
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("sales_order_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_deliveries_company_id_companies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sales_order_id"],
            ["sales_orders.id"],
            name=op.f("fk_deliveries_sales_order_id_sales_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("sales_order_id", "number", name="uq_deliveries_order_number"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_company_id"), ["company_id"], unique=False)

    op.create_table(
        "delivery_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_lines_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["row_id"],
            ["sales_order_rows.id"],
            name=op.f("fk_delivery_lines_row_id_sales_order_rows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_lines")),
    )
    with op.batch_alter_table("delivery_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_lines_delivery_id"), ["delivery_id"], unique=False)

    _deliver_what_went_out(bind)

    # -- invoice_links: the new columns, filled, then made NOT NULL with the constraints swapped (a rebuild on SQLite).
    with op.batch_alter_table("invoice_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("scope", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("slot", sa.Integer(), nullable=True))
        # The deliveries an invoice covers, for its history; a "whole" invoice covers none (NULL).
        batch_op.add_column(sa.Column("delivery_ids", sa.JSON(), nullable=True))

    _links_to_invoices(bind)

    with _link_events_kept(), op.batch_alter_table("invoice_links", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("scope", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("slot", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_invoice_links_company_order", type_="unique")
        batch_op.create_unique_constraint(
            "uq_invoice_links_company_order_number", ["company_id", "sales_order_id", "number"]
        )
        batch_op.create_index("ix_invoice_links_company_order", ["company_id", "sales_order_id"], unique=False)
        batch_op.drop_column("generation")
    # Created after the rebuild, so that no reflection of the table ever carries (or loses) its WHERE.
    op.create_index(
        "uq_invoice_links_live_slot",
        "invoice_links",
        ["sales_order_id", "slot"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )

    op.create_table(
        "invoiced_deliveries",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_invoiced_deliveries_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["invoice_links.id"],
            name=op.f("fk_invoiced_deliveries_link_id_invoice_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_invoiced_deliveries")),
    )
    with op.batch_alter_table("invoiced_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoiced_deliveries_link_id"), ["link_id"], unique=False)

    # -- sales_orders: what the links now say (invoice_lock and the other statuses keep their server defaults).
    bind.execute(
        sa.text(
            "UPDATE sales_orders SET invoice_scope = 'whole' WHERE EXISTS (SELECT 1 FROM invoice_links l "
            f"WHERE l.sales_order_id = sales_orders.id AND l.{LIVE})"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE sales_orders SET invoice_status = 'invoiced' WHERE EXISTS (SELECT 1 FROM invoice_links l "
            "WHERE l.sales_order_id = sales_orders.id AND l.state = 'invoiced')"
        )
    )

    # -- cogs_entries: every existing entry is its SO's one entry, delivery_number 0 (the server default).
    with op.batch_alter_table("cogs_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_number", sa.Integer(), server_default="0", nullable=False))
        # When a worker claimed the entry: another leaves a fresh claim alone (as for invoices).
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint("uq_cogs_entries_company_order", type_="unique")
        batch_op.create_unique_constraint(
            "uq_cogs_entries_company_order_delivery", ["company_id", "sales_order_id", "delivery_number"]
        )


def downgrade() -> None:
    bind = op.get_bind()
    _refuse_what_one_link_cannot_hold(bind)

    with op.batch_alter_table("invoiced_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoiced_deliveries_link_id"))
    op.drop_table("invoiced_deliveries")

    with op.batch_alter_table("cogs_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_cogs_entries_company_order_delivery", type_="unique")
        batch_op.create_unique_constraint("uq_cogs_entries_company_order", ["company_id", "sales_order_id"])
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("delivery_number")

    # -- invoice_links: a live link's number was its generation; a deleted one goes back to not_invoiced, one
    # generation on (as the invoice's deletion in QBO left it).
    with op.batch_alter_table("invoice_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("generation", sa.Integer(), nullable=True))
    bind.execute(sa.text(f"UPDATE invoice_links SET generation = number WHERE {LIVE}"))
    bind.execute(
        sa.text("UPDATE invoice_links SET generation = number + 1, state = 'not_invoiced' WHERE state = 'deleted'")
    )
    op.drop_index("uq_invoice_links_live_slot", table_name="invoice_links")
    with _link_events_kept(), op.batch_alter_table("invoice_links", schema=None) as batch_op:
        batch_op.alter_column("generation", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index("ix_invoice_links_company_order")
        batch_op.drop_constraint("uq_invoice_links_company_order_number", type_="unique")
        batch_op.create_unique_constraint("uq_invoice_links_company_order", ["company_id", "sales_order_id"])
        batch_op.drop_column("delivery_ids")
        batch_op.drop_column("slot")
        batch_op.drop_column("scope")
        batch_op.drop_column("number")

    with op.batch_alter_table("delivery_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_lines_delivery_id"))
    op.drop_table("delivery_lines")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_company_id"))
    op.drop_table("deliveries")

    # -- sales_orders: not batch mode, which would rebuild the table on SQLite and, its foreign keys being on,
    # delete every row, link and COGS entry of every SO by cascade. SQLite (≥ 3.35) drops a plain column itself.
    op.drop_column("sales_orders", "invoice_lock")
    op.drop_column("sales_orders", "invoice_status")
    op.drop_column("sales_orders", "invoice_scope")


def _deliver_what_went_out(bind: sa.Connection) -> None:
    """Delivery 1 of every SO with a delivered quantity: one line per row that went out, its quantity copied as
    stored (the same representation on both sides, whatever the backend)."""
    now = sa.bindparam("now", datetime.now(UTC), type_=sa.DateTime(timezone=True))
    bind.execute(
        sa.text(
            "INSERT INTO deliveries (company_id, sales_order_id, number, delivered_at) "
            "SELECT o.company_id, o.id, 1, COALESCE(o.delivered_at, :now) FROM sales_orders o "
            "WHERE EXISTS (SELECT 1 FROM sales_order_rows r WHERE r.sales_order_id = o.id "
            "AND r.delivered_quantity > 0)"
        ).bindparams(now)
    )
    bind.execute(
        sa.text(
            "INSERT INTO delivery_lines (delivery_id, row_id, quantity) "
            "SELECT d.id, r.id, r.delivered_quantity FROM sales_order_rows r "
            "JOIN deliveries d ON d.sales_order_id = r.sales_order_id AND d.number = 1 "
            "WHERE r.delivered_quantity > 0 ORDER BY d.id, r.position, r.id"
        )
    )


def _links_to_invoices(bind: sa.Connection) -> None:
    """Number, scope and slot of every link; a link set back to not_invoiced becomes its deleted invoice."""
    never_invoiced = "state = 'not_invoiced' AND generation <= 1"
    bind.execute(
        sa.text(
            f"DELETE FROM invoice_link_events WHERE link_id IN (SELECT id FROM invoice_links WHERE {never_invoiced})"
        )
    )
    bind.execute(sa.text(f"DELETE FROM invoice_links WHERE {never_invoiced}"))
    bind.execute(
        sa.text(
            "UPDATE invoice_links SET scope = 'whole', slot = 1, "
            "number = CASE WHEN state = 'not_invoiced' THEN generation - 1 ELSE generation END, "
            "state = CASE WHEN state = 'not_invoiced' THEN 'deleted' ELSE state END"
        )
    )


def _refuse_what_one_link_cannot_hold(bind: sa.Connection) -> None:
    """RuntimeError, before anything changes, when revision 0004's one link (and one COGS entry) per SO would
    have to drop an invoice or an entry."""
    several = bind.execute(
        sa.text(
            "SELECT count(*) FROM (SELECT sales_order_id FROM invoice_links GROUP BY sales_order_id "
            "HAVING count(*) > 1) s"
        )
    ).scalar_one()
    by_deliveries = bind.execute(sa.text("SELECT count(*) FROM invoice_links WHERE scope = 'deliveries'")).scalar_one()
    several_cogs = bind.execute(
        sa.text(
            "SELECT count(*) FROM (SELECT sales_order_id FROM cogs_entries GROUP BY sales_order_id "
            "HAVING count(*) > 1) s"
        )
    ).scalar_one()
    problems = []
    if several:
        problems.append(f"{several} sales order(s) have more than one invoice (deleted ones included)")
    if by_deliveries:
        problems.append(f"{by_deliveries} invoice(s) cover deliveries rather than a whole order")
    if several_cogs:
        problems.append(f"{several_cogs} sales order(s) have more than one COGS entry")
    if problems:
        raise RuntimeError(
            "cannot downgrade below revision 0005: revision 0004 holds one invoice and one COGS entry per sales "
            f"order, and {'; '.join(problems)}. Nothing was changed."
        )


@contextmanager
def _link_events_kept() -> Iterator[None]:
    """Keep invoice_link_events through a rebuild of invoice_links on SQLite.

    Batch mode copies invoice_links to a new table and drops the old one; with the foreign keys on (store.db
    turns them on for every connection, and SQLite ignores turning them off inside a transaction) that DROP
    deletes every event by ON DELETE CASCADE. The events are set aside in a TEMP table and put back, ids and
    all, once the new invoice_links (same ids) is in place. PostgreSQL alters the table in place: nothing to do.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    columns = "id, link_id, at, state, note"
    bind.execute(sa.text(f"CREATE TEMP TABLE _link_events_0005 ({columns})"))  # untyped: values kept verbatim
    bind.execute(sa.text(f"INSERT INTO _link_events_0005 SELECT {columns} FROM invoice_link_events"))
    yield
    bind.execute(
        sa.text(
            f"INSERT INTO invoice_link_events ({columns}) SELECT {columns} FROM _link_events_0005 kept "
            "WHERE NOT EXISTS (SELECT 1 FROM invoice_link_events e WHERE e.id = kept.id) ORDER BY id"
        )
    )
    bind.execute(sa.text("DROP TABLE _link_events_0005"))
