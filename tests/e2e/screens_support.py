"""Shared by the browser tests of the web app: a served company connected to the sandbox, people logged in
through the login form, and the checks every page must pass — axe-core (no serious or critical violation), a
375 px wide screen without sideways scrolling — plus screenshots in docs/screenshots/ (the README shows one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page
from tests.access_support import PASSWORD, person
from tests.contract.invoicing.conftest import World

from invoicebridge.domain import NotFound

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
SERIOUS = ("serious", "critical")


@dataclass
class Site:
    """Our web app served on a real port for one world (a company connected to a sandbox company)."""

    world: World
    browser: Browser

    @property
    def base(self) -> str:
        return self.world.url

    @property
    def company(self) -> int:
        return self.world.company_id

    def page_for(self, email: str = "seller@books.example", role: str = "member", width: int = 1280) -> Page:
        """A fresh browser context logged in (through the login form) as a person of this world's company."""
        app = self.world.app
        try:
            app.people.user(email)
        except NotFound:
            person(app, email)
        app.people.add_member(self.company, email, role)
        context = self.browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{self.base}/login")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    def url(self, path: str) -> str:
        """A company screen's address: `url("/sell")` → http://…/c/{company}/sell."""
        return f"{self.base}/c/{self.company}{path}"


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (run through DevTools, which the
    page's Content-Security-Policy does not govern)."""
    page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
               .filter(v => ['serious', 'critical'].includes(v.impact))
               .map(v => ({id: v.id, impact: v.impact, help: v.help,
                           nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))"""
    )
    return found


def assert_accessible(page: Page) -> None:
    violations = serious_violations(page)
    assert violations == [], f"axe-core on {page.url}: {violations}"


def assert_fits_narrow_screen(page: Page, width: int = 375) -> None:
    """At `width` px the page scrolls down, never sideways (wide tables scroll inside their own box)."""
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": 800})
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    culprits = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > width + 1
                            && !(e.parentElement && e.parentElement.closest('.scroll')))
               .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                                     + ' ' + Math.round(e.getBoundingClientRect().right))""",
        width,
    )
    if before is not None:
        page.set_viewport_size(before)
    assert overflow <= width, f"{page.url} is {overflow} px wide at {width} px: {culprits}"


def check_page(page: Page) -> None:
    """What every page must pass: axe-core, and 375 px."""
    assert_accessible(page)
    assert_fits_narrow_screen(page)


def screenshot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
