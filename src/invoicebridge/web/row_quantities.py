"""One quantity per SO row, from the rows an API body lists (a delivery, a return)."""

from __future__ import annotations

from collections.abc import Sequence

from invoicebridge.domain import Problem, ValidationError


def quantities_by_row(lines: Sequence[tuple[int, object]], field: str, what: str) -> dict[int, object]:
    """Row id → quantity, from (row id, quantity) pairs in the body's order. A row listed twice is refused
    (ValidationError naming `{field}.{i}.row_id`; nothing is recorded): keeping either quantity silently would
    record more or less than the caller meant. `what` ends the sentence: "… with all of it that <what>"."""
    by_row: dict[int, object] = {}
    twice: list[Problem] = []
    for i, (row_id, quantity) in enumerate(lines):
        if row_id in by_row:
            message = f"Row {row_id} is listed twice: give each row once, with all of it that {what}."
            twice.append(Problem(f"{field}.{i}.row_id", message))
        by_row[row_id] = quantity
    if twice:
        raise ValidationError(twice)
    return by_row
