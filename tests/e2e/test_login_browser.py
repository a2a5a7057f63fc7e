"""Logging in, the home page, the API documentation under the Content-Security-Policy, CSRF from a page, and
logging out — in a real headless Chromium against the app on a real port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Page
from tests.access_support import PASSWORD, person
from tests.contract.invoicing.conftest import free_port, serve_in_thread

from invoicebridge.bootstrap import build
from invoicebridge.settings import Settings

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, int]]:
    app = build(Settings(data_dir=tmp_path), migrate=True)
    owner = person(app, "owner@example.com")
    company = app.people.found_company(owner.id or 0, "Acme Tools", "USD", "America/Chicago").id or 0
    port = free_port()
    server, thread = serve_in_thread(app, port)
    yield f"http://127.0.0.1:{port}", company
    server.should_exit = True
    thread.join(timeout=10)
    app.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1200, "height": 800})
    yield context.new_page()
    context.close()


def log_in(page: Page, base: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login?next=")  # no session: sent to the login page
    page.fill("#email", "owner@example.com")
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_a_person_logs_in_lands_on_their_companys_sell_screen_and_logs_out(site: tuple[str, int], page: Page) -> None:
    base, company = site
    log_in(page, base, "not the password at all")
    assert page.locator(".error").inner_text() == "Wrong e-mail or password."
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    assert page.url == f"{base}/c/{company}/sell"  # one company: its Sell screen is the home page
    assert "Acme Tools" in page.locator("nav.company").inner_text()
    page.screenshot(path=str(SHOTS / "home.png"))
    page.click("text=Log out")
    assert page.url == f"{base}/login"
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login?next=")  # the session ended on the server


def test_the_api_docs_render_under_the_csp_and_inline_script_is_blocked(site: tuple[str, int], page: Page) -> None:
    base, _ = site
    log_in(page, base)
    page.goto(f"{base}/api/docs")
    page.wait_for_selector(".opblock", timeout=20_000)  # Swagger UI ran from local files, no inline script
    page.screenshot(path=str(SHOTS / "api-docs.png"))
    with pytest.raises(Error):  # an injected inline script is refused by the Content-Security-Policy
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("window.injected === undefined")


def test_a_page_can_change_things_only_with_its_csrf_token(site: tuple[str, int], page: Page) -> None:
    base, company = site
    log_in(page, base)
    post = """async ([url, withToken]) => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const headers = {"Content-Type": "application/json", ...(withToken ? {"X-CSRF-Token": token} : {})};
        const answer = await fetch(url, {method: "POST", headers, body: JSON.stringify({display_name: "Ada"})});
        return answer.status;
    }"""
    url = f"/api/companies/{company}/customers"
    assert page.evaluate(post, [url, False]) == 403
    assert page.evaluate(post, [url, True]) == 201
