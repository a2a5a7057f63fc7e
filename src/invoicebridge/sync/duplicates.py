"""An invoice refused because its number is used in QBO already (Fault 6140): which QBO invoice has the number.

QBO's Detail names it ("… DocNumber=SO-1042 is assigned to TxnType=Invoice with TxnId=45823"). The failed link
keeps that Detail in its `error_detail` (sync/explain.py), so the existing invoice is read back from there when the
SO is shown: no column, no QBO call. A Detail without it (an older failure, another wording) names nothing, and the
SO shows the plain sentence it always did.
"""

from __future__ import annotations

from invoicebridge.domain import InvoiceLink, InvoiceState
from invoicebridge.qbo.errors import taken_by

DUPLICATE_DOC_NUMBER = "6140"


def duplicate_sentence(doc_number: str, holder: tuple[str, str] | None) -> str:
    """The bookkeeper's sentence for a number already used; `holder` is (TxnType, TxnId) when QBO named it. The
    first sentence stays what it always was, so what people learned to read still reads the same."""
    sentence = f"Invoice number {doc_number} is already used in QuickBooks."
    if holder is None:
        return sentence
    kind, txn_id = holder
    if kind.lower() == "invoice":
        return f"{sentence} QuickBooks invoice {txn_id} has this number."
    return f"{sentence} A QuickBooks {kind} (id {txn_id}) has this number."


def existing_invoice_id(link: InvoiceLink | None) -> str | None:
    """The id of the QBO invoice holding this failed invoice's number, when its last failure was a duplicate number
    that QBO said belongs to an invoice; else None."""
    if link is None or link.state is not InvoiceState.FAILED or link.error_code != DUPLICATE_DOC_NUMBER:
        return None
    holder = taken_by(link.error_detail or "")
    if holder is None or holder[0].lower() != "invoice":
        return None
    return holder[1]
