"""In-memory implementations of the storage ports, for fast tests of the use cases.

They pass the same repository contract tests as the SQL store (tests/contract/store), so a test that passes on
the fake means the same thing on SQLite and PostgreSQL. What they copy from a database:

- ids come from one sequence per table, shared by every unit of work and never rolled back;
- a unit of work sees a snapshot taken when it began, plus its own writes; commit() publishes only the records
  it wrote (two units of work writing different records both keep their changes), rollback() discards every
  write since the last commit, leaving the block without commit() discards them too;
- the unique rules (SO number and SKU per company; per SO: one invoice per number, one live invoice per
  DocNumber slot and per delivery) are checked when a record is written — against the snapshot and against
  what others committed since — and again at commit, raising Conflict as the SQL store does;
- every read and write is scoped by company; an id of another company's record is NotFound.

Stored objects are frozen dataclasses (tuples inside), so snapshots are shallow copies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any

from invoicebridge.domain import (
    Company,
    Conflict,
    Customer,
    InvoiceLink,
    InvoiceState,
    NotFound,
    OrderFilter,
    OrderInvoices,
    Page,
    PageRequest,
    ProductVariant,
    SalesOrder,
    TaxRate,
)

TABLES = ("companies", "customers", "products", "tax_rates", "orders", "links")


class Tables:
    """The committed state of one fake database, and its id sequences."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[int, Any]] = {name: {} for name in TABLES}
        self.sequences: dict[str, int] = {}
        self.usage: dict[tuple[int, str], tuple[int, int]] = {}  # (company, month) → (core, coreplus)

    def new_id(self, table: str) -> int:
        """Next id of `table`; like a database sequence, a rollback does not give it back."""
        self.sequences[table] = self.sequences.get(table, 0) + 1
        return self.sequences[table]


class Work:
    """One unit of work's view: the snapshot it began with, its own writes, and the database behind it."""

    def __init__(self, database: Tables) -> None:
        self.database = database
        self.begin()

    def begin(self) -> None:
        """A fresh snapshot of what is committed; forgets every write."""
        self.rows = {name: dict(rows) for name, rows in self.database.rows.items()}
        self.began_with = {name: frozenset(rows) for name, rows in self.rows.items()}
        self.written: set[tuple[str, int]] = set()

    def new_id(self, table: str) -> int:
        return self.database.new_id(table)

    def write(self, table: str, key: int, value: Any) -> None:
        self.rows[table][key] = value
        self.written.add((table, key))

    def publish(self) -> None:
        for table, key in sorted(self.written):
            self.database.rows[table][key] = self.rows[table][key]
        self.begin()

    def candidates_with_keys(self, table: str) -> Iterator[tuple[int, Any]]:
        """(key, record) of candidates(table)."""
        committed = self.database.rows[table]
        for key, value in self.rows[table].items():
            yield key, value if (table, key) in self.written else committed.get(key, value)
        yield from ((key, committed[key]) for key in committed.keys() - self.rows[table].keys())

    def candidates(self, table: str) -> Iterator[Any]:
        """Every record a unique rule must consider: this unit's writes, and otherwise the latest committed
        version (others may have committed since this unit began)."""
        committed = self.database.rows[table]
        for key, value in self.rows[table].items():
            yield value if (table, key) in self.written else committed.get(key, value)
        yield from (committed[key] for key in committed.keys() - self.rows[table].keys())


def _page(items: list[Any], page: PageRequest, key: Callable[[Any], int] = lambda i: i.id) -> Page[Any]:
    items = sorted((i for i in items if page.after is None or key(i) > page.after), key=key)
    chosen = items[: page.limit]
    return Page(tuple(chosen), key(chosen[-1]) if len(items) > page.limit else None)


class _Scoped:
    """A table whose records carry company_id."""

    table = ""
    kind = ""

    def __init__(self, work: Work) -> None:
        self._w = work

    def _all(self, company_id: int) -> list[Any]:
        rows = self._w.rows[self.table].values()
        return sorted((r for r in rows if r.company_id == company_id), key=lambda r: r.id)

    def _get(self, company_id: int, object_id: int) -> Any:
        row = self._w.rows[self.table].get(object_id)
        if row is None or row.company_id != company_id:
            raise NotFound(self.kind, object_id)
        return row

    def _insert(self, obj: Any) -> Any:
        self._refuse_taken(obj)
        stored = replace(obj, id=self._w.new_id(self.table))
        self._w.write(self.table, stored.id, stored)
        return stored

    def _replace(self, obj: Any) -> Any:
        self._get(obj.company_id, obj.id or 0)
        self._refuse_taken(obj)
        self._w.write(self.table, obj.id, obj)
        return obj

    def _refuse_taken(self, obj: Any) -> None:
        """Raise Conflict when `obj` breaks this table's unique rule (none by default)."""

    def get(self, company_id: int, object_id: int) -> Any:
        return self._get(company_id, object_id)

    def list(self, company_id: int, page: PageRequest) -> Page[Any]:
        return _page(self._all(company_id), page)


class FakeCompanies:
    def __init__(self, work: Work) -> None:
        self._w = work

    def add(self, company: Company) -> Company:
        stored = replace(company, id=self._w.new_id("companies"))
        self._w.write("companies", stored.id or 0, stored)
        return stored

    def get(self, company_id: int) -> Company:
        if company_id not in self._w.rows["companies"]:
            raise NotFound("company", company_id)
        return self._w.rows["companies"][company_id]  # type: ignore[no-any-return]

    def list(self, page: PageRequest, among: Sequence[int] | None = None) -> Page[Company]:
        companies = self._w.rows["companies"].values()
        return _page([c for c in companies if among is None or c.id in among], page)


class FakeCustomers(_Scoped):
    table, kind = "customers", "customer"

    def add(self, customer: Customer) -> Customer:
        return self._insert(customer)  # type: ignore[no-any-return]

    def update(self, customer: Customer) -> Customer:
        return self._replace(customer)  # type: ignore[no-any-return]

    def names(self, company_id: int, customer_ids: Iterable[int]) -> dict[int, str]:
        wanted = set(customer_ids)
        return {c.id: c.display_name for c in self._all(company_id) if c.id in wanted}

    def find_by_email(self, company_id: int, email: str) -> Customer | None:
        return next((c for c in self._all(company_id) if c.email == email), None)

    def find_by_display_name(self, company_id: int, name: str) -> Customer | None:
        return next((c for c in self._all(company_id) if c.display_name == name), None)


class FakeProducts(_Scoped):
    table, kind = "products", "product"

    def add(self, product: ProductVariant) -> ProductVariant:
        return self._insert(product)  # type: ignore[no-any-return]

    def update(self, product: ProductVariant) -> ProductVariant:
        return self._replace(product)  # type: ignore[no-any-return]

    def get_by_sku(self, company_id: int, sku: str) -> ProductVariant | None:
        return next((p for p in self._all(company_id) if p.sku == sku), None)

    def categories(self, company_id: int) -> tuple[str, ...]:
        return tuple(sorted({p.category for p in self._all(company_id) if p.category is not None}))

    def _refuse_taken(self, obj: Any) -> None:
        if _taken(self._w, self.table, obj, lambda p: (p.company_id, p.sku)):
            raise Conflict("sku", f"SKU {obj.sku} is already used by another product in this company.")


class FakeTaxRates(_Scoped):
    table, kind = "tax_rates", "tax rate"

    def add(self, rate: TaxRate) -> TaxRate:
        return self._insert(rate)  # type: ignore[no-any-return]

    def update(self, rate: TaxRate) -> TaxRate:
        return self._replace(rate)  # type: ignore[no-any-return]

    def find_by_name(self, company_id: int, name: str) -> TaxRate | None:
        return next((r for r in self._all(company_id) if r.name == name), None)


class FakeSalesOrders(_Scoped):
    table, kind = "orders", "sales order"

    def add(self, order: SalesOrder) -> SalesOrder:
        # As in SQL, the rows of a new order are new rows, whatever ids they carried.
        return self._insert(self._number_rows(order, keep=frozenset()))  # type: ignore[no-any-return]

    def update(self, order: SalesOrder) -> SalesOrder:
        current = self._get(order.company_id, order.id or 0)
        # As in SQL, a row keeps its id only if it is one of this order's rows; any other row is new.
        keep = frozenset(row.id for row in current.rows)
        return self._replace(self._number_rows(order, keep))  # type: ignore[no-any-return]

    def get_many(self, company_id: int, order_ids: Sequence[int]) -> list[SalesOrder]:
        found = {o.id: o for o in self._all(company_id)}
        return [found[i] for i in dict.fromkeys(order_ids) if i in found]

    def get_by_number(self, company_id: int, number: str) -> SalesOrder | None:
        return next((o for o in self._all(company_id) if o.number == number), None)

    def list(self, company_id: int, filters: OrderFilter, page: PageRequest) -> Page[SalesOrder]:  # type: ignore[override]
        links, customers = self._w.rows["links"], self._w.rows["customers"]
        return _page([o for o in self._all(company_id) if _matches(o, filters, links, customers)], page)

    def _number_rows(self, order: SalesOrder, keep: frozenset[int | None]) -> SalesOrder:
        rows = tuple(
            row if row.id is not None and row.id in keep else replace(row, id=self._w.new_id("order_rows"))
            for row in order.rows
        )
        deliveries = tuple(
            d if d.id is not None else replace(d, id=self._w.new_id("deliveries")) for d in order.deliveries
        )
        return replace(order, rows=rows, deliveries=deliveries)

    def _refuse_taken(self, obj: Any) -> None:
        if _taken(self._w, self.table, obj, lambda o: (o.company_id, o.number)):
            raise Conflict("number", f"Sales order number {obj.number} is already used in this company.")


def _taken(work: Work, table: str, obj: Any, key: Callable[[Any], object]) -> bool:
    return any(other.id != obj.id and key(other) == key(obj) for other in work.candidates(table))


def _matches(order: SalesOrder, f: OrderFilter, links: dict[int, Any], customers: dict[int, Any]) -> bool:
    invoices = OrderInvoices(order, _links_of(links, order.company_id, order.id or 0))
    if f.invoice_state is InvoiceState.NOT_INVOICED:
        state_ok = not invoices.live
    else:
        state_ok = f.invoice_state is None or any(link.state == f.invoice_state for link in invoices.links)
    return (
        state_ok
        and (f.invoice_status is None or invoices.status == f.invoice_status)
        and (f.delivery_status is None or order.delivery_status == f.delivery_status)
        and (f.customer_id is None or order.customer_id == f.customer_id)
        and (f.created_from is None or order.created_at >= f.created_from)
        and (f.created_to is None or order.created_at < f.created_to)
        and (not (f.search or "").strip() or _found(order, (f.search or "").strip().lower(), customers))
    )


def _found(order: SalesOrder, term: str, customers: dict[int, Any]) -> bool:
    customer = customers.get(order.customer_id)
    return term in order.number.lower() or (customer is not None and term in customer.display_name.lower())


def _links_of(rows: dict[int, Any], company_id: int, sales_order_id: int) -> tuple[InvoiceLink, ...]:
    found = [link for company, link in rows.values() if company == company_id and link.sales_order_id == sales_order_id]
    return tuple(sorted(found, key=lambda link: link.number))


class FakeInvoiceLinks:
    """Invoices of SOs, stored with their company under an id of their own (as the SQL rows)."""

    def __init__(self, work: Work) -> None:
        self._w = work
        self.read_versions: dict[int, int] = {}  # link row id → the version this unit based its write on

    def lock_order(self, company_id: int, sales_order_id: int) -> None:
        self._order(company_id, sales_order_id)

    def of_order(self, company_id: int, sales_order_id: int) -> OrderInvoices:
        order = self._order(company_id, sales_order_id)
        return OrderInvoices(order, _links_of(self._w.rows["links"], company_id, sales_order_id))

    def of_orders(self, company_id: int, sales_order_ids: Sequence[int]) -> dict[int, tuple[InvoiceLink, ...]]:
        return {so_id: _links_of(self._w.rows["links"], company_id, so_id) for so_id in sales_order_ids}

    def get(self, company_id: int, sales_order_id: int, number: int) -> InvoiceLink:
        key = self._key(company_id, sales_order_id, number)
        if key is None:
            raise NotFound("invoice", number)
        return self._w.rows["links"][key][1]  # type: ignore[no-any-return]

    def find_by_qbo_invoice(self, company_id: int, qbo_invoice_id: str) -> InvoiceLink | None:
        found = [link for company, link in self._w.rows["links"].values()
                 if company == company_id and link.qbo_invoice_id == qbo_invoice_id]  # fmt: skip
        return min(found, key=lambda link: (link.state is InvoiceState.DELETED, -link.number), default=None)

    def add(self, company_id: int, link: InvoiceLink) -> InvoiceLink:
        self._order(company_id, link.sales_order_id)
        key = self._w.new_id("links")
        saved = replace(link, version=1)
        refuse_clash(self._w, key, company_id, saved)
        self._w.write("links", key, (company_id, saved))
        self.read_versions[key] = 0
        return saved

    def save(self, company_id: int, link: InvoiceLink) -> InvoiceLink:
        key = self._key(company_id, link.sales_order_id, link.number)
        if key is None or self._w.rows["links"][key][1].version != link.version:
            raise _link_conflict()  # changed since it was read, as the versioned SQL row refuses
        saved = replace(link, version=link.version + 1)
        self._w.write("links", key, (company_id, saved))
        self.read_versions.setdefault(key, link.version)
        return saved

    def _order(self, company_id: int, sales_order_id: int) -> SalesOrder:
        order = self._w.rows["orders"].get(sales_order_id)
        if order is None or order.company_id != company_id:
            raise NotFound("sales order", sales_order_id)
        return order  # type: ignore[no-any-return]

    def _key(self, company_id: int, sales_order_id: int, number: int) -> int | None:
        for key, (company, link) in self._w.rows["links"].items():
            if company == company_id and link.sales_order_id == sales_order_id and link.number == number:
                return key
        return None


def refuse_clash(work: Work, key: int, company_id: int, link: InvoiceLink) -> None:
    """SQL's constraints on invoices: one per (SO, number); among live ones, one per DocNumber slot and one per
    delivery — checked against this unit's writes and what others committed."""
    for other_key, (other_company, theirs) in work.candidates_with_keys("links"):
        if other_key == key or other_company != company_id or theirs.sales_order_id != link.sales_order_id:
            continue
        same_slot = link.holds_slot and theirs.holds_slot and theirs.slot == link.slot  # a voided one keeps it
        shared = link.live and theirs.live and set(theirs.delivery_ids) & set(link.delivery_ids)
        if theirs.number == link.number or same_slot or shared:
            raise Conflict("invoice", "This part of the order is being invoiced already.")


def _link_conflict() -> Conflict:
    return Conflict("invoice", "This order's invoice was changed at the same time; try again.")


class FakeQboUsage:
    """The meter's counts. Increments wait in the unit of work and are added to what is committed at commit (as
    the SQL store's INSERT … ON CONFLICT DO UPDATE adds in place): concurrent units never lose a count."""

    def __init__(self, database: Tables) -> None:
        self._database = database
        self.pending: list[tuple[int, str, int, int]] = []

    def add(self, company_id: int, month: str, core: int, coreplus: int) -> None:
        self.pending.append((company_id, month, core, coreplus))

    def of_company(self, company_id: int, month: str) -> tuple[int, int]:
        return self._view().get((company_id, month), (0, 0))

    def of_month(self, month: str) -> dict[int, tuple[int, int]]:
        return {company: counts for (company, at), counts in self._view().items() if at == month}

    def total(self, month: str) -> tuple[int, int]:
        counts = self.of_month(month).values()
        return sum(c for c, _ in counts), sum(p for _, p in counts)

    def publish(self) -> None:
        self._database.usage = self._view()
        self.pending.clear()

    def _view(self) -> dict[tuple[int, str], tuple[int, int]]:
        view = dict(self._database.usage)
        for company, month, core, coreplus in self.pending:
            old_core, old_plus = view.get((company, month), (0, 0))
            view[(company, month)] = (old_core + core, old_plus + coreplus)
        return view


class InMemoryUnitOfWork:
    """A unit of work over a snapshot of the committed tables; commit() publishes what it wrote."""

    def __init__(self, database: Tables) -> None:
        self._work = Work(database)
        self.companies = FakeCompanies(self._work)
        self.customers = FakeCustomers(self._work)
        self.products = FakeProducts(self._work)
        self.tax_rates = FakeTaxRates(self._work)
        self.sales_orders = FakeSalesOrders(self._work)
        self.invoice_links = FakeInvoiceLinks(self._work)
        self.qbo_usage = FakeQboUsage(database)

    def __enter__(self) -> InMemoryUnitOfWork:
        self._work.begin()
        self.qbo_usage.pending.clear()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._work.begin()  # uncommitted writes are gone; the fake has nothing to close
        self.qbo_usage.pending.clear()

    def commit(self) -> None:
        """Publish this unit's writes and see what others committed. Raises Conflict, publishing nothing, when
        another unit committed a record that breaks a unique rule with one of them (SQL refuses the insert)."""
        for table, key in self._work.written:
            record = self._work.rows[table][key]
            if table == "links":
                self._refuse_stale_link(key, record)
            if table == "products":
                self.products._refuse_taken(record)
            if table == "orders":
                self.sales_orders._refuse_taken(record)
        self._work.publish()
        self.qbo_usage.publish()
        self.invoice_links.read_versions.clear()

    def rollback(self) -> None:
        """Discard every write since the last commit."""
        self._work.begin()
        self.qbo_usage.pending.clear()
        self.invoice_links.read_versions.clear()

    def _refuse_stale_link(self, key: int, record: tuple[int, InvoiceLink]) -> None:
        committed = self._work.database.rows["links"].get(key)
        if (committed[1].version if committed else 0) != self.invoice_links.read_versions.get(key, 0):
            raise _link_conflict()  # another unit changed (or added) it since this one read it
        refuse_clash(self._work, key, *record)


def in_memory_uow_factory() -> Callable[[], InMemoryUnitOfWork]:
    """A factory of units of work sharing one fresh in-memory database."""
    database = Tables()
    return lambda: InMemoryUnitOfWork(database)
