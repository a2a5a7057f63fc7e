"""A bulk action of the Sell screen: which SOs someone asked to invoice at once, kept so that its progress panel
(done / failed / left) survives a reload and *Retry failed* knows what failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MAX_BULK = 10_000  # SOs in one bulk action ("all matching the filter" included)


@dataclass(frozen=True)
class BulkRun:
    id: int | None
    company_id: int
    started_at: datetime
    started_by: str
    sales_order_ids: tuple[int, ...]


@dataclass(frozen=True)
class BulkFailure:
    sales_order_id: int
    number: str
    message: str


@dataclass(frozen=True)
class BulkProgress:
    """Where the SOs of a bulk action stand now. `skipped`: invoiced delivery by delivery, so not invoiced whole."""

    run: BulkRun
    done: int = 0
    left: int = 0
    skipped: int = 0
    failed: tuple[BulkFailure, ...] = field(default_factory=tuple)

    @property
    def total(self) -> int:
        return len(self.run.sales_order_ids)

    @property
    def finished(self) -> bool:
        return self.left == 0
