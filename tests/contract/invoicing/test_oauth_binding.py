"""Connecting QuickBooks is bound to the admin who started it, against qbo_sandbox over real HTTP.

Each refusal must store nothing and exchange no code: the proof is that the authorization code the callback was
given still works afterwards when we trade it at the sandbox's token endpoint ourselves (a code works once)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from tests.contract.invoicing.conftest import World, WorldFactory


def consent(world: World, authorize: str, realm_id: str) -> str:
    """Consent at the sandbox's authorization page; the callback path and query it sends the browser to."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    form = {**query, "realmId": realm_id, "decision": "connect"}
    back = httpx.post(f"{world.sandbox.url}/oauth2/authorize", data=form, follow_redirects=False)
    callback = urlsplit(back.headers["location"])
    assert callback.path == "/oauth/qbo/callback"
    return f"{callback.path}?{callback.query}"


def start(browser: httpx.Client, world: World, **params: str) -> str:
    answer = browser.get(f"/api/companies/{world.company_id}/qbo/connect", params=params, follow_redirects=False)
    assert answer.status_code == 307, answer.text
    return answer.headers["location"]


def code_still_unused(world: World, callback: str) -> bool:
    code = parse_qs(urlsplit(callback).query)["code"][0]
    settings = world.app.settings
    traded = httpx.post(
        f"{world.sandbox.url}/oauth2/v1/tokens/bearer",
        auth=(settings.qbo_client_id, settings.qbo_client_secret.get_secret_value()),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": settings.qbo_redirect_uri},
    )  # fmt: skip
    return traded.status_code == 200


def stored(world: World) -> tuple[object, object]:
    return world.app.vault.load(world.company_id), world.app.connecting.connection(world.company_id)


def test_a_replayed_state_is_refused_and_its_new_code_never_traded(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    browser = world.browser()
    authorize = start(browser, world)
    assert browser.get(consent(world, authorize, world.realm_id)).status_code == 200
    before = stored(world)
    second_consent = consent(world, authorize, world.realm_id)  # the same state, a fresh code
    replayed = browser.get(second_consent)
    assert replayed.status_code == 422
    assert replayed.json()["error"]["problems"][0]["field"] == "state"
    assert stored(world) == before
    assert code_still_unused(world, second_consent)


def test_another_users_callback_is_refused(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    starter, other = world.browser("starter@books.example"), world.browser("other-admin@books.example")
    before = stored(world)
    callback = consent(world, start(starter, world), world.realm_id)
    refused = other.get(callback)
    assert refused.status_code == 403
    assert "started by someone else" in refused.json()["error"]["message"]
    assert stored(world) == before
    assert code_still_unused(world, callback)


def test_a_callback_without_a_session_is_refused(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    before = stored(world)
    callback = consent(world, start(world.browser(), world), world.realm_id)
    anonymous = httpx.get(f"{world.url}{callback}", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
    assert stored(world) == before
    assert code_still_unused(world, callback)


def test_an_unknown_company_gets_no_state(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    browser = world.browser()
    for company in (999, 2**63, 2**70):
        answer = browser.get(f"/api/companies/{company}/qbo/connect", follow_redirects=False)
        assert answer.status_code == 404, answer.text
    with world.app.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM oauth_states").scalar() == 0


def test_a_forged_or_odd_state_is_refused(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    browser = world.browser()
    callback = consent(world, start(browser, world), world.realm_id)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    nonce = state.split(".")[0]
    for forged in (f"{nonce}.0000", "%C3%A9.%E2%98%83", "%ED%B3%BF", "%FF%FE", "x" * 201, ".", ""):
        answer = browser.get(f"/oauth/qbo/callback?state={forged}&code=c&realmId={world.realm_id}")
        assert answer.status_code == 422, (forged, answer.text)
    assert code_still_unused(world, callback)


def test_switching_to_another_quickbooks_company_needs_confirmation(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    browser = world.browser()
    other = world.control.post("/_sandbox/companies", json={"name": "Someone else's books", "country": "US"})
    other_realm = other.json()["realm_id"]
    before = stored(world)

    unconfirmed = consent(world, start(browser, world), other_realm)
    refused = browser.get(unconfirmed)
    assert refused.status_code == 409
    assert f"connected to QuickBooks company {world.realm_id}, not {other_realm}" in refused.json()["error"]["message"]
    assert stored(world) == before
    assert code_still_unused(world, unconfirmed)

    confirmed = browser.get(consent(world, start(browser, world, replace_realm="true"), other_realm))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["realm_id"] == other_realm


def test_a_member_cannot_start_connecting(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    member = world.browser("member@books.example", role="member")
    answer = member.get(f"/api/companies/{world.company_id}/qbo/connect", follow_redirects=False)
    assert answer.status_code == 403
    token = world.api("admin").get(f"/api/companies/{world.company_id}/qbo/connect", follow_redirects=False)
    assert token.status_code == 403  # an API token cannot connect: the callback needs the person's session
