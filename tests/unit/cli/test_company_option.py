"""Every command's --company (and a port) takes only what can be one: 0, a negative id and an id past what a
database stores exit 2 with click's sentence, before anything is read or written. Before, `--company 0` quietly
meant "the only company" and an id past 2**63 - 1 ended in a traceback (OverflowError deep in a query)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from invoicebridge.bootstrap import build
from invoicebridge.cli import app
from invoicebridge.settings import Settings

HUGE = str(2**63)  # one past the largest id a database stores
COMMANDS = {
    "invoice": ["invoice", "SO-1"],
    "import": ["import", "{csv}"],
    "return": ["return", "--so", "SO-1", "--row", "1=1"],
    "user add": ["user", "add", "ada@example.com", "--role", "member"],
    "token create": ["token", "create", "--name", "shop"],
    "qbo usage": ["qbo", "usage"],
    "qbo import-customers": ["qbo", "import-customers"],
}


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One company (the one `--company 0` used to fall back to) and a CSV that would make an SO."""
    monkeypatch.setenv("INVOICEBRIDGE_DATA_DIR", str(tmp_path))
    container = build(Settings(data_dir=tmp_path), migrate=True)
    container.orderbook.create_company("Acme", "USD", "UTC")
    container.close()
    csv = tmp_path / "orders.csv"
    csv.write_text("so_number,customer_name,sku,quantity,unit_price\nSO-1,Ada,W-1,1,10.00\n")
    return csv


def _said(output: str) -> str:
    """The output as one line of words (rich wraps click's sentence inside a box)."""
    return " ".join(output.replace("│", " ").split())


def _orders(data_dir: Path) -> int:
    container = build(Settings(data_dir=data_dir), migrate=False)
    with container.engine.connect() as connection:
        count = int(connection.exec_driver_sql("SELECT COUNT(*) FROM sales_orders").scalar() or 0)
    container.close()
    return count


@pytest.mark.parametrize("company", ["0", "-3", HUGE])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_company_that_cannot_be_one_is_refused_before_anything_happens(
    book: Path, command: str, company: str
) -> None:
    args = [arg.replace("{csv}", str(book)) for arg in COMMANDS[command]]
    result = CliRunner().invoke(app, [*args, "--company", company], terminal_width=200)
    assert result.exit_code == 2, result.output
    bound = "less than or equal to 9223372036854775807" if company == HUGE else "greater than or equal to 1"
    assert f"Invalid value for '--company': Input should be {bound}" in _said(result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    assert _orders(book.parent) == 0


@pytest.mark.parametrize(("args", "bound"), [
    (["serve", "--port", "70000"], "less than or equal to 65535"),
    (["demo", "--no-serve", "--port", "0"], "greater than or equal to 1"),
    (["demo", "--no-serve", "--sandbox-port", "65536"], "less than or equal to 65535"),
])  # fmt: skip
def test_a_port_that_cannot_be_one_is_refused(book: Path, args: list[str], bound: str) -> None:
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{args[-2]}': Input should be {bound}" in _said(result.output)
