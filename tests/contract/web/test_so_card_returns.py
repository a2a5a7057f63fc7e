"""The SO card's Returns section over HTTP, without JavaScript (plain form posts, Post/Redirect/Get), against a
served company connected to a sandbox company: a return recorded becomes a credit memo shown with its link, a
refusal comes back next to its field with nothing recorded, and a failed credit memo is retried from the card."""

from __future__ import annotations

from tests.contract.invoicing.conftest import WorldFactory
from tests.contract.invoicing.test_returns import credit_memos, set_invoice_customer_active, sold
from tests.contract.web.test_so_card_pages import card_url, seller, text


def test_a_return_posted_from_the_card_becomes_a_credit_memo_shown_with_its_link(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = sold(world)
    a, b = (row.id for row in order.rows)
    client = seller(world)
    card = text(client.get(card_url(world, order)))
    assert "Returns Nothing returned." in card
    assert f"Returnable A up to 4 (row {a})" in card and f"Returnable B up to 3 (row {b})" in card

    posted = client.post(card_url(world, order, "/returns"), data={f"lines[{a}].quantity": "1",
                                                                   f"lines[{b}].quantity": ""})  # fmt: skip
    assert (posted.status_code, posted.headers["location"]) == (303, card_url(world, order) + "#returns")
    [memo] = credit_memos(world, order)
    page = client.get(card_url(world, order))
    assert "Return 1" in text(page) and "1 × RET-A" in text(page) and "Credit memo created (QBO)" in text(page)
    assert f"/app/creditmemo?txnId={memo['Id']}&amp;realmId={world.realm_id}" in page.text
    assert f"Returnable A up to 3 (row {a})" in text(page)

    refused = client.post(card_url(world, order, "/returns"), data={f"lines[{a}].quantity": "4"})
    assert refused.status_code == 422
    assert f"Cannot return 4 of row {a}: 4 were delivered and invoiced, 1 of them already returned." in text(refused)
    assert 'aria-invalid="true"' in refused.text and 'value="4"' in refused.text  # what was typed stays
    assert len(world.app.returns.of_order(world.company_id, order.id or 0)) == 1


def test_a_failed_credit_memo_is_retried_from_the_card(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = sold(world)
    client = seller(world)
    set_invoice_customer_active(world, order, False)
    client.post(card_url(world, order, "/returns"), data={f"lines[{order.rows[1].id}].quantity": "2"})
    failed = text(client.get(card_url(world, order)))
    assert "Credit memo failed" in failed and "customer of this order's invoice was deleted or made inactive" in failed
    assert "Retry the credit memo of return 1" in failed

    set_invoice_customer_active(world, order, True)
    retried = client.post(card_url(world, order, "/returns/1/retry"))
    assert retried.status_code == 303
    assert "Credit memo created (QBO)" in text(client.get(card_url(world, order)))
    assert len(credit_memos(world, order)) == 1
    assert client.post(card_url(world, order, "/returns/x/retry")).status_code == 404
