"""Bulk invoicing through QBO's ``/batch`` (DESIGN §3, "Few API calls"): a company's `queued` invoices are made
up to 30 at a time — one request for the invoices, a few more only for customers and items the mirror does not
have yet. The same exactly-once steps as one invoice (sync/invoicing.py), for many at once:

1. **Claim** (one transaction): the SOs are locked in id order (no deadlock between workers) and each invoice
   still `queued` moves to `creating` with its own request id; an invoice whose last attempt was uncertain is
   marked to be looked up first.
2. **Work** (no transaction open): read what the invoices need in one transaction, match customers and items
   against the mirror (creating what is missing, through /batch), build each payload. The batch carries a request
   id of its own; each invoice carries its marker. After an unknown outcome nothing is sent again before every
   invoice of that batch was looked up by its marker; one invoice's refusal never fails the others, and an
   invoice refused for naming an inactive or deleted customer or item has those read again and is sent once more.
3. **Record** (one transaction): each invoice becomes `invoiced` or `failed` with its sentence, with its own part
   of the batch in its audit trail.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from invoicebridge.domain import (
    Customer,
    InvoiceBridgeError,
    InvoiceLink,
    InvoiceState,
    OrderInvoices,
    ProductVariant,
)
from invoicebridge.domain.connection import AccountingMode, Connection, QboPreferences
from invoicebridge.qbo import errors as qbo
from invoicebridge.qbo import jsonio
from invoicebridge.qbo.client import BATCH_LIMIT, QboClient, batch_error
from invoicebridge.sync import context
from invoicebridge.sync.batch_audit import BatchTrail
from invoicebridge.sync.claims import ClaimLost, hold
from invoicebridge.sync.explain import CurrencyMismatch, Explained, explain, outcome_uncertain, still_uncertain
from invoicebridge.sync.invoice_lookup import Unsure
from invoicebridge.sync.invoicing import Inputs, Invoicing, next_request_id, refs_for, succeeded, zone_of
from invoicebridge.sync.mapping import invoice_payload
from invoicebridge.sync.matching import CUSTOMER, CustomerWant, Matcher, refresh_references, remember
from invoicebridge.sync.ports import UnitOfWork
from invoicebridge.sync.reads import usable_connection
from invoicebridge.sync.shipping import Shipping, uses_shipping_line

log = logging.getLogger(__name__)
CLAIM_WINDOW = 4  # candidates looked at per claim, in batches: room for a few drains of one company at once


@dataclass(frozen=True)
class Drained:
    claimed: int  # invoices this batch worked on
    left: int  # invoices of the company still queued after it (counted up to a few batches' worth)


@dataclass
class _Job:
    """One claimed invoice on its way through a batch."""

    link: InvoiceLink
    unsure: Unsure
    inputs: Inputs | None = None
    payload: dict[str, Any] | None = None
    invoice: dict[str, Any] | None = None
    error: Exception | None = None
    stale_refs_retried: bool = False
    taken_over: bool = False  # a sweeper took the claim over while this worker waited: hands off

    @property
    def request_id(self) -> str:
        assert self.link.request_id is not None
        return self.link.request_id

    @property
    def open(self) -> bool:
        return self.invoice is None and self.error is None and not self.taken_over

    @property
    def key(self) -> tuple[int, int]:
        return self.link.sales_order_id, self.link.number


@dataclass
class _Batch:
    company_id: int
    jobs: list[_Job] = field(default_factory=list)
    trail: BatchTrail = field(default_factory=BatchTrail)
    connection: Connection | None = None
    failure: Exception | None = None  # what stopped the whole batch before its work began
    inventory: bool = True  # accounting with inventory (COGS follows each invoice); known once inputs are read

    def open_jobs(self) -> list[_Job]:
        return [job for job in self.jobs if job.open]


class BatchInvoicing:
    """Drains a company's queued invoices through /batch; `drain` is what the queue's bulk job runs."""

    def __init__(self, invoicing: Invoicing, size: int = BATCH_LIMIT) -> None:
        if not 1 <= size <= BATCH_LIMIT:
            raise ValueError(f"a batch holds 1 to {BATCH_LIMIT} invoices")
        self._invoicing, self._size = invoicing, size
        self._uow, self._now = invoicing.uow, invoicing.now

    def drain(self, company_id: int) -> Drained:
        """Make up to one batch of the company's queued invoices."""
        batch = self._claim(company_id)
        if batch.jobs:
            try:
                if batch.failure is not None:
                    raise batch.failure
                self._work(batch)
            except Exception as error:  # every failure lands on the invoices; they stay retryable
                if not isinstance(error, InvoiceBridgeError | qbo.QboError):
                    log.exception("unexpected error in a batch of company %s", company_id)
                for job in batch.open_jobs():
                    job.error = error
            self._record(batch)
        with self._uow() as uow:
            left = len(uow.invoice_links.queued(company_id, self._size * CLAIM_WINDOW + 1))
        return Drained(len(batch.jobs), left)

    def waiting_companies(self) -> list[int]:
        """Companies with invoices queued: each needs a batch job (the sweeper makes sure it has one)."""
        with self._uow() as uow:
            return uow.unsettled.queued_companies()

    # -- 1. claim --------------------------------------------------------------------------------------
    def _claim(self, company_id: int) -> _Batch:
        """Claim up to a batch of queued invoices and, in the same transaction, read what they are made from (the
        SOs are locked and loaded already). A failure to read is the batch's, recorded on each invoice later: the
        claims commit whatever happens, so nothing stays queued for a batch that cannot be made."""
        now, batch = self._now(), _Batch(company_id)
        with self._uow() as uow:
            candidates = uow.invoice_links.queued(company_id, self._size * CLAIM_WINDOW)
            uow.invoice_links.lock_orders(company_id, [so for so, _ in candidates])  # one order for every worker
            still = uow.invoice_links.still_queued(company_id, candidates)[: self._size]  # as of the lock
            orders = uow.invoice_links.of_orders_whole(company_id, sorted({so for so, _ in still}))
            wanted = set(still)
            queued = [
                link for invoices in orders.values() for link in invoices.links
                if (link.sales_order_id, link.number) in wanted and link.state is InvoiceState.QUEUED
            ][: self._size]  # fmt: skip
            started = [link.start(next_request_id(company_id, link), now) for link in queued]
            claimed = uow.invoice_links.save_many(company_id, started)
            batch.jobs = [
                _Job(link, Unsure(outcome_uncertain(before.error_code)))
                for before, link in zip(queued, claimed, strict=True)
            ]
            if batch.jobs:
                try:
                    batch.connection = self._read_inputs(uow, batch, orders)
                except Exception as error:  # recorded on every invoice of the batch, after the claims commit
                    batch.failure = error
            uow.commit()
        return batch

    # -- 2. work ---------------------------------------------------------------------------------------
    def _work(self, batch: _Batch) -> None:
        connection = batch.connection
        assert connection is not None
        client = self._invoicing.clients(connection, batch.trail)
        prefs = context.preferences(self._uow, connection, client, self._now())
        self._invoicing.mirror.ensure_loaded(batch.company_id, connection.realm_id, client)
        self._build_payloads(batch, client, connection, prefs)
        for job in [j for j in batch.open_jobs() if j.unsure.now]:  # earlier attempts may have made these
            self._settle(job, client)
        self._send(batch, client, batch.open_jobs())
        stale = [job for job in batch.open_jobs() if job.stale_refs_retried]
        if stale:  # refused for an inactive or deleted customer or item: matched again on fresh entries, once
            if any(uses_shipping_line(job.payload or {}) for job in stale):  # shipping turned off in QBO meanwhile
                prefs = context.preferences(self._uow, connection, client, self._now(), refresh=True)
            self._build_payloads(batch, client, connection, prefs, only=stale)
            self._send(batch, client, [job for job in stale if job.open])

    def _read_inputs(self, uow: UnitOfWork, batch: _Batch, orders: dict[int, OrderInvoices]) -> Connection:
        """Each job's inputs. A job whose SO cannot be invoiced as it is gets its error."""
        company_id = batch.company_id
        connection, rates = usable_connection(uow, company_id)
        batch.inventory = connection.settings.mode is AccountingMode.INVENTORY
        timezone = uow.companies.get(company_id).timezone
        reader = _Reader(uow, company_id)
        reader.preload(
            sorted({row.variant_id for invoices in orders.values() for row in invoices.order.rows}),
            sorted({invoices.order.customer_id for invoices in orders.values()}),
        )
        for job in batch.jobs:
            try:
                invoices = orders[job.link.sales_order_id]
                order = invoices.part(job.link)
                products = {vid: reader.product(vid) for vid in sorted({r.variant_id for r in order.rows})}
                customer, remembered = reader.customer(order.customer_id)
                job.inputs = Inputs(
                    order, invoices.doc_number(job.link, connection.settings.invoice_number_prefix), customer,
                    products, rates, connection, remembered,
                    timezone,
                )  # fmt: skip
            except InvoiceBridgeError as error:
                job.error = error
        return connection

    def _build_payloads(
        self, batch: _Batch, client: QboClient, connection: Connection, prefs: QboPreferences,
        only: Sequence[_Job] | None = None,
    ) -> None:  # fmt: skip
        jobs = [job for job in (only if only is not None else batch.open_jobs()) if job.inputs is not None]
        for job in jobs:
            assert job.inputs is not None
            if not prefs.multicurrency and job.inputs.order.currency != prefs.home_currency:
                job.error = CurrencyMismatch("of this company", prefs.home_currency, job.inputs.order.currency)
        jobs = [job for job in jobs if job.open]
        matcher = Matcher(client, batch.company_id, connection.settings, prefs, self._invoicing.mirror, self._uow)
        wanted = [CustomerWant(j.inputs.customer, j.inputs.remembered_customer) for j in jobs if j.inputs]
        customers = matcher.customers(wanted, create=True)
        products = [product for job in jobs if job.inputs for product in job.inputs.products.values()]
        items = matcher.item_results(products, create=True)
        remember(self._uow, batch.company_id, matcher)
        shipping = Shipping(matcher, self._invoicing.mirror, self._uow)  # the Shipping item: once for the batch
        for job in jobs:
            assert job.inputs is not None
            try:
                job.payload = self._payload(job, prefs, customers, items, shipping)
            except (InvoiceBridgeError, qbo.QboError) as error:
                job.error = error

    def _payload(
        self, job: _Job, prefs: QboPreferences, customers: dict[int, Any], items: dict[int, Any], shipping: Shipping
    ) -> dict[str, Any]:
        inputs = job.inputs
        assert inputs is not None and inputs.customer.id is not None
        customer = customers[inputs.customer.id]
        if isinstance(customer, Exception):
            raise customer
        if prefs.multicurrency and customer.currency and customer.currency != inputs.order.currency:
            raise CurrencyMismatch(customer.display_name, customer.currency, inputs.order.currency)
        matched = {}
        for variant_id in inputs.products:
            if isinstance(item := items[variant_id], Exception):
                raise item
            matched[variant_id] = item
        fee = shipping.plan(inputs.order, inputs.rates, create=True)
        refs = refs_for(inputs, prefs, customer, matched, fee)
        return invoice_payload(inputs.order, refs, prefs, zone_of(inputs), job.request_id, inputs.doc_number)

    def _send(self, batch: _Batch, client: QboClient, jobs: Sequence[_Job]) -> None:
        """Create these jobs' invoices, 30 to a request; after an unknown outcome, look each one up before
        sending what is not there once more (with the same request ids: a replay if it took effect after all).
        Claims taken over by a sweeper while this worker waited for the limiter are left out, never sent."""
        for start in range(0, len(jobs), BATCH_LIMIT):
            chunk = [job for job in jobs[start : start + BATCH_LIMIT] if job.open and job.payload is not None]
            unanswered = 0
            while chunk and unanswered < 2:
                try:
                    answers = self._post(batch, client, chunk)
                except ClaimLost as lost:  # nothing was sent
                    for job in chunk:
                        job.taken_over = job.key in lost.keys
                except (qbo.OutcomeUnknown, qbo.ServerError) as unknown:
                    unanswered += 1
                    for job in chunk:
                        self._settle(job, client, unknown)
                        if unanswered == 2 and job.open:
                            job.error = unknown  # looked: not there, so certainly no invoice
                else:
                    self._take_answers(batch, client, chunk, answers)
                    break
                chunk = [job for job in chunk if job.open]

    def _post(self, batch: _Batch, client: QboClient, chunk: Sequence[_Job]) -> dict[str, dict[str, Any]]:
        items = [{"bId": str(n), "operation": "create", "Invoice": job.payload} for n, job in enumerate(chunk)]
        texts = [jsonio.dumps(item) for item in items]  # written once: for the batch's id and its audit trail
        request_id = _batch_request_id(batch.company_id, texts)
        batch.trail.expect(request_id, {str(n): job.link.sales_order_id for n, job in enumerate(chunk)})

        def still_ours() -> None:  # once admitted by the limiter, right before the batch goes out
            claims = [(job.link.sales_order_id, job.link.number, job.request_id) for job in chunk]
            hold(self._uow, batch.company_id, claims, self._now, f"sending in batch {request_id}")
            for job in chunk:
                job.unsure.now = True  # from here until settled, the invoice may exist

        answers = client.batch(items, request_id=request_id, retry_unknown=False, before_send=still_ours)
        batch.trail.answered(request_id, items, answers, texts)
        return {str(answer.get("bId")): answer for answer in answers}

    def _take_answers(
        self, batch: _Batch, client: QboClient, chunk: Sequence[_Job], answers: dict[str, dict[str, Any]]
    ) -> None:
        for n, job in enumerate(chunk):
            answer = answers.get(str(n))
            if answer is None:  # QBO left it out: whether it was made is unknown until looked up
                self._settle(job, client)
                if job.open:
                    job.error = qbo.OutcomeUnknown("QuickBooks answered the batch without this invoice")
                continue
            error = batch_error(answer)
            job.unsure.now = False
            if error is None:
                job.invoice = dict(answer.get("Invoice") or {})
            elif isinstance(error, qbo.ObjectNotFound | qbo.InvalidReference) and not job.stale_refs_retried:
                assert job.payload is not None
                job.stale_refs_retried = True
                refresh_references(self._invoicing.mirror, batch.company_id, client, job.payload)
            else:
                job.error = error

    def _settle(self, job: _Job, client: QboClient, cause: Exception | None = None) -> None:
        """Look the job's invoice up by its marker: found → invoiced; not there → still open; the look-up failing
        → an uncertain failure (the sweeper settles it later)."""
        assert job.inputs is not None and job.payload is not None
        try:
            found = job.unsure.look_up(client, job.inputs.order, job.request_id, job.payload, cause)
        except InvoiceBridgeError as uncertain:
            job.error = uncertain
            return
        if found is not None:
            job.invoice = found

    # -- 3. record -------------------------------------------------------------------------------------
    def _record(self, batch: _Batch) -> None:
        now = self._now()
        entries = batch.trail.entries()
        with self._uow() as uow:
            uow.audit.add(batch.company_id, entries)
            uow.invoice_links.lock_orders(batch.company_id, [job.link.sales_order_id for job in batch.jobs])
            current = uow.invoice_links.of_orders(batch.company_id, [job.link.sales_order_id for job in batch.jobs])
            moved = [
                self._moved(job, link, now)
                for job in batch.jobs
                for link in current.get(job.link.sales_order_id, ())
                # else the link moved on meanwhile (a resumed claim finished first): keep its result
                if link.number == job.link.number and not job.taken_over
                and link.state is InvoiceState.CREATING and link.request_id == job.request_id
            ]  # fmt: skip
            saved = uow.invoice_links.save_many(batch.company_id, moved)
            uow.commit()
        if batch.inventory:  # plain accounting posts no COGS: no job per invoice to find that out
            for link in saved:
                if link.state is InvoiceState.INVOICED:
                    self._after_invoiced(batch.company_id, link)

    def _moved(self, job: _Job, current: InvoiceLink, now: datetime) -> InvoiceLink:
        if job.invoice is not None:
            return succeeded(current, job.invoice, now)
        explained = self._explain(job)
        return current.fail(explained.code, explained.message, explained.detail, now)

    def _explain(self, job: _Job) -> Explained:
        error = job.error or qbo.OutcomeUnknown("The batch ended before this invoice was sent")
        doc = job.inputs.doc_number if job.inputs else str(job.link.sales_order_id)
        return still_uncertain(explain(error, doc)) if job.unsure.now else explain(error, doc)

    def _after_invoiced(self, company_id: int, link: InvoiceLink) -> None:
        if self._invoicing.after_invoiced is None:
            return
        try:
            self._invoicing.after_invoiced(company_id, link.sales_order_id)
        except Exception:  # the invoice exists: what follows it (COGS) has its own retries and state
            log.exception("after-invoice step failed for SO %s of company %s", link.sales_order_id, company_id)


class _Reader:
    """Products and customers of a batch, each read once."""

    def __init__(self, uow: UnitOfWork, company_id: int) -> None:
        self._uow, self._company_id = uow, company_id
        self._products: dict[int, ProductVariant] = {}
        self._customers: dict[int, tuple[Customer, str | None]] = {}

    def product(self, variant_id: int) -> ProductVariant:
        if variant_id not in self._products:
            self._products[variant_id] = self._uow.products.get(self._company_id, variant_id)
        return self._products[variant_id]

    def preload(self, variant_ids: Sequence[int], customer_ids: Sequence[int]) -> None:
        """Read these products and customers (with their remembered QBO ids) in a few queries; ids of other
        companies are left out, and `product` / `customer` then refuse them."""
        self._products.update((p.id or 0, p) for p in self._uow.products.get_many(self._company_id, variant_ids))
        remembered = self._uow.qbo_refs.get_many(self._company_id, CUSTOMER, customer_ids)
        for customer in self._uow.customers.get_many(self._company_id, customer_ids):
            self._customers[customer.id or 0] = (customer, remembered.get(customer.id or 0))

    def customer(self, customer_id: int) -> tuple[Customer, str | None]:
        if customer_id not in self._customers:
            customer = self._uow.customers.get(self._company_id, customer_id)
            remembered = self._uow.qbo_refs.get(self._company_id, CUSTOMER, customer_id)
            self._customers[customer_id] = (customer, remembered)
        return self._customers[customer_id]


def _batch_request_id(company_id: int, item_texts: Sequence[str]) -> str:
    """The same batch → the same id (QBO replays its answer); any other — other invoices, or the same invoices
    matched again after a refusal — another id, so QBO does not answer it with the old batch's answer. Made from
    the items' JSON (`jsonio.dumps` of each): the digest of the list's JSON, as it has always been."""
    digest = hashlib.sha256(f"{company_id}\n[{','.join(item_texts)}]".encode()).hexdigest()[:32]
    return f"ib-{company_id}-batch-{digest}"
