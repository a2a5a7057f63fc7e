"""`invoicebridge qbo usage`: the month's counted QuickBooks calls per company and the deployment's CorePlus total
against the budget, from the real store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from invoicebridge.bootstrap import build
from invoicebridge.cli import app
from invoicebridge.qbo.client import Exchange
from invoicebridge.settings import Settings

MARCH = datetime(2026, 3, 14, 12, tzinfo=UTC)


def counted(data_dir: Path, calls: dict[str, tuple[int, int]], at: datetime = MARCH) -> dict[str, int]:
    """Companies by name, each with (reads, writes) counted in `at`'s month as its QBO clients would."""
    container = build(Settings(data_dir=data_dir), migrate=True)
    ids = {}
    for name, (reads, writes) in calls.items():
        company = container.orderbook.create_company(name, "USD", "UTC").id or 0
        ids[name] = company
        for method, path, times in (("GET", "query", reads), ("POST", "invoice", writes)):
            for _ in range(times):
                exchange = Exchange(method, f"/v3/company/9/{path}", {}, None, 200, "{}", None, at, 1.0, None)
                container.meter.count(company, exchange)
    container.close()
    return ids


def usage(data_dir: Path, monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> tuple[int, str]:
    monkeypatch.setenv("INVOICEBRIDGE_DATA_DIR", str(data_dir))
    for name, value in env.items():
        monkeypatch.setenv(f"INVOICEBRIDGE_{name.upper()}", value)
    result = CliRunner().invoke(app, ["qbo", "usage", *args], terminal_width=200)
    return result.exit_code, result.output


def cells(line: str) -> list[str]:
    """The cells of one row of the table."""
    return [cell.strip() for cell in line.strip().strip("│").split("│")]


def test_each_companys_calls_and_the_total_against_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = counted(tmp_path, {"Acme": (3, 2), "Globex": (1200, 0)})
    code, output = usage(tmp_path, monkeypatch, "--month", "2026-03")
    assert code == 0, output
    assert "QuickBooks calls in 2026-03" in output
    lines = output.splitlines()
    globex = next(line for line in lines if f"{ids['Globex']} Globex" in line)
    acme = next(line for line in lines if f"{ids['Acme']} Acme" in line)
    assert lines.index(globex) < lines.index(acme)  # the largest spender of reads first
    assert cells(globex)[1:] == ["0", "1,200"] and cells(acme)[1:] == ["2", "3"]  # Core, CorePlus
    assert "Every company: 2 Core, 1,203 CorePlus." in output
    assert "1,203 of 500,000 (0.2 %)" in output and "Warning" not in output


def test_one_company_and_the_warning_past_the_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = counted(tmp_path, {"Acme": (3, 0), "Globex": (6, 1)})
    code, output = usage(tmp_path, monkeypatch, "--company", str(ids["Acme"]), "--month", "2026-03",
                         qbo_coreplus_monthly_budget="10", qbo_coreplus_warn_percent="90")  # fmt: skip
    assert code == 0, output
    assert "Acme" in output and "Globex" not in output
    assert "9 of 10 (90.0 %)" in output and "Warning: past the warning share" in output


def test_this_month_by_default_and_no_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counted(tmp_path, {"Acme": (2, 0)}, at=datetime.now(UTC))
    code, output = usage(tmp_path, monkeypatch, qbo_coreplus_monthly_budget="0")
    assert code == 0, output
    assert f"QuickBooks calls in {datetime.now(UTC):%Y-%m}" in output
    assert "Every company: 0 Core, 2 CorePlus." in output and "No monthly CorePlus budget" in output


def test_a_month_with_no_calls_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counted(tmp_path, {"Acme": (2, 0)})
    code, output = usage(tmp_path, monkeypatch, "--month", "2025-12")
    assert code == 0 and "(no calls counted)" in output and "Every company: 0 Core, 0 CorePlus." in output


def test_a_bad_month_or_an_unknown_company_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counted(tmp_path, {"Acme": (1, 0)})
    code, output = usage(tmp_path, monkeypatch, "--month", "March")
    assert code == 2 and "Not a month: March" in output
    code, output = usage(tmp_path, monkeypatch, "--company", "4242")
    assert code == 1 and "No company has the id 4242." in output
