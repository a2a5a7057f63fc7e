"""The sandbox as one ASGI app: the QBO API (api.py), OAuth (oauth_routes.py), the control API (control.py)
and the small web UI (ui.py), over one :class:`Sandbox`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from qbo_sandbox import api, control, oauth, ui
from qbo_sandbox.bodylimit import BodyLimit
from qbo_sandbox.sandbox import Sandbox
from qbo_sandbox.store import SqliteStore


def create_app(sandbox: Sandbox, store: SqliteStore | None = None) -> Starlette:
    """The ASGI app; starts the webhook dispatcher for its lifetime. With ``store``, the OAuth registry is
    saved after every write to the OAuth or control endpoints (companies save themselves via the backend).
    Request bodies over bodylimit.MAX_BODY_BYTES are answered 413 before any route sees them."""

    def companies() -> list[tuple[str, str]]:
        return [(c.realm_id, c.name) for c in sandbox.backend.companies()]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        sandbox.start()
        try:
            yield
        finally:
            sandbox.stop()

    routes = [
        Route("/", _home, methods=["GET"]),
        *api.routes(sandbox),
        *oauth.routes(sandbox.registry, companies),
        *control.routes(sandbox),
        *ui.routes(sandbox.backend),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    if store is not None:
        app.add_middleware(_SaveRegistry, sandbox=sandbox, store=store)
    app.add_middleware(BodyLimit)  # added last, so outermost: no handler reads an unbounded body
    return app


async def _home(request: Request) -> Response:
    return RedirectResponse("/app", status_code=302)


class _SaveRegistry:
    """After a write to /oauth2 or /_sandbox, persist apps and tokens (they change nowhere else)."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox, store: SqliteStore) -> None:
        self.app, self.sandbox, self.store = app, sandbox, store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] != "GET" and scope["path"].startswith(("/oauth2", "/_sandbox")):
            self.store.save_registry(self.sandbox.registry.snapshot())
