"""Revision 0005 (partial invoicing) carries a revision-0004 book over, on SQLite and PostgreSQL: delivery 1 for
what went out, every link numbered in slot 1 (a set-back link becoming its deleted invoice), the SOs' invoice
scope and status, COGS entries as delivery 0; its constraints hold; and it goes back down exactly, or refuses."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from invoicebridge.store.db import make_engine
from invoicebridge.store.migrate import alembic_config, upgrade
from invoicebridge.store.tables import Base

CREATED_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DELIVERED_AT = datetime(2026, 3, 2, 15, 30, 12, 345678, tzinfo=UTC)
WHEN = sa.DateTime(timezone=True)
BOOK_TABLES = ("sales_orders", "sales_order_rows", "invoice_links", "invoice_link_events", "cogs_entries")

# id, number, delivery_status, delivered_at
ORDERS = [
    (1, "SO-1", "not_shipped", None),  # never invoiced, nothing delivered
    (2, "SO-2", "delivered", DELIVERED_AT),  # invoiced, delivered in full, COGS posted
    (3, "SO-3", "partially_delivered", None),  # partly delivered, its invoice failed
    (4, "SO-4", "not_shipped", None),  # its invoice deleted in QBO twice: set back, generation 3
    (5, "SO-5", "not_shipped", None),  # a link that never had an invoice (generation 1)
]
# id, sales_order_id, position, quantity, delivered_quantity
ROWS = [
    (11, 1, 0, "1", "0"),
    (21, 2, 0, "2.5", "2.5"),
    (22, 2, 1, "3", "3"),
    (31, 3, 0, "4", "1.5"),
    (32, 3, 1, "2", "0"),
    (41, 4, 0, "1", "0"),
    (51, 5, 0, "1", "0"),
]
LINKS: list[dict[str, Any]] = [
    {"id": 2, "so": 2, "state": "invoiced", "generation": 1, "request_id": "req-2", "qbo": "130", "doc": "SO-2"},
    {"id": 3, "so": 3, "state": "failed", "generation": 2, "request_id": "req-3", "qbo": None, "doc": None},
    {"id": 4, "so": 4, "state": "not_invoiced", "generation": 3, "request_id": None, "qbo": None, "doc": None},
    {"id": 5, "so": 5, "state": "not_invoiced", "generation": 1, "request_id": None, "qbo": None, "doc": None},
]
# id, link_id, state
EVENTS = [
    (21, 2, "queued"),
    (22, 2, "invoiced"),
    (31, 3, "failed"),
    (41, 4, "invoiced"),
    (42, 4, "not_invoiced"),
    (51, 5, "not_invoiced"),
]


def raw(engine: sa.Engine, amount: str) -> int | Decimal:
    """An amount as an amount column stores it: a count of 10⁻⁴ on SQLite, NUMERIC on PostgreSQL."""
    value = Decimal(amount)
    return int(value.scaleb(4)) if engine.dialect.name == "sqlite" else value


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def seed(engine: sa.Engine) -> None:
    """The book above, written with raw SQL as revision 0004 holds it."""
    with engine.begin() as db:
        db.execute(
            sa.text("INSERT INTO companies (id, name, home_currency, timezone) VALUES (1, 'Acme', 'USD', 'UTC')")
        )
        db.execute(sa.text(
            "INSERT INTO customers (id, company_id, display_name, billing_address, shipping_address, currency) "
            "VALUES (1, 1, 'Ada', '{}', '{}', 'USD')"
        ))  # fmt: skip
        db.execute(
            sa.text(
                "INSERT INTO product_variants (id, company_id, sku, name, sales_price, unit_cost) "
                "VALUES (1, 1, 'SKU-1', 'Thing', :price, :cost)"
            ),
            {"price": raw(engine, "10"), "cost": raw(engine, "4.2")},
        )
        db.execute(
            sa.text(
                "INSERT INTO sales_orders (id, company_id, number, customer_id, billing_address, shipping_address, "
                "created_at, currency, delivery_status, delivered_at) VALUES (:id, 1, :number, 1, '{}', '{}', "
                ":created_at, 'USD', :status, :delivered_at)"
            ).bindparams(sa.bindparam("created_at", type_=WHEN), sa.bindparam("delivered_at", type_=WHEN)),
            [{"id": i, "number": n, "created_at": CREATED_AT, "status": s, "delivered_at": d} for i, n, s, d in ORDERS],
        )
        db.execute(
            sa.text(
                "INSERT INTO sales_order_rows (id, company_id, sales_order_id, position, variant_id, quantity, "
                "unit_price, unit_cost, delivered_quantity, description) "
                "VALUES (:id, 1, :so, :position, 1, :quantity, :price, :cost, :delivered, 'Thing')"
            ),
            [
                {
                    "id": i, "so": so, "position": p, "quantity": raw(engine, q), "price": raw(engine, "10"),
                    "cost": raw(engine, "4.2"), "delivered": raw(engine, d),
                }
                for i, so, p, q, d in ROWS
            ],
        )  # fmt: skip
        db.execute(
            sa.text(
                "INSERT INTO invoice_links (id, company_id, sales_order_id, state, generation, request_id, "
                "qbo_invoice_id, doc_number, sync_token, error_code, error_message, version) "
                "VALUES (:id, 1, :so, :state, :generation, :request_id, :qbo, :doc, :token, :code, :message, 2)"
            ),
            [
                {
                    **values,
                    "token": "0" if values["qbo"] else None,
                    "code": "6000" if values["state"] == "failed" else None,
                    "message": "QBO said no" if values["state"] == "failed" else None,
                }
                for values in LINKS
            ],
        )
        db.execute(
            sa.text(
                "INSERT INTO invoice_link_events (id, link_id, at, state, note) VALUES (:id, :link, :at, :state, 'n')"
            ).bindparams(sa.bindparam("at", type_=WHEN)),
            [{"id": i, "link": link, "at": CREATED_AT, "state": state} for i, link, state in EVENTS],
        )
        db.execute(
            sa.text(
                "INSERT INTO cogs_entries (id, company_id, sales_order_id, state, request_id, journal_entry_id, "
                "amount, posted_at, version) VALUES (1, 1, 2, 'posted', 'req-c', 'JE-1', :amount, :posted_at, 2)"
            ).bindparams(sa.bindparam("posted_at", type_=WHEN)),
            {"amount": raw(engine, "23.1"), "posted_at": DELIVERED_AT},
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def engine(url: str) -> Iterator[sa.Engine]:
    """A database at revision 0004 holding the book above."""
    command.upgrade(alembic_config(url), "0004")
    engine = make_engine(url)
    seed(engine)
    yield engine
    engine.dispose()


def query(engine: sa.Engine, sql: str, **types: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as db:
        return [tuple(row) for row in db.execute(sa.text(sql).columns(**types))]


def revision(engine: sa.Engine) -> str:
    return str(query(engine, "SELECT version_num FROM alembic_version")[0][0])


def link(engine: sa.Engine, **values: object) -> None:
    """Insert an invoice link at revision 0005 (company 1)."""
    names = ", ".join(values)
    with engine.begin() as db:
        db.execute(
            sa.text(
                f"INSERT INTO invoice_links (company_id, {names}, version) "
                f"VALUES (1, {', '.join(f':{n}' for n in values)}, 1)"
            ),
            values,
        )


def upgrade_to_0005(url: str) -> None:
    """This migration alone: later ones change the schema on purpose."""
    command.upgrade(alembic_config(url), "0005")


def refused_downgrade(url: str) -> str:
    """Why the downgrade to 0004 refused (it must).

    When a migration raises, Alembic leaves `alembic.op` bound to the failed run (Operations.context removes its
    proxy only on success), so the run's engine and its pooled connection live on until the next Alembic command
    rebinds it; psycopg then warns about a connection closed by the garbage collector (ResourceWarning, an error
    in this suite). A harmless `current` rebinds it here, and the connection is collected with the warning off.
    """
    config = alembic_config(url)
    try:
        command.downgrade(config, "0004")
    except RuntimeError as error:
        message = str(error)
    else:
        pytest.fail("the downgrade went through")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        command.current(config)
        gc.collect()
    return message


def foreign_key_problems(engine: sa.Engine) -> list[tuple[Any, ...]]:
    return query(engine, "PRAGMA foreign_key_check") if engine.dialect.name == "sqlite" else []


# -- upgrade ----------------------------------------------------------------------------------------------------
def test_delivered_rows_become_delivery_1_of_their_order(url: str, engine: sa.Engine) -> None:
    before = datetime.now(UTC)
    upgrade_to_0005(url)
    after = datetime.now(UTC)

    assert revision(engine) == "0005"
    deliveries = query(
        engine,
        "SELECT sales_order_id, company_id, number, delivered_at FROM deliveries ORDER BY sales_order_id",
        delivered_at=WHEN,
    )
    assert [d[:3] for d in deliveries] == [(2, 1, 1), (3, 1, 1)]  # SO-1, SO-4, SO-5: nothing went out
    assert utc(deliveries[0][3]) == DELIVERED_AT  # the SO's delivered_at
    assert before <= utc(deliveries[1][3]) <= after  # never recorded: the time of the upgrade

    lines = query(
        engine,
        "SELECT d.sales_order_id, l.row_id, l.quantity, r.delivered_quantity FROM delivery_lines l "
        "JOIN deliveries d ON d.id = l.delivery_id JOIN sales_order_rows r ON r.id = l.row_id ORDER BY l.row_id",
    )
    assert [line[:3] for line in lines] == [
        (2, 21, raw(engine, "2.5")),
        (2, 22, raw(engine, "3")),
        (3, 31, raw(engine, "1.5")),  # row 32 delivered nothing: no line
    ]
    assert all(quantity == delivered for *_, quantity, delivered in lines)  # copied as stored, not converted
    assert foreign_key_problems(engine) == []


def test_links_become_numbered_whole_invoices_in_slot_1(url: str, engine: sa.Engine) -> None:
    upgrade_to_0005(url)

    links = query(
        engine,
        "SELECT id, sales_order_id, number, scope, slot, state, qbo_invoice_id, delivery_ids, version "
        "FROM invoice_links ORDER BY id",
    )
    assert links == [
        (2, 2, 1, "whole", 1, "invoiced", "130", None, 2),
        (3, 3, 2, "whole", 1, "failed", None, None, 2),
        (4, 4, 2, "whole", 1, "deleted", None, None, 2),  # set back at generation 3: invoice 2 was deleted
    ]  # link 5 (generation 1, never invoiced) is gone
    events = query(engine, "SELECT id, link_id, state, note FROM invoice_link_events ORDER BY id")
    assert events == [(i, link_id, state, "n") for i, link_id, state in EVENTS if link_id != 5]
    assert "generation" not in {c["name"] for c in sa.inspect(engine).get_columns("invoice_links")}
    assert foreign_key_problems(engine) == []


def test_orders_say_what_their_invoices_say_and_cogs_entries_are_delivery_0(url: str, engine: sa.Engine) -> None:
    upgrade_to_0005(url)

    orders = query(engine, "SELECT id, invoice_scope, invoice_status, invoice_lock FROM sales_orders ORDER BY id")
    assert orders == [
        (1, None, "not_invoiced", 0),
        (2, "whole", "invoiced", 0),
        (3, "whole", "not_invoiced", 0),  # a failed invoice is live but not in QBO
        (4, None, "not_invoiced", 0),  # its only invoice is deleted
        (5, None, "not_invoiced", 0),
    ]
    cogs = query(engine, "SELECT id, sales_order_id, delivery_number, state, amount FROM cogs_entries")
    assert cogs == [(1, 2, 0, "posted", raw(engine, "23.1"))]


def test_the_new_constraints_and_defaults_hold(url: str, engine: sa.Engine) -> None:
    upgrade_to_0005(url)
    with pytest.raises(sa.exc.IntegrityError):  # one live invoice per DocNumber slot
        link(engine, id=100, sales_order_id=2, number=2, scope="whole", slot=1, state="queued")
    link(engine, id=101, sales_order_id=2, number=2, scope="whole", slot=1, state="deleted")  # frees its slot
    link(engine, id=102, sales_order_id=2, number=3, scope="deliveries", slot=2, state="queued")
    with pytest.raises(sa.exc.IntegrityError):  # one invoice per number
        link(engine, id=103, sales_order_id=2, number=3, scope="deliveries", slot=3, state="deleted")

    delivery = query(engine, "SELECT id FROM deliveries WHERE sales_order_id = 2")[0][0]
    covers = sa.text("INSERT INTO invoiced_deliveries (delivery_id, link_id) VALUES (:delivery, :link)")
    with engine.begin() as db:
        db.execute(covers, {"delivery": delivery, "link": 102})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as db:  # no delivery on two live invoices
        db.execute(covers, {"delivery": delivery, "link": 2})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as db:
        db.execute(
            sa.text("INSERT INTO deliveries (id, company_id, sales_order_id, number, delivered_at) "
                    "VALUES (100, 1, 2, 1, :at)").bindparams(sa.bindparam("at", type_=WHEN)),
            {"at": DELIVERED_AT},
        )  # fmt: skip

    cogs = sa.text(
        "INSERT INTO cogs_entries (id, company_id, sales_order_id, delivery_number, state, version) "
        "VALUES (:id, 1, 2, :delivery, 'pending', 1)"
    )
    with engine.begin() as db:
        db.execute(cogs, {"id": 100, "delivery": 1})  # a second delivery of SO-2, a second entry
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as db:
        db.execute(cogs, {"id": 101, "delivery": 0})

    with engine.begin() as db:  # the server defaults of a new SO
        db.execute(
            sa.text(
                "INSERT INTO sales_orders (id, company_id, number, customer_id, billing_address, shipping_address, "
                "created_at, currency, delivery_status) VALUES (6, 1, 'SO-6', 1, '{}', '{}', :at, 'USD', 'x')"
            ).bindparams(sa.bindparam("at", type_=WHEN)),
            {"at": CREATED_AT},
        )
    assert query(engine, "SELECT invoice_scope, invoice_status, invoice_lock FROM sales_orders WHERE id = 6") == [
        (None, "not_invoiced", 0)
    ]


# -- downgrade --------------------------------------------------------------------------------------------------
def test_downgrade_refuses_an_order_with_two_invoices(url: str, engine: sa.Engine) -> None:
    upgrade_to_0005(url)
    link(engine, id=100, sales_order_id=2, number=2, scope="whole", slot=1, state="deleted")

    assert "1 sales order(s) have more than one invoice" in refused_downgrade(url)

    assert revision(engine) == "0005"
    assert query(engine, "SELECT count(*) FROM invoice_links")[0][0] == 4
    assert query(engine, "SELECT count(*) FROM deliveries")[0][0] == 2


def test_downgrade_refuses_an_invoice_of_deliveries(url: str, engine: sa.Engine) -> None:
    upgrade_to_0005(url)
    with engine.begin() as db:
        db.execute(sa.text("UPDATE invoice_links SET scope = 'deliveries' WHERE id = 3"))

    assert "1 invoice(s) cover deliveries rather than a whole order" in refused_downgrade(url)

    assert revision(engine) == "0005"


def test_downgrade_refuses_an_order_with_two_cogs_entries(url: str, engine: sa.Engine) -> None:
    upgrade_to_0005(url)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO cogs_entries (id, company_id, sales_order_id, delivery_number, state, version) "
                "VALUES (100, 1, 2, 1, 'pending', 1)"
            )
        )

    assert "1 sales order(s) have more than one COGS entry" in refused_downgrade(url)

    assert revision(engine) == "0005"


def snapshot(engine: sa.Engine) -> dict[str, Any]:
    """Every table's columns, keys, indexes and foreign keys, and the book's rows as stored."""
    inspector = sa.inspect(engine)
    schema: dict[str, Any] = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        schema[table] = (
            sorted((c["name"], str(c["type"]), c["nullable"], c.get("default")) for c in inspector.get_columns(table)),
            inspector.get_pk_constraint(table),
            sorted((u["name"], u["column_names"]) for u in inspector.get_unique_constraints(table)),
            sorted((i["name"], i["column_names"], i["unique"]) for i in inspector.get_indexes(table)),
            sorted(
                (f["name"], f["constrained_columns"], f["referred_table"], f["options"].get("ondelete"))
                for f in inspector.get_foreign_keys(table)
            ),
        )
    with engine.connect() as db:
        rows = {
            t: [dict(r) for r in db.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).mappings()] for t in BOOK_TABLES
        }
    return {"schema": schema, "rows": rows}


def test_downgrade_gives_back_the_0004_book(url: str, engine: sa.Engine) -> None:
    before = snapshot(engine)
    upgrade_to_0005(url)
    command.downgrade(alembic_config(url), "0004")
    engine.dispose()  # the schema changed under its pooled connections

    assert revision(engine) == "0004"
    after = snapshot(engine)
    assert after["schema"] == before["schema"]
    expected = dict(before["rows"])  # less the link that never had an invoice, dropped on the way up
    expected["invoice_links"] = [r for r in expected["invoice_links"] if r["id"] != 5]
    expected["invoice_link_events"] = [r for r in expected["invoice_link_events"] if r["link_id"] != 5]
    assert after["rows"] == expected  # link 4 back to not_invoiced at generation 3, events and amounts as stored
    assert foreign_key_problems(engine) == []

    upgrade(url)  # and up again, to exactly the models' schema
    engine.dispose()
    with engine.connect() as db:
        assert list(compare_metadata(MigrationContext.configure(db, opts={"compare_type": True}), Base.metadata)) == []
    assert query(engine, "SELECT id, number, state FROM invoice_links ORDER BY id") == [
        (2, 1, "invoiced"), (3, 2, "failed"), (4, 2, "deleted"),
    ]  # fmt: skip
