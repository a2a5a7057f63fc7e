"""A company's failed invoices, grouped by reason (docs/quickbooks.md, "Retrying every failed invoice"): what the
*Failed invoices* page, `GET …/failed-invoices` and `invoicebridge invoice --retry-failed` list before retrying."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from invoicebridge.domain.invoice_link import InvoiceScope

SO_PLACEHOLDER = "[SO number]"


@dataclass(frozen=True)
class FailedInvoice:
    """One failed invoice of an SO (`number`: which of the SO's invoices), with the code and sentence it failed
    with."""

    sales_order_id: int
    so_number: str
    number: int
    scope: InvoiceScope
    code: str
    message: str


@dataclass(frozen=True)
class FailedGroup:
    """Failed invoices that failed for one reason: one error code, and the sentence their messages share (each
    SO's own number in it replaced, and what differs between them — e.g. which QBO invoice has the number — left
    out; every invoice keeps its whole message). `key` names the group in a retry. `uncertain`: QBO may have made
    these invoices, so a retry looks each one up before creating anything."""

    key: str
    code: str
    sentence: str
    invoices: tuple[FailedInvoice, ...]
    uncertain: bool = False

    @property
    def count(self) -> int:
        return len(self.invoices)

    @property
    def so_numbers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.so_number for f in self.invoices))


def masked(failed: FailedInvoice) -> str:
    """The failure's message with its SO's number replaced by SO_PLACEHOLDER."""
    return failed.message.replace(failed.so_number, SO_PLACEHOLDER) if failed.so_number else failed.message


def shared_sentence(code: str, messages: Iterable[str]) -> str:
    """The sentences every message starts with; when they share none, a sentence saying the reasons differ."""
    split = [re.split(r"(?<=[.!?])\s+", message.strip()) for message in messages]
    common: list[str] = []
    for sentences in zip(*split, strict=False):
        if any(sentence != sentences[0] for sentence in sentences):
            break
        common.append(sentences[0])
    return " ".join(common) or f"Failed with code {code}; the reasons differ from one sales order to the next."


def group_key(code: str) -> str:
    """A short stable name of a reason, safe in a URL and a form: the code's safe characters and a digest."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in code)[:32] or "error"
    return f"{safe}-{hashlib.sha256(code.encode()).hexdigest()[:8]}"


def group_failures(failures: Iterable[FailedInvoice], uncertain: Callable[[str], bool]) -> list[FailedGroup]:
    """The failures grouped by error code, the largest group first (then by code), each in SO order; `uncertain`
    says which codes leave the outcome unknown (sync/explain.py)."""
    grouped: dict[str, list[FailedInvoice]] = {}
    for failed in failures:
        grouped.setdefault(failed.code, []).append(failed)
    groups = [
        FailedGroup(
            group_key(code), code, shared_sentence(code, map(masked, items)), tuple(sorted(items, key=_order)),
            uncertain(code),
        )
        for code, items in grouped.items()
    ]  # fmt: skip
    return sorted(groups, key=lambda g: (-g.count, g.code))


def _order(failed: FailedInvoice) -> tuple[int, int]:
    return failed.sales_order_id, failed.number
