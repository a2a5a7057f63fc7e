"""Keyset pagination: stable while rows are added, because the cursor is an id, not an offset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from invoicebridge.domain.checks import MAX_ID
from invoicebridge.domain.errors import Problem, ValidationError

T = TypeVar("T")
MAX_PAGE = 500


@dataclass(frozen=True)
class PageRequest:
    """Up to `limit` items with an id greater than `after`, in id order."""

    limit: int = 50
    after: int | None = None

    def __post_init__(self) -> None:
        """Raises ValidationError naming every bad field."""
        problems = []
        if not _is_int(self.limit) or not 1 <= self.limit <= MAX_PAGE:
            problems.append(Problem("limit", f"The page size must be a whole number between 1 and {MAX_PAGE}."))
        # Bounded like every id: a cursor past MAX_ID cannot be compared with stored ids (SQLite overflows).
        if self.after is not None and (not _is_int(self.after) or not 0 <= self.after <= MAX_ID):
            problems.append(Problem("after", "The cursor must be the next_after of the previous page."))
        if problems:
            raise ValidationError(problems)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items and the cursor of the next page (None on the last page)."""

    items: tuple[T, ...]
    next_after: int | None
