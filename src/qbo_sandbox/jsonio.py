"""JSON in and out. Amounts are Decimal inside the sandbox (parsed with parse_float=Decimal) and go out as
JSON numbers, as QBO sends them."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def loads(raw: bytes | str) -> Any:
    """Parse JSON keeping every number with a fraction as an exact Decimal."""
    return json.loads(raw, parse_float=Decimal)


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        # QBO sends numbers; a float repr is the shortest that reads back to the same value, so amounts of up to
        # 15 significant digits come out exactly as stored ("424.98", not "424.9800000001").
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(body: object) -> bytes:
    return json.dumps(body, default=_number, ensure_ascii=False).encode()
