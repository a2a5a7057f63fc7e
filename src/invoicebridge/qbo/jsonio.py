"""JSON in and out of QBO: numbers with a fraction are read as exact ``Decimal`` and written back as numbers."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]


def loads(raw: str | bytes) -> Any:
    """Parse JSON keeping every amount exact (``parse_float=Decimal``); ValueError when it is not JSON."""
    return json.loads(raw, parse_float=Decimal)


def dumps(body: object) -> str:
    """Serialise a request body; Decimal amounts become JSON numbers, dates ISO 8601 strings."""
    return json.dumps(body, default=_plain, ensure_ascii=False, separators=(",", ":"))


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        # QBO wants numbers. A float's repr is the shortest text that reads back to the same value, so amounts
        # of up to 15 significant digits go out exactly as written ("424.98").
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
