"""What every company screen shares: who is looking at which company, the connection banner, and rendering."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from invoicebridge.bootstrap import Container
from invoicebridge.domain import Company
from invoicebridge.domain.access import Caller, Role
from invoicebridge.domain.connection import Connection, Health
from invoicebridge.sync.reads import all_tax_rates, zero_rate_ids
from invoicebridge.web.auth import AdminCompany, App, CallerDep, MemberCompany
from invoicebridge.web.pages import render


@dataclass(frozen=True)
class Banner:
    """A sentence about the QuickBooks connection, shown on every page of the company while it needs attention."""

    level: str  # "warning" or "error"
    text: str
    action: str | None = None  # the label of the link to the QuickBooks page (admins only)


@dataclass(frozen=True)
class CompanyScreen:
    caller: Caller
    company: Company
    role: Role
    connection: Connection | None
    missing: tuple[str, ...]  # what the QuickBooks settings still lack before invoices can be made

    @property
    def admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def company_id(self) -> int:
        return self.company.id or 0

    @property
    def can_invoice(self) -> bool:
        return self.connection is not None and self.connection.usable and not self.missing

    @property
    def tracks_payments(self) -> bool:
        """Whether the company shows payment status (its QuickBooks settings; docs/quickbooks.md)."""
        return self.connection is not None and self.connection.settings.track_payments

    @property
    def invoicing_blocked(self) -> str | None:
        """Why invoicing buttons do nothing yet (None when they work)."""
        if self.connection is None or self.connection.health is Health.DISCONNECTED:
            return "Connect QuickBooks first."
        if not self.connection.usable:
            return "Reconnect QuickBooks: the connection expired or was revoked."
        if self.missing:
            return "Finish the QuickBooks settings: " + " ".join(self.missing)
        return None

    @property
    def banner(self) -> Banner | None:
        connection = self.connection
        action = "Open the QuickBooks page" if self.admin else None
        if connection is None or connection.health is Health.DISCONNECTED:
            return Banner("warning", "QuickBooks is not connected: invoices cannot be made yet.", action)
        if not connection.usable:
            return Banner("error", "QuickBooks needs to be reconnected: invoices cannot be made.", action)
        if self.missing:
            return Banner("warning", "The QuickBooks settings are incomplete: " + " ".join(self.missing), action)
        if connection.needs_reconnect_soon(datetime.now(UTC)):
            return Banner("warning", "The QuickBooks connection expires soon: reconnect it.", action)
        return None


def company_screen(caller: CallerDep, company_id: MemberCompany, app: App) -> CompanyScreen:
    return _screen(app, caller, company_id)


def admin_screen(caller: CallerDep, company_id: AdminCompany, app: App) -> CompanyScreen:
    return _screen(app, caller, company_id)


ScreenDep = Annotated[CompanyScreen, Depends(company_screen)]
AdminScreenDep = Annotated[CompanyScreen, Depends(admin_screen)]


def _screen(app: Container, caller: Caller, company_id: int) -> CompanyScreen:
    company = app.orderbook.get_company(company_id)
    connection = app.connecting.connection(company_id)
    missing: tuple[str, ...] = ()
    if connection is not None:
        with app.uow() as uow:
            rates = all_tax_rates(uow, company_id)
        problems = connection.settings.problems(sorted(rates), zero_rate_ids(rates))
        missing = tuple(sentence for _, sentence in problems)
    role = caller.role_in(company_id)
    assert role is not None  # MemberCompany let the caller in
    return CompanyScreen(caller, company, role, connection, missing)


def show(request: Request, name: str, screen: CompanyScreen, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a company screen: the template gets `screen` (company, role, banner…) and the context."""
    return render(request, name, status, screen=screen, **context)
