"""Creating an SO's QBO invoices — each exactly once, whatever happens (DESIGN §3). An SO is invoiced whole
(*invoice all*) or delivery by delivery; each of its invoices goes through the same three steps.

0. **Plan** (under the SO's invoicing lock): the whole-SO invoice, or the partial ones for chosen deliveries, are
   added as links (domain/order_invoices.py says what may be invoiced; the store's constraints make it hold).
1. **Claim** (one short transaction): the link moves to `creating` with the request id of (SO, invoice number).
   The link row is versioned, so of two workers (or two clicks) only one claim commits; the other sees the
   link as it is. A link left `creating` by a dead worker is resumed after `stale_after`.
2. **Work** (no transaction open): read what the invoice needs from QBO, match or create customer and items,
   build the payload (sync/mapping.py) and create it with the request id — a retried request replays the
   first answer. After an unknown outcome (no answer, or a 5xx, to the create), whenever a claim is resumed,
   and whenever the last failure left the outcome uncertain, look the invoice up by the marker in its
   PrivateNote before creating — QBO has been seen to ignore request ids. A look-up that fails leaves the SO
   *uncertain* (never "no invoice was made"): nothing creates an invoice for it until a look-up has settled it.
3. **Record** (one transaction): the link becomes `invoiced` or `failed` with a sentence (sync/explain.py);
   remembered QBO ids and the audit trail are stored with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from invoicebridge.domain import (
    Conflict,
    Customer,
    InvoiceBridgeError,
    InvoiceLink,
    InvoiceState,
    ProductVariant,
    SalesOrder,
    TaxRate,
    request_id_for,
)
from invoicebridge.domain.connection import Connection, QboPreferences
from invoicebridge.domain.invoice_link import corrected_request_id
from invoicebridge.domain.records import AuditEntry
from invoicebridge.qbo import errors as qbo
from invoicebridge.qbo.client import QboClient
from invoicebridge.sync import context
from invoicebridge.sync.claims import ClaimLost, hold
from invoicebridge.sync.explain import (
    UNCERTAIN,
    UNCERTAIN_CODES,
    CurrencyMismatch,
    explain,
    outcome_uncertain,
    still_uncertain,
)
from invoicebridge.sync.gateway import AuditTrail, ClientFactory
from invoicebridge.sync.invoice_lookup import Unsure
from invoicebridge.sync.invoice_planning import Planning, whole_invoice
from invoicebridge.sync.mapping import Refs, invoice_payload
from invoicebridge.sync.matching import (
    CUSTOMER,
    CustomerMatch,
    ItemMatch,
    Matcher,
    refresh_references,
    remember,
    tax_codes,
)
from invoicebridge.sync.mirror import Mirror
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory
from invoicebridge.sync.reads import usable_connection
from invoicebridge.sync.shipping import Shipping, ShippingPlan, uses_shipping_line

log = logging.getLogger(__name__)
WAITING = (InvoiceState.FAILED, InvoiceState.QUEUED)
BUSY_QUEUE_PATIENCE = timedelta(hours=1)
ABANDONED = (
    "The worker creating this invoice stopped before it finished; whether the invoice was made is looked up in "
    "QuickBooks before anything is created again."
)  # may still carry the last failure's code
Clock = Callable[[], datetime]
AfterInvoiced = Callable[[int, int], object]  # (company_id, sales_order_id): e.g. post COGS


@dataclass(frozen=True)
class Inputs:
    """Everything of ours one invoice of an SO is made from, read in one transaction. `order` is the part of the
    SO the invoice carries (the whole SO, or the rows of its deliveries at the delivered quantities)."""

    order: SalesOrder
    doc_number: str
    customer: Customer
    products: dict[int, ProductVariant]
    rates: dict[int, TaxRate]
    connection: Connection
    remembered_customer: str | None
    timezone: str


@dataclass(frozen=True)
class Preview:
    payload: dict[str, Any]
    customer: CustomerMatch
    items: list[ItemMatch]
    shipping: ShippingPlan | None = None  # how the invoice carries the SO's shipping fee, when it carries it


class Invoicing(Planning):
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clients: ClientFactory,
        now: Clock,
        stale_after: timedelta = timedelta(minutes=5),
        after_invoiced: AfterInvoiced | None = None,
        mirror: Mirror | None = None,
    ) -> None:
        self._uow, self._clients, self._now, self._stale_after = uow, clients, now, stale_after
        self.mirror = mirror or Mirror(uow, now)
        self.after_invoiced = after_invoiced
        self.retry_uncertain_after = timedelta(minutes=1)

    # What the batch path (sync/batch_invoicing.py) shares with this one.
    @property
    def uow(self) -> UnitOfWorkFactory:
        return self._uow

    @property
    def now(self) -> Clock:
        return self._now

    @property
    def clients(self) -> ClientFactory:
        return self._clients

    # -- public ----------------------------------------------------------------------------------------
    def create_invoice(self, company_id: int, sales_order_id: int, number: int | None = None) -> InvoiceLink:
        """Make one invoice of an SO; returns its link (invoiced, failed with a reason, or someone else's claim).
        With `number`: that invoice (a partial one planned before, or a retry). Without: the whole SO (*invoice
        all*), planned first when it has no invoice — InvalidTransition when it is invoiced partly."""
        claimed = self._claim(company_id, sales_order_id, number)
        if claimed is None:
            with self._uow() as uow:
                return self._current(uow, company_id, sales_order_id, number)
        link, look_first = claimed
        trail = AuditTrail(sales_order_id)
        inputs: Inputs | None = None
        unsure = Unsure(look_first)
        try:
            inputs = self._inputs(company_id, sales_order_id, link)
            invoice = self._create(inputs, link, trail, unsure)
        except ClaimLost:  # a sweeper took the claim over while this worker waited: its result stands, not ours
            with self._uow() as uow:
                return uow.invoice_links.get(company_id, sales_order_id, link.number)
        except Exception as error:  # every failure lands on the invoice; it stays retryable
            if not isinstance(error, InvoiceBridgeError | qbo.QboError):
                log.exception("unexpected error invoicing SO %s of company %s", sales_order_id, company_id)
            doc = inputs.doc_number if inputs else self._doc_number(company_id, link)
            explained = still_uncertain(explain(error, doc)) if unsure.now else explain(error, doc)
            failed = lambda current: current.fail(explained.code, explained.message, explained.detail, self._now())  # noqa: E731
            return self._record(company_id, link, trail, failed)
        done = self._record(company_id, link, trail, lambda current: succeeded(current, invoice, self._now()))
        if self.after_invoiced is not None:
            try:
                self.after_invoiced(company_id, sales_order_id)
            except Exception:  # the invoice exists: what follows it (COGS) has its own retries and state
                log.exception("after-invoice step failed for SO %s of company %s", sales_order_id, company_id)
        return done

    def invoice_deliveries(
        self, company_id: int, sales_order_id: int, delivery_ids: Sequence[int] | None, combine: bool
    ) -> list[InvoiceLink]:
        """Partial invoicing: plan one invoice for these deliveries (None: every delivery not invoiced yet), or one
        each, then make them now. Refuses (ValidationError, InvalidTransition, Conflict) before anything is made
        when a delivery is unknown or already invoiced, or the SO is invoiced whole."""
        planned = self.plan_deliveries(company_id, sales_order_id, delivery_ids, combine)
        return [self.create_invoice(company_id, sales_order_id, link.number) for link in planned]

    def requeue(self, company_id: int, sales_order_id: int, number: int) -> bool:
        """The sweeper's step for one unsettled invoice: a dead worker's claim (`creating` past `stale_after`)
        becomes `queued` and uncertain, so its job looks the invoice up first; a lost `queued` job or an uncertain
        failure is queued again. True when it was queued (then its job must be enqueued), False when it moved on
        meanwhile. Each invoice is queued at most once per round: no flood of duplicate jobs."""
        now = self._now()
        try:
            with self._uow() as uow:
                link = uow.invoice_links.get(company_id, sales_order_id, number)
                if link.state is InvoiceState.CREATING:
                    if link.history and now - link.history[-1].at < self._stale_after:
                        return False  # its worker is alive after all
                    queued = link.abandoned(UNCERTAIN, ABANDONED, now)
                elif link.state in WAITING:
                    queued = link.queue(now)
                else:
                    return False
                uow.invoice_links.save(company_id, queued)
                uow.commit()
        except Conflict:
            return False  # a worker claimed it meanwhile
        return True

    def unsettled(self, queue_idle: bool, limit: int = 500) -> list[tuple[int, int, int]]:
        """(company id, SO id, invoice number) a sweeper must queue again: claims left `creating` past
        `stale_after` (their worker died); invoices `queued` that long while the job queue is idle (so their job
        was lost) — or, while it is busy, only after BUSY_QUEUE_PATIENCE (their job may still be waiting: a second
        job would be harmless, but thousands of them would flood the queue); and failures whose outcome is
        uncertain, after `retry_uncertain_after`. Each goes through create_invoice, which looks the invoice up
        before creating."""
        now = self._now()
        queued_before = now - (self._stale_after if queue_idle else max(self._stale_after * 10, BUSY_QUEUE_PATIENCE))
        with self._uow() as uow:
            return uow.unsettled.find(
                now - self._stale_after, queued_before, now - self.retry_uncertain_after, UNCERTAIN_CODES, limit
            )

    def preview(self, company_id: int, sales_order_id: int, delivery_ids: Sequence[int] | None = None) -> Preview:
        """The exact payload and the matches, creating nothing (items or customers to be created are shown): of the
        SO's next invoice — the whole SO, or with `delivery_ids` one invoice for those deliveries."""
        with self._uow() as uow:
            invoices = uow.invoice_links.of_order(company_id, sales_order_id)
        if delivery_ids is None:
            whole = whole_invoice(invoices)
            link = whole if whole is not None and whole.state is not InvoiceState.INVOICED else invoices.plan_whole()
        else:
            link = invoices.plan_deliveries(delivery_ids, combine=True)[0]
        inputs = self._inputs(company_id, sales_order_id, link)
        trail = AuditTrail(sales_order_id)
        client, prefs = self._client(inputs, trail)
        matcher = self._matcher(client, inputs, prefs)
        customer = matcher.customer(inputs.customer, inputs.remembered_customer, create=False)
        items = matcher.items(list(inputs.products.values()), create=False)
        shipping = Shipping(matcher, self.mirror, self._uow).plan(inputs.order, inputs.rates, create=False)
        refs = refs_for(inputs, prefs, customer, items, shipping)
        with self._uow() as uow:
            uow.audit.add(company_id, trail.take())  # the preview's look-ups are QBO requests too
            uow.commit()
        request_id = next_request_id(company_id, link)
        payload = invoice_payload(inputs.order, refs, prefs, zone_of(inputs), request_id, inputs.doc_number)
        return Preview(payload, customer, list(items.values()), shipping)

    def audit(self, company_id: int, sales_order_id: int) -> list[AuditEntry]:
        """Every QBO request and response made for the SO, oldest first (NotFound for an unknown SO)."""
        with self._uow() as uow:
            uow.sales_orders.get(company_id, sales_order_id)
            return uow.audit.for_order(company_id, sales_order_id)

    # -- 1. claim --------------------------------------------------------------------------------------
    def _claim(self, company_id: int, sales_order_id: int, number: int | None) -> tuple[InvoiceLink, bool] | None:
        """The claimed link and whether the invoice may already exist (look it up before creating)."""
        now = self._now()
        try:
            with self._uow() as uow:
                if number is None:
                    link = _plan_whole(uow, company_id, sales_order_id)
                else:
                    uow.sales_orders.get(company_id, sales_order_id)  # NotFound for an SO of another company
                    link = uow.invoice_links.get(company_id, sales_order_id, number)
                if link.state in (InvoiceState.INVOICED, InvoiceState.DELETED, InvoiceState.VOIDED):
                    uow.commit()  # a whole-SO invoice planned just now stays planned
                    return None
                resumed = link.state is InvoiceState.CREATING
                if resumed and link.history and now - link.history[-1].at < self._stale_after:
                    uow.commit()
                    return None  # someone is creating it right now
                claimed = link.resume(now) if resumed else link.start(next_request_id(company_id, link), now)
                saved = uow.invoice_links.save(company_id, claimed)
                uow.commit()
                unsure = link.state in WAITING and outcome_uncertain(link.error_code)
                return saved, resumed or unsure
        except Conflict:
            return None  # another worker's claim committed first

    def _current(self, uow: UnitOfWork, company_id: int, sales_order_id: int, number: int | None) -> InvoiceLink:
        if number is not None:
            return uow.invoice_links.get(company_id, sales_order_id, number)
        invoices = uow.invoice_links.of_order(company_id, sales_order_id)
        return whole_invoice(invoices) or invoices.current

    # -- 2. work ---------------------------------------------------------------------------------------
    def _inputs(self, company_id: int, sales_order_id: int, link: InvoiceLink) -> Inputs:
        with self._uow() as uow:
            invoices = uow.invoice_links.of_order(company_id, sales_order_id)
            connection, all_rates = usable_connection(uow, company_id)
            prefix = connection.settings.invoice_number_prefix  # too long with it: refused before any call
            order, doc_number = invoices.part(link), invoices.doc_number(link, prefix)
            variant_ids = {row.variant_id for row in order.rows}
            products = {vid: uow.products.get(company_id, vid) for vid in sorted(variant_ids)}
            customer = uow.customers.get(company_id, order.customer_id)
            remembered = uow.qbo_refs.get(company_id, CUSTOMER, order.customer_id)
            timezone = uow.companies.get(company_id).timezone
        return Inputs(order, doc_number, customer, products, all_rates, connection, remembered, timezone)

    def _client(self, inputs: Inputs, trail: AuditTrail) -> tuple[QboClient, QboPreferences]:
        client = self._clients(inputs.connection, trail)
        return client, context.preferences(self._uow, inputs.connection, client, self._now())

    def _matcher(self, client: QboClient, inputs: Inputs, prefs: QboPreferences) -> Matcher:
        self.mirror.ensure_loaded(inputs.connection.company_id, inputs.connection.realm_id, client)
        return Matcher(client, inputs.connection.company_id, inputs.connection.settings, prefs, self.mirror, self._uow)

    def _create(self, inputs: Inputs, link: InvoiceLink, trail: AuditTrail, unsure: Unsure) -> dict[str, Any]:
        client, prefs = self._client(inputs, trail)
        order = inputs.order
        if not prefs.multicurrency and order.currency != prefs.home_currency:
            raise CurrencyMismatch("of this company", prefs.home_currency, order.currency) from None
        assert link.request_id is not None
        request_id = link.request_id
        for last_try in (False, True):
            payload = self._payload(client, inputs, prefs, link.request_id)  # one marker for both tries
            try:
                return self._send(client, order, link, payload, unsure, request_id)
            except (qbo.ObjectNotFound, qbo.InvalidReference):
                if last_try:
                    raise  # refused: certainly no invoice
                # QBO replays a refusal to a reused request id, so the corrected try goes out under its own —
                # derived from the claim's, so a resumed claim replays both tries instead of repeating them.
                request_id = corrected_request_id(link.request_id)
                refresh_references(self.mirror, order.company_id, client, payload)  # the mirror was behind
                if uses_shipping_line(payload):  # shipping may have been turned off in QBO since prefs were read
                    prefs = context.preferences(self._uow, inputs.connection, client, self._now(), refresh=True)
        raise AssertionError("unreachable")

    def _payload(self, client: QboClient, inputs: Inputs, prefs: QboPreferences, request_id: str) -> dict[str, Any]:
        """Match the customer and items (creating what is missing) and build the invoice."""
        order = inputs.order
        matcher = self._matcher(client, inputs, prefs)
        customer = matcher.customer(inputs.customer, inputs.remembered_customer, create=True)
        if prefs.multicurrency and customer.currency and customer.currency != order.currency:
            raise CurrencyMismatch(customer.display_name, customer.currency, order.currency)
        items = matcher.items(list(inputs.products.values()), create=True)
        remember(self._uow, order.company_id, matcher)
        shipping = Shipping(matcher, self.mirror, self._uow).plan(order, inputs.rates, create=True)
        refs = refs_for(inputs, prefs, customer, items, shipping)
        return invoice_payload(order, refs, prefs, zone_of(inputs), request_id, inputs.doc_number)

    def _send(
        self, client: QboClient, order: SalesOrder, link: InvoiceLink, payload: dict[str, Any], unsure: Unsure,
        request_id: str,
    ) -> dict[str, Any]:  # fmt: skip
        """Create the invoice under `request_id`, looking it up first (by the claim's marker) whenever it may exist
        already; ClaimLost when a sweeper took the claim over while this worker waited to send (sync/claims.py)."""
        claimed = link.request_id
        assert claimed is not None
        if unsure.now and (found := unsure.look_up(client, order, claimed, payload)) is not None:
            return found
        claim = [(link.sales_order_id, link.number, claimed)]

        def still_mine() -> None:
            hold(self._uow, order.company_id, claim, self._now, "sending")

        try:
            return client.create("Invoice", payload, request_id=request_id, retry_unknown=False, before_send=still_mine)
        except (qbo.OutcomeUnknown, qbo.ServerError) as unknown:
            if (found := unsure.look_up(client, order, claimed, payload, unknown)) is not None:
                return found
        # Not there: the request never took effect. Once more with the same request id (a replay if it did).
        try:
            return client.create("Invoice", payload, request_id=request_id, retry_unknown=False, before_send=still_mine)
        except (qbo.OutcomeUnknown, qbo.ServerError) as unknown:
            if (found := unsure.look_up(client, order, claimed, payload, unknown)) is not None:
                return found
            raise  # looked: not there, so certainly no invoice

    # -- 3. record -------------------------------------------------------------------------------------
    def _record(
        self,
        company_id: int,
        claimed: InvoiceLink,
        trail: AuditTrail,
        move: Callable[[InvoiceLink], InvoiceLink],
    ) -> InvoiceLink:
        with self._uow() as uow:
            current = uow.invoice_links.get(company_id, claimed.sales_order_id, claimed.number)
            uow.audit.add(company_id, trail.take())
            if current.state is not InvoiceState.CREATING or current.request_id != claimed.request_id:
                uow.commit()  # the link moved on meanwhile (a resumed claim finished first): keep its result
                return current
            saved = uow.invoice_links.save(company_id, move(current))
            uow.commit()
            return saved

    def _doc_number(self, company_id: int, link: InvoiceLink) -> str:
        with self._uow() as uow:
            return uow.invoice_links.of_order(company_id, link.sales_order_id).doc_number(link)


def _plan_whole(uow: UnitOfWork, company_id: int, sales_order_id: int) -> InvoiceLink:
    """The SO's whole-SO invoice, planned (stored, not invoiced) when it has none. InvalidTransition when the SO
    is invoiced partly. Takes the SO's invoicing lock: call it first in its transaction."""
    uow.invoice_links.lock_order(company_id, sales_order_id)
    invoices = uow.invoice_links.of_order(company_id, sales_order_id)
    return whole_invoice(invoices) or uow.invoice_links.add(company_id, invoices.plan_whole())


def next_request_id(company_id: int, link: InvoiceLink) -> str:
    """The same id after an uncertain failure (so QBO replays), a new one after a definitive refusal."""
    refused = link.error_code is not None and not outcome_uncertain(link.error_code)
    if link.request_id and not refused:
        return link.request_id
    attempts = sum(1 for event in link.history if event.state is InvoiceState.CREATING and "creating" in event.note)
    return request_id_for(company_id, link.sales_order_id, link.number, attempts + 1 if link.request_id else 1)


def succeeded(link: InvoiceLink, invoice: dict[str, Any], at: datetime) -> InvoiceLink:
    return link.succeed(str(invoice["Id"]), invoice.get("DocNumber"), str(invoice.get("SyncToken", "0")), at)


def refs_for(
    inputs: Inputs, prefs: QboPreferences, customer: CustomerMatch, items: dict[int, ItemMatch],
    shipping: ShippingPlan | None = None,
) -> Refs:  # fmt: skip
    lines, txn_code = tax_codes(inputs.order, inputs.rates, inputs.connection.settings, prefs)
    item_ids = {vid: match.qbo_id or f"(new item {match.sku})" for vid, match in items.items()}
    terms, ship = customer.terms_id, shipping.refs if shipping else None
    return Refs(customer.qbo_id or "(new customer)", item_ids, lines, txn_code, terms, ship)


def zone_of(inputs: Inputs) -> ZoneInfo:
    return ZoneInfo(inputs.timezone)
