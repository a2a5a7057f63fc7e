"""The overview over HTTP: SOs invoiced and failed today, the failure's reason linking to its SO, and the QBO
requests counted from the audit trail — for the caller's company only. Two worlds share one database (two
companies, each connected to its own sandbox company), so another company's rows are really there to leak."""

from __future__ import annotations

import re

import httpx
from tests.access_support import log_in, person
from tests.contract.invoicing.conftest import World, WorldFactory, make_world  # noqa: F401  (a fixture)

from invoicebridge.domain import InvoiceState
from invoicebridge.domain.connection import RECONNECT_MESSAGE

TODAY = re.compile(r'<tr class="today"><th scope="row">.*?</th><td class="num">(\d+)</td><td class="num">(\d+)</td>')
TOTAL = re.compile(r"<dt>([^<]+)</dt><dd>(\d+)</dd>")
CALLS = re.compile(r'<tr><th scope="row"><code>([A-Z]+)</code></th><td class="num">(\d+)</td>')


def figures(html: str) -> dict[str, object]:
    """What the page says: today's (invoiced, failed), the month's totals, and QBO requests by method."""
    today = TODAY.search(html)
    assert today, html
    return {
        "today": (int(today.group(1)), int(today.group(2))),
        "totals": {name: int(n) for name, n in TOTAL.findall(html)},
        "calls": {method: int(n) for method, n in CALLS.findall(html)},
    }


def invoice_two_then_fail_one(world: World, numbers: tuple[str, str, str]) -> int:
    """Two SOs invoiced, then QuickBooks disconnected and a third refused for it; returns the failed SO's id."""
    for number in numbers[:2]:
        assert world.invoice(world.order(number=number)).state is InvoiceState.INVOICED
    world.app.connecting.disconnect(world.company_id)
    failing = world.order(number=numbers[2])
    assert world.invoice(failing).state is InvoiceState.FAILED
    return failing.id or 0


def test_the_overview_shows_todays_outcomes_the_failure_reason_and_qbo_requests_of_its_company_only(
    make_world: WorldFactory,  # noqa: F811
) -> None:
    ours = make_world(serve=True)
    theirs = make_world(database_url=ours.app.settings.resolved_database_url())
    assert theirs.company_id != ours.company_id
    failed_id = invoice_two_then_fail_one(ours, ("SO-0001", "SO-0002", "SO-0003"))
    seller = ours.browser("seller@books.example", "member")
    page = f"/c/{ours.company_id}/overview"

    first = seller.get(page)
    assert first.status_code == 200
    seen = figures(first.text)
    assert seen["today"] == (2, 1)
    assert seen["totals"] == {
        "SOs invoiced": 2, "SOs with a failed attempt": 1, "Invoices failing now": 1,
        "QuickBooks requests": sum(seen["calls"].values()),  # type: ignore[attr-defined]
    }  # fmt: skip
    assert RECONNECT_MESSAGE in first.text and "<code>reconnect</code>" in first.text
    assert f'<a href="/c/{ours.company_id}/so/{failed_id}">SO-0003</a>' in first.text
    calls = seen["calls"]
    assert isinstance(calls, dict) and calls.get("POST", 0) > 0 and sum(calls.values()) > 2
    assert 'role="img"' in first.text and '<rect class="bar invoiced"' in first.text
    assert "comes with a later issue" in first.text

    invoice_two_then_fail_one(theirs, ("ELSEWHERE-1", "ELSEWHERE-2", "ELSEWHERE-3"))
    again = seller.get(page)
    assert "ELSEWHERE" not in again.text
    assert figures(again.text) == seen

    # The same server shows the other company its own month, and never ours.
    person(ours.app, "boss@elsewhere.example", theirs.company_id, "member")
    boss = httpx.Client(base_url=ours.url)
    ours.clients.append(boss)
    log_in(boss, "boss@elsewhere.example")
    elsewhere = boss.get(f"/c/{theirs.company_id}/overview")
    assert elsewhere.status_code == 200 and "ELSEWHERE-3" in elsewhere.text and "SO-0003" not in elsewhere.text
    assert figures(elsewhere.text)["today"] == (2, 1)
    assert boss.get(page).status_code == 404
