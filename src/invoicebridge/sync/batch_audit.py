"""The audit trail of a batch (sync/batch_invoicing.py): each invoice's own part of an invoice batch — its item
of the request and its item of the answer — goes to its SO's trail; every other exchange of the batch (look-ups,
customer and item creates) goes to the company's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from invoicebridge.domain.records import AuditEntry
from invoicebridge.qbo import jsonio
from invoicebridge.qbo.client import Exchange
from invoicebridge.sync.gateway import AuditTrail


class BatchTrail:
    """A recorder for the batch's QBO client."""

    def __init__(self) -> None:
        self._exchanges: list[Exchange] = []
        self._batches: dict[str, Mapping[str, int]] = {}  # request id → bId → SO id
        self._parsed: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # request id → (asked, answered)

    def __call__(self, exchange: Exchange) -> None:
        self._exchanges.append(exchange)

    def expect(self, request_id: str, sales_orders: Mapping[str, int]) -> None:
        """The invoice batch sent with `request_id` carries these SOs' invoices (by bId)."""
        self._batches[request_id] = dict(sales_orders)

    def answered(
        self, request_id: str, asked: list[dict[str, Any]], answers: list[dict[str, Any]],
        asked_texts: Sequence[str] | None = None,
    ) -> None:  # fmt: skip
        """The batch's items and QBO's answer to them, as the caller holds them already: its audit entries are
        made from these rather than by parsing its bodies again — and from `asked_texts`, each item's JSON as
        the caller wrote it already, rather than writing them again."""
        texts: Sequence[object] = asked if asked_texts is None else asked_texts
        self._parsed[request_id] = (
            {str(item.get("bId")): text for item, text in zip(asked, texts, strict=True)},
            {str(item.get("bId")): item for item in answers},
        )

    def entries(self) -> list[AuditEntry]:
        """Every exchange so far as audit entries (and forget them)."""
        taken, self._exchanges = self._exchanges, []
        found: list[AuditEntry] = []
        for exchange in taken:
            request_id = exchange.params.get("requestid", "")
            sales_orders = self._batches.get(request_id)
            parsed = self._parsed.get(request_id) if exchange.status == 200 else None
            found.extend(_split(exchange, sales_orders, parsed) if sales_orders else _whole(exchange))
        return found


def _whole(exchange: Exchange) -> list[AuditEntry]:
    trail = AuditTrail(None)
    trail(exchange)
    return trail.take()


def _split(
    exchange: Exchange, sales_orders: Mapping[str, int], parsed: tuple[dict[str, Any], dict[str, Any]] | None
) -> list[AuditEntry]:
    if parsed is not None:
        asked, answered = parsed
    else:
        asked = {str(item.get("bId")): item for item in _items(exchange.request_body, "BatchItemRequest")}
        answered = {str(item.get("bId")): item for item in _items(exchange.response_body, "BatchItemResponse")}
    entries = []
    for bid, sales_order_id in sales_orders.items():
        trail = AuditTrail(sales_order_id)
        answer = answered.get(bid)
        trail(_part(exchange, asked.get(bid), answer if answer is not None else exchange.response_body))
        entries.extend(trail.take())
    return entries


def _part(exchange: Exchange, asked: object, answer: object) -> Exchange:
    return Exchange(
        method=exchange.method,
        path=exchange.path,
        params=exchange.params,
        request_body=asked if asked is None or isinstance(asked, str) else jsonio.dumps(asked),
        status=exchange.status,
        response_body=answer if answer is None or isinstance(answer, str) else jsonio.dumps(answer),
        intuit_tid=exchange.intuit_tid,
        started_at=exchange.started_at,
        duration_ms=exchange.duration_ms,
        error=exchange.error,
    )


def _items(body: str | None, key: str) -> list[dict[str, Any]]:
    try:
        parsed = jsonio.loads(body.encode()) if body else None
    except ValueError:
        return []
    items = parsed.get(key) if isinstance(parsed, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
