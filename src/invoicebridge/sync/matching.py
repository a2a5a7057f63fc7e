"""Finding (or, when allowed, creating) what invoices refer to in QBO, per DESIGN §1 — for one SO or a whole
batch of them, against the company's mirror of QBO (sync/mirror.py), so matching itself reads no QBO:

* the customer: by e-mail, else the QBO id remembered for this customer, else by display name, else created
  (with the company's default terms). Matching never edits a QBO customer;
* the items: by SKU; a missing one is created as a non-inventory item on the income account chosen for its
  product's category, else the revenue account; an existing one is never updated (a category's account changed
  later affects only items created afterwards);
* the tax codes: through the mapping chosen at connection.

Only what the mirror does not have costs QBO requests: it is looked up once (in bulk: ``IN (…)``) in case the
mirror is behind, then created — through ``/batch`` when there are several, 30 to a request. A create refused as a
duplicate name (6240) reads that name again: the object QBO has is matched when it is the one wanted.
With ``create=False`` nothing is written (the invoice preview): the plan says what would be created.
Creates carry deterministic request ids, so a retried create replays instead of duplicating.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from invoicebridge.domain import Customer, ProductVariant, SalesOrder, TaxRate, ValidationError
from invoicebridge.domain.connection import ConnectionSettings, QboPreferences, TaxModel
from invoicebridge.domain.qbo_mirror import MirrorCustomer, MirrorItem
from invoicebridge.qbo import errors as qbo
from invoicebridge.qbo.client import BATCH_LIMIT, QboClient, batch_error
from invoicebridge.sync.mapping import SHIPPING_ITEM_ID
from invoicebridge.sync.mirror import CUSTOMER as CUSTOMER_ENTITY
from invoicebridge.sync.mirror import ITEM as ITEM_ENTITY
from invoicebridge.sync.mirror import Mirror, customer_of, quote
from invoicebridge.sync.ports import UnitOfWorkFactory

__all__ = [
    "CUSTOMER", "ITEM", "CustomerMatch", "CustomerWant", "ItemMatch", "Matcher", "create_request_id", "quote",
    "refresh_references", "remember", "tax_codes",
]  # fmt: skip

CUSTOMER, ITEM = "customer", "item"
Key = TypeVar("Key")
T = TypeVar("T")


@dataclass(frozen=True)
class CustomerMatch:
    qbo_id: str | None  # None: would be created (preview)
    how: str  # "email" | "remembered" | "display_name" | "created" | "would create"
    display_name: str
    terms_id: str | None
    currency: str | None


@dataclass(frozen=True)
class ItemMatch:
    sku: str
    qbo_id: str | None
    how: str  # "sku" | "created" | "would create"


@dataclass(frozen=True)
class CustomerWant:
    """A customer of ours to match, with the QBO id remembered for it."""

    customer: Customer
    remembered_id: str | None

    @property
    def key(self) -> int:
        assert self.customer.id is not None
        return self.customer.id


@dataclass
class Remembered:
    """QBO ids learnt while matching, for the caller to store with its transaction."""

    ids: dict[tuple[str, int], str] = field(default_factory=dict)


def create_request_id(company_id: int, kind: str, key: str) -> str:
    digest = hashlib.sha256(f"{company_id}/{kind}/{key}".encode()).hexdigest()[:24]
    return f"ib-{company_id}-{kind}-{digest}"


class Matcher:
    def __init__(
        self, client: QboClient, company_id: int, settings: ConnectionSettings, prefs: QboPreferences,
        mirror: Mirror, uow: UnitOfWorkFactory,
    ) -> None:  # fmt: skip
        self.client, self.company_id, self.settings, self.prefs = client, company_id, settings, prefs
        self._mirror, self._uow = mirror, uow
        self.remembered = Remembered()

    # -- customers -------------------------------------------------------------------------------------
    def customer(self, customer: Customer, remembered_id: str | None, create: bool) -> CustomerMatch:
        """One customer's match; its QboError is raised."""
        want = CustomerWant(customer, remembered_id)
        return _raise_error(self.customers([want], create)[want.key])

    def customers(self, wanted: Sequence[CustomerWant], create: bool) -> dict[int, CustomerMatch | qbo.QboError]:
        """Each wanted customer's match (by our customer id), or the QboError that stops it."""
        wanted = list({want.key: want for want in wanted}.values())
        found = self._pick_customers(wanted)
        missing = [want for want in wanted if want.key not in found]
        if missing:  # the mirror may be behind: one look-up before anything is created
            self._mirror.refresh_customers(
                self.company_id, self.client, emails=[w.customer.email for w in missing if w.customer.email],
                names=[w.customer.display_name for w in missing],
                qbo_ids=[w.remembered_id for w in missing if w.remembered_id],
            )  # fmt: skip
            found.update(self._pick_customers(missing))
            missing = [want for want in missing if want.key not in found]
        results: dict[int, CustomerMatch | qbo.QboError] = {key: match for key, match in found.items()}
        if not create:
            results.update({w.key: self._would_create(w.customer) for w in missing})
        else:
            results.update(self._create_customers(missing))
        remembered = {want.key: want.remembered_id for want in wanted}
        for key, result in results.items():
            if isinstance(result, CustomerMatch) and result.qbo_id is not None and result.qbo_id != remembered[key]:
                self.remembered.ids[(CUSTOMER, key)] = result.qbo_id  # new or changed: to be stored
        return results

    def _pick_customers(self, wanted: Sequence[CustomerWant]) -> dict[int, CustomerMatch]:
        """The seed's order: e-mail, then the remembered id, then the display name — active customers only."""
        with self._uow() as uow:
            known = uow.qbo_mirror.customers(
                self.company_id, emails=[w.customer.email for w in wanted if w.customer.email],
                qbo_ids=[w.remembered_id for w in wanted if w.remembered_id],
                names=[w.customer.display_name for w in wanted],
            )  # fmt: skip
        active = sorted((c for c in known if c.active), key=lambda c: _id_order(c.qbo_id))
        by_email = _first_by(active, lambda c: c.email.lower() if c.email else None)
        by_id = {c.qbo_id: c for c in active}
        by_name = _first_by(active, lambda c: c.display_name.lower())
        picked: dict[int, CustomerMatch] = {}
        for want in wanted:
            email = want.customer.email.lower() if want.customer.email else None
            if email and email in by_email:
                picked[want.key] = self._matched(by_email[email], "email")
            elif want.remembered_id and want.remembered_id in by_id:
                picked[want.key] = self._matched(by_id[want.remembered_id], "remembered")
            elif want.customer.display_name.lower() in by_name:
                picked[want.key] = self._matched(by_name[want.customer.display_name.lower()], "display_name")
        return picked

    def _matched(self, found: MirrorCustomer, how: str) -> CustomerMatch:
        terms = found.terms_id or self.prefs.default_terms_id
        return CustomerMatch(found.qbo_id, how, found.display_name, terms, found.currency)

    def _would_create(self, customer: Customer) -> CustomerMatch:
        return CustomerMatch(None, "would create", customer.display_name, self.prefs.default_terms_id, None)

    def _create_customers(self, missing: Sequence[CustomerWant]) -> dict[int, CustomerMatch | qbo.QboError]:
        bodies = {want.key: self._customer_body(want.customer) for want in missing}
        made = self._create_all(CUSTOMER_ENTITY, CUSTOMER, {key: (str(key), body) for key, body in bodies.items()})
        results: dict[int, CustomerMatch | qbo.QboError] = {}
        retry_names: dict[int, str] = {}
        for want in missing:
            outcome = made[want.key]
            if isinstance(outcome, qbo.DuplicateName):
                retry_names[want.key] = want.customer.display_name
                results[want.key] = outcome
            elif isinstance(outcome, qbo.QboError):
                results[want.key] = outcome
            else:
                results[want.key] = self._matched(customer_of(outcome), "created")
        if retry_names:  # taken meanwhile (another worker made it, or the mirror was behind): match again
            self._mirror.refresh_customers(self.company_id, self.client, names=list(retry_names.values()))
            results.update(self._pick_customers([w for w in missing if w.key in retry_names]))
        return results

    def _customer_body(self, customer: Customer) -> dict[str, Any]:
        body: dict[str, Any] = {"DisplayName": customer.display_name}
        if customer.email:
            body["PrimaryEmailAddr"] = {"Address": customer.email}
        if self.prefs.default_terms_id:
            body["SalesTermRef"] = {"value": self.prefs.default_terms_id}
        if self.prefs.multicurrency:
            body["CurrencyRef"] = {"value": customer.currency}
        return body

    # -- items -----------------------------------------------------------------------------------------
    def items(self, products: Sequence[ProductVariant], create: bool) -> dict[int, ItemMatch]:
        """Each product's item (by our product id); the first QboError is raised."""
        return {key: _raise_error(result) for key, result in self.item_results(products, create).items()}

    def item_results(self, products: Sequence[ProductVariant], create: bool) -> dict[int, ItemMatch | qbo.QboError]:
        """Each product's item (by our product id), or the QboError that stops it."""
        products = list({_product_id(p): p for p in products}.values())
        by_sku = self._items_by_sku([p.sku for p in products])
        missing = sorted({p.sku.lower(): p.sku for p in products if p.sku.lower() not in by_sku}.values())
        if missing:  # the mirror may be behind: one look-up before anything is created
            self._mirror.refresh_items(self.company_id, self.client, skus=missing)
            by_sku = self._items_by_sku([p.sku for p in products])
        results: dict[int, ItemMatch | qbo.QboError] = {}
        to_create: dict[str, ProductVariant] = {}
        for product in products:
            found = by_sku.get(product.sku.lower())
            if found is not None:
                results[_product_id(product)] = ItemMatch(product.sku, found.qbo_id, "sku")
            elif create:
                to_create.setdefault(product.sku.lower(), product)
            else:
                results[_product_id(product)] = ItemMatch(product.sku, None, "would create")
        made = self._create_items(list(to_create.values()))
        for product in products:
            outcome = made.get(product.sku.lower())
            if outcome is not None:
                results[_product_id(product)] = outcome
        return results

    def _items_by_sku(self, skus: Sequence[str]) -> dict[str, MirrorItem]:
        with self._uow() as uow:
            known = uow.qbo_mirror.items(self.company_id, skus=skus)
        active = sorted((i for i in known if i.active and i.sku), key=lambda i: _id_order(i.qbo_id))
        return _first_by(active, lambda i: i.sku.lower() if i.sku else None)

    def _create_items(self, products: Sequence[ProductVariant]) -> dict[str, ItemMatch | qbo.QboError]:
        if not products:
            return {}
        made = self._create_all(ITEM_ENTITY, ITEM, {p.sku.lower(): (p.sku, self._item_body(p)) for p in products})
        results: dict[str, ItemMatch | qbo.QboError] = {}
        for product in products:
            outcome = made[product.sku.lower()]
            if isinstance(outcome, qbo.QboError):
                results[product.sku.lower()] = outcome
            else:
                results[product.sku.lower()] = ItemMatch(product.sku, str(outcome["Id"]), "created")
        taken = [p for p in products if isinstance(made[p.sku.lower()], qbo.DuplicateName)]
        if taken:  # the name is QBO's already: that item is ours only when it carries the same SKU
            self._mirror.refresh_items(self.company_id, self.client, names=[p.name for p in taken])
            by_sku = self._items_by_sku([p.sku for p in taken])
            for product in taken:
                if (found := by_sku.get(product.sku.lower())) is not None:
                    results[product.sku.lower()] = ItemMatch(product.sku, found.qbo_id, "sku")
        return results

    def _item_body(self, product: ProductVariant) -> dict[str, Any]:
        return {
            "Name": product.name, "Sku": product.sku, "Type": "NonInventory",
            "IncomeAccountRef": {"value": self.settings.income_account(product.category)},
            "UnitPrice": product.sales_price,
        }  # fmt: skip

    # -- creating --------------------------------------------------------------------------------------
    def _create_all(
        self, entity: str, kind: str, bodies: Mapping[Key, tuple[str, dict[str, Any]]]
    ) -> dict[Key, dict[str, Any] | qbo.QboError]:
        """Create each body (keyed; with the key text its request id is made from): one alone with a plain create,
        several through /batch, 30 to a request. Every answer goes into the mirror."""
        results: dict[Key, dict[str, Any] | qbo.QboError] = {}
        keys = list(bodies)
        if len(keys) == 1:
            key = keys[0]
            text, body = bodies[key]
            try:
                results[key] = self.client.create(entity, body, create_request_id(self.company_id, kind, text))
            except qbo.QboError as refused:
                results[key] = refused
        for start in range(0, len(keys) if len(keys) > 1 else 0, BATCH_LIMIT):
            results.update(self._create_batch(entity, kind, {k: bodies[k] for k in keys[start : start + BATCH_LIMIT]}))
        self._mirror.apply(self.company_id, entity, [r for r in results.values() if isinstance(r, dict)])
        return results

    def _create_batch(
        self, entity: str, kind: str, bodies: Mapping[Key, tuple[str, dict[str, Any]]]
    ) -> dict[Key, dict[str, Any] | qbo.QboError]:
        keys = list(bodies)
        items = [{"bId": str(n), "operation": "create", entity: bodies[k][1]} for n, k in enumerate(keys)]
        request_id = create_request_id(self.company_id, f"{kind}s", "\n".join(sorted(t for t, _ in bodies.values())))
        try:
            answers = {str(a.get("bId")): a for a in self.client.batch(items, request_id=request_id)}
        except qbo.QboError as failed:
            return dict.fromkeys(keys, failed)
        results: dict[Key, dict[str, Any] | qbo.QboError] = {}
        for n, key in enumerate(keys):
            answer = answers.get(str(n))
            error = batch_error(answer) if answer is not None else qbo.OutcomeUnknown("No answer for this item")
            results[key] = error if error is not None else dict((answer or {}).get(entity) or {})
        return results


def remember(uow: UnitOfWorkFactory, company_id: int, matcher: Matcher) -> None:
    """Store the QBO ids a matcher learnt, in key order: two workers remembering the same customers at once then
    wait for each other instead of deadlocking on the unique index."""
    with uow() as work:
        for (kind, local_id), qbo_id in sorted(matcher.remembered.ids.items()):
            work.qbo_refs.put(company_id, kind, local_id, qbo_id)
        work.commit()


def refresh_references(mirror: Mirror, company_id: int, client: QboClient, payload: Mapping[str, Any]) -> None:
    """An invoice was refused for naming an object QBO no longer has (or made inactive): read its customer and
    items again, so the next match uses what QBO has now."""
    customer = str((payload.get("CustomerRef") or {}).get("value") or "")
    items = [
        str(ref["value"])
        for line in payload.get("Line") or []
        if (ref := (line.get("SalesItemLineDetail") or {}).get("ItemRef")) and ref.get("value")
        and ref["value"] != SHIPPING_ITEM_ID  # QBO's shipping line names no item (sync/shipping.py)
    ]  # fmt: skip
    mirror.refresh_customers(company_id, client, qbo_ids=[customer] if customer else [])
    mirror.refresh_items(company_id, client, qbo_ids=items)


def _raise_error(result: T | qbo.QboError) -> T:
    if isinstance(result, qbo.QboError):
        raise result
    return result


def _product_id(product: ProductVariant) -> int:
    assert product.id is not None
    return product.id


def _id_order(qbo_id: str) -> tuple[int, str]:
    """QBO ids are numbers: the oldest object first, as QBO's own unordered queries answer."""
    return (int(qbo_id), "") if qbo_id.isdigit() else (1 << 62, qbo_id)


def _first_by(rows: Sequence[T], key: Callable[[T], str | None]) -> dict[str, T]:
    first: dict[str, T] = {}
    for row in rows:
        if (value := key(row)) is not None:
            first.setdefault(value, row)
    return first


def tax_codes(
    order: SalesOrder, rates: Mapping[int, TaxRate], settings: ConnectionSettings, prefs: QboPreferences
) -> tuple[dict[int, str], str | None]:
    """Per row index its QBO tax code, and (US) the invoice's sales tax code — the shipping fee's rate counts
    too, when the order carries a fee. Raises ValidationError."""
    lines: dict[int, str] = {}
    if prefs.tax_model is TaxModel.US:
        rate_ids = [r.tax_rate_id for r in order.rows]
        if order.shipping_fee is not None:
            rate_ids.append(order.shipping_tax_rate_id)
        taxed = {settings.tax_mapping[rate] for rate in rate_ids if rate and _taxed(rate, rates)}
        if len(taxed) > 1:
            raise ValidationError.single(
                "rows",
                "A US QuickBooks invoice carries one sales tax rate, but this order's rows (and shipping fee) use "
                "several.",
            )
        for index, row in enumerate(order.rows):
            lines[index] = "TAX" if _taxed(row.tax_rate_id, rates) else "NON"
        return lines, next(iter(taxed), None)
    for index, row in enumerate(order.rows):
        if row.tax_rate_id is None:
            raise ValidationError.single(
                f"rows[{index}].tax_rate_id", "Every row needs a tax rate for a VAT/GST company (use a 0% rate)."
            )
        code = settings.tax_code(row.tax_rate_id, not _taxed(row.tax_rate_id, rates))
        if code is None:  # require_complete let no unmapped rate through; a rate added since is refused here
            raise ValidationError.single(f"rows[{index}].tax_rate_id", "Map this tax rate to a QuickBooks tax code.")
        lines[index] = code
    return lines, None


def _taxed(rate_id: int | None, rates: Mapping[int, TaxRate]) -> bool:
    return rate_id is not None and rates[rate_id].percent > Decimal(0)
