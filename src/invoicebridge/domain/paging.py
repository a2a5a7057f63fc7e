"""Keyset pagination: stable while rows are added, because the cursor is an id, not an offset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from invoicebridge.domain.errors import ValidationError

T = TypeVar("T")
MAX_PAGE = 500


@dataclass(frozen=True)
class PageRequest:
    """Up to `limit` items with an id greater than `after`, in id order."""

    limit: int = 50
    after: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise ValidationError.single("limit", f"The page size must be between 1 and {MAX_PAGE}.")
        if self.after is not None and self.after < 0:
            raise ValidationError.single("after", "The cursor must be a non-negative id.")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items and the cursor of the next page (None on the last page)."""

    items: tuple[T, ...]
    next_after: int | None
