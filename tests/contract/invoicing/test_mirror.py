"""The mirror of QBO customers and items: loaded once, kept current by webhooks and the CDC poll, so matching
reads no QBO — and the echo of our own creates costs no read either."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import InvoiceState
from invoicebridge.sync.mapping import marker


def eventually(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


def mirrored_emails(world: World) -> set[str]:
    with world.app.uow() as uow:
        return {c.email.lower() for c in uow.qbo_mirror.customers(world.company_id, emails=["late@example.com"])
                if c.email and c.active}  # fmt: skip


def test_the_mirror_is_loaded_once_and_matching_then_reads_nothing(make_world: WorldFactory) -> None:
    world = make_world("US")
    known = world.customer("Someone Known", "birds@intuit.com")  # Amy's Bird Sanctuary, by e-mail
    fountain = world.product("RF-100", "Rock fountain")  # a sample item, by SKU
    world.invoice(world.order(known, rows=[(fountain, "1", "10.00", world.rates[0])]))
    before = len(world.qbo_requests())
    link = world.invoice(world.order(known, rows=[(fountain, "2", "10.00", world.rates[0])]))
    assert link.state is InvoiceState.INVOICED
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in world.qbo_requests()[before:]] == [("POST", "invoice")]


def test_a_customer_added_in_qbo_reaches_the_mirror_by_webhook(make_world: WorldFactory) -> None:
    world = make_world("GB", serve=True)
    world.invoice(world.order(world.customer("First Ltd")))  # loads the mirror
    world.qbo_create("Customer", {"DisplayName": "Late Ltd", "PrimaryEmailAddr": {"Address": "late@example.com"}})
    eventually(lambda: mirrored_emails(world) == {"late@example.com"})
    before = len(world.qbo_requests())
    link = world.invoice(world.order(world.customer("Ours, named otherwise", "late@example.com")))
    assert link.state is InvoiceState.INVOICED
    assert [r["path"].rsplit("/", 1)[-1] for r in world.qbo_requests()[before:]] == ["invoice"]  # no look-up


def test_a_customer_added_in_qbo_reaches_the_mirror_by_the_cdc_poll(make_world: WorldFactory) -> None:
    world = make_world("GB")  # no webhooks reach this app
    world.invoice(world.order(world.customer("First Ltd")))
    world.qbo_create("Customer", {"DisplayName": "Late Ltd", "PrimaryEmailAddr": {"Address": "late@example.com"}})
    assert mirrored_emails(world) == set()
    world.app.reconcile.poll(world.company_id)
    assert mirrored_emails(world) == {"late@example.com"}


def test_the_echo_of_our_own_creates_costs_no_read(make_world: WorldFactory) -> None:
    world = make_world("GB", serve=True)
    customers = [world.customer(f"Echo {n} Ltd", f"echo{n}@example.com") for n in range(4)]
    orders = [world.order(customer) for customer in customers]
    world.app.jobs.invoice(world.company_id, [o.id for o in orders if o.id])
    created = {world.app.orderbook.invoice_link(world.company_id, o.id or 0).state for o in orders}
    assert created == {InvoiceState.INVOICED}
    flushed = world.control.post("/_sandbox/webhooks/flush", json={"timeout": 30})  # every event delivered, handled
    assert flushed.status_code == 200, flushed.text
    delivered = world.control.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    events = "".join(d["body"] for d in delivered if world.realm_id in d["realm_ids"])
    assert events.count("qbo.customer.created") == 4  # the echoes did arrive
    reads = [r for r in world.qbo_requests() if r["method"] == "GET" and "/customer/" in r["path"]]
    assert reads == []


def test_one_click_on_a_customer_made_inactive_behind_the_mirror_is_read_again_and_invoiced_at_once(
    make_world: WorldFactory,
) -> None:
    """QBO replays a refusal to the same request id: the corrected second try must go out under its own."""
    world = make_world("US")
    amy = world.qbo_rows("SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'")[0]
    ours = world.customer("Bird Friends", "birds@intuit.com")  # matched to Amy by e-mail
    first = world.invoice(world.order(ours))
    assert world.qbo_read("Invoice", first.qbo_invoice_id)["CustomerRef"]["value"] == amy["Id"]
    world.sandbox.sandbox.backend.update(world.realm_id, "Customer", {"Id": amy["Id"], "SyncToken": amy["SyncToken"],
                                                                      "sparse": True, "Active": False})  # fmt: skip
    order = world.order(ours)
    link = world.invoice(order)
    assert link.state is InvoiceState.INVOICED, link.error_message
    used = world.qbo_read("Invoice", link.qbo_invoice_id)["CustomerRef"]["value"]
    assert used != amy["Id"]
    assert world.qbo_read("Customer", used)["DisplayName"] == "Bird Friends"
    marked = [i for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
              if i.get("PrivateNote") == marker(order, link.request_id or "")]  # fmt: skip
    assert len(marked) == 1  # found again by its marker after an unknown outcome
