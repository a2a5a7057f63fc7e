"""The QuickBooks screen (/c/{company}/quickbooks) over real HTTP: our app served on a port, connected to a
sandbox company, driven by an httpx client logged in through the login form (plain HTML forms, no JavaScript).
What QuickBooks holds and what is stored are read back from the sandbox and the use cases, not from the page."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
from tests.access_support import CSRF, PASSWORD, person
from tests.contract.invoicing.conftest import World, WorldFactory, make_world  # noqa: F401 — the fixture

from invoicebridge.domain.connection import AccountingMode, ConnectionSettings, Health


class Page(HTMLParser):
    """What a person sees and can send on a page: its text, the chosen value of each select and radio group,
    the ticked checkboxes, the links, the forms, and the error sentence shown under each field."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.chosen: dict[str, str] = {}
        self.ticked: set[str] = set()
        self.links: list[str] = []
        self.forms: list[str] = []
        self.errors: dict[str, str] = {}
        self._select: str | None = None
        self._error: str | None = None
        self.feed(html)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "select":
            self._select = a["name"]
        elif tag == "option" and "selected" in a and self._select:
            self.chosen[self._select] = a["value"]
        elif tag == "input" and a.get("type") in ("radio", "checkbox") and "checked" in a:
            self.chosen[a["name"]] = a["value"] if a["type"] == "radio" else "on"
            self.ticked.add(a["name"])
        elif tag == "a":
            self.links.append(a["href"])
        elif tag == "form":
            self.forms.append(a["action"])
        elif "field-error" in a.get("class", "").split():
            self._error = a["id"].removesuffix("-error")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "p":
            self._error = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._error:
            self.errors[self._error] = (self.errors.get(self._error, "") + data).strip()


def page_of(world: World) -> str:
    return f"/c/{world.company_id}/quickbooks"


def accounts(world: World) -> dict[str, str]:
    return {a["Name"]: a["Id"] for a in world.qbo_rows("SELECT * FROM Account MAXRESULTS 1000")}


def saved(world: World) -> ConnectionSettings:
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None
    return connection.settings


def health(world: World) -> Health | None:
    connection = world.app.connecting.connection(world.company_id)
    return None if connection is None else connection.health


def consent(world: World, authorize: str, realm_id: str) -> str:
    """Approve at the sandbox's consent page (its form, posted as a browser would); the path and query of our
    callback it sends the browser back to."""
    assert authorize.startswith(f"{world.sandbox.url}/oauth2/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    assert query["state"] and query["client_id"] == world.app.settings.qbo_client_id
    back = httpx.post(authorize.split("?")[0], data={**query, "realmId": realm_id, "decision": "connect"})
    callback = urlsplit(back.headers["location"])
    assert callback.path == "/oauth/qbo/callback"
    return f"{callback.path}?{callback.query}"


def test_an_admin_sees_the_quickbooks_preferences_and_the_saved_settings(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", custom_txn_numbers=True, serve=True)
    answer = world.browser().get(page_of(world))
    assert answer.status_code == 200, answer.text
    page = Page(answer.text)
    for fact in ("Connected", world.realm_id, "Custom transaction numbers On: the SO number becomes the invoice number",
                 "Multicurrency Off", "Home currency USD", "Tax model US sales tax", "Country US"):  # fmt: skip
        assert fact in page.text, fact
    settings = saved(world)
    assert page.chosen["revenue_account_id"] == accounts(world)["Sales of Product Income"]
    for rate in world.rates:
        assert page.chosen[f"tax_mapping.{rate.id}"] == settings.tax_mapping[rate.id or 0]
    assert "Sales tax (8.625 %)" in page.text and "No tax (0 %)" in page.text
    assert page.chosen["mode"] == "plain" and "cogs_per_delivery" not in page.ticked
    assert "Invoicing is ready" in page.text
    assert f"/c/{world.company_id}/sell" in page.links
    assert f"{page_of(world)}/settings" in page.forms and f"{page_of(world)}/preferences" in page.forms


def test_incomplete_settings_are_refused_next_to_their_fields_and_nothing_changes(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", serve=True)
    admin = world.browser()
    before = saved(world)
    taxed, untaxed = world.rates
    income = accounts(world)["Sales of Product Income"]
    sent = {"revenue_account_id": "", f"tax_mapping.{taxed.id}": "NON", f"tax_mapping.{untaxed.id}": "",
            "mode": "inventory", "cogs_account_id": income, "inventory_asset_account_id": "",
            "cogs_per_delivery": "on"}  # fmt: skip
    answer = admin.post(f"{page_of(world)}/settings", data=sent)
    assert answer.status_code == 422, answer.text
    page = Page(answer.text)
    assert page.errors == {
        "revenue_account_id": "Choose the income account new QuickBooks items post to.",
        "tax-mapping": f"Map every tax rate to a QuickBooks tax code (missing: [{untaxed.id}]).",
        f"tax-{untaxed.id}": "Choose a QuickBooks tax code for this rate.",
        "inventory_asset_account_id": "Accounting with inventory needs an inventory asset account.",
        "cogs_account_id": f"Account {income} is not an active Cost of Goods Sold account in QuickBooks.",
    }
    assert "The settings were not saved, and nothing was changed." in page.text
    # nothing the admin chose is lost
    assert page.chosen == {f"tax_mapping.{taxed.id}": "NON", "mode": "inventory", "cogs_account_id": income,
                           "cogs_per_delivery": "on"}  # fmt: skip
    assert saved(world) == before


def test_valid_settings_are_saved_and_read_back(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", serve=True)
    admin = world.browser()
    names = accounts(world)
    taxed, untaxed = world.rates
    sent = {"revenue_account_id": names["Services"], f"tax_mapping.{taxed.id}": "TAX",
            f"tax_mapping.{untaxed.id}": "NON", "mode": "inventory", "cogs_account_id": names["Cost of Goods Sold"],
            "inventory_asset_account_id": names["Inventory Asset"], "cogs_per_delivery": "on"}  # fmt: skip
    answer = admin.post(f"{page_of(world)}/settings", data=sent, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"{page_of(world)}?done=saved"
    settings = saved(world)
    assert settings.revenue_account_id == names["Services"]
    assert dict(settings.tax_mapping) == {taxed.id: "TAX", untaxed.id: "NON"}
    assert settings.mode is AccountingMode.INVENTORY
    assert settings.cogs_account_id == names["Cost of Goods Sold"]
    assert settings.inventory_asset_account_id == names["Inventory Asset"]
    assert settings.cogs_per_delivery is True
    page = Page(admin.get(answer.headers["location"]).text)
    assert "The settings were saved." in page.text and "Invoicing is ready" in page.text
    assert page.chosen["mode"] == "inventory" and page.chosen["revenue_account_id"] == names["Services"]


def test_disconnecting_asks_first_then_revokes(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", serve=True)
    admin = world.browser()
    confirm = Page(admin.get(f"{page_of(world)}/disconnect").text)
    assert "Disconnect QuickBooks?" in confirm.text and f"{page_of(world)}/disconnect" in confirm.forms
    assert health(world) is Health.CONNECTED

    answer = admin.post(f"{page_of(world)}/disconnect", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"{page_of(world)}?done=disconnected"
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None and connection.health is Health.DISCONNECTED
    assert world.app.vault.load(world.company_id) is None
    page = Page(admin.get(answer.headers["location"]).text)
    assert "QuickBooks was disconnected" in page.text and "Not connected" in page.text
    assert f"{page_of(world)}/connect" in page.links and page.forms == ["/logout"]


def test_connect_goes_through_the_consent_page_and_lands_connected(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", serve=True)
    admin = world.browser()
    world.app.connecting.disconnect(world.company_id)
    page = Page(admin.get(page_of(world)).text)
    assert "QuickBooks is not connected: invoices cannot be made yet." in page.text
    assert f"{page_of(world)}/connect" in page.links

    to_intuit = admin.get(f"{page_of(world)}/connect", follow_redirects=False)
    assert to_intuit.status_code == 303
    callback = consent(world, to_intuit.headers["location"], world.realm_id)
    assert admin.get(callback, follow_redirects=True).status_code == 200
    page = Page(admin.get(page_of(world)).text)
    assert "Status Connected" in page.text and "Invoicing is ready" in page.text  # the same company: settings kept

    read = admin.post(f"{page_of(world)}/preferences", follow_redirects=True)
    assert "The QuickBooks company's preferences were read again." in Page(read.text).text


def test_another_quickbooks_company_replaces_the_connected_one_only_when_confirmed(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", serve=True)
    admin = world.browser()
    other = world.control.post("/_sandbox/companies", json={"name": "Other books", "country": "US"}).json()["realm_id"]

    unconfirmed = consent(world, admin.get(f"{page_of(world)}/connect").headers["location"], other)
    assert admin.get(unconfirmed).status_code == 409  # the plain Reconnect keeps the connected company
    confirm = Page(admin.get(f"{page_of(world)}/switch").text)
    assert "Connect another QuickBooks company?" in confirm.text
    switch = f"{page_of(world)}/connect?replace_realm=true"
    assert switch in confirm.links
    to_intuit = admin.get(switch, follow_redirects=False)
    assert admin.get(consent(world, to_intuit.headers["location"], other), follow_redirects=True).status_code == 200
    page = Page(admin.get(page_of(world)).text)
    assert other in page.text and "Invoicing waits for these settings" in page.text
    assert "revenue_account_id" not in page.chosen  # the settings start afresh for the new company


def test_members_strangers_and_other_companies_admins_are_kept_out(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", serve=True)
    member = world.browser("member@books.example", role="member")
    stranger = httpx.Client(base_url=world.url)
    outsider = httpx.Client(base_url=world.url)
    world.clients += [stranger, outsider]
    person(world.app, "outsider@books.example")
    theirs = world.app.orderbook.create_company("Their Co", "USD", "America/New_York").id or 0
    world.app.people.add_member(theirs, "outsider@books.example", "admin")
    logged_in = outsider.post("/login", data={"email": "outsider@books.example", "password": PASSWORD})
    assert logged_in.status_code == 303, logged_in.text
    outsider.headers["X-CSRF-Token"] = CSRF.findall(outsider.get("/", follow_redirects=True).text)[0]
    base = page_of(world)
    routes = [("GET", ""), ("GET", "/connect"), ("GET", "/switch"), ("GET", "/disconnect"), ("POST", "/disconnect"),
              ("POST", "/preferences"), ("POST", "/settings")]  # fmt: skip
    for method, tail in routes:
        path = base + tail
        refused = member.request(method, path, follow_redirects=False)
        assert refused.status_code == 403 and "Only an admin of this company may do this." in refused.text, path
        away = stranger.request(method, path, follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"].startswith("/login?next="), path
        hidden = outsider.request(method, path, follow_redirects=False)
        assert hidden.status_code == 404 and "There is no such page" in hidden.text, path
    assert health(world) is Health.CONNECTED


def test_a_form_sent_without_the_csrf_token_is_refused(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", serve=True)
    admin = world.browser()
    del admin.headers["X-CSRF-Token"]
    before = saved(world)
    assert admin.post(f"{page_of(world)}/disconnect").status_code == 403
    assert admin.post(f"{page_of(world)}/settings", data={"revenue_account_id": "1"}).status_code == 403
    assert health(world) is Health.CONNECTED
    assert saved(world) == before
