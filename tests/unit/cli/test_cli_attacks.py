"""Odd arguments to issue 14's commands (`invoicebridge return`, `invoicebridge invoice --retry-failed`): refused
with a sentence and a non-zero exit, never a traceback, and nothing recorded. Against the real sandbox over HTTP."""

from __future__ import annotations

import re

import pytest
from tests.contract.invoicing.conftest import World, make_world
from tests.contract.invoicing.test_returns import credit_memos, sold
from tests.unit.cli.test_returns_cli import world
from typer.testing import CliRunner

from invoicebridge.cli import app

__all__ = ["make_world", "world"]  # the contract tests' connected company, used here as a fixture


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--row", "{a}=1", "--row", "{a}=2"], "row {a} is given twice: give each row once"),
        (["--row", "١=1"], "'١=1' is not ROW_ID=QUANTITY"),  # an Arabic-Indic one is a digit to Python, not a row id
        (["--company", str(2**63), "--row", "{a}=1"], "less than or equal to 9223372036854775807"),
        (["--retry", str(2**70)], "less than or equal to 9223372036854775807"),
    ],
    ids=["row-twice", "arabic-digit", "company-2^63", "retry-2^70"],
)
def test_odd_return_arguments_are_refused_and_nothing_is_returned(world: World, args: list[str], sentence: str) -> None:
    order = sold(world, number="SO-1042")
    a = order.rows[0].id
    answer = CliRunner().invoke(app, ["return", "--so", "SO-1042", *(arg.format(a=a) for arg in args)])
    assert answer.exit_code == 2, answer.output
    assert sentence.format(a=a) in re.sub(r"[\s│]+", " ", answer.output)  # typer boxes its errors
    assert world.app.returns.of_order(world.company_id, order.id or 0) == []
    assert credit_memos(world, order) == []


@pytest.mark.parametrize(("company", "code", "sentence"), [
    (str(2**70), 2, "Invalid value for '--company': Input should be less than or equal to 9223372036854775807"),
    ("-1", 2, "Invalid value for '--company': Input should be greater than or equal to 1"),  # refused by the option
    ("999", 1, "No company 999."),  # could be one: looked up
])  # fmt: skip
def test_retrying_failed_invoices_of_a_company_that_does_not_exist_says_so(
    world: World, company: str, code: int, sentence: str
) -> None:
    answer = CliRunner().invoke(app, ["invoice", "--retry-failed", "--company", company])
    assert answer.exit_code == code, answer.output
    assert answer.exception is None or isinstance(answer.exception, SystemExit)  # a sentence, not a traceback
    assert sentence in re.sub(r"[\s│]+", " ", answer.output)
