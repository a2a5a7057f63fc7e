"""Browser tests: Debian's headless Chromium (/usr/bin/chromium) driven by Playwright — browsers cannot be
downloaded here. Without Chromium the tests skip with the reason; with CI=true they fail instead."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright
from tests.conftest import require_server

CHROMIUM = "/usr/bin/chromium"
# Chromium's own background traffic finds no network here; these flags keep it quiet and fast.
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        require_server("Chromium at /usr/bin/chromium", "apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


# The web app's screens are tested against a served company connected to a sandbox company (the contract tier's
# world); `site` gives it with the browser.
from tests.contract.invoicing.conftest import WorldFactory, make_world  # noqa: E402, F401  (a fixture)
from tests.e2e.screens_support import Site  # noqa: E402


@pytest.fixture
def site(make_world: WorldFactory, chromium: Browser) -> Site:  # noqa: F811
    """A served company (US sample company, connected, settings complete) and the browser."""
    return Site(make_world(serve=True), chromium)
