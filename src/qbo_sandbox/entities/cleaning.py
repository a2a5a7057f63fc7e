"""What of a request body QBO keeps: it answers only properties that have values and ignores the read-only ones a
client sends back. python-quickbooks serialises every attribute it models, so its bodies carry empty strings
(``"InvoiceLink": ""``, ``"PrivateNote": ""``, an address's ``"Lat": ""``) for everything left unset.

Choices (unconfirmed — COVERAGE.md): an empty string is a property without a value, wherever it is (also inside
lines and addresses): not stored, and a sparse update that sends one for a top-level field empties that field (a
required one is then missing: 2020); the read-only properties below are dropped wherever they appear.
ExchangeRate objects carry no Id in QBO; the sandbox keeps one internally and leaves it out of answers.
"""

from __future__ import annotations

from typing import Any

from qbo_sandbox.entities.common import amount

# Read-only properties a client may echo back (Intuit's entity reference marks them "read only"; the rest of the
# read-only fields, such as TotalAmt or Balance, are derived by the rules and overwritten anyway).
READ_ONLY = frozenset({"InvoiceLink", "Lat", "Long"})


def kept(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without empty strings and read-only properties, at every depth (a new dict; lists stay lists)."""
    return {key: _kept_value(value) for key, value in body.items() if _has_value(key, value)}


def cleared(body: dict[str, Any]) -> list[str]:
    """The top-level fields a body sends as empty strings."""
    return [key for key, value in body.items() if value == "" and key not in READ_ONLY]


def _kept_value(value: Any) -> Any:
    if isinstance(value, dict):
        return kept(value)
    if isinstance(value, list):
        return [_kept_value(element) for element in value]
    return value


def _has_value(key: str, value: object) -> bool:
    return key not in READ_ONLY and value != ""


def exchange_rate_answer(row: dict[str, Any]) -> dict[str, Any]:
    """An ExchangeRate as QBO answers it: ``Rate`` a JSON number (seeded rates are stored as text) and no Id."""
    shown = {key: value for key, value in row.items() if key != "Id"}
    if "Rate" in shown:
        shown["Rate"] = amount(shown["Rate"], "Rate")
    return shown
