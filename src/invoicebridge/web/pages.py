"""The server-rendered pages of access: log in (password or one-time link), log out, the home page and the API
documentation. Plain HTML forms; the web app issue builds the screens on this base."""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from invoicebridge.domain import Forbidden, NotFound, TooManyAttempts, Unauthenticated
from invoicebridge.domain.access import Caller
from invoicebridge.sync.sessions import Started
from invoicebridge.web.auth import SESSION_COOKIE, App, CallerDep

router = APIRouter(include_in_schema=False)
MAX_NEXT = 2000
OPENAPI_URL = "/api/openapi.json"


def make_templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(files("invoicebridge.web") / "templates"))


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    caller: Caller | None = getattr(request.state, "caller", None)
    cookie = request.cookies.get(SESSION_COOKIE)
    app = request.app.state.container
    csrf = app.sessions.csrf_token(cookie) if caller is not None and caller.session_id and cookie else ""
    page = {"caller": caller, "csrf_token": csrf, **context}
    return templates.TemplateResponse(request, name, page, status_code=status)


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another site, never `//host`)."""
    if not value or len(value) > MAX_NEXT or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value if value.isprintable() else "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str | None, Query(max_length=MAX_NEXT)] = None) -> HTMLResponse:
    return render(request, "login.html", next=safe_next(next), email="", message=None)


@router.post("/login", response_class=HTMLResponse)
def log_in(
    request: Request,
    app: App,
    email: Annotated[str, Form(max_length=1000)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form(max_length=MAX_NEXT)] = None,
) -> Response:
    if not same_origin(request):
        raise Forbidden("Log in from this site's own login page.")
    address = request.client.host if request.client else "unknown"
    try:
        started = app.sessions.login(email, password, address)
    except (Unauthenticated, TooManyAttempts) as refused:
        shown = email[:254] if email.isprintable() else ""
        return refused_login(request, refused, safe_next(next), shown)
    return with_session(RedirectResponse(safe_next(next), status_code=303), started, app.settings.behind_tls)


@router.get("/login/link")
def log_in_with_link(request: Request, app: App, token: Annotated[str, Query(max_length=200)]) -> Response:
    """A one-time login link (the demo prints one): spends the link and opens a session."""
    try:
        started = app.sessions.login_with_link(token)
    except Unauthenticated as refused:  # the login page itself, not a redirect back to this dead link
        return refused_login(request, refused, "/", "")
    return with_session(RedirectResponse("/", status_code=303), started, app.settings.behind_tls)


def refused_login(request: Request, refused: Unauthenticated | TooManyAttempts, next: str, email: str) -> Response:
    status = 429 if isinstance(refused, TooManyAttempts) else 401
    page = render(request, "login.html", status, next=next, email=email, message=str(refused))
    if isinstance(refused, TooManyAttempts):
        page.headers["Retry-After"] = str(refused.retry_after)
    return page


def same_origin(request: Request) -> bool:
    """A login form posted from another site (login CSRF: logging the victim into the attacker's account) is
    refused. Browsers send Origin on every cross-site POST; programs that send none are let through."""
    origin = request.headers.get("origin")
    if origin is None or (origin == "null" and request.headers.get("sec-fetch-site") in (None, "same-origin")):
        return True
    return origin.removesuffix("/").split("://", 1)[-1] == request.headers.get("host", "")


@router.post("/logout")
def log_out(request: Request, app: App, _caller: CallerDep) -> Response:
    """Ends the session on the server (the cookie is worthless from now on) and forgets the cookie."""
    app.sessions.logout(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=app.settings.behind_tls, httponly=True, samesite="lax")
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, app: App, caller: CallerDep) -> Response:
    """The Sell screen of the caller's company; the list of their companies when they have several (or none)."""
    if len(caller.roles) == 1:
        (company_id,) = caller.roles
        return RedirectResponse(f"/c/{company_id}/sell", status_code=303)
    companies = []
    for company_id, role in sorted(caller.roles.items()):
        try:
            companies.append((app.orderbook.get_company(company_id), role))
        except NotFound:  # removed meanwhile
            continue
    return render(request, "home.html", companies=companies)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request, _caller: CallerDep) -> HTMLResponse:
    """Swagger UI from local files (no CDN), started by /static/docs.js (no inline script)."""
    return render(request, "docs.html", openapi_url=OPENAPI_URL)


def with_session(response: Response, started: Started, secure: bool) -> Response:
    max_age = int((started.session.expires_at - started.session.created_at).total_seconds())
    response.set_cookie(
        SESSION_COOKIE, started.cookie, max_age=max_age, path="/", secure=secure, httponly=True, samesite="lax"
    )
    return response
