"""How use cases get a QBO client for a company, and how every call it makes lands in the audit log."""

from __future__ import annotations

from collections.abc import Callable

from invoicebridge.domain.connection import Connection
from invoicebridge.domain.records import AuditEntry
from invoicebridge.qbo.client import Exchange, QboClient

Recorder = Callable[[Exchange], None]
ClientFactory = Callable[[Connection, Recorder | None], QboClient]

BODY_LIMIT = 20_000  # characters of a request/response body kept in the audit log


class AuditTrail:
    """Collects a use case's QBO exchanges as audit entries for one SO (the client never includes tokens)."""

    def __init__(self, sales_order_id: int | None = None) -> None:
        self.sales_order_id = sales_order_id
        self.entries: list[AuditEntry] = []

    def __call__(self, exchange: Exchange) -> None:
        query = "&".join(f"{k}={v}" for k, v in exchange.params.items())
        self.entries.append(
            AuditEntry(
                at=exchange.started_at,
                method=exchange.method,
                path=f"{exchange.path}?{query}" if query else exchange.path,
                status=exchange.status,
                request_body=_clip(exchange.request_body),
                response_body=_clip(exchange.response_body),
                intuit_tid=exchange.intuit_tid,
                duration_ms=round(exchange.duration_ms),
                error=exchange.error,
                sales_order_id=self.sales_order_id,
            )
        )

    def take(self) -> list[AuditEntry]:
        taken, self.entries = self.entries, []
        return taken


def _clip(body: str | None) -> str | None:
    if body is None or len(body) <= BODY_LIMIT:
        return body
    return body[:BODY_LIMIT] + f"… ({len(body) - BODY_LIMIT} more characters)"
