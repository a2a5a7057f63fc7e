"""Finding an invoice an earlier attempt may have made, after an unknown outcome (DESIGN §3): QBO has been seen to
ignore request ids, so the invoice is looked up by the marker written to its PrivateNote before anything is
created again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from invoicebridge.domain import SalesOrder
from invoicebridge.qbo import errors as qbo
from invoicebridge.qbo.client import QboClient, entity_rows
from invoicebridge.sync.explain import OutcomeUncertain
from invoicebridge.sync.mapping import marker
from invoicebridge.sync.matching import quote


@dataclass
class Unsure:
    """Whether the invoice may exist in QBO right now. True from the start when an earlier attempt left it open
    (a resumed claim, an uncertain failure); True while a create went unanswered; False once a look-up settled
    it. Any failure while it is True is recorded as uncertain, whatever failed."""

    now: bool

    def look_up(
        self, client: QboClient, order: SalesOrder, request_id: str, payload: dict[str, Any],
        cause: Exception | None = None,
    ) -> dict[str, Any] | None:  # fmt: skip
        """The invoice an earlier attempt made, or None when certainly none; OutcomeUncertain when the look-up
        itself fails, since then nobody knows."""
        self.now = True
        try:
            found = find_by_marker(client, order, request_id, payload)
        except qbo.QboError as failed:
            raise OutcomeUncertain(cause or failed, failed) from failed
        self.now = False
        return found


def find_by_marker(
    client: QboClient, order: SalesOrder, request_id: str, payload: dict[str, Any]
) -> dict[str, Any] | None:
    """Our invoice, if an earlier attempt made it: same customer and date, our marker in PrivateNote (PrivateNote
    is not queryable in QBO, so we filter the day's invoices of that customer). The marker carries the request
    id, which differs for each invoice of an SO, so one partial invoice is never taken for another."""
    where = f"CustomerRef = {quote(payload['CustomerRef']['value'])} AND TxnDate = {quote(payload['TxnDate'])}"
    wanted = marker(order, request_id)
    for invoice in entity_rows(client.query(f"SELECT * FROM Invoice WHERE {where} MAXRESULTS 1000"), "Invoice"):
        if invoice.get("PrivateNote") == wanted:
            return invoice
    return None
