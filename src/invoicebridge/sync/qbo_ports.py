"""What the QBO side of the use cases needs from storage: the connection and its webhook health, tokens at rest,
remembered QBO ids, the mirror of QBO customers and items, the meter's counts and the webhook events already
handled, in domain types. `store` implements these structurally; the UnitOfWork in sync/ports.py carries them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from invoicebridge.domain.connection import Connection, TokenPair
from invoicebridge.domain.qbo_mirror import MirrorCustomer, MirrorItem, MirrorState

__all__ = [
    "ConnectionRepository",
    "ProcessedEventRepository",
    "QboMirrorRepository",
    "QboRefRepository",
    "QboUsageRepository",
    "TokenVault",
]


class ConnectionRepository(Protocol):
    def get(self, company_id: int) -> Connection | None: ...
    def by_realm(self, realm_id: str) -> list[Connection]: ...
    def connected(self) -> list[Connection]: ...
    def save(self, connection: Connection) -> Connection:
        """Everything but the webhook-health fields, which only the three calls below write."""
        ...

    def delete(self, company_id: int) -> None: ...
    def note_write(self, company_id: int, at: datetime) -> None:
        """Our write at `at` waits for its webhook echo (unless an older one waits, or an event came after it)."""
        ...

    def webhook_arrived(self, realm_id: str, at: datetime) -> None:
        """An event for the realm arrived: writes made up to `at` count as echoed."""
        ...

    def swap_polled_at(self, company_id: int, expected: datetime | None, value: datetime | None) -> bool:
        """Compare-and-set of the last poll's claim; False when another worker changed it first."""
        ...


class QboRefRepository(Protocol):
    """QBO ids remembered for our records: kind "customer" or "item", our id → QBO id."""

    def get(self, company_id: int, kind: str, local_id: int) -> str | None: ...
    def get_many(self, company_id: int, kind: str, local_ids: Sequence[int]) -> dict[int, str]:
        """The remembered QBO ids of these records (those with none left out)."""
        ...

    def put(self, company_id: int, kind: str, local_id: int, qbo_id: str) -> None: ...
    def forget_all(self, company_id: int) -> None: ...


class QboMirrorRepository(Protocol):
    """The company's mirror of QBO customers and items (domain/qbo_mirror.py); look-ups ignore case."""

    def state(self, company_id: int) -> MirrorState | None: ...
    def mark_loaded(self, company_id: int, realm_id: str, at: datetime) -> None: ...
    def clear(self, company_id: int) -> None: ...
    def put_customers(self, company_id: int, customers: Sequence[MirrorCustomer]) -> None: ...
    def customers(
        self, company_id: int, *, emails: Iterable[str] = (), qbo_ids: Iterable[str] = (), names: Iterable[str] = ()
    ) -> list[MirrorCustomer]: ...
    def customer(self, company_id: int, qbo_id: str) -> MirrorCustomer | None: ...
    def put_items(self, company_id: int, items: Sequence[MirrorItem]) -> None: ...
    def items(self, company_id: int, *, skus: Iterable[str] = (), qbo_ids: Iterable[str] = ()) -> list[MirrorItem]: ...
    def item(self, company_id: int, qbo_id: str) -> MirrorItem | None: ...


class QboUsageRepository(Protocol):
    """The meter's counts (sync/meter.py): QBO calls per company and calendar month "YYYY-MM", as (core, coreplus)."""

    def add(self, company_id: int, month: str, core: int, coreplus: int) -> None:
        """Adds to the counts atomically: concurrent callers never lose one another's counts."""
        ...

    def of_company(self, company_id: int, month: str) -> tuple[int, int]: ...
    def of_month(self, month: str) -> dict[int, tuple[int, int]]:
        """Every company with a call in `month`."""
        ...

    def total(self, month: str) -> tuple[int, int]:
        """Every company together (Intuit's cap is per app, across its companies)."""
        ...


class ProcessedEventRepository(Protocol):
    def seen(self, event_id: str) -> bool: ...
    def first_time(self, event_id: str, at: datetime) -> bool:
        """Records the event id; False when it was recorded already."""
        ...

    def forget_before(self, moment: datetime) -> int:
        """Forgets the ids handled before `moment`; how many."""
        ...


class TokenVault(Protocol):
    """Tokens at rest (encrypted); `refresh_locked` holds a per-company lock around a refresh and stores its
    result in the same transaction."""

    def load(self, company_id: int) -> TokenPair | None: ...
    def save(self, company_id: int, tokens: TokenPair) -> None: ...
    def delete(self, company_id: int) -> None: ...
    def refresh_locked(self, company_id: int, refresh: Callable[[TokenPair], TokenPair | None]) -> TokenPair: ...
