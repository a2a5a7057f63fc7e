"""Returns of an invoiced SO's delivered quantities, each made into one QBO credit memo — exactly once, the way an
invoice is (sync/invoicing.py, DESIGN §3):

1. **Record** (one transaction): the return is checked against what was delivered and invoiced and not returned
   yet (domain/returns.py) and stored `pending` with the SO's next return number. Refused with a sentence per row,
   storing nothing.
2. **Claim** (one short transaction): the return moves to `creating` with the request id of (company, SO, return
   number); its row is versioned, so of two workers only one claim commits. A claim older than `stale_after` is a
   dead worker's and is taken over.
3. **Work** (no transaction open): the customer is the QBO customer the SO's invoice went to (remembered when it was
   matched; else read off the invoice), items are matched by SKU on the company's mirror, and the credit memo is
   created with the request id — a retried request replays. After an unknown outcome (no answer, a 5xx), when a
   claim is taken over, and after a failure whose outcome was uncertain, the credit memo is looked up by the marker
   in its PrivateNote before anything is created: QBO has been seen to ignore request ids.
4. **Record the outcome**: `created` (QBO id, number), or `failed` with a sentence (sync/credit_memo.py) — and it
   stays retryable. A refusal by QBO gets a new request id for the retry (QBO would replay the refusal).

A return does not reverse the cost of goods sold (accounting with inventory): docs/quickbooks.md, "Returns".
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from invoicebridge.domain import (
    Conflict,
    InvoiceBridgeError,
    InvoiceState,
    OrderInvoices,
    ProductVariant,
    SalesOrder,
    TaxRate,
)
from invoicebridge.domain.connection import Connection, QboPreferences
from invoicebridge.domain.returns import (
    Return,
    ReturnState,
    after_refusal,
    plan_return,
    return_request_id,
)
from invoicebridge.qbo import errors as qbo
from invoicebridge.qbo.client import QboClient
from invoicebridge.sync import context
from invoicebridge.sync.claims import ClaimLost
from invoicebridge.sync.credit_memo import (
    ENTITY,
    CreditRefs,
    credit_memo_payload,
    explain_credit_memo,
    find_credit_memo,
)
from invoicebridge.sync.explain import UNCERTAIN, UNCERTAIN_CODES, Explained, OutcomeUncertain, outcome_uncertain
from invoicebridge.sync.gateway import AuditTrail, ClientFactory
from invoicebridge.sync.matching import CUSTOMER, Matcher, refresh_references, tax_codes
from invoicebridge.sync.mirror import Mirror
from invoicebridge.sync.ports import UnitOfWorkFactory
from invoicebridge.sync.reads import usable_connection

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class MissingInQuickBooks(InvoiceBridgeError):
    """Something the credit memo must name is not (or no longer) in QuickBooks; the message says what to do."""


@dataclass(frozen=True)
class Inputs:
    """What one return's credit memo is made from, read in one transaction."""

    order: SalesOrder
    invoices: OrderInvoices
    products: dict[int, ProductVariant]
    rates: dict[int, TaxRate]
    connection: Connection
    remembered_customer: str | None
    zone: ZoneInfo


@dataclass
class _Sending:
    """The claim as this worker holds it (its version moves on when it marks itself sending) and whether the credit
    memo may exist already (then it is looked up before any create)."""

    held: Return
    unsure: bool


class Returns:
    def __init__(
        self, uow: UnitOfWorkFactory, clients: ClientFactory, now: Clock, mirror: Mirror,
        stale_after: timedelta = timedelta(minutes=5),
    ) -> None:  # fmt: skip
        self._uow, self._clients, self._now, self._mirror, self._stale_after = uow, clients, now, mirror, stale_after
        self.retry_uncertain_after = timedelta(minutes=1)

    # -- public ----------------------------------------------------------------------------------------------
    def record(
        self, company_id: int, sales_order_id: int, lines: Mapping[int, object], returned_at: datetime | None = None
    ) -> Return:
        """Store the SO's next return, `pending` (queue its credit memo next). ValidationError with a sentence per
        refused row, NotFound for another company's SO, Conflict when another return was recorded at that moment."""
        with self._uow() as uow:
            invoices = uow.invoice_links.of_order(company_id, sales_order_id)
            earlier = uow.returns.of_order(company_id, sales_order_id)
            planned = plan_return(invoices, earlier, lines, returned_at or self._now())
            saved = uow.returns.add(company_id, invoices.order, planned)
            uow.commit()
        return saved

    def of_order(self, company_id: int, sales_order_id: int) -> list[Return]:
        """The SO's returns, oldest first; NotFound for an SO of another company."""
        with self._uow() as uow:
            uow.sales_orders.get(company_id, sales_order_id)
            return uow.returns.of_order(company_id, sales_order_id)

    def get(self, company_id: int, sales_order_id: int, number: int) -> Return:
        """The SO's return `number`; NotFound (also for another company's)."""
        with self._uow() as uow:
            return uow.returns.get(company_id, sales_order_id, number)

    def send(self, company_id: int, sales_order_id: int, number: int) -> Return:
        """Make the return's credit memo now, unless it exists or another worker is making it; the return as it
        ends up: created, failed with a sentence (retryable), or someone else's claim. NotFound for an unknown
        return. Idempotent: a created return answers as it is."""
        claimed = self._claim(company_id, sales_order_id, number)
        if claimed is None:
            return self.get(company_id, sales_order_id, number)
        sending = _Sending(*claimed)
        trail = AuditTrail(sales_order_id)
        try:
            made = self._make(company_id, sending, trail)
        except ClaimLost:  # a sweeper's job took the claim over while this worker waited: its result stands
            return self.get(company_id, sales_order_id, number)
        except Exception as error:  # every failure lands on the return; it stays retryable
            if not isinstance(error, InvoiceBridgeError | qbo.QboError):
                log.exception("unexpected error making the credit memo of SO %s return %s", sales_order_id, number)
            explained = _uncertain(explain_credit_memo(error, sending.held.doc_number), sending.unsure)
            fail = lambda r: r.fail(explained.code, explained.message, explained.detail, self._now())  # noqa: E731
            return self._record(company_id, sending.held, trail, fail)
        done = lambda r: r.succeed(str(made["Id"]), made.get("DocNumber"), str(made.get("SyncToken", "0")), self._now())  # noqa: E731
        return self._record(company_id, sending.held, trail, done)

    def unsettled(self, limit: int = 500) -> list[tuple[int, int, int]]:
        """(company id, SO id, number) of returns whose credit memo a sweeper must send again: claims left
        `creating` past `stale_after` (their worker died), `pending` ones that long (their job was lost: ask only
        while the job queue is idle), and failures with an uncertain outcome after `retry_uncertain_after`. Sending
        looks the credit memo up first for each of them."""
        now = self._now()
        with self._uow() as uow:
            return uow.returns.unsettled(
                now - self._stale_after, now - self._stale_after, now - self.retry_uncertain_after, UNCERTAIN_CODES,
                limit,
            )  # fmt: skip

    # -- claim -----------------------------------------------------------------------------------------------
    def _claim(self, company_id: int, sales_order_id: int, number: int) -> tuple[Return, bool] | None:
        """The claimed return and whether its credit memo may already exist; None when it is created or claimed."""
        now = self._now()
        try:
            with self._uow() as uow:
                current = uow.returns.get(company_id, sales_order_id, number)
                if current.state is ReturnState.CREATED or current.claimed_by_another(now, self._stale_after):
                    return None
                request_id = _request_id(company_id, current)
                claimed = uow.returns.save(company_id, current.start(request_id, now))
                uow.commit()
        except Conflict:
            return None  # another worker's claim committed first
        taken_over = current.state is ReturnState.CREATING
        return claimed, taken_over or outcome_uncertain(current.error_code)

    # -- work ------------------------------------------------------------------------------------------------
    def _make(self, company_id: int, sending: _Sending, trail: AuditTrail) -> dict[str, Any]:
        ret = sending.held
        inputs = self._inputs(company_id, ret)
        client = self._clients(inputs.connection, trail)
        prefs = context.preferences(self._uow, inputs.connection, client, self._now())
        assert ret.request_id is not None
        body = credit_memo_payload(inputs.order, ret, self._refs(client, inputs, prefs, ret), prefs, inputs.zone,
                                   ret.request_id)  # fmt: skip
        sending.held = replace(ret, doc_number=body.get("DocNumber"))  # named in a "number already used" sentence
        try:
            return self._send(client, company_id, sending, body)
        except (qbo.ObjectNotFound, qbo.InvalidReference):
            # Refused for naming a customer or item QBO no longer has (or made inactive): the mirror was behind.
            # Read them again, so the retry (with a new request id: QBO replays a refusal) matches what QBO has.
            with contextlib.suppress(qbo.QboError):  # the refusal is what the SO must show, not this
                refresh_references(self._mirror, company_id, client, body)
            raise

    def _inputs(self, company_id: int, ret: Return) -> Inputs:
        with self._uow() as uow:
            invoices = uow.invoice_links.of_order(company_id, ret.sales_order_id)
            connection, rates = usable_connection(uow, company_id)
            order = invoices.order
            variant_ids = sorted({row.variant_id for row in order.rows if ret.lines.get(row.id or 0)})
            products = {vid: uow.products.get(company_id, vid) for vid in variant_ids}
            remembered = uow.qbo_refs.get(company_id, CUSTOMER, order.customer_id)
            zone = ZoneInfo(uow.companies.get(company_id).timezone)
        return Inputs(order, invoices, products, rates, connection, remembered, zone)

    def _refs(self, client: QboClient, inputs: Inputs, prefs: QboPreferences, ret: Return) -> CreditRefs:
        """The invoice's customer, and each returned row's item (by SKU, on the mirror) and tax code."""
        company_id = inputs.connection.company_id
        self._mirror.ensure_loaded(company_id, inputs.connection.realm_id, client)
        matcher = Matcher(client, company_id, inputs.connection.settings, prefs, self._mirror, self._uow)
        items = matcher.items(list(inputs.products.values()), create=False)
        gone = sorted(match.sku for match in items.values() if match.qbo_id is None)
        if gone:
            raise MissingInQuickBooks(
                f"QuickBooks has no active item with SKU {', '.join(gone)} any more (deleted or made inactive since "
                "the invoice): restore it in QuickBooks, then retry."
            )
        returned = tuple(row for row in inputs.order.rows if ret.lines.get(row.id or 0))
        lines, txn_code = tax_codes(replace(inputs.order, rows=returned), inputs.rates, inputs.connection.settings,
                                    prefs)  # fmt: skip
        line_codes = {row.id or 0: lines[index] for index, row in enumerate(returned)}
        item_ids = {vid: match.qbo_id or "" for vid, match in items.items()}
        return CreditRefs(self._customer(client, inputs), item_ids, line_codes, txn_code)

    def _customer(self, client: QboClient, inputs: Inputs) -> str:
        """The QBO customer the SO was invoiced to: remembered when its invoice matched it, else read off the
        newest invoice in QBO (one read)."""
        if inputs.remembered_customer:
            return inputs.remembered_customer
        invoiced = [link for link in inputs.invoices.live if link.state is InvoiceState.INVOICED]
        for link in reversed(invoiced):
            if link.qbo_invoice_id and (ref := client.read("Invoice", link.qbo_invoice_id).get("CustomerRef")):
                return str(ref["value"])
        raise MissingInQuickBooks(
            f"The QuickBooks customer of {inputs.order.number}'s invoice is not known: invoice the order first."
        )

    def _send(self, client: QboClient, company_id: int, sending: _Sending, body: dict[str, Any]) -> dict[str, Any]:
        """Create the credit memo with its request id, looking it up first whenever it may exist already."""
        request_id = sending.held.request_id
        assert request_id is not None
        if sending.unsure and (found := _look_up(client, body, sending)) is not None:
            return found

        def still_mine() -> None:
            self._hold(company_id, sending)

        for attempt in (1, 2):
            try:
                return client.create(ENTITY, body, request_id, retry_unknown=False, before_send=still_mine)
            except (qbo.OutcomeUnknown, qbo.ServerError) as unknown:
                sending.unsure = True
                if (found := _look_up(client, body, sending, unknown)) is not None:
                    return found
                if attempt == 2:
                    raise  # looked: not there, so certainly no credit memo
        raise AssertionError("unreachable")

    def _hold(self, company_id: int, sending: _Sending) -> None:
        """Right before the create goes out: note that this worker is sending (renewing the claim), or ClaimLost
        when a sweeper's job took it over meanwhile — then this worker must not send."""
        held = sending.held
        key = {(held.sales_order_id, held.number)}
        try:
            with self._uow() as uow:
                current = uow.returns.get(company_id, held.sales_order_id, held.number)
                if current.version != held.version or current.state is not ReturnState.CREATING:
                    raise ClaimLost(key)
                renewed = uow.returns.save(company_id, current.sending(self._now()))
                uow.commit()
        except Conflict:
            raise ClaimLost(key) from None
        sending.held = replace(held, version=renewed.version, claimed_at=renewed.claimed_at)

    # -- record ----------------------------------------------------------------------------------------------
    def _record(
        self, company_id: int, held: Return, trail: AuditTrail, move: Callable[[Return], Return]
    ) -> Return:  # fmt: skip
        with self._uow() as uow:
            current = uow.returns.get(company_id, held.sales_order_id, held.number)
            uow.audit.add(company_id, trail.take())
            if current.state is not ReturnState.CREATING or current.version != held.version:
                uow.commit()  # taken over meanwhile (a sweeper's job finished first): keep its result
                return current
            saved = uow.returns.save(company_id, move(current))
            uow.commit()
            return saved


def _request_id(company_id: int, ret: Return) -> str:
    """The same id after an uncertain failure or a taken-over claim (QBO replays), a new one after a refusal."""
    if ret.request_id is None:
        return return_request_id(company_id, ret.sales_order_id, ret.number)
    refused = ret.state is ReturnState.FAILED and not outcome_uncertain(ret.error_code)
    return after_refusal(ret.request_id) if refused else ret.request_id


def _look_up(
    client: QboClient, body: dict[str, Any], sending: _Sending, cause: Exception | None = None
) -> dict[str, Any] | None:
    """The credit memo an earlier attempt made, or None when certainly none; OutcomeUncertain when the look-up
    itself fails (then nobody knows)."""
    try:
        found = find_credit_memo(client, body)
    except qbo.QboError as failed:
        raise OutcomeUncertain(cause or failed, failed) from failed
    sending.unsure = False
    return found


def _uncertain(explained: Explained, unsure: bool) -> Explained:
    """A failure while the credit memo may exist stays uncertain (the next attempt looks first), and still says
    what went wrong."""
    if not unsure or explained.code == UNCERTAIN:
        return explained
    note = "Whether the credit memo was made earlier is not known yet: it is looked up before anything is created."
    return Explained(UNCERTAIN, f"{explained.message} {note}", explained.detail)
