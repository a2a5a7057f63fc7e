"""Who is calling, and may they: the dependencies every route declares.

The caller is resolved once per request — from `Authorization: Bearer <API token>`, else from the session
cookie — and every company-scoped route takes its company id through `MemberCompany` or `AdminCompany`, never
straight from the path: another company's id answers 404 exactly like an id that does not exist, and a member on
an admin route gets 403. A request that changes something with a session cookie must carry the session's CSRF
token (header `X-CSRF-Token`, or the form field `csrf_token`); token requests need none, since a browser never
adds an Authorization header on its own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from invoicebridge.bootstrap import Container
from invoicebridge.domain import Forbidden, NotFound, Unauthenticated
from invoicebridge.domain.access import Caller, Role

SESSION_COOKIE = "ib_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_ID = 2**63 - 1  # the largest id a database stores; larger ones are refused before any query

# Declared for the OpenAPI document (both schemes show in /api/docs); the header is parsed below.
bearer_scheme = HTTPBearer(auto_error=False, description="an API token: `Authorization: Bearer ib_…`")
cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="a browser session (log in at /login)")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


App = Annotated[Container, Depends(get_container)]


def resolve_caller(
    request: Request,
    app: App,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    _cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Caller | None:
    """The caller, or None without credentials. A token that is sent but wrong is refused outright (401)."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("Send the API token as 'Authorization: Bearer …'.")
        caller = app.api_tokens.caller(secret.strip())
        if caller is None:
            raise Unauthenticated("This API token is unknown or was revoked.")
        return caller
    cookie = request.cookies.get(SESSION_COOKIE)
    return app.sessions.caller(cookie) if cookie else None


async def checked_caller(
    request: Request, app: App, caller: Annotated[Caller | None, Depends(resolve_caller)]
) -> Caller | None:
    """The caller, after the CSRF check for state-changing requests made with a session cookie."""
    if caller is not None and caller.session_id is not None and request.method not in SAFE_METHODS:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if not app.sessions.csrf_matches(cookie, await _sent_csrf_token(request)):
            raise Forbidden("This request lacks the page's CSRF token: reload the page and try again.")
    request.state.caller = caller
    return caller


def require_caller(caller: Annotated[Caller | None, Depends(checked_caller)]) -> Caller:
    if caller is None:
        raise Unauthenticated()
    return caller


CallerDep = Annotated[Caller, Depends(require_caller)]


def require_person(caller: CallerDep) -> Caller:
    """A person logged in through the browser (connecting QuickBooks, creating companies), not an API token."""
    if caller.user_id is None:
        raise Forbidden("This needs a person logged in; an API token acts only within its company.")
    return caller


PersonDep = Annotated[Caller, Depends(require_person)]


def member_company(
    caller: CallerDep, company_id: Annotated[int, Path(description="the company's id")]
) -> int:  # fmt: skip
    """The company id from the path, if the caller belongs to that company; else 404 as for no company."""
    if not 0 < company_id <= MAX_ID or caller.role_in(company_id) is None:
        raise NotFound("company", company_id)
    return company_id


def admin_company(caller: CallerDep, company_id: Annotated[int, Depends(member_company)]) -> int:
    """The company id, if the caller is an admin of it (403 for a member)."""
    if caller.role_in(company_id) is not Role.ADMIN:
        raise Forbidden("Only an admin of this company may do this.")
    return company_id


MemberCompany = Annotated[int, Depends(member_company)]
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
AdminCompany = Annotated[int, Depends(admin_company)]


async def _sent_csrf_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if request.headers.get("content-type", "").split(";")[0].strip().lower() in FORMS:
        # 4,000 fields: the SO form of a 750-row order (five fields a row) fits; Starlette stops at 1,000.
        value = (await request.form(max_fields=4000)).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None
