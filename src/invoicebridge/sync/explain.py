"""Every failure of invoicing as what lands on the SO: a code, a sentence a bookkeeper understands, and the
detail (QBO's own words and code, for whoever digs deeper)."""

from __future__ import annotations

from dataclasses import dataclass

from invoicebridge.domain import InvoiceBridgeError, NotConnected, ValidationError
from invoicebridge.domain.connection import RECONNECT_MESSAGE
from invoicebridge.qbo import errors as qbo
from invoicebridge.sync.duplicates import duplicate_sentence
from invoicebridge.sync.mapping import SHIPPING_ITEM_ID

UNCERTAIN = "uncertain"
# Failures after which QBO may or may not have created the invoice: the next attempt reuses the request id and
# looks the invoice up before creating. "uncertain" is ours (sent, no answer, and the look-up failed too); the
# others are QBO's codes for failures we used to treat as uncertain — kept, so such SOs are looked up as well.
UNCERTAIN_CODES = frozenset({UNCERTAIN, "unavailable", "10000", "003001", "3001"})


# QBO refused its own shipping line: shipping was turned off in its sales-form settings after we read them. The
# refusal made the preferences be read again (sync/invoicing.py), so the next attempt uses the Shipping item.
SHIPPING_TURNED_OFF = (
    "QuickBooks no longer takes its shipping line: shipping was turned off in its sales-form settings. Try again: "
    "the shipping fee then goes on the item 'Shipping'."
)


def outcome_uncertain(code: str | None) -> bool:
    return code in UNCERTAIN_CODES


@dataclass(frozen=True)
class Explained:
    code: str
    message: str
    detail: str


class OutcomeUncertain(InvoiceBridgeError):
    """The create was sent and no answer came, and looking the invoice up failed as well: it may exist."""

    def __init__(self, cause: Exception, look_up_failure: Exception) -> None:
        self.cause, self.look_up_failure = cause, look_up_failure
        super().__init__(f"{cause}; looking the invoice up failed too: {look_up_failure}")


class CurrencyMismatch(InvoiceBridgeError):
    def __init__(self, customer: str, customer_currency: str, order_currency: str) -> None:
        super().__init__(
            f"The QuickBooks customer {customer} is kept in {customer_currency}, but this order is in "
            f"{order_currency}. QuickBooks fixes a customer's currency once set: use a customer in "
            f"{order_currency} or change the order's currency."
        )


def still_uncertain(explained: Explained) -> Explained:
    """A failure that came while the invoice may exist (before a look-up settled it): it stays uncertain, so the
    next attempt looks first — and the person still reads what went wrong (e.g. "reconnect QuickBooks")."""
    if explained.code == UNCERTAIN:
        return explained
    note = "Whether the invoice was made earlier is not known yet: it is looked up before anything is created."
    return Explained(UNCERTAIN, f"{explained.message} {note}", explained.detail)


def explain(error: Exception, doc_number: str) -> Explained:
    """The SO-facing account of `error` met making the invoice numbered `doc_number` (the SO number, or with a
    partial invoice's suffix); unknown kinds keep their text so nothing is hidden."""
    detail = _detail(error)
    if isinstance(error, OutcomeUncertain):
        return Explained(
            UNCERTAIN,
            "QuickBooks did not answer, so it is not yet known whether the invoice was made. It will be looked up "
            "in QuickBooks before anything is created again; nothing needs doing.",
            detail or str(error),
        )
    if isinstance(error, NotConnected | qbo.AuthenticationError):
        message = error.message if isinstance(error, NotConnected) else RECONNECT_MESSAGE
        return Explained("reconnect", message, detail)
    if isinstance(error, ValidationError):
        return Explained("invalid", " ".join(p.message for p in error.problems), detail)
    if isinstance(error, CurrencyMismatch):
        return Explained("currency", str(error), detail)
    if isinstance(error, qbo.DuplicateDocNumber):
        return Explained(error.code, duplicate_sentence(doc_number, error.taken_by), detail)
    if isinstance(error, qbo.InvalidReference) and SHIPPING_ITEM_ID in f"{error.detail} {error.message}":
        return Explained(error.code, SHIPPING_TURNED_OFF, detail)
    if isinstance(error, qbo.InvalidReference | qbo.ObjectNotFound) and _about_account(error):
        return Explained(
            error.code,
            "An account chosen in the QuickBooks settings was deleted or made inactive in QuickBooks: "
            "choose another one in the connection settings.",
            detail,
        )
    if isinstance(error, qbo.InvalidReference | qbo.ObjectNotFound):
        return Explained(error.code, STALE_REFERENCE, detail)
    if isinstance(error, qbo.BusinessValidation) and "currency" in (error.detail + error.message).lower():
        return Explained(error.code, "QuickBooks refused the invoice's currency: " + error.detail, detail)
    if isinstance(error, qbo.DuplicateName):
        return Explained(
            error.code,
            "QuickBooks already has a customer, vendor, employee or item by that name; rename it here or there.",
            detail,
        )
    if isinstance(error, qbo.Throttled):
        return Explained(
            error.code, "QuickBooks is busy (too many requests) and kept refusing: try again in a minute.", detail
        )
    if isinstance(error, qbo.ServerError | qbo.OutcomeUnknown):
        return Explained(
            error.code or "unavailable",
            "QuickBooks did not answer properly and no invoice was made: try again.",
            detail,
        )
    if isinstance(error, qbo.QboError):
        return Explained(error.code or "qbo", f"QuickBooks refused the invoice: {error.message}", detail)
    return Explained("error", str(error), detail)


# QBO's 610 detail lists every kind of reference ("Check the fields with accounts, customers, items, vendors or
# employees"): only what follows that list (the sandbox's "(Account Id=…)") or the element says which one it was.
GENERIC_INACTIVE = "check the fields with accounts, customers, items, vendors or employees"
STALE_REFERENCE = (
    "The customer or an item of this invoice was deleted or made inactive in QuickBooks: make it active there, or "
    "retry to have it matched again."
)


def _about_account(error: qbo.QboError) -> bool:
    text = f"{error.element} {error.detail} {error.message}".lower().replace(GENERIC_INACTIVE, "")
    return "account" in text


def _detail(error: Exception) -> str:
    if isinstance(error, qbo.QboError):
        parts = [f"QuickBooks error {error.code}" if error.code else "", error.message, error.detail]
        if error.element:
            parts.append(f"field {error.element}")
        if error.intuit_tid:
            parts.append(f"intuit_tid {error.intuit_tid}")
        return " — ".join(p for p in parts if p)
    return ""
