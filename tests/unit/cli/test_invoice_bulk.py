"""`invoicebridge invoice` for many SOs: queued as a bulk run, followed with a progress bar (done / failed / left),
failed SOs listed with their sentence; a queue with no worker says so, and Ctrl-C stops following without losing
anything. Against the real sandbox over HTTP, on SQLite with huey's SQLite queue (no immediate mode)."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from rich.console import Console
from tests.contract.invoicing.conftest import World, WorldFactory, make_world
from typer.testing import CliRunner

from invoicebridge import cli_bulk
from invoicebridge.cli import app
from invoicebridge.domain import InvoiceState, SalesOrder

__all__ = ["make_world"]  # the contract tests' connected company, used here as a fixture


@pytest.fixture
def world(make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch) -> World:
    """A connected company whose jobs go on a real (SQLite) queue; the CLI reads the same settings."""
    made = make_world("US", jobs_immediate=False)
    settings = made.app.settings
    env = {
        "DATA_DIR": str(settings.data_dir), "QBO_ENVIRONMENT": "local", "QBO_SANDBOX_URL": settings.qbo_sandbox_url,
        "QBO_CLIENT_ID": settings.qbo_client_id, "QBO_CLIENT_SECRET": settings.qbo_client_secret.get_secret_value(),
        "TOKEN_KEYS": settings.token_keys.get_secret_value(), "QBO_BACKOFF_SECONDS": "0.01",
    }  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(f"INVOICEBRIDGE_{name}", value)
    for name in ("DATABASE_URL", "REDIS_URL", "JOBS_IMMEDIATE"):
        monkeypatch.delenv(f"INVOICEBRIDGE_{name}", raising=False)
    return made


def orders(world: World, count: int) -> list[SalesOrder]:
    customers = [world.customer(f"Bulk Buyer {n}", f"buyer{n}@bulk.example") for n in range(3)]
    return [world.order(customers[n % 3], number=f"BLK-{n:03d}") for n in range(count)]


def invoices_per_number(world: World) -> Counter[str]:
    """Live invoices in QBO by SO number (each invoice carries its SO number as the customer memo)."""
    rows = world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
    return Counter(str(row.get("CustomerMemo", {}).get("value", "")) for row in rows)


def test_many_numbers_are_queued_and_followed_and_the_failed_one_is_listed_with_its_sentence(world: World) -> None:
    made = orders(world, cli_bulk.FEW + 4)  # more than a few: queued, not made one by one in this process
    abroad = world.order(world.customer("Abroad Inc", currency="EUR"), currency="EUR", number="BLK-EUR")
    numbers = [o.number for o in made] + [abroad.number]
    result = CliRunner().invoke(app, ["invoice", *numbers, "--workers", "2"])
    assert result.exit_code == 1, result.output
    assert f"Queued {len(numbers)} SOs" in result.output
    assert f"Invoiced {len(made)} of {len(numbers)}; 1 failed." in result.output
    assert f"{len(made)} done · 1 failed · 0 left" in result.output  # the bar's last state
    assert "  BLK-EUR: " in result.output and "but this order is in EUR" in result.output
    assert invoices_per_number(world) == Counter({o.number: 1 for o in made})
    assert world.app.orderbook.invoice_link(world.company_id, made[0].id or 0).state is InvoiceState.INVOICED


def test_all_not_invoiced_takes_only_sos_without_an_invoice_and_exits_0(world: World) -> None:
    made = orders(world, 6)
    world.invoice(made[0])  # invoiced before: not queued again, not invoiced twice
    result = CliRunner().invoke(app, ["invoice", "--all-not-invoiced", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Queued 5 SOs" in result.output and "Invoiced 5 of 5; 0 failed." in result.output
    assert invoices_per_number(world) == Counter({o.number: 1 for o in made})
    again = CliRunner().invoke(app, ["invoice", "--all-not-invoiced"])
    assert again.exit_code == 0 and "Nothing to invoice" in again.output


def test_without_a_worker_the_bar_says_how_to_start_one_and_ctrl_c_leaves_the_sos_queued(world: World) -> None:
    made = orders(world, 4)
    out = io.StringIO()
    looks = 0

    def wait(seconds: float) -> None:  # the pause between two looks; the fourth is a Ctrl-C
        nonlocal looks
        looks += 1
        if looks == 4:
            raise KeyboardInterrupt

    status = cli_bulk.invoice_many(world.app, world.company_id, [o.id or 0 for o in made], 0,
                                   Console(file=out, width=200), wait, stall_seconds=0.0)  # fmt: skip
    text = out.getvalue()
    assert status == cli_bulk.INTERRUPTED
    assert "is a worker running? Start `invoicebridge worker`" in text and "--workers 2" in text
    assert "Stopped following. 4 SOs are still queued" in text
    states = {world.app.orderbook.invoice_link(world.company_id, o.id or 0).state for o in made}
    assert states == {InvoiceState.QUEUED}
    assert world.app.jobs.huey.pending_count() > 0  # and their job waits on the queue for a worker
    assert invoices_per_number(world) == Counter()

    result = CliRunner().invoke(app, ["invoice", "--all-not-invoiced", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert invoices_per_number(world) == Counter({o.number: 1 for o in made})


def test_numbers_and_all_not_invoiced_are_one_or_the_other() -> None:
    both = CliRunner().invoke(app, ["invoice", "SO-1", "--all-not-invoiced"])
    neither = CliRunner().invoke(app, ["invoice"])
    delivered = CliRunner().invoke(app, ["invoice", "--all-not-invoiced", "--delivered"])
    assert (both.exit_code, neither.exit_code, delivered.exit_code) == (2, 2, 2)
    assert "or use --all-not-invoiced (one of the two)" in words(both.output)
    assert "name the SOs or use --all-not-invoiced" in words(neither.output)
    assert "--all-not-invoiced invoices whole SOs" in words(delivered.output)


def words(output: str) -> str:
    """The text of typer's error box, its frame and line breaks taken out."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())
