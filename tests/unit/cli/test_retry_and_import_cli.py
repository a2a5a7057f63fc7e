"""`invoicebridge invoice --retry-failed` (the reasons listed, then one bulk run followed with the bar) and
`invoicebridge qbo import-customers` (the report), against the real sandbox over HTTP, on SQLite with huey's SQLite
queue (no immediate mode), as tests/unit/cli/test_invoice_bulk.py runs them."""

from __future__ import annotations

from collections import Counter

import pytest
from tests.contract.invoicing.conftest import World, WorldFactory, make_world
from tests.contract.invoicing.test_customer_import import active_qbo_customers, linked_ids, our_customers
from tests.contract.invoicing.test_retry_failed import taken_numbers
from tests.unit.cli.test_invoice_bulk import invoices_per_number
from typer.testing import CliRunner

from invoicebridge.cli import app
from invoicebridge.domain import InvoiceState

__all__ = ["make_world"]  # the contract tests' connected company, used here as a fixture


@pytest.fixture
def world(make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch) -> World:
    """A connected company (custom transaction numbers on) whose jobs go on a real (SQLite) queue; the CLI reads
    the same settings."""
    made = make_world("US", custom_txn_numbers=True, jobs_immediate=False)
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


def test_retry_failed_lists_the_reasons_then_invoices_each_so_once(world: World) -> None:
    customer = world.customer("Retry Co", "retry@example.com")
    made = [world.order(customer, number=f"RTY-{n}") for n in range(3)]
    by_hand = taken_numbers(world, made)  # QuickBooks has invoices with these numbers: ours are refused
    for order in made:
        assert world.invoice(order).state is InvoiceState.FAILED
    for invoice_id in by_hand:  # the cause fixed
        world.qbo_delete("Invoice", invoice_id)

    result = CliRunner().invoke(app, ["invoice", "--retry-failed", "--company", str(world.company_id),
                                      "--workers", "2"], terminal_width=200)  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "3 failed invoices, for 1 reason:" in result.output
    assert "3 × Invoice number [SO number] is already used in QuickBooks. [code 6140]" in result.output
    assert "RTY-0, RTY-1, RTY-2" in result.output
    assert "Invoiced 3 of 3; 0 failed." in result.output
    assert invoices_per_number(world) == Counter({o.number: 1 for o in made})


def test_retry_failed_with_nothing_failed_says_so(world: World) -> None:
    result = CliRunner().invoke(app, ["invoice", "--retry-failed", "--company", str(world.company_id)])
    assert result.exit_code == 0, result.output
    assert "No failed invoices: nothing to retry." in result.output


def test_retry_failed_takes_no_so_numbers(world: World) -> None:
    result = CliRunner().invoke(app, ["invoice", "SO-1", "--retry-failed", "--company", str(world.company_id)])
    assert result.exit_code == 2 and "--retry-failed" in result.output


def test_import_customers_prints_the_report_and_creates_nothing_twice(world: World) -> None:
    ours = world.customer("Bird lovers (ours)", "birds@intuit.com")
    command = ["qbo", "import-customers", "--company", str(world.company_id)]

    first = CliRunner().invoke(app, command, terminal_width=200)
    second = CliRunner().invoke(app, command, terminal_width=200)

    imported = len(active_qbo_customers(world)) - 1
    assert first.exit_code == 0, first.output
    assert f"{imported} created, 0 already linked, 1 e-mail clashes, 0 refused." in first.output
    assert f"clash: Amy's Bird Sanctuary <Birds@Intuit.com> — order-book customer {ours.id}" in first.output
    assert f"0 created, {imported} already linked" in second.output
    assert len(linked_ids(world, our_customers(world))) == imported


def test_import_customers_for_no_company_exits_1(world: World) -> None:
    result = CliRunner().invoke(app, ["qbo", "import-customers", "--company", "999999"])
    assert result.exit_code == 1 and "No company 999999." in result.output
