"""/api: who am I, a company's members and its API tokens (admins only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from invoicebridge.domain.access import ApiToken, Member, Role
from invoicebridge.web.api import ERRORS
from invoicebridge.web.auth import AdminCompany, App, CallerDep, ObjectId

router = APIRouter(prefix="/api", responses=ERRORS)
COMPANY = "/companies/{company_id}"


class MeOut(BaseModel):
    user_id: int | None = Field(description="null for an API token")
    label: str
    companies: dict[int, Role]


class MemberIn(BaseModel):
    email: str = Field(max_length=254)
    role: Role = Role.MEMBER


class MemberOut(BaseModel):
    user_id: int
    email: str
    display_name: str
    role: Role

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(user_id=member.user_id, email=member.email, display_name=member.display_name, role=member.role)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role = Role.MEMBER


class TokenOut(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str = Field(description="the token's first characters, to tell tokens apart")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id or 0, name=token.name, role=token.role, prefix=token.prefix, created_at=token.created_at,
            last_used_at=token.last_used_at, revoked_at=token.revoked_at,
        )  # fmt: skip


class NewTokenOut(TokenOut):
    token: str = Field(description="the secret: shown this once, stored only as a hash")


@router.get("/me", tags=["access"])
def who_am_i(caller: CallerDep) -> MeOut:
    return MeOut(user_id=caller.user_id, label=caller.label, companies=dict(caller.roles))


@router.get(COMPANY + "/members", tags=["access"])
def list_members(company_id: AdminCompany, app: App) -> list[MemberOut]:
    return [MemberOut.of(m) for m in app.people.members(company_id)]


@router.put(COMPANY + "/members", tags=["access"])
def put_member(company_id: AdminCompany, body: MemberIn, app: App) -> MemberOut:
    """Add an existing user to the company, or change their role."""
    return MemberOut.of(app.people.add_member(company_id, body.email, body.role))


@router.delete(COMPANY + "/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["access"])
def remove_member(company_id: AdminCompany, user_id: ObjectId, app: App) -> Response:
    app.people.remove_member(company_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(COMPANY + "/api-tokens", tags=["access"])
def list_tokens(company_id: AdminCompany, app: App) -> list[TokenOut]:
    return [TokenOut.of(t) for t in app.api_tokens.of_company(company_id)]


@router.post(COMPANY + "/api-tokens", status_code=status.HTTP_201_CREATED, tags=["access"])
def create_token(company_id: AdminCompany, body: TokenIn, app: App, caller: CallerDep) -> NewTokenOut:
    """A new token for programs. The answer holds the secret once; store it, it cannot be shown again."""
    made = app.api_tokens.create(company_id, body.name, body.role, caller.user_id)
    return NewTokenOut(**TokenOut.of(made.token).model_dump(), token=made.secret)


@router.delete(COMPANY + "/api-tokens/{token_id}", tags=["access"])
def revoke_token(company_id: AdminCompany, token_id: ObjectId, app: App) -> TokenOut:
    return TokenOut.of(app.api_tokens.revoke(company_id, token_id))
