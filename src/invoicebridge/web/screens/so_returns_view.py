"""What the SO card's *Returns* section shows (screens/so_card/returns.html): the SO's returns with their credit
memos in QuickBooks and links to them, and what is left to return per row. The section's actions are in
so_returns.py."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from invoicebridge.bootstrap import Container
from invoicebridge.domain import OrderInvoices, ProductVariant
from invoicebridge.domain.money import plain
from invoicebridge.domain.returns import Return, ReturnState, returnable

POLL_RETURNS = 2  # seconds between the card's polls while a credit memo is being made
MARKS = {"created": "✓", "failed": "!", "pending": "…", "creating": "…"}


def return_field(row_id: int) -> str:
    """The return form's field of a row — the name the use case's refusals use for it."""
    return f"lines[{row_id}].quantity"


def returns_context(
    app: Container, company_id: int, invoices: OrderInvoices, products: Mapping[int, ProductVariant | None]
) -> dict[str, Any]:
    """The card's Returns section: the returns, their links into QBO, what each took, what is left per row."""
    returns = app.returns.of_order(company_id, invoices.order.id or 0)
    urls = app.credit_memo_urls(company_id)
    names = {row.id or 0: _name(row.variant_id, products) for row in invoices.order.rows}
    taken = {r.number: ", ".join(f"{plain(q)} × {names.get(i, i)}" for i, q in r.lines.items()) for r in returns}
    return {
        "returns": returns, "return_urls": {r.number: urls(r.qbo_credit_memo_id) for r in returns},
        "returnable": {k: v for k, v in returnable(invoices, returns).items() if v > 0},
        "return_field": return_field, "return_marks": MARKS, "returns_text": taken,
    }  # fmt: skip


def returns_poll(returns: list[Return]) -> int | None:
    """Seconds between the card's polls while a credit memo is queued or being made; None when none is."""
    busy = any(r.state in (ReturnState.PENDING, ReturnState.CREATING) for r in returns)
    return POLL_RETURNS if busy else None


def returns_fingerprint(returns: list[Return]) -> str:
    """Changes whenever what the section shows changes (every save bumps a version)."""
    seen = repr([(r.number, r.state.value, r.version) for r in returns])
    return hashlib.blake2b(seen.encode(), digest_size=4).hexdigest()


def _name(variant_id: int, products: Mapping[int, ProductVariant | None]) -> str:
    product = products.get(variant_id)
    return product.sku if product else f"product {variant_id}"
