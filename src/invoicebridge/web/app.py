"""The web application factory. Nothing is built at import time: entry points call create_app(container).

Every route but a few named public ones (/healthz, /webhooks/qbo — signature-checked —, the login pages and
/static) resolves its caller; tests/contract/web/test_access_matrix.py walks every registered route to hold it.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from invoicebridge.bootstrap import Container
from invoicebridge.web import (
    access_api,
    api,
    customer_import_api,
    errors,
    failed_invoices_api,
    invoices_api,
    orders_api,
    pages,
    qbo_api,
    returns_api,
    webhooks,
)
from invoicebridge.web.auth import CallerDep
from invoicebridge.web.headers import SecurityHeaders
from invoicebridge.web.limits import BodyLimit
from invoicebridge.web.screens import (
    admin,
    entry,
    failed,
    overview,
    qbo_customers,
    quickbooks,
    sell,
    so_card,
    so_returns,
)


def create_app(container: Container) -> FastAPI:
    """The API (OpenAPI at /api/openapi.json, docs at /api/docs) and the pages, over the given container."""
    app = FastAPI(
        title="invoicebridge",
        summary="Sales orders in, QuickBooks Online invoices out.",
        version="0.1.0",
        openapi_url=None,  # served below, to logged-in callers only
        docs_url=None,  # pages.api_docs: local Swagger UI assets, no inline script
        redoc_url=None,
    )
    app.state.container = container
    app.state.templates = pages.make_templates()
    app.add_middleware(BodyLimit)  # inside SecurityHeaders: its 413 gets the headers too
    app.add_middleware(SecurityHeaders, hsts=container.settings.behind_tls)
    errors.install(app)
    routers = (api.router, orders_api.router, qbo_api.router, invoices_api.router, access_api.router, pages.router,
               webhooks.router)  # fmt: skip
    routers_more = (customer_import_api.router, failed_invoices_api.router)  # *Import customers*, *Retry failed*
    # entry before so_card: its /c/{c}/so/new must not be read as the card of an SO "new"
    screens = (sell.router, entry.router, so_card.router, quickbooks.router, admin.router, overview.router)
    screens_more = (failed.router, qbo_customers.router)  # *Failed invoices*, *Import customers from QuickBooks*
    returns = (returns_api.router, so_returns.router)  # returns of delivered goods → QBO credit memos
    for router in (*routers, *routers_more, *screens, *screens_more, *returns):
        app.include_router(router)
    app.mount("/static/swagger", StaticFiles(directory=str(files("fastapi_offline") / "static")), name="swagger")
    app.mount("/static", StaticFiles(directory=str(files("invoicebridge.web") / "static")), name="static")

    @app.get(pages.OPENAPI_URL, include_in_schema=False)
    def openapi(_caller: CallerDep) -> dict[str, Any]:
        return app.openapi()

    @app.get("/healthz", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
