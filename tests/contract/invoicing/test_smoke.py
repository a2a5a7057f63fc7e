from __future__ import annotations

from tests.contract.invoicing.conftest import WorldFactory

from invoicebridge.domain import InvoiceState


def test_an_order_becomes_one_invoice(make_world: WorldFactory) -> None:
    world = make_world()
    customer = world.customer("Zed Zebra Supplies", "zed@zebra.example")
    order = world.order(customer)
    link = world.invoice(order)
    assert link.state is InvoiceState.INVOICED, link
    invoice = world.qbo_read("Invoice", link.qbo_invoice_id)
    assert invoice["CustomerMemo"]["value"] == order.number
