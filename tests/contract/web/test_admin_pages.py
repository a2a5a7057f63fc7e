"""The admin screens over HTTP (members, API tokens), against our app served on a real port with a company
connected to the sandbox: what an admin does in the browser, with plain form posts carrying the page's CSRF
token, and every refusal — a member (403), nobody (the login page), another company's admin (404), a post
without the CSRF token (403) — changing nothing."""

from __future__ import annotations

import re

import httpx
from tests.access_support import log_in, person
from tests.contract.invoicing.conftest import World, WorldFactory, make_world  # noqa: F401  (a fixture)

from invoicebridge.domain.access import Role

SECRET = re.compile(r'<textarea id="secret-value"[^>]*>(ib_[^<]+)</textarea>')


def roles(world: World) -> dict[str, Role]:
    return {m.email: m.role for m in world.app.people.members(world.company_id)}


def test_an_admin_adds_changes_and_removes_members_but_never_the_last_admin(
    make_world: WorldFactory,  # noqa: F811
) -> None:
    world = make_world(serve=True)
    admin = world.browser("admin@books.example", "admin")
    person(world.app, "ada@books.example")
    page = f"/c/{world.company_id}/members"

    listed = admin.get(page)
    assert listed.status_code == 200
    assert "admin@books.example" in listed.text and 'aria-current="page">Members' in listed.text

    unknown = admin.post(page, data={"email": "nobody@books.example", "role": "member"})
    assert unknown.status_code == 404
    assert "Nobody has an account with the e-mail nobody@books.example" in unknown.text
    assert 'value="nobody@books.example"' in unknown.text  # what was typed stays in the form
    assert "nobody@books.example" not in roles(world)

    added = admin.post(page, data={"email": "Ada@Books.example", "role": "member"}, follow_redirects=True)
    assert added.status_code == 200
    assert "ada@books.example was added to the company as member." in added.text
    assert roles(world)["ada@books.example"] is Role.MEMBER

    ada = world.app.people.user("ada@books.example").id
    promoted = admin.post(f"{page}/{ada}/role", data={"role": "admin"}, follow_redirects=True)
    assert "ada@books.example is now admin." in promoted.text
    assert roles(world)["ada@books.example"] is Role.ADMIN
    admin.post(f"{page}/{ada}/role", data={"role": "member"})

    me = world.app.people.user("admin@books.example").id
    demoted = admin.post(f"{page}/{me}/role", data={"role": "member"})
    assert demoted.status_code == 409
    assert "last admin" in demoted.text
    leaving = admin.post(f"{page}/{me}/remove")
    assert leaving.status_code == 409 and "last admin" in leaving.text
    assert roles(world)["admin@books.example"] is Role.ADMIN

    confirm = admin.get(f"{page}/{ada}/remove")
    assert confirm.status_code == 200
    assert f'action="/c/{world.company_id}/members/{ada}/remove"' in confirm.text
    assert "ada@books.example" in roles(world)  # asking changes nothing
    removed = admin.post(f"{page}/{ada}/remove", follow_redirects=True)
    assert "The person was removed from the company." in removed.text
    assert "ada@books.example" not in roles(world)

    bad_role = admin.post(page, data={"email": "ada@books.example", "role": "owner"})
    assert bad_role.status_code == 422 and "A role is &#39;admin&#39; or &#39;member&#39;." in bad_role.text


def test_a_token_made_on_the_page_is_shown_once_works_and_is_refused_once_revoked(
    make_world: WorldFactory,  # noqa: F811
) -> None:
    world = make_world(serve=True)
    admin = world.browser("admin@books.example", "admin")
    page = f"/c/{world.company_id}/api-tokens"

    made = admin.post(page, data={"name": "Order import", "role": "member"})
    assert made.status_code == 201
    assert "Copy it now: it is not shown again." in made.text
    assert made.headers["cache-control"] == "no-store"
    found = SECRET.search(made.text)
    assert found, made.text
    secret = found.group(1)

    again = admin.get(page)
    assert secret not in again.text  # shown once
    assert secret[:10] in again.text and "Order import" in again.text and "never" in again.text

    program = httpx.Client(base_url=world.url, headers={"Authorization": f"Bearer {secret}"})
    world.clients.append(program)
    orders = f"/api/companies/{world.company_id}/sales-orders"
    assert program.get(orders).status_code == 200

    (token,) = world.app.api_tokens.of_company(world.company_id)
    confirm = admin.get(f"{page}/{token.id}/revoke")
    assert confirm.status_code == 200 and "Revoke the token" in confirm.text
    assert program.get(orders).status_code == 200  # asking changes nothing
    revoked = admin.post(f"{page}/{token.id}/revoke", follow_redirects=True)
    assert "The token was revoked" in revoked.text and "revoked <time" in revoked.text
    refused = program.get(orders)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "This API token is unknown or was revoked."

    nameless = admin.post(page, data={"name": "  ", "role": "admin"})
    assert nameless.status_code == 422 and "A token needs a name of 1 to 100 characters." in nameless.text
    assert len(world.app.api_tokens.of_company(world.company_id)) == 1


def test_members_strangers_other_companies_and_posts_without_csrf_are_refused(
    make_world: WorldFactory,  # noqa: F811
) -> None:
    world = make_world(serve=True)
    c = world.company_id
    admin = world.browser("admin@books.example", "admin")
    clerk = world.browser("clerk@books.example", "member")
    token_id = world.app.api_tokens.create(c, "existing", "member", None).token.id
    before = (roles(world), world.app.api_tokens.of_company(c))
    posts = [
        (f"/c/{c}/members", {"email": "clerk@books.example", "role": "admin"}),
        (f"/c/{c}/members/{world.app.people.user('admin@books.example').id}/remove", {}),
        (f"/c/{c}/api-tokens", {"name": "stolen", "role": "admin"}),
        (f"/c/{c}/api-tokens/{token_id}/revoke", {}),
    ]
    pages = [f"/c/{c}/members", f"/c/{c}/api-tokens", f"/c/{c}/api-tokens/{token_id}/revoke"]

    for path in pages:
        assert clerk.get(path).status_code == 403
    assert "Only an admin of this company may do this." in clerk.get(pages[0]).text
    assert all(clerk.post(path, data=data).status_code == 403 for path, data in posts)

    stranger = httpx.Client(base_url=world.url)
    world.clients.append(stranger)
    for path in pages:
        answer = stranger.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    assert all(stranger.post(path, data=data).status_code == 303 for path, data in posts)

    boss = person(world.app, "boss@other.example")
    world.app.people.found_company(boss.id or 0, "Other Co", "USD", "America/New_York")
    other = httpx.Client(base_url=world.url)
    world.clients.append(other)
    log_in(other, "boss@other.example")
    for path in pages:
        assert other.get(path).status_code == 404
    assert all(other.post(path, data=data).status_code == 404 for path, data in posts)

    del admin.headers["X-CSRF-Token"]
    for path, data in posts:
        answer = admin.post(path, data=data)
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert (roles(world), world.app.api_tokens.of_company(c)) == before
