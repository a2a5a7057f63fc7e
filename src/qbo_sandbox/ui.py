"""A small web UI over the sandbox's companies, at QBO's own paths, so links a client builds can be followed.

QBO links to an invoice as ``…/app/invoice?txnId={Id}``, to a journal entry as ``…/app/journal?txnId={Id}`` and to a
credit memo as ``…/app/creditmemo?txnId={Id}``; the sandbox serves those paths. QBO knows the company from the
signed-in session; the sandbox takes it from ``realmId``, and when that is missing and there is exactly one company,
uses that one.

Pages: ``/app`` (companies), ``/app/invoices``, ``/app/invoice``, ``/app/journals``, ``/app/journal``,
``/app/creditmemos``, ``/app/creditmemo``, ``/app/customers``, ``/app/items`` (each ``?realmId=``). The invoice,
journal and credit memo pages have a Delete button (a POST form to ``/app/{page}/delete``) that calls
``backend.delete`` — the same path an API delete takes, so webhooks and CDC see it. The invoice page also has a Void
button (``/app/invoice/void``: ``backend.void``, as ``POST …/invoice?operation=void`` — the invoice stays, zeroed and
noted "Voided"). Plain HTML, no scripts, nothing from a CDN. Handlers are ``async def`` calling the synchronous,
lock-guarded backend directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from qbo_sandbox import faults, templating
from qbo_sandbox.entities.invoice import SHIPPING_ITEM_ID
from qbo_sandbox.text import flaw


class CompanyLike(Protocol):
    @property
    def realm_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def country(self) -> str: ...


class BackendLike(Protocol):
    """What the UI uses of ``backend.Backend``."""

    def companies(self) -> Sequence[CompanyLike]: ...
    def read(self, realm_id: str, entity: str, entity_id: str) -> dict[str, Any]: ...
    def delete(
        self, realm_id: str, entity: str, body: dict[str, Any], request_id: str | None = None
    ) -> dict[str, Any]: ...
    def list_entities(self, realm_id: str, entity: str) -> list[dict[str, Any]]: ...
    def void(
        self, realm_id: str, entity: str, body: dict[str, Any], request_id: str | None = None
    ) -> dict[str, Any]: ...


# Per list page: entity, title, the detail page (if any), columns as (heading, dotted path into the JSON).
LISTS: dict[str, tuple[str, str, str | None, tuple[tuple[str, str], ...]]] = {
    "invoices": (
        "Invoice",
        "Invoices",
        "invoice",
        (("No.", "DocNumber"), ("Date", "TxnDate"), ("Customer", "CustomerRef.name"),
         ("Total", "TotalAmt"), ("Balance", "Balance"), ("Currency", "CurrencyRef.value")),
    ),
    "journals": (
        "JournalEntry",
        "Journal entries",
        "journal",
        (("No.", "DocNumber"), ("Date", "TxnDate"), ("Memo", "PrivateNote"), ("Currency", "CurrencyRef.value")),
    ),
    "creditmemos": (
        "CreditMemo",
        "Credit memos",
        "creditmemo",
        (("No.", "DocNumber"), ("Date", "TxnDate"), ("Customer", "CustomerRef.name"), ("Total", "TotalAmt"),
         ("Remaining credit", "RemainingCredit"), ("Currency", "CurrencyRef.value")),
    ),
    "customers": (
        "Customer",
        "Customers",
        None,
        (("Name", "DisplayName"), ("Email", "PrimaryEmailAddr.Address"), ("Balance", "Balance"),
         ("Currency", "CurrencyRef.value"), ("Active", "Active")),
    ),
    "items": (
        "Item",
        "Products and services",
        None,
        (("Name", "Name"), ("Type", "Type"), ("SKU", "Sku"), ("Price", "UnitPrice"), ("Qty on hand", "QtyOnHand"),
         ("Active", "Active")),
    ),
}  # fmt: skip
DETAILS = {
    "invoice": ("Invoice", "invoices"),
    "journal": ("JournalEntry", "journals"),
    "creditmemo": ("CreditMemo", "creditmemos"),
}


class _PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def routes(backend: BackendLike) -> list[BaseRoute]:
    """The UI's routes over ``backend`` (see the module docstring)."""
    pages = _Pages(backend, templating.environment())
    result: list[BaseRoute] = [Route("/app", pages.companies, methods=["GET"])]
    for name in LISTS:
        result.append(Route(f"/app/{name}", pages.list_page(name), methods=["GET"]))
    for name in DETAILS:
        result.append(Route(f"/app/{name}", pages.detail_page(name), methods=["GET"]))
        result.append(Route(f"/app/{name}/delete", pages.delete_action(name), methods=["POST"]))
    result.append(Route("/app/invoice/void", pages.void_action(), methods=["POST"]))  # QBO voids invoices only here
    return result


class _Pages:
    def __init__(self, backend: BackendLike, env: jinja2.Environment) -> None:
        self.backend = backend
        self.env = env

    async def companies(self, request: Request) -> Response:
        return templating.render(self.env, "ui_companies.html", companies=self.backend.companies(), realm_id=None)

    def list_page(self, name: str) -> Any:
        entity, title, detail, columns = LISTS[name]

        async def page(request: Request) -> Response:
            try:
                realm_id = self._realm(request.query_params.get("realmId"))
            except _PageError as error:
                return self._error(error)
            rows = [
                {"id": row.get("Id"), "cells": [_display(_dig(row, path)) for _, path in columns]}
                for row in self.backend.list_entities(realm_id, entity)
            ]
            return templating.render(
                self.env, "ui_list.html", title=title, realm_id=realm_id, detail=detail,
                headings=[heading for heading, _ in columns], rows=rows,
            )  # fmt: skip

        return page

    def detail_page(self, name: str) -> Any:
        entity, list_name = DETAILS[name]

        async def page(request: Request) -> Response:
            try:
                realm_id = self._realm(request.query_params.get("realmId"))
                txn = self._read(realm_id, entity, request.query_params.get("txnId"))
            except _PageError as error:
                return self._error(error)
            return templating.render(
                self.env, f"ui_{name}.html", txn=txn, realm_id=realm_id, list_name=list_name,
                action=f"/app/{name}/delete", lines=_lines(txn), display=_display,
            )  # fmt: skip

        return page

    def delete_action(self, name: str) -> Any:
        entity, list_name = DETAILS[name]
        return self._txn_action(entity, self.backend.delete, lambda realm_id, _: f"/app/{list_name}?realmId={realm_id}")

    def void_action(self) -> Any:
        """Void an invoice, as a bookkeeper does in QBO; back on its page, which now shows it voided."""
        return self._txn_action(
            "Invoice", self.backend.void, lambda realm_id, txn_id: f"/app/invoice?realmId={realm_id}&txnId={txn_id}"
        )

    def _txn_action(
        self, entity: str, act: Callable[[str, str, dict[str, Any]], object], back: Callable[[str, str], str]
    ) -> Any:
        """A form's POST that reads the transaction and calls `act` (backend.delete or .void) on it with its
        SyncToken, then redirects to `back(realm_id, txn_id)`; QBO's refusal is shown as the error page."""

        async def action(request: Request) -> Response:
            form = {key: str(value) for key, value in (await request.form()).items()}
            try:
                if flaw(form) is not None:  # a multipart charset can decode to lone surrogates (text.py)
                    raise _PageError(400, "The form holds a character that is not Unicode text.")
                realm_id = self._realm(form.get("realmId"))
                txn = self._read(realm_id, entity, form.get("txnId"))
                act(realm_id, entity, {"Id": txn["Id"], "SyncToken": txn.get("SyncToken", "0")})
            except _PageError as error:
                return self._error(error)
            except faults.SandboxFault as fault:  # QBO refused it: show why
                return self._error(_PageError(fault.status, str(fault)))
            return RedirectResponse(back(realm_id, txn["Id"]), status_code=303)

        return action

    def _realm(self, realm_id: str | None) -> str:
        """The company asked for, or the only one; raises _PageError 404/400 otherwise."""
        known = [company.realm_id for company in self.backend.companies()]
        if realm_id:
            if realm_id not in known:
                raise _PageError(404, f"There is no company with realmId {realm_id}.")
            return realm_id
        if len(known) == 1:
            return known[0]
        raise _PageError(400, "Which company? Add ?realmId= to the address (see the list of companies).")

    def _read(self, realm_id: str, entity: str, txn_id: str | None) -> dict[str, Any]:
        if not txn_id:
            raise _PageError(400, "The address needs ?txnId=.")
        try:
            return self.backend.read(realm_id, entity, txn_id)
        except faults.SandboxFault:
            raise _PageError(404, f"There is no {entity} with Id {txn_id} in company {realm_id}.") from None

    def _error(self, error: _PageError) -> Response:
        return templating.render(self.env, "ui_error.html", status=error.status, message=error.message, realm_id=None)


def _shipping(sales: Mapping[str, Any]) -> str | None:
    """QBO's shipping line names no item: the page calls it what QBO's form does."""
    return "Shipping" if _dig(sales, "ItemRef.value") == SHIPPING_ITEM_ID else None


def _dig(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _lines(txn: Mapping[str, Any]) -> list[dict[str, str]]:
    """Invoice and journal lines flattened for the detail table."""
    rows = []
    for line in txn.get("Line", []):
        sales = line.get("SalesItemLineDetail") or {}
        journal = line.get("JournalEntryLineDetail") or {}
        rows.append(
            {
                "type": _display(line.get("DetailType")),
                "what": _display(_dig(sales, "ItemRef.name") or _shipping(sales) or _dig(journal, "AccountRef.name")),
                "description": _display(line.get("Description")),
                "qty": _display(sales.get("Qty")),
                "rate": _display(sales.get("UnitPrice")),
                "posting": _display(journal.get("PostingType")),
                "amount": _display(line.get("Amount")),
            }
        )
    return rows
