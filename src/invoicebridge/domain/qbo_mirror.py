"""What a company's mirror of QBO holds: the customers and items invoices are matched against (DESIGN §3, "Few
API calls"). A mirrored object is QBO's as last seen — by a load, a create's answer, the CDC poll or a webhook —
so matching reads no QBO in the steady state. A stale entry is found out by QBO's refusal and read again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MirrorCustomer:
    qbo_id: str
    display_name: str
    email: str | None
    currency: str | None
    terms_id: str | None
    active: bool
    updated_at: datetime | None  # QBO's MetaData.LastUpdatedTime: a webhook older than this is already known


@dataclass(frozen=True)
class MirrorItem:
    qbo_id: str
    name: str
    sku: str | None
    active: bool
    updated_at: datetime | None


@dataclass(frozen=True)
class MirrorState:
    """When the company's mirror was loaded whole, and from which QBO company (a reconnect to another realm
    starts it again)."""

    realm_id: str
    loaded_at: datetime
