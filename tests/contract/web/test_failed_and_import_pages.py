"""The *Failed invoices* page and *Import customers from QuickBooks* over HTTP (no JavaScript), against a served
company connected to a sandbox company: reports, and refusals as sentences on the page."""

from __future__ import annotations

from tests.contract.invoicing.conftest import WorldFactory
from tests.contract.invoicing.test_customer_import import active_qbo_customers, our_customers


def test_a_retry_with_nothing_failed_says_so_on_the_page(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    seller = world.browser("seller@books.example", "member")
    page = seller.get(f"/c/{world.company_id}/failed-invoices")
    assert page.status_code == 200 and "No invoice has failed." in page.text

    refused = seller.post(f"/c/{world.company_id}/failed-invoices/retry", data={"reason": ""})

    assert refused.status_code == 409
    assert "No failed invoices to retry" in refused.text


def test_a_member_imports_customers_and_sees_the_report(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    seller = world.browser("seller@books.example", "member")
    answer = seller.post(f"/c/{world.company_id}/customers/import-qbo")
    assert answer.status_code == 200, answer.text
    assert f"<strong>{len(active_qbo_customers(world))}</strong> created" in answer.text
    assert len(our_customers(world)) == len(active_qbo_customers(world))


def test_importing_without_a_connection_says_what_to_do(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    world.app.connecting.disconnect(world.company_id)
    answer = world.browser("seller@books.example", "member").post(f"/c/{world.company_id}/customers/import-qbo")
    assert answer.status_code == 409
    assert "QuickBooks is not connected for this company: connect QuickBooks first." in answer.text, answer.text[-900:]
    assert our_customers(world) == []
