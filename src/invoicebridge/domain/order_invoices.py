"""An SO and its invoices (partial invoicing): what is invoiced, what may be invoiced next, and the part of the
SO each invoice carries. Pure rules; the store backs them with constraints (one live invoice per delivery, one
live invoice per DocNumber slot) so that concurrent requests cannot break them either.

- *Invoice all* makes one invoice of the whole SO, only while nothing of it is invoiced (or being invoiced).
- A partial invoice covers whole deliveries not on a live invoice yet: one invoice for the chosen deliveries, or
  one each. What has not shipped cannot be invoiced partly; once partly invoiced, the SO cannot be invoiced whole.
- An invoice deleted in QBO gives its part back: those deliveries (or the whole SO) can be invoiced again.
- So does an invoice voided in QBO, but it keeps its DocNumber slot (a voided invoice keeps its number in QBO):
  the part's next invoice takes the next free slot ("SO-1001-2"). While nothing live follows it, the SO reads
  `Invoice voided (QBO)` (InvoiceStatus.VOIDED), with the voided invoice as its `current` one.
- The SO's shipping fee is charged once: on the whole-SO invoice, or on the first partial invoice planned while no
  live invoice carries it. Deleting the invoice that carries it frees it for the next invoice planned, so the fee
  is never on two live invoices and never lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from invoicebridge.domain.deliveries import Delivery, quantities_of
from invoicebridge.domain.errors import InvalidTransition, Problem, ValidationError
from invoicebridge.domain.invoice_link import (
    ORDER_STATUS_TEXT,
    InvoiceLink,
    InvoiceScope,
    InvoiceState,
    InvoiceStatus,
    new_link,
)
from invoicebridge.domain.money import to_cents
from invoicebridge.domain.numbering import prefixed_doc_number
from invoicebridge.domain.orders import SO_NUMBER_MAX, SalesOrder

MAX_DELIVERIES_PER_REQUEST = 200


def doc_number(order_number: str, slot: int) -> str:
    """The DocNumber of the invoice in `slot`: the SO number for the first, then "SO-1001-2", "SO-1001-3"… The
    SO number is shortened from its end when the suffix would pass QBO's 21 characters; a number that then
    clashes with another invoice's is refused by QBO like any duplicate, and explained."""
    if slot == 1:
        return order_number
    suffix = f"-{slot}"
    return order_number[: SO_NUMBER_MAX - len(suffix)] + suffix


def voided_last(links: Sequence[InvoiceLink]) -> InvoiceLink | None:
    """The SO's newest invoice when it was voided in QBO and nothing live follows it (no live invoice at all):
    what the SO shows as `Invoice voided (QBO)`. None otherwise (a deletion after it, or a new invoice)."""
    if not links or any(link.live for link in links):
        return None
    newest = max(links, key=lambda link: link.number)
    return newest if newest.state is InvoiceState.VOIDED else None


def status_without_rows(links: Sequence[InvoiceLink]) -> tuple[InvoiceScope | None, InvoiceStatus] | None:
    """The SO's scope and status when its invoices alone decide them: none live (not invoiced), or one live whole
    invoice — it carries every row's whole quantity (quantities are positive), so the SO is invoiced exactly while
    that invoice is. None when partial invoices make the SO's rows count (use OrderInvoices.status)."""
    live = [link for link in links if link.live]
    if not live:
        return None, InvoiceStatus.VOIDED if voided_last(links) else InvoiceStatus.NOT_INVOICED
    if len(live) == 1 and live[0].scope is InvoiceScope.WHOLE:
        invoiced = live[0].state is InvoiceState.INVOICED
        return InvoiceScope.WHOLE, InvoiceStatus.INVOICED if invoiced else InvoiceStatus.NOT_INVOICED
    return None


@dataclass(frozen=True)
class OrderInvoices:
    """An SO with every invoice it has had, oldest first (deleted ones included: their history stays)."""

    order: SalesOrder
    links: tuple[InvoiceLink, ...] = ()

    # -- what is invoiced -----------------------------------------------------------------------------------
    @property
    def live(self) -> tuple[InvoiceLink, ...]:
        return tuple(link for link in self.links if link.live)

    @property
    def scope(self) -> InvoiceScope | None:
        """How the SO is being invoiced: whole, by deliveries, or not at all (None)."""
        return self.live[0].scope if self.live else None

    def covered(self, link: InvoiceLink) -> dict[int, Decimal]:
        """Quantity per row id this invoice carries."""
        if link.scope is InvoiceScope.WHOLE:
            return {row.id or 0: row.quantity for row in self.order.rows}
        wanted = set(link.delivery_ids)
        return quantities_of(d for d in self.order.deliveries if d.id in wanted)

    def invoiced_quantities(self) -> dict[int, Decimal]:
        """Quantity per row id on invoices that exist in QBO."""
        total: dict[int, Decimal] = {}
        for link in self.live:
            if link.state is InvoiceState.INVOICED:
                for row_id, quantity in self.covered(link).items():
                    total[row_id] = total.get(row_id, Decimal(0)) + quantity
        return total

    @property
    def invoiced_amount(self) -> Decimal:
        """Σ quantity × price of what is on invoices in QBO, before tax (each row rounded to cents, as a line)."""
        invoiced = self.invoiced_quantities()
        return sum(
            (to_cents(invoiced.get(row.id or 0, Decimal(0)) * row.unit_price) for row in self.order.rows), Decimal(0)
        )

    @property
    def rows_invoiced(self) -> int:
        """Rows whose whole ordered quantity is invoiced."""
        invoiced = self.invoiced_quantities()
        return sum(1 for row in self.order.rows if invoiced.get(row.id or 0, Decimal(0)) >= row.quantity)

    @property
    def status(self) -> InvoiceStatus:
        invoiced = self.invoiced_quantities()
        if not any(quantity > 0 for quantity in invoiced.values()):
            return InvoiceStatus.VOIDED if self.voided is not None else InvoiceStatus.NOT_INVOICED
        if self.rows_invoiced == len(self.order.rows):
            return InvoiceStatus.INVOICED
        return InvoiceStatus.PARTLY_INVOICED

    @property
    def status_text(self) -> str:
        status = self.status
        if status is not InvoiceStatus.PARTLY_INVOICED:
            return ORDER_STATUS_TEXT[status]
        total = sum((to_cents(row.amount) for row in self.order.rows), Decimal(0))
        return (
            f"Partly invoiced ({self.rows_invoiced} of {len(self.order.rows)} rows, "
            f"{self.invoiced_amount:,.2f} of {total:,.2f} {self.order.currency})"
        )

    @property
    def current(self) -> InvoiceLink:
        """The invoice to show for the SO as a whole: the newest live one, else the voided one the SO reads as
        `Invoice voided (QBO)` (it still has its link into QBO), else the next one (not invoiced)."""
        if self.live:
            return self.live[-1]
        return self.voided or new_link(self.order.id or 0, self.next_number, slot=self._free_slots(1)[0])

    @property
    def voided(self) -> InvoiceLink | None:
        """The voided invoice the SO reads as `Invoice voided (QBO)`: its newest, with nothing live (voided_last)."""
        return voided_last(self.links)

    @property
    def next_number(self) -> int:
        return max((link.number for link in self.links), default=0) + 1

    def open_deliveries(self) -> tuple[Delivery, ...]:
        """Deliveries on no live invoice: what a partial invoice may still take."""
        if self.scope is InvoiceScope.WHOLE:
            return ()
        taken = {delivery_id for link in self.live for delivery_id in link.delivery_ids}
        return tuple(d for d in self.order.deliveries if d.id not in taken)

    def invoice_of(self, delivery_id: int) -> InvoiceLink | None:
        """The live invoice covering this delivery (the whole-SO one covers every delivery)."""
        for link in self.live:
            if link.scope is InvoiceScope.WHOLE or delivery_id in link.delivery_ids:
                return link
        return None

    def doc_number(self, link: InvoiceLink, prefix: str = "") -> str:
        """The invoice's DocNumber; with the company's `prefix`, never shortened (ValidationError when too long:
        domain/numbering.py)."""
        if prefix:
            return prefixed_doc_number(prefix, self.order.number, link.slot)
        return doc_number(self.order.number, link.slot)

    def part(self, link: InvoiceLink) -> SalesOrder:
        """The SO as this invoice carries it: every row and the shipping fee for the whole SO; else the rows the
        deliveries touch, at the delivered quantities (rows keep their order, price, tax rate and description),
        and the shipping fee only when this invoice carries it."""
        if link.scope is InvoiceScope.WHOLE:
            return self.order  # the one live invoice: the fee as the SO has it now, even if added after planning
        covered = self.covered(link)
        rows = tuple(replace(row, quantity=covered[row.id or 0]) for row in self.order.rows if covered.get(row.id or 0))
        order = replace(self.order, rows=rows)
        return order if link.carries_shipping else order.without_shipping()

    @property
    def shipping_taken(self) -> bool:
        """Whether a live invoice carries the SO's shipping fee already."""
        return any(link.carries_shipping or link.scope is InvoiceScope.WHOLE for link in self.live)

    # -- what may be invoiced next ---------------------------------------------------------------------------
    def plan_whole(self) -> InvoiceLink:
        """The new whole-SO invoice (*invoice all*). InvalidTransition while any part of the SO is on an invoice."""
        if self.scope is InvoiceScope.DELIVERIES:
            raise InvalidTransition(
                f"{self.order.number} is invoiced delivery by delivery ({self.status_text.lower()}); it can no "
                "longer be invoiced as a whole. Invoice its remaining deliveries instead."
            )
        if self.live:
            raise InvalidTransition(f"{self.order.number} already has an invoice: {self.live[-1].status_text}.")
        link = new_link(self.order.id or 0, self.next_number, slot=self._free_slots(1)[0])  # after a void: "-2"
        return replace(link, carries_shipping=self.order.shipping_fee is not None)

    def plan_deliveries(self, delivery_ids: Sequence[int] | None, combine: bool) -> list[InvoiceLink]:
        """New partial invoices: for `delivery_ids` (None: every delivery not invoiced yet), combined into one
        invoice or one each. Refuses (ValidationError, InvalidTransition) what may not be invoiced."""
        if self.scope is InvoiceScope.WHOLE:
            raise InvalidTransition(
                f"{self.order.number} is invoiced as a whole ({self.live[-1].status_text}); there is no part "
                "left to invoice."
            )
        chosen = self._chosen(delivery_ids)
        slots = self._free_slots(1 if combine else len(chosen))
        number, order_id = self.next_number, self.order.id or 0
        groups = [tuple(d.id or 0 for d in chosen)] if combine else [(d.id or 0,) for d in chosen]
        planned = [
            new_link(order_id, number + i, InvoiceScope.DELIVERIES, group, slot)
            for i, (group, slot) in enumerate(zip(groups, slots, strict=True))
        ]
        if self.order.shipping_fee is not None and not self.shipping_taken:
            planned[0] = replace(planned[0], carries_shipping=True)  # the first invoice made carries the fee
        return planned

    def _chosen(self, delivery_ids: Sequence[int] | None) -> list[Delivery]:
        open_ones = {d.id: d for d in self.open_deliveries()}
        if delivery_ids is None:
            if not open_ones:
                raise InvalidTransition(self._nothing_to_invoice())
            return list(open_ones.values())
        if not delivery_ids:
            raise ValidationError.single("deliveries", "Choose at least one delivery to invoice.")
        if len(delivery_ids) > MAX_DELIVERIES_PER_REQUEST:
            raise ValidationError.single(
                "deliveries", f"Choose at most {MAX_DELIVERIES_PER_REQUEST} deliveries at a time."
            )
        known = {d.id: d for d in self.order.deliveries}
        problems = []
        for index, delivery_id in enumerate(dict.fromkeys(delivery_ids)):
            field = f"deliveries[{index}]"
            if delivery_id not in known:
                problems.append(Problem(field, f"{self.order.number} has no delivery {delivery_id}."))
            elif delivery_id not in open_ones:
                taken = self.invoice_of(delivery_id)
                on = f" (invoice {taken.number}, {taken.status_text})" if taken else ""
                problems.append(Problem(field, f"Delivery {known[delivery_id].number} is already invoiced{on}."))
        if problems:
            raise ValidationError(problems)
        return [open_ones[delivery_id] for delivery_id in dict.fromkeys(delivery_ids)]

    def _nothing_to_invoice(self) -> str:
        if not self.order.deliveries:
            return (
                f"Nothing of {self.order.number} is delivered yet: only delivered quantities can be invoiced "
                "partly (or invoice the whole order)."
            )
        return f"Every delivery of {self.order.number} is already invoiced; what has not shipped cannot be invoiced."

    def _free_slots(self, count: int) -> list[int]:
        """The lowest DocNumber slots no invoice holds (a live or voided one: a voided invoice keeps its number)."""
        taken = {link.slot for link in self.links if link.holds_slot}
        free: list[int] = []
        slot = 1
        while len(free) < count:
            if slot not in taken:
                free.append(slot)
            slot += 1
        return free
