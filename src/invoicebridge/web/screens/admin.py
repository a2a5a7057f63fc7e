"""The admin screens: the company's members (add an existing user by e-mail, change a role, remove) and its API
tokens (create — the secret shown once —, list, revoke). Admins only (AdminScreenDep: members get the 403 page).

Plain HTML forms that work without JavaScript; removing and revoking ask first on a page of their own. After a
change the browser is sent back to the list (post/redirect/get) with a fixed sentence chosen by `done`; a refusal
re-renders the list with the reason in words and what was typed. The rules ("the last admin cannot leave") live
in sync/people.py and sync/api_tokens.py; this module only words their refusals for people.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from invoicebridge.domain import Conflict, NotFound, ValidationError
from invoicebridge.domain.access import MAX_EMAIL, MAX_TOKEN_NAME, ApiToken, Member, Role
from invoicebridge.web.auth import App, CallerDep, ObjectId
from invoicebridge.web.screens.layout import AdminScreenDep, CompanyScreen, show

router = APIRouter(include_in_schema=False)
MEMBERS = "/c/{company_id}/members"
TOKENS = "/c/{company_id}/api-tokens"
FIELD_LIMIT = 1000  # a form field longer than this is refused before anything runs; the rules give the real limits
ROLES = (Role.MEMBER, Role.ADMIN)
DONE = {
    "added": "{who} was added to the company as {role}.",
    "changed": "{who} is now {role}.",
    "removed": "The person was removed from the company.",
    "revoked": "The token was revoked: programs using it are refused from now on.",
}
Done = Annotated[str | None, Query(max_length=20)]
Who = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
Text = Annotated[str, Form(max_length=FIELD_LIMIT)]


@dataclass(frozen=True)
class MemberRow:
    member: Member
    since: datetime | None  # when their account was made (memberships keep no date of their own)


# -- members ---------------------------------------------------------------------------------------------
@router.get(MEMBERS, response_class=HTMLResponse)
def members_page(request: Request, screen: AdminScreenDep, app: App, done: Done = None, user: Who = None) -> Response:
    return _members(request, screen, app, notice=_done(app, screen, done, user))


@router.post(MEMBERS, response_class=HTMLResponse)
def add_member(request: Request, screen: AdminScreenDep, app: App, email: Text = "", role: Text = "member") -> Response:
    try:
        added = app.people.add_member(screen.company_id, email, role)
    except NotFound:
        sentence = f"Nobody has an account with the e-mail {email.strip()}: "
        refused = sentence + "create one first (invoicebridge user create), then add them here."
        return _members(request, screen, app, 404, add_error=refused, email=email, role=role)
    except (ValidationError, Conflict) as error:
        return _members(request, screen, app, _status(error), add_error=_words(error), email=email, role=role)
    return _back(MEMBERS, screen, "added", added.user_id)


@router.post(MEMBERS + "/{user_id}/role", response_class=HTMLResponse)
def change_role(
    request: Request, screen: AdminScreenDep, app: App, caller: CallerDep, user_id: ObjectId, role: Text = ""
) -> Response:
    member = _member(app, screen, user_id)
    try:
        changed = app.people.add_member(screen.company_id, member.email, role)
    except (ValidationError, Conflict) as error:
        return _members(request, screen, app, _status(error), list_error=_words(error))
    if user_id == caller.user_id and changed.role is not Role.ADMIN:
        return RedirectResponse(f"/c/{screen.company_id}/overview", status_code=303)  # no longer an admin here
    return _back(MEMBERS, screen, "changed", user_id)


@router.get(MEMBERS + "/{user_id}/remove", response_class=HTMLResponse)
def confirm_removal(
    request: Request, screen: AdminScreenDep, app: App, caller: CallerDep, user_id: ObjectId
) -> Response:
    member = _member(app, screen, user_id)
    yourself = " You will lose access to this company at once." if user_id == caller.user_id else ""
    return _confirm(
        request, screen, "members", f"Remove {member.display_name}?",
        f"{member.email} will no longer see {screen.company.name} or act in it.{yourself}",
        f"/c/{screen.company_id}/members/{user_id}/remove", "Remove from the company", "members",
    )  # fmt: skip


@router.post(MEMBERS + "/{user_id}/remove", response_class=HTMLResponse)
def remove_member(request: Request, screen: AdminScreenDep, app: App, caller: CallerDep, user_id: ObjectId) -> Response:
    try:
        app.people.remove_member(screen.company_id, user_id)
    except NotFound:
        return _members(request, screen, app, 404, list_error="This person is not a member of the company (any more).")
    except Conflict as error:
        return _members(request, screen, app, 409, list_error=_words(error))
    if user_id == caller.user_id:
        return RedirectResponse("/", status_code=303)
    return _back(MEMBERS, screen, "removed")


# -- API tokens ------------------------------------------------------------------------------------------
@router.get(TOKENS, response_class=HTMLResponse)
def tokens_page(request: Request, screen: AdminScreenDep, app: App, done: Done = None) -> Response:
    return _tokens(request, screen, app, notice=_done(app, screen, done, None))


@router.post(TOKENS, response_class=HTMLResponse)
def create_token(
    request: Request, screen: AdminScreenDep, app: App, caller: CallerDep, name: Text = "", role: Text = "member"
) -> Response:
    try:
        made = app.api_tokens.create(screen.company_id, name, role, caller.user_id)
    except ValidationError as error:
        return _tokens(request, screen, app, 422, create_error=_words(error), token_name=name, role=role)
    page = _tokens(request, screen, app, 201, new_token=made.token, secret=made.secret)
    page.headers["Cache-Control"] = "no-store"  # the secret is in this page only: no cache keeps a copy
    return page


@router.get(TOKENS + "/{token_id}/revoke", response_class=HTMLResponse)
def confirm_revoke(request: Request, screen: AdminScreenDep, app: App, token_id: ObjectId) -> Response:
    token = _token(app, screen, token_id)
    if token.revoked_at is not None:
        revoked = f"It was revoked on {_local(screen)(token.revoked_at)}: programs sending it are refused already."
        return _confirm(request, screen, "api-tokens", f"“{token.name}” is revoked", revoked, None, "", "api-tokens")
    return _confirm(
        request, screen, "api-tokens", f"Revoke the token “{token.name}”?",
        f"Programs that send {token.prefix}… are refused from the moment you revoke it. This cannot be undone: "
        "a program that still needs access needs a new token.",
        f"/c/{screen.company_id}/api-tokens/{token_id}/revoke", "Revoke the token", "api-tokens",
    )  # fmt: skip


@router.post(TOKENS + "/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(screen: AdminScreenDep, app: App, token_id: ObjectId) -> Response:
    app.api_tokens.revoke(screen.company_id, token_id)  # NotFound (another company's token): the 404 page
    return _back(TOKENS, screen, "revoked")


# -- rendering -------------------------------------------------------------------------------------------
def _members(request: Request, screen: CompanyScreen, app: App, status: int = 200, **context: Any) -> HTMLResponse:
    members = app.people.members(screen.company_id)
    with app.uow() as uow:
        rows = [MemberRow(m, uow.users.get(m.user_id).created_at) for m in members]
    context.setdefault("email", "")
    context.setdefault("role", Role.MEMBER.value)
    return show(
        request, "screens/admin/members.html", screen, status, active="members", rows=rows, roles=ROLES,
        local=_local(screen), email_limit=MAX_EMAIL, **context,
    )  # fmt: skip


def _tokens(request: Request, screen: CompanyScreen, app: App, status: int = 200, **context: Any) -> HTMLResponse:
    tokens = sorted(
        app.api_tokens.of_company(screen.company_id), key=lambda t: (t.revoked_at is not None, -(t.id or 0))
    )
    context.setdefault("token_name", "")
    context.setdefault("role", Role.MEMBER.value)
    return show(
        request, "screens/admin/api_tokens.html", screen, status, active="api-tokens", tokens=tokens, roles=ROLES,
        local=_local(screen), name_limit=MAX_TOKEN_NAME, **context,
    )  # fmt: skip


def _confirm(
    request: Request, screen: CompanyScreen, active: str, heading: str, sentence: str, action: str | None,
    button: str, back: str,
) -> HTMLResponse:  # fmt: skip
    """A question before a change that cannot be undone (a page of its own, so it works without JavaScript);
    without `action` only the way back."""
    return show(
        request, "screens/admin/confirm.html", screen, active=active, heading=heading, sentence=sentence,
        action=action, button=button, cancel=f"/c/{screen.company_id}/{back}",
    )  # fmt: skip


def _back(path: str, screen: CompanyScreen, done: str, user_id: int | None = None) -> RedirectResponse:
    where = path.format(company_id=screen.company_id) + f"?done={done}"
    return RedirectResponse(where + (f"&user={user_id}" if user_id else ""), status_code=303)


def _done(app: App, screen: CompanyScreen, done: str | None, user_id: int | None) -> str | None:
    """The sentence after a change: fixed wording, filled with what is stored (nothing from the address)."""
    if done not in DONE:
        return None
    member = next((m for m in app.people.members(screen.company_id) if m.user_id == user_id), None)
    if done in ("added", "changed") and member is None:
        return None
    who, role = (member.email, member.role.value) if member else ("", "")
    return DONE[done].format(who=who, role=role)


def _member(app: App, screen: CompanyScreen, user_id: int) -> Member:
    member = next((m for m in app.people.members(screen.company_id) if m.user_id == user_id), None)
    if member is None:
        raise NotFound("member", user_id)
    return member


def _token(app: App, screen: CompanyScreen, token_id: int) -> ApiToken:
    token = next((t for t in app.api_tokens.of_company(screen.company_id) if t.id == token_id), None)
    if token is None:
        raise NotFound("API token", token_id)
    return token


def _local(screen: CompanyScreen) -> Callable[[datetime | None], str]:
    zone = ZoneInfo(screen.company.timezone)

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    return local


def _words(error: ValidationError | Conflict) -> str:
    if isinstance(error, ValidationError):
        return " ".join(p.message for p in error.problems)
    return error.message


def _status(error: ValidationError | Conflict) -> int:
    return 422 if isinstance(error, ValidationError) else 409
