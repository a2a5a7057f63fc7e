"""The web application factory. Nothing is built at import time: entry points call create_app(container)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from invoicebridge.bootstrap import Container
from invoicebridge.web import api, errors, orders_api, qbo_api


def create_app(container: Container) -> FastAPI:
    """The API (OpenAPI at /api/openapi.json, docs at /api/docs) over the given container."""
    app = FastAPI(
        title="invoicebridge",
        summary="Sales orders in, QuickBooks Online invoices out.",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.container = container
    errors.install(app)
    app.include_router(api.router)
    app.include_router(orders_api.router)
    app.include_router(qbo_api.router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/api/docs")

    @app.get("/healthz", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
