"""A company's QuickBooks connection: where it points, how healthy it is, and the settings that decide how
its books take our invoices (revenue account, tax mapping, accounting mode). Tokens live in store/ (encrypted),
never here."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from invoicebridge.domain.catalog import category_account_problems
from invoicebridge.domain.errors import Problem, ValidationError
from invoicebridge.domain.numbering import prefix_problems


class AccountingMode(StrEnum):
    PLAIN = "plain"
    INVENTORY = "inventory"  # also post cost of goods sold when an SO is delivered and invoiced


class TaxModel(StrEnum):
    US = "us"  # sales tax: lines say TAX/NON, the invoice names one tax code
    GLOBAL = "global"  # VAT/GST: every line names its tax code; amounts tax-exclusive


class Health(StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"  # refresh failed for good, token revoked or expired
    DISCONNECTED = "disconnected"


RECONNECT_MESSAGE = "The QuickBooks connection has expired or was revoked: reconnect QuickBooks."
REFRESH_WARNING = timedelta(days=30)  # show Reconnect this long before the refresh token's hard expiry


@dataclass(frozen=True)
class QboPreferences:
    """What we read from QBO's Preferences and CompanyInfo, cached per company."""

    custom_txn_numbers: bool
    multicurrency: bool
    home_currency: str
    default_terms_id: str | None
    tax_model: TaxModel
    country: str
    read_at: datetime
    # SalesFormsPrefs.AllowShipping: the company's sales forms have QBO's own shipping line (sync/shipping.py).
    allow_shipping: bool = False


@dataclass(frozen=True)
class ConnectionSettings:
    """How invoices land in the books; invoicing is refused until `problems()` is empty."""

    revenue_account_id: str | None = None
    tax_mapping: Mapping[int, str] = field(default_factory=dict)  # order-book tax rate id → QBO TaxCode id
    mode: AccountingMode = AccountingMode.PLAIN
    cogs_account_id: str | None = None
    inventory_asset_account_id: str | None = None
    # Accounting with inventory: one COGS entry per SO once fully delivered and invoiced (the default), or one per
    # delivery once that delivery is invoiced, dated the delivery date.
    cogs_per_delivery: bool = False
    # Payment status back from QBO (domain/payments.py, sync/payments.py): off by default — tracking it reads QBO
    # (metered) on every payment made in the company's QuickBooks.
    track_payments: bool = False
    # Numbering (domain/numbering.py): put before every DocNumber ("" none; validated when saved), and whether an
    # SO refused for a number already used may be linked to that QBO invoice when customer and amount match.
    invoice_number_prefix: str = ""
    offer_link_duplicates: bool = False
    # Product category → the QBO Income account its new items post to; any other category, and a product without
    # one, use the revenue account. Items that exist already in QBO are never changed (sync/matching.py).
    category_accounts: Mapping[str, str] = field(default_factory=dict)
    # Outside the US: the QBO tax code a 0 % tax rate takes when it is not mapped itself (sync/no_tax.py finds the
    # company's no-tax code), so a 0 % rate added after the settings were saved never blocks invoicing.
    no_tax_code_id: str | None = None

    def income_account(self, category: str | None) -> str | None:
        """The income account a new item of this product category posts to."""
        return self.category_accounts.get(category or "") or self.revenue_account_id

    def tax_code(self, rate_id: int, zero: bool) -> str | None:
        """The QBO tax code of a tax rate (`zero`: it is 0 %), None when it is not mapped."""
        return self.tax_mapping.get(rate_id) or (self.no_tax_code_id if zero else None)

    def problems(self, tax_rate_ids: list[int], zero_rate_ids: Collection[int] = ()) -> list[tuple[str, str]]:
        """(field, sentence) for everything missing before invoices can be created. `zero_rate_ids`: the rates
        among `tax_rate_ids` that are 0 % (mapped to the no-tax code unless mapped themselves)."""
        found: list[tuple[str, str]] = []
        if not self.revenue_account_id:
            found.append(("revenue_account_id", "Choose the income account new QuickBooks items post to."))
        zero = set(zero_rate_ids)
        unmapped = [rate for rate in tax_rate_ids if self.tax_code(rate, rate in zero) is None]
        if unmapped:
            found.append(("tax_mapping", f"Map every tax rate to a QuickBooks tax code (missing: {unmapped})."))
        # A key that is not one of the company's rates (another company's, or none at all) maps nothing its rows
        # carry, and one company's settings must never name another company's records. Both read alike: no leak.
        known = set(tax_rate_ids)
        for rate in sorted(r for r in self.tax_mapping if r not in known):
            found.append((f"tax_mapping.{rate}", f"There is no tax rate {rate} in this company."))
        if self.mode is AccountingMode.INVENTORY:
            if not self.cogs_account_id:
                found.append(("cogs_account_id", "Accounting with inventory needs a cost of goods sold account."))
            if not self.inventory_asset_account_id:
                found.append(
                    ("inventory_asset_account_id", "Accounting with inventory needs an inventory asset account.")
                )
        found += prefix_problems(self.invoice_number_prefix)
        found += category_account_problems(self.category_accounts)
        return found

    def require_complete(self, tax_rate_ids: list[int], zero_rate_ids: Collection[int] = ()) -> None:
        problems = self.problems(tax_rate_ids, zero_rate_ids)
        if problems:
            raise ValidationError([Problem(f, m) for f, m in problems])


@dataclass(frozen=True)
class Connection:
    """One company's link to one QBO company (realm)."""

    company_id: int
    realm_id: str
    health: Health
    connected_at: datetime
    refresh_expires_at: datetime | None = None
    last_refresh_error: str | None = None
    settings: ConnectionSettings = field(default_factory=ConnectionSettings)
    preferences: QboPreferences | None = None
    cdc_checked_at: datetime | None = None  # changes up to here are known (the periodic CDC poll's cursor)
    # Webhook health, which paces the CDC poll (sync/pacing.py). The store writes these only through their own
    # calls (ConnectionRepository.note_write, webhook_arrived, swap_polled_at), never through `save`: a connection
    # saved from an older copy must not undo a write noted, or an echo seen, a moment ago by another worker.
    webhook_seen_at: datetime | None = None  # the last webhook event for this company arrived
    echo_due_since: datetime | None = None  # our oldest write to its QBO that no webhook event has followed yet
    polled_at: datetime | None = None  # the last paced CDC poll was claimed (one per slot, across workers)

    @property
    def usable(self) -> bool:
        return self.health is Health.CONNECTED

    def needs_reconnect_soon(self, now: datetime) -> bool:
        expires = self.refresh_expires_at
        return not self.usable or (expires is not None and expires - now < REFRESH_WARNING)

    def refresh_failed(self, reason: str, final: bool) -> Connection:
        return replace(self, last_refresh_error=reason, health=Health.NEEDS_RECONNECT if final else self.health)

    def refreshed(self, refresh_expires_at: datetime | None) -> Connection:
        return replace(self, health=Health.CONNECTED, last_refresh_error=None, refresh_expires_at=refresh_expires_at)


@dataclass(frozen=True)
class TokenPair:
    """OAuth tokens of one connection (kept encrypted at rest by the store)."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None

    def __repr__(self) -> str:  # never print a token
        return f"TokenPair(access_expires_at={self.access_expires_at}, refresh_expires_at={self.refresh_expires_at})"
