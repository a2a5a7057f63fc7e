"""Where an invoice's shipping fee goes in QBO (issue 14): QBO's own shipping line while the company has shipping on
in its sales-form preferences (``Preferences.SalesFormsPrefs.AllowShipping``), else a line on a Service item named
"Shipping" — found by name, or created once on the chosen revenue account, and remembered.

QBO's shipping line is a ``SalesItemLineDetail`` line whose ``ItemRef`` is the pseudo id ``SHIPPING_ITEM_ID`` and
which carries only an ``Amount`` and a tax code; QBO shows it in the form's Shipping box. Intuit's Invoice
reference does not list it; the source is the maintainer's answer in ruckus/quickbooks-ruby issue #319 ("make a new
line item with the ItemRef pointing to the Shipping Item id … ``"ItemRef": {"value": "SHIPPING_ITEM_ID"}``"), and
integrations in the wild send the same. qbo_sandbox accepts it only with AllowShipping on (COVERAGE.md).

Which SO invoice carries the fee is the domain's rule (domain/order_invoices.py): the whole-SO invoice, or the
first partial invoice; here only how. The fee has no cost: cost of goods sold is unaffected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from invoicebridge.domain import SalesOrder, TaxRate, ValidationError
from invoicebridge.domain.connection import TaxModel
from invoicebridge.domain.qbo_mirror import MirrorItem
from invoicebridge.qbo import errors as qbo
from invoicebridge.sync.mapping import SHIPPING_ITEM_ID, ShippingRefs
from invoicebridge.sync.matching import ITEM, Matcher, create_request_id
from invoicebridge.sync.mirror import ITEM as ITEM_ENTITY
from invoicebridge.sync.mirror import Mirror
from invoicebridge.sync.ports import UnitOfWorkFactory

SHIPPING_ITEM_NAME = "Shipping"
REF_KIND, REF_ID = "shipping", 0  # qbo_refs: the company's Shipping item (forgotten with the rest on a new realm)


class Way(StrEnum):
    SHIPPING_LINE = "shipping_line"  # QBO's own shipping line
    ITEM = "item"  # a line on the Shipping item


WHY = {
    Way.SHIPPING_LINE: "QuickBooks' shipping line, because shipping is on in your sales-form settings",
    Way.ITEM: "a line on the item 'Shipping', because shipping is off in QuickBooks' sales-form settings",
}
HOW = {
    "shipping line": "",
    "remembered": "the item used before",
    "name": "found by name",
    "created": "created in QuickBooks",
    "would create": "will be created in QuickBooks",
}


@dataclass(frozen=True)
class ShippingPlan:
    """How one invoice carries its SO's shipping fee, for the payload and the preview."""

    fee: Decimal
    way: Way
    item_id: str | None  # SHIPPING_ITEM_ID, the Shipping item's id, or None (a preview: it would be created)
    how: str  # a key of HOW
    tax_code: str

    @property
    def refs(self) -> ShippingRefs:
        return ShippingRefs(self.item_id or f"(new item {SHIPPING_ITEM_NAME})", self.tax_code)

    @property
    def explanation(self) -> str:
        """The sentence the preview shows: which way the fee goes, and why."""
        how = HOW.get(self.how, self.how)
        return f"The shipping fee goes on {WHY[self.way]}" + (f" ({how})." if how else ".")


class Shipping:
    """Plans the shipping fee of invoices made with one matcher (one invoice, or a batch): the Shipping item is
    looked for (and created) at most once per instance."""

    def __init__(self, matcher: Matcher, mirror: Mirror, uow: UnitOfWorkFactory) -> None:
        self._matcher, self._mirror, self._uow = matcher, mirror, uow
        self._item: tuple[str | None, str] | None = None

    def plan(self, order: SalesOrder, rates: Mapping[int, TaxRate], create: bool) -> ShippingPlan | None:
        """None when `order` (as its invoice carries it) has no shipping fee. Raises ValidationError (no tax rate
        for the fee in a VAT/GST company; an inactive Shipping item) or the QboError that stopped creating the item;
        with `create` False nothing is written to QBO."""
        if order.shipping_fee is None:
            return None
        tax_code = fee_tax_code(order, rates, self._matcher)
        if self._matcher.prefs.allow_shipping:
            return ShippingPlan(order.shipping_fee, Way.SHIPPING_LINE, SHIPPING_ITEM_ID, "shipping line", tax_code)
        if self._item is None or (self._item[0] is None and create):
            self._item = self._shipping_item(create)
        item_id, how = self._item
        return ShippingPlan(order.shipping_fee, Way.ITEM, item_id, how, tax_code)

    def _shipping_item(self, create: bool) -> tuple[str | None, str]:
        """(QBO id, how): the remembered item while the mirror has it active, else the item named Shipping (one
        QBO query), else a new one (one create, with a fixed request id: a retry replays it)."""
        company_id = self._matcher.company_id
        with self._uow() as uow:
            remembered = uow.qbo_refs.get(company_id, REF_KIND, REF_ID)
            known = uow.qbo_mirror.item(company_id, remembered) if remembered else None
        if known is not None and known.active:
            return known.qbo_id, "remembered"
        found = self._mirror.item_named(company_id, self._matcher.client, SHIPPING_ITEM_NAME)
        if found is not None:
            return self._remember(_usable(found).qbo_id), "name"
        if not create:
            return None, "would create"
        return self._remember(self._create()), "created"

    def _create(self) -> str:
        matcher, company_id = self._matcher, self._matcher.company_id
        body: dict[str, Any] = {
            "Name": SHIPPING_ITEM_NAME, "Type": "Service",
            "IncomeAccountRef": {"value": matcher.settings.revenue_account_id},
        }  # fmt: skip
        try:
            made = matcher.client.create(ITEM_ENTITY, body, create_request_id(company_id, ITEM, "shipping-item"))
        except qbo.DuplicateName:  # made meanwhile (another worker), or the mirror was behind: read it again
            found = self._mirror.item_named(company_id, matcher.client, SHIPPING_ITEM_NAME)
            if found is None:
                raise  # the name is a customer's, vendor's or employee's: explained as such
            return _usable(found).qbo_id
        self._mirror.apply(company_id, ITEM_ENTITY, [made])
        return str(made["Id"])

    def _remember(self, qbo_id: str) -> str:
        with self._uow() as uow:
            uow.qbo_refs.put(self._matcher.company_id, REF_KIND, REF_ID, qbo_id)
            uow.commit()
        return qbo_id


def uses_shipping_line(payload: Mapping[str, Any]) -> bool:
    """Whether an invoice body has QBO's shipping line: refused for naming an unknown item, it tells that shipping
    was turned off in QBO since the preferences were read (read them again)."""
    return any(
        ((line.get("SalesItemLineDetail") or {}).get("ItemRef") or {}).get("value") == SHIPPING_ITEM_ID
        for line in payload.get("Line") or []
    )


def _usable(item: MirrorItem) -> MirrorItem:
    if not item.active:
        raise ValidationError.single(
            "shipping_fee",
            f"QuickBooks has an inactive item named '{SHIPPING_ITEM_NAME}': make it active in QuickBooks (or turn "
            "shipping on in QuickBooks' sales-form settings) so the shipping fee can go on it.",
        )
    return item


def fee_tax_code(order: SalesOrder, rates: Mapping[int, TaxRate], matcher: Matcher) -> str:
    """The shipping fee's QBO tax code: TAX/NON in the US model (the invoice's one sales tax code is chosen with the
    rows', sync/matching.py tax_codes), else the code its tax rate is mapped to. ValidationError when a VAT/GST
    company's fee has no tax rate."""
    rate_id = order.shipping_tax_rate_id
    if matcher.prefs.tax_model is TaxModel.US:
        return "TAX" if rate_id is not None and rates[rate_id].percent > 0 else "NON"
    if rate_id is None:
        raise ValidationError.single(
            "shipping_tax_rate_id", "The shipping fee needs a tax rate for a VAT/GST company (use a 0% rate)."
        )
    code = matcher.settings.tax_code(rate_id, rates[rate_id].percent == 0)  # a 0 % rate: the no-tax code
    if code is None:
        raise ValidationError.single(
            "shipping_tax_rate_id", "The shipping fee's tax rate is not mapped to a QuickBooks tax code yet."
        )
    return code
