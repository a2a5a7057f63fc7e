"""Importing a company's QBO customers into its order book (docs/quickbooks.md, "Importing customers from
QuickBooks"): what one run did, customer by customer where a person has to act."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SkippedCustomer:
    """A QBO customer the import did not create, and why: an e-mail clash with an order-book customer that is not
    linked to it (`existing_customer_id`), or a name or e-mail the order book refuses (`reason`)."""

    qbo_id: str
    display_name: str
    email: str | None
    reason: str
    existing_customer_id: int | None = None


@dataclass(frozen=True)
class CustomerImportReport:
    """What an import did. `created`: order-book customers made and linked now; `already_linked`: QBO customers a
    customer of ours was linked to before; `clashes`: not created, their e-mail is taken; `refused`: not created,
    the order book refuses their name or e-mail. Inactive QBO customers are not looked at."""

    created: int = 0
    already_linked: int = 0
    clashes: tuple[SkippedCustomer, ...] = field(default_factory=tuple)
    refused: tuple[SkippedCustomer, ...] = field(default_factory=tuple)

    @property
    def looked_at(self) -> int:
        return self.created + self.already_linked + len(self.clashes) + len(self.refused)

    def plus(self, other: CustomerImportReport) -> CustomerImportReport:
        """Two chunks of one run, added up."""
        return CustomerImportReport(
            self.created + other.created, self.already_linked + other.already_linked,
            self.clashes + other.clashes, self.refused + other.refused,
        )  # fmt: skip
