"""One QBO invoice of an SO: the state machine of DESIGN §3 and the status text users see.

    not_invoiced ──start──▶ creating(request_id) ──succeed──▶ invoiced(qbo_id, doc_number, sync_token)
         │                  │  ▲                               │
       queue ─▶ queued ─start─┘│ start (retry, same request id) │ invoice_deleted (in QBO)
                 ▲ abandoned (a dead worker's claim, by the sweeper)  ▼
                            ▼  │                             deleted (its part of the SO is open again)
                          failed(code, message, detail) ─queue─▶ queued      invoiced ─invoice_voided─▶ voided
                            └─linked_existing (number used by this very invoice in QBO)─▶ invoiced

An SO has invoices (DESIGN §1): one for the whole SO (*invoice all*), or one or more covering its deliveries.
Each keeps its own link: a `number` counting the SO's invoices from 1 (never reused, so the QBO request id
derived from (SO, number) is new for every invoice while a retry of one invoice replays), its `scope`, the
deliveries it covers, and the `slot` its DocNumber takes (1: the SO number; k: the SO number and "-k").

`queued`: asked for (a bulk action, the sweeper) and waiting for a worker. It is stored before the job is put on
the queue, so a job lost with a killed worker is found again by the sweeper; it keeps the last failure's code,
so an uncertain outcome stays uncertain while the invoice waits. `deleted` is final: invoicing that part again
makes a new invoice with the next number. `voided` (voided in QBO, docs/quickbooks.md "Voided in QBO") is final too
and gives its part of the SO back like a deletion, but the voided invoice still exists in QBO with its DocNumber:
it keeps its link and its DocNumber slot, so the next invoice of that part takes the next slot.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from invoicebridge.domain.errors import InvalidTransition


class InvoiceState(StrEnum):
    NOT_INVOICED = "not_invoiced"
    QUEUED = "queued"
    CREATING = "creating"
    INVOICED = "invoiced"
    FAILED = "failed"
    DELETED = "deleted"
    VOIDED = "voided"


class InvoiceScope(StrEnum):
    WHOLE = "whole"  # every row at its ordered quantity, delivered or not
    DELIVERIES = "deliveries"  # the quantities of some of the SO's deliveries


class InvoiceStatus(StrEnum):
    """How much of an SO is on invoices that exist in QBO (domain/order_invoices.py works it out). VOIDED: nothing
    is, and the SO's newest invoice was voided in QBO with nothing live after it (it is not invoiced, but a bulk
    "not invoiced" run leaves it alone: invoicing it again is the user's call)."""

    NOT_INVOICED = "not_invoiced"
    PARTLY_INVOICED = "partly_invoiced"
    INVOICED = "invoiced"
    VOIDED = "voided"


ORDER_STATUS_TEXT = {
    InvoiceStatus.NOT_INVOICED: "Not invoiced",
    InvoiceStatus.PARTLY_INVOICED: "Partly invoiced",
    InvoiceStatus.INVOICED: "Invoice created (QBO)",
    InvoiceStatus.VOIDED: "Invoice voided (QBO)",
}

STATUS_TEXT = {
    InvoiceState.NOT_INVOICED: "Not invoiced",
    InvoiceState.QUEUED: "Invoice queued…",
    InvoiceState.CREATING: "Creating invoice…",
    InvoiceState.INVOICED: "Invoice created (QBO)",
    InvoiceState.FAILED: "Invoice failed",
    InvoiceState.DELETED: "Deleted in QuickBooks",
    InvoiceState.VOIDED: "Invoice voided (QBO)",
}


@dataclass(frozen=True)
class LinkEvent:
    """One step in a link's history."""

    at: datetime
    state: InvoiceState
    note: str


@dataclass(frozen=True)
class InvoiceLink:
    """Where one invoice of an SO stands with QBO. Immutable: every transition returns a new link with one more
    event."""

    sales_order_id: int
    state: InvoiceState = InvoiceState.NOT_INVOICED
    number: int = 1
    scope: InvoiceScope = InvoiceScope.WHOLE
    delivery_ids: tuple[int, ...] = ()  # the deliveries it covers (scope DELIVERIES)
    slot: int = 1
    request_id: str | None = None
    qbo_invoice_id: str | None = None
    doc_number: str | None = None
    sync_token: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_detail: str | None = None
    history: tuple[LinkEvent, ...] = ()
    version: int = 0  # the stored version this link was read at (0: never stored); saving checks it
    # Whether this invoice carries the SO's shipping fee: decided when it is planned, under the SO's lock, so the
    # fee is on at most one live invoice (domain/order_invoices.py).
    carries_shipping: bool = False

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.state]

    @property
    def live(self) -> bool:
        """Whether this invoice holds its part of the SO (everything but a deleted or voided invoice does)."""
        return self.state not in (InvoiceState.DELETED, InvoiceState.VOIDED)

    @property
    def holds_slot(self) -> bool:
        """Whether it keeps its DocNumber slot: everything but a deleted invoice (a voided one keeps its number in
        QBO). The store's unique index on live slots (`state != 'deleted'`) says the same."""
        return self.state is not InvoiceState.DELETED

    def queue(self, at: datetime) -> InvoiceLink:
        """Asked for, waiting for a worker (again, when the sweeper finds it waiting too long)."""
        self._require(at, InvoiceState.NOT_INVOICED, InvoiceState.FAILED, InvoiceState.QUEUED)
        return self._move(at, InvoiceState.QUEUED, "queued")

    def start(self, request_id: str, at: datetime) -> InvoiceLink:
        """Begin creating the invoice (first try, or a retry after a failure)."""
        self._require(at, InvoiceState.NOT_INVOICED, InvoiceState.QUEUED, InvoiceState.FAILED)
        return self._move(
            at,
            InvoiceState.CREATING,
            f"creating with request id {request_id}",
            request_id=request_id,
            error_code=None,
            error_message=None,
            error_detail=None,
        )

    def abandoned(self, code: str, message: str, at: datetime) -> InvoiceLink:
        """A claim left by a worker that died, queued again: its outcome is unknown (the create may have gone
        through), which `code` records, so the next attempt looks the invoice up before creating."""
        self._require(at, InvoiceState.CREATING)
        return self._move(at, InvoiceState.QUEUED, f"queued again: {message}", error_code=code, error_message=message)

    def resume(self, at: datetime) -> InvoiceLink:
        """Take over a create that was left unfinished (a worker died): same request id, so
        QBO replays the first answer if the first attempt got through."""
        self._require(at, InvoiceState.CREATING)
        return self._move(at, InvoiceState.CREATING, f"resuming with request id {self.request_id}")

    def succeed(self, qbo_invoice_id: str, doc_number: str | None, sync_token: str, at: datetime) -> InvoiceLink:
        """The invoice exists in QBO."""
        self._require(at, InvoiceState.CREATING)
        return self._move(
            at,
            InvoiceState.INVOICED,
            f"invoice {qbo_invoice_id} created",
            qbo_invoice_id=qbo_invoice_id,
            doc_number=doc_number,
            sync_token=sync_token,
        )

    def fail(self, code: str, message: str, detail: str, at: datetime) -> InvoiceLink:
        """Creating failed; the SO keeps its data and can be retried."""
        self._require(at, InvoiceState.CREATING)
        return self._move(
            at,
            InvoiceState.FAILED,
            f"failed: {code} {message}",
            error_code=code,
            error_message=message,
            error_detail=detail,
        )

    def linked_existing(self, qbo_invoice_id: str, doc_number: str, sync_token: str, at: datetime) -> InvoiceLink:
        """Refused for a number already used, and the QBO invoice holding it is this invoice (same customer and
        amount, checked by sync/link_existing.py): it becomes this invoice instead of a second one being made. Its
        deliveries stay covered; the failure is cleared and the link noted in the history."""
        self._require(at, InvoiceState.FAILED)
        return self._move(
            at,
            InvoiceState.INVOICED,
            f"linked to the existing QuickBooks invoice {qbo_invoice_id} (number {doc_number})",
            qbo_invoice_id=qbo_invoice_id,
            doc_number=doc_number,
            sync_token=sync_token,
            error_code=None,
            error_message=None,
            error_detail=None,
        )

    def invoice_deleted(self, at: datetime) -> InvoiceLink:
        """The invoice was deleted in QBO: final; its part of the SO can be invoiced again, as a new invoice.
        The QBO id stays, so a second notice of the same deletion finds it and changes nothing. A voided invoice
        deleted afterwards becomes deleted too: it no longer exists in QBO, so it gives its DocNumber slot back."""
        self._require(at, InvoiceState.INVOICED, InvoiceState.VOIDED)
        return self._move(at, InvoiceState.DELETED, f"invoice {self.qbo_invoice_id} deleted in QuickBooks")

    def invoice_voided(self, at: datetime) -> InvoiceLink:
        """The invoice was voided in QBO: final; its part of the SO can be invoiced again, as a new invoice with the
        next DocNumber slot (the voided invoice keeps its number and its link). InvalidTransition unless invoiced —
        a second notice of the same void finds it voided already."""
        self._require(at, InvoiceState.INVOICED)
        return self._move(at, InvoiceState.VOIDED, f"invoice {self.qbo_invoice_id} voided in QuickBooks")

    def _require(self, at: datetime, *states: InvoiceState) -> None:
        if at.tzinfo is None:
            raise ValueError("transition times must be timezone-aware")
        if self.state not in states:
            allowed = " or ".join(STATUS_TEXT[s] for s in states)
            raise InvalidTransition(f"This invoice is '{self.status_text}'; this step needs '{allowed}'.")

    def _move(self, at: datetime, state: InvoiceState, note: str, **changes: object) -> InvoiceLink:
        event = LinkEvent(at, state, note)
        return replace(self, state=state, history=(*self.history, event), **changes)  # type: ignore[arg-type]


def new_link(
    sales_order_id: int, number: int = 1, scope: InvoiceScope = InvoiceScope.WHOLE,
    delivery_ids: tuple[int, ...] = (), slot: int = 1,
) -> InvoiceLink:  # fmt: skip
    """An invoice of an SO not made yet (the SO's first, unless `number` says otherwise)."""
    return InvoiceLink(sales_order_id, number=number, scope=scope, delivery_ids=delivery_ids, slot=slot)


# We keep request ids within 50 characters: QBO documents no limit we could verify (qbo-reference.md marks
# the length "(verify)"), and 50 is what python-quickbooks' uuid4 ids (36) and Intuit's samples stay under.
REQUEST_ID_MAX = 50


def request_id_for(company_id: int, sales_order_id: int, number: int, attempt: int = 1) -> str:
    """QBO `requestid` for creating the SO's invoice `number`: fixed per (SO, number), so retries replay.

    ("g" in the readable form: before partial invoicing an SO had one invoice at a time, numbered by generation;
    those links kept their generation as their number, so their request ids are unchanged.)

    `attempt` > 1 after a definitive refusal (QBO said no and created nothing): QBO would replay the refusal
    to the same request id, so the corrected retry needs a new one.

    Readable ("ib-3-so-42-g1") while it fits in REQUEST_ID_MAX characters, else a digest of the same three
    numbers — deterministic either way. Raises ValueError unless all three are positive integers.
    """
    parts = (company_id, sales_order_id, number, attempt)
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in parts):
        raise ValueError(f"request ids are made from positive integers, not {parts!r}")
    readable = f"ib-{company_id}-so-{sales_order_id}-g{number}" + (f"-a{attempt}" if attempt > 1 else "")
    if len(readable) <= REQUEST_ID_MAX:
        return readable
    key = f"{company_id}/{sales_order_id}/{number}" + (f"/{attempt}" if attempt > 1 else "")
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"ib-h-{digest[: REQUEST_ID_MAX - 5]}"


def corrected_request_id(request_id: str) -> str:
    """The request id of a corrected try within one attempt (the same invoice sent again after QBO refused it
    for a stale reference, which QBO would replay to the first id): fixed per first id, so a resumed claim replays
    it too; within REQUEST_ID_MAX characters."""
    readable = f"{request_id}-c"
    if len(readable) <= REQUEST_ID_MAX:
        return readable
    return f"ib-h-{hashlib.sha256(readable.encode()).hexdigest()[: REQUEST_ID_MAX - 5]}"
