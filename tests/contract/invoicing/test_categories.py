"""Income accounts per product category, against qbo_sandbox over HTTP: the items invoicing creates — alone (one
create) and in bulk (through /batch) — post to their product category's account, others to the revenue account;
an item that exists already is never changed; the settings refuse an account that is not an active Income one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import InvoiceState, ProductVariant, ValidationError
from invoicebridge.domain.connection import ConnectionSettings


def account_ids(world: World) -> dict[str, str]:
    return {a["Name"]: a["Id"] for a in world.qbo_rows("SELECT * FROM Account MAXRESULTS 1000")}


def income_account(world: World, name: str) -> str:
    """A new Income account in the QBO company, as a bookkeeper would add one."""
    made = world.qbo_create(
        "Account", {"Name": name, "AccountType": "Income", "AccountSubType": "SalesOfProductIncome"}
    )
    return str(made["Id"])


def settings_of(world: World) -> ConnectionSettings:
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None
    return connection.settings


def with_categories(world: World, accounts: dict[str, str]) -> None:
    world.app.connecting.save_settings(world.company_id, replace(settings_of(world), category_accounts=accounts))


def product(world: World, sku: str, category: str | None) -> ProductVariant:
    made = world.app.orderbook.create_product(world.company_id, sku, f"Product {sku}", "10.00", "4.00", category)
    world.products.append(made)
    return made


def item_of(world: World, sku: str) -> dict[str, Any]:
    [item] = world.qbo_rows(f"SELECT * FROM Item WHERE Sku = '{sku}'")
    return item


def posted_to(world: World, sku: str) -> str:
    return str(item_of(world, sku)["IncomeAccountRef"]["value"])


def batch_requests(world: World, since: int) -> int:
    return sum(1 for r in world.qbo_requests()[since:] if r["method"] == "POST" and r["path"].endswith("/batch"))


def test_an_item_made_alone_posts_to_its_categorys_account(make_world: WorldFactory) -> None:
    world = make_world("GB")
    garden = income_account(world, "Garden sales")
    with_categories(world, {"Garden": garden})
    revenue = account_ids(world)["Sales of Product Income"]
    for sku, category, wanted in (("CAT-G", "Garden", garden), ("CAT-T", "Toys", revenue), ("CAT-N", None, revenue)):
        order = world.order(rows=[(product(world, sku, category), "1", "10.00", world.rates[0])])
        link = world.invoice(order)
        assert link.state is InvoiceState.INVOICED, link.error_message
        assert posted_to(world, sku) == wanted, sku
    assert item_of(world, "CAT-G")["IncomeAccountRef"].get("name") == "Garden sales"


def test_items_made_in_bulk_through_batch_post_to_their_categories_accounts(make_world: WorldFactory) -> None:
    world = make_world("US")
    garden, books = income_account(world, "Garden sales"), income_account(world, "Book sales")
    with_categories(world, {"Garden": garden, "Books": books})
    revenue = account_ids(world)["Sales of Product Income"]
    wanted = {"BULK-G1": garden, "BULK-G2": garden, "BULK-B1": books, "BULK-X1": revenue, "BULK-N1": revenue}
    categories = {"BULK-G1": "Garden", "BULK-G2": "Garden", "BULK-B1": "Books", "BULK-X1": "Other", "BULK-N1": None}
    goods = [product(world, sku, categories[sku]) for sku in wanted]
    orders = [world.order(rows=[(goods[n], "1", "10.00", world.rates[0]),
                                (goods[(n + 1) % len(goods)], "2", "5.00", world.rates[0])])
              for n in range(len(goods))]  # fmt: skip
    before = len(world.qbo_requests())
    world.app.jobs.invoice(world.company_id, [o.id for o in orders if o.id is not None])
    for order in orders:
        link = world.app.orderbook.invoice_link(world.company_id, order.id or 0)
        assert link.state is InvoiceState.INVOICED, link.error_message
    assert batch_requests(world, before) >= 2  # the items in one batch, the invoices in another
    assert {sku: posted_to(world, sku) for sku in wanted} == wanted


def test_an_existing_item_is_never_changed_and_a_new_account_applies_to_new_items(make_world: WorldFactory) -> None:
    world = make_world("GB")
    first, second = income_account(world, "Garden sales"), income_account(world, "Garden sales 2026")
    with_categories(world, {"Garden": first})
    older = product(world, "OLD-G", "Garden")
    assert world.invoice(world.order(rows=[(older, "1", "10.00", world.rates[0])])).state is InvoiceState.INVOICED
    made = item_of(world, "OLD-G")

    with_categories(world, {"Garden": second})
    newer = product(world, "NEW-G", "Garden")
    link = world.invoice(world.order(rows=[(older, "1", "10.00", world.rates[0]),
                                           (newer, "1", "10.00", world.rates[0])]))  # fmt: skip
    assert link.state is InvoiceState.INVOICED, link.error_message
    kept = item_of(world, "OLD-G")
    assert (kept["IncomeAccountRef"]["value"], kept["SyncToken"]) == (first, made["SyncToken"])
    assert posted_to(world, "NEW-G") == second


def test_changing_a_products_category_gives_its_existing_item_nothing_new(make_world: WorldFactory) -> None:
    world = make_world("US")
    garden = income_account(world, "Garden sales")
    with_categories(world, {"Garden": garden})
    thing = product(world, "MOVED-1", None)
    assert world.invoice(world.order(rows=[(thing, "1", "10.00", world.rates[0])])).state is InvoiceState.INVOICED
    world.app.orderbook.update_product(world.company_id, thing.id or 0, category="Garden")
    again = world.order(rows=[(world.app.orderbook.get_product(world.company_id, thing.id or 0), "1", "10.00",
                               world.rates[0])])  # fmt: skip
    assert world.invoice(again).state is InvoiceState.INVOICED
    assert posted_to(world, "MOVED-1") == account_ids(world)["Sales of Product Income"]


@pytest.mark.parametrize("kind", ["cogs", "unknown", "inactive"])
def test_a_category_account_that_is_not_an_active_income_account_is_refused(
    make_world: WorldFactory, kind: str
) -> None:  # fmt: skip
    world = make_world("GB")
    before = settings_of(world)
    if kind == "cogs":
        account = account_ids(world)["Cost of Goods Sold"]
    elif kind == "unknown":
        account = "999999"
    else:
        account = income_account(world, "Old sales")
        current = world.qbo_read("Account", account)
        world.sandbox.sandbox.backend.update(
            world.realm_id, "Account", {"Id": account, "SyncToken": current["SyncToken"], "Active": False,
                                        "sparse": True})  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        with_categories(world, {"Garden": account})
    assert {(p.field, p.message) for p in refused.value.problems} == {
        ("category_accounts.Garden", f"Account {account} is not an active Income account in QuickBooks.")
    }
    assert settings_of(world) == before


def test_the_choices_list_the_product_categories(make_world: WorldFactory) -> None:
    world = make_world("US")
    product(world, "C-1", "Garden")
    product(world, "C-2", "Books")
    product(world, "C-3", "Garden")
    product(world, "C-4", None)
    assert world.app.connecting.choices(world.company_id).categories == ("Books", "Garden")
