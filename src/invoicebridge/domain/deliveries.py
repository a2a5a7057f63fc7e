"""Deliveries: what went out of an SO, and when. Each is a part that can be invoiced on its own (partial
invoicing); a row's delivered quantity is the sum over its SO's deliveries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Delivery:
    """One shipment of an SO: quantities per row id. `number` counts the SO's deliveries from 1."""

    id: int | None
    number: int
    delivered_at: datetime
    quantities: Mapping[int, Decimal] = field(default_factory=dict)  # row id → quantity delivered

    def __hash__(self) -> int:  # a frozen dataclass holding a dict: hash by identity of what it is
        return hash((self.id, self.number, self.delivered_at))


def quantities_of(deliveries: Iterable[Delivery]) -> dict[int, Decimal]:
    """Σ quantity per row id over these deliveries."""
    total: dict[int, Decimal] = {}
    for delivery in deliveries:
        for row_id, quantity in delivery.quantities.items():
            total[row_id] = total.get(row_id, Decimal(0)) + quantity
    return total
