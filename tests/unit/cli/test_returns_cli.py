"""`invoicebridge return`: a return recorded from the command line becomes one credit memo, printed with its link;
refusals print their sentence and exit 1; bad --row values exit 2. Against the real sandbox over HTTP."""

from __future__ import annotations

import pytest
from tests.contract.invoicing.conftest import World, WorldFactory, make_world
from tests.contract.invoicing.test_returns import credit_memos, sold
from typer.testing import CliRunner

from invoicebridge.cli import app

__all__ = ["make_world"]  # the contract tests' connected company, used here as a fixture


@pytest.fixture
def world(make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch) -> World:
    """A connected company; the CLI reads the same settings from the environment."""
    made = make_world("US")
    settings = made.app.settings
    env = {
        "DATA_DIR": str(settings.data_dir), "QBO_ENVIRONMENT": "local", "QBO_SANDBOX_URL": settings.qbo_sandbox_url,
        "QBO_CLIENT_ID": settings.qbo_client_id, "QBO_CLIENT_SECRET": settings.qbo_client_secret.get_secret_value(),
        "TOKEN_KEYS": settings.token_keys.get_secret_value(), "QBO_BACKOFF_SECONDS": "0.01", "JOBS_IMMEDIATE": "true",
    }  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(f"INVOICEBRIDGE_{name}", value)
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(f"INVOICEBRIDGE_{name}", raising=False)
    return made


def test_a_return_from_the_command_line_becomes_one_credit_memo(world: World) -> None:
    order = sold(world, number="SO-1042")
    a, b = (row.id for row in order.rows)
    made = CliRunner().invoke(app, ["return", "--so", "SO-1042", "--row", f"{a}=1", "--row", f"{b}=2"])
    assert made.exit_code == 0, made.output
    [memo] = credit_memos(world, order)
    assert f"SO-1042 return 1: Credit memo created (QBO) — credit memo {memo['Id']}" in made.output
    assert f"/app/creditmemo?txnId={memo['Id']}&realmId={world.realm_id}" in made.output

    again = CliRunner().invoke(app, ["return", "--so", "SO-1042", "--retry", "1"])
    assert again.exit_code == 0, again.output
    assert len(credit_memos(world, order)) == 1  # a retry of a created return makes nothing

    refused = CliRunner().invoke(app, ["return", "--so", "SO-1042", "--row", f"{a}=4"])
    assert refused.exit_code == 1
    assert f"Cannot return 4 of row {a}: 4 were delivered and invoiced, 1 of them already returned." in refused.output
    assert len(world.app.returns.of_order(world.company_id, order.id or 0)) == 1


@pytest.mark.parametrize("args", [["--row", "one=2"], ["--row", "12"], []])
def test_bad_rows_are_refused_before_anything_is_read(world: World, args: list[str]) -> None:
    result = CliRunner().invoke(app, ["return", "--so", "SO-1", *args])
    assert result.exit_code == 2
    assert "ROW_ID=QUANTITY" in result.output
