"""Importing QBO customers into the order book, against qbo_sandbox over real HTTP (sync/customer_import.py):
linked customers, invoices that then match them by id, clashes and refusals reported, idempotent — also when two
runs meet — and costing no QBO request once the mirror is loaded."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from tests.contract.invoicing.conftest import World, WorldFactory
from tests.contract.invoicing.test_oauth_binding import consent, start

from invoicebridge.domain import Customer, InvoiceState, NotConnected, PageRequest


def our_customers(world: World) -> list[Customer]:
    return list(world.app.orderbook.list_customers(world.company_id, PageRequest(200)).items)


def linked_ids(world: World, customers: list[Customer]) -> dict[int, str]:
    with world.app.uow() as uow:
        return uow.qbo_refs.get_many(world.company_id, "customer", [c.id for c in customers if c.id])


def active_qbo_customers(world: World) -> dict[str, dict[str, Any]]:
    return {row["Id"]: row for row in world.qbo_rows("SELECT * FROM Customer MAXRESULTS 1000")}


def test_the_import_creates_one_linked_customer_per_active_qbo_customer(make_world: WorldFactory) -> None:
    world = make_world("US")
    gone = world.qbo_create("Customer", {"DisplayName": "Closed Shop", "Active": False})
    qbo = active_qbo_customers(world)
    assert gone["Id"] not in qbo and len(qbo) > 5

    report = world.app.customer_import.run(world.company_id)

    assert (report.created, report.already_linked, report.clashes, report.refused) == (len(qbo), 0, (), ())
    ours = our_customers(world)
    links = linked_ids(world, ours)
    assert sorted(links.values()) == sorted(qbo)  # each QBO customer linked once, the inactive one not at all
    for customer in ours:
        source = qbo[links[customer.id or 0]]
        assert customer.display_name == source["DisplayName"]
        assert customer.email == source["PrimaryEmailAddr"]["Address"]
        assert customer.currency == "USD"


def test_an_invoice_for_an_imported_customer_matches_it_by_the_remembered_id(make_world: WorldFactory) -> None:
    world = make_world("US")
    made = world.qbo_create("Customer", {"DisplayName": "No Mail Diner"})  # no e-mail: only the id can match
    world.app.customer_import.run(world.company_id)
    diner = next(c for c in our_customers(world) if c.display_name == "No Mail Diner")
    world.app.orderbook.update_customer(world.company_id, diner.id or 0, display_name="The Diner (ours)")
    customers_in_qbo = world.qbo_count("Customer")
    order = world.order(diner)

    preview = world.app.invoicing.preview(world.company_id, order.id or 0)
    link = world.invoice(order)

    assert (preview.customer.how, preview.customer.qbo_id) == ("remembered", made["Id"])
    assert link.state is InvoiceState.INVOICED
    assert world.qbo_read("Invoice", link.qbo_invoice_id or "")["CustomerRef"]["value"] == made["Id"]
    assert world.qbo_count("Customer") == customers_in_qbo  # no customer created in QuickBooks


def test_a_qbo_customer_whose_email_we_have_is_reported_not_created(make_world: WorldFactory) -> None:
    world = make_world("US")
    ours = world.customer("Bird lovers (ours)", "birds@INTUIT.com")  # Amy's Bird Sanctuary's (Birds@Intuit.com)
    report = world.app.customer_import.run(world.company_id)

    [clash] = report.clashes
    assert (clash.display_name, clash.email, clash.existing_customer_id) == (
        "Amy's Bird Sanctuary",
        "Birds@Intuit.com",
        ours.id,
    )
    with_that_email = [c for c in our_customers(world) if (c.email or "").lower() == "birds@intuit.com"]
    assert with_that_email == [ours]
    assert clash.qbo_id not in linked_ids(world, our_customers(world)).values()


def test_names_and_emails_the_order_book_refuses_are_reported(make_world: WorldFactory) -> None:
    world = make_world("US", sample_data=False)
    long_mail = "a" * 95 + "@example.com"  # QBO takes it; the order book keeps e-mails to 100 characters
    world.qbo_create("Customer", {"DisplayName": "Long Mail Ltd", "PrimaryEmailAddr": {"Address": long_mail}})
    world.qbo_create("Customer", {"DisplayName": "Fine Ltd", "PrimaryEmailAddr": {"Address": "fine@example.com"}})

    report = world.app.customer_import.run(world.company_id)

    assert report.created == 1 and [c.display_name for c in our_customers(world)] == ["Fine Ltd"]
    [refused] = report.refused
    assert (refused.display_name, refused.email) == ("Long Mail Ltd", long_mail)
    assert "100" in refused.reason


def test_importing_twice_creates_nothing_the_second_time_and_reads_no_qbo(make_world: WorldFactory) -> None:
    world = make_world("GB")
    first = world.app.customer_import.run(world.company_id)
    before = len(world.qbo_requests())

    second = world.app.customer_import.run(world.company_id)

    assert first.created > 0
    assert (second.created, second.already_linked) == (0, first.created)
    assert len(our_customers(world)) == first.created
    assert world.qbo_requests()[before:] == []  # the mirror was loaded: an import costs no QBO request


def test_a_customer_added_in_qbo_later_is_imported_by_the_next_run(make_world: WorldFactory) -> None:
    world = make_world("GB")
    world.app.customer_import.run(world.company_id)
    late = world.qbo_create(
        "Customer", {"DisplayName": "Late Ltd", "PrimaryEmailAddr": {"Address": "late@example.com"}}
    )
    world.app.reconcile.poll(world.company_id)  # the CDC poll (no webhooks reach this app) brings it to the mirror

    report = world.app.customer_import.run(world.company_id)

    assert report.created == 1
    late_ours = next(c for c in our_customers(world) if c.display_name == "Late Ltd")
    assert linked_ids(world, [late_ours]) == {late_ours.id: late["Id"]}


def test_two_imports_at_once_create_each_customer_once(make_world: WorldFactory) -> None:
    imports_at_once_create_each_customer_once(make_world("US"))


@pytest.mark.postgres
def test_two_imports_at_once_create_each_customer_once_on_postgres(
    make_world: WorldFactory, postgres_url: str
) -> None:  # fmt: skip
    imports_at_once_create_each_customer_once(make_world("US", database_url=postgres_url))


def imports_at_once_create_each_customer_once(world: World) -> None:
    qbo = active_qbo_customers(world)
    with world.app.uow() as uow:  # the mirror loaded first: the runs then meet at once, page by page
        world.app.invoicing.mirror.ensure_loaded(world.company_id, world.realm_id, client_of(world))
        assert uow.customer_imports.mirrored_count(world.company_id) == len(qbo)
    reports: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            reports.append(world.app.customer_import.run(world.company_id))
        except BaseException as error:  # the assertion below names it
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(r.created for r in reports) == len(qbo)
    assert all(r.created + r.already_linked == len(qbo) for r in reports)
    ours = our_customers(world)
    assert len(ours) == len(qbo)
    assert sorted(linked_ids(world, ours).values()) == sorted(qbo)


def client_of(world: World) -> Any:
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None
    return world.app.clients(connection, None)


def test_the_import_needs_a_connection(make_world: WorldFactory) -> None:
    world = make_world("US")
    world.app.connecting.disconnect(world.company_id)
    with pytest.raises(NotConnected):
        world.app.customer_import.run(world.company_id)
    assert our_customers(world) == []


def test_connecting_quickbooks_imports_its_customers(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    assert our_customers(world) == []
    browser = world.browser()
    assert browser.get(consent(world, start(browser, world), world.realm_id)).status_code == 200

    ours = our_customers(world)  # the job ran (immediate mode) right after the callback
    assert sorted(linked_ids(world, ours).values()) == sorted(active_qbo_customers(world))


def test_a_member_imports_through_the_api_and_reads_the_report(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    world.customer("Bird lovers (ours)", "birds@intuit.com")
    api = world.api("member")
    path = f"/api/companies/{world.company_id}/qbo/import-customers"

    first, second = api.post(path), api.post(path)

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["created"] == len(active_qbo_customers(world)) - 1 and body["refused"] == []
    assert [(c["display_name"], c["email"]) for c in body["clashes"]] == [("Amy's Bird Sanctuary", "Birds@Intuit.com")]
    assert (second.json()["created"], second.json()["already_linked"]) == (0, body["created"])


def test_the_api_says_when_quickbooks_is_not_connected(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    world.app.connecting.disconnect(world.company_id)
    answer = world.api("member").post(f"/api/companies/{world.company_id}/qbo/import-customers")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "not_connected"
