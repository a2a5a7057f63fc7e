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
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One browser per test module: a browser that wedges (Chromium can, and some Playwright calls such as
    new_context have no timeout) costs one module, not every browser test after it."""
    if shutil.which(CHROMIUM) is None:
        require_server("Chromium at /usr/bin/chromium", "apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True, timeout=60_000)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def close_contexts_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that fails half-way leaves its browser contexts open (their pages still polling our app); close
    them so the next test starts with a quiet browser and the served app can stop."""
    yield
    if "chromium" not in request.fixturenames:
        return
    browser: Browser = request.getfixturevalue("chromium")
    for context in browser.contexts:
        context.close()


# The web app's screens are tested against a served company connected to a sandbox company (the contract tier's
# world); `site` gives it with the browser.
from tests.contract.invoicing.conftest import WorldFactory, make_world  # noqa: E402, F401  (a fixture)
from tests.e2e.screens_support import Site  # noqa: E402


@pytest.fixture
def site(make_world: WorldFactory, chromium: Browser) -> Site:  # noqa: F811
    """A served company (US sample company, connected, settings complete) and the browser."""
    return Site(make_world(serve=True), chromium)
