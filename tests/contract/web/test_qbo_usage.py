"""The month's counted QuickBooks calls where people see them: `GET /api/companies/{id}/qbo` (members of the company
only) and the QuickBooks screen; the warning past the budget's share shows in both."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.contract.web.conftest import Book
from tests.contract.web.test_access_matrix import caller
from tests.contract.web.test_errors import assert_error_shape

from invoicebridge.qbo.client import Exchange
from invoicebridge.sync.meter import Budget, Meter

NOW = datetime.now(UTC)


def calls(book: Book, company: int, reads: int, writes: int) -> None:
    """Count QBO calls of the company as its clients would report them."""
    read = Exchange("GET", "/v3/company/9/invoice/1", {}, None, 200, "{}", None, NOW, 1.0, None)
    write = Exchange("POST", "/v3/company/9/invoice", {}, "{}", 200, "{}", None, NOW, 1.0, None)
    for exchange in [read] * reads + [write] * writes:
        book.app.meter.count(company, exchange)


def usage_of(client: TestClient, company: int) -> dict[str, Any]:
    answer = client.get(f"/api/companies/{company}/qbo")
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["usage"])


@pytest.mark.parametrize("credentials", ["session", "token"])
def test_a_member_sees_the_companys_month_and_the_deployments_reads(book: Book, credentials: str) -> None:
    calls(book, book.a, reads=3, writes=2)
    calls(book, book.b, reads=4, writes=1)
    usage = usage_of(caller(book, credentials, "member@a.example", book.a, "member"), book.a)
    assert usage == {
        "month": NOW.strftime("%Y-%m"), "core": 2, "coreplus": 3, "deployment_coreplus": 7,
        "coreplus_budget": 500_000, "warn_at": 400_000, "warning": False,
    }  # fmt: skip


def test_past_the_share_of_the_budget_the_warning_is_on(book: Book) -> None:
    book.app.meter = Meter(book.app.uow, Budget(monthly=10, warn_percent=50), lambda: NOW)
    calls(book, book.b, reads=5, writes=0)  # another company's reads count against the one budget
    usage = usage_of(caller(book, "token", "member@a.example", book.a, "member"), book.a)
    assert (usage["coreplus"], usage["deployment_coreplus"], usage["warn_at"], usage["warning"]) == (0, 5, 5, True)


def test_nobody_and_another_companys_people_see_no_usage(book: Book) -> None:
    calls(book, book.a, reads=1, writes=0)
    nobody = TestClient(book.web, raise_server_exceptions=False).get(f"/api/companies/{book.a}/qbo")
    assert nobody.status_code == 401
    assert_error_shape(nobody.json(), "unauthenticated")
    for credentials in ("session", "token"):
        stranger = caller(book, credentials, "admin@b.example", book.b, "admin")
        answer = stranger.get(f"/api/companies/{book.a}/qbo")
        assert (answer.status_code, answer.json()["error"]["message"]) == (404, f"No company {book.a}.")


def test_the_quickbooks_screen_shows_the_months_calls_and_the_warning(book: Book) -> None:
    calls(book, book.a, reads=1234, writes=7)
    admin = caller(book, "session", "admin@a.example", book.a, "admin")
    page = admin.get(f"/c/{book.a}/quickbooks")
    assert page.status_code == 200
    assert "QuickBooks calls this month" in page.text and "1,234" in page.text and "500,000" in page.text
    assert "blocks every read" not in page.text
    book.app.meter = Meter(book.app.uow, Budget(monthly=1000), lambda: NOW)
    assert "blocks every read until next month" in admin.get(f"/c/{book.a}/quickbooks").text
