"""What the sandbox keeps of a client's strings (text.py), and the places that check them without HTTP: JSON
parsing, the query parser, the backend's writes, amounts, the state file."""

from __future__ import annotations

import pickle
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from qbo_sandbox import faults, jsonio, query
from qbo_sandbox.backend import Backend
from qbo_sandbox.clock import Clock
from qbo_sandbox.companies import create_company
from qbo_sandbox.entities.common import amount
from qbo_sandbox.store import SqliteStore
from qbo_sandbox.text import MAX_DEPTH, Flaw, flaw, is_text


@dataclass
class Holder:
    items: list[object] = field(default_factory=list)


def nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("value", ["", "plain", "café", "😀", "\U0010ffff", "nul \x00 and \x1b", "\ufffd"])
def test_unicode_text_is_text(value: str) -> None:
    assert is_text(value)
    assert flaw({"k": value}) is None


@pytest.mark.parametrize("value", ["\ud800", "x\udfffy", "\udc00\ud800", "😀\ud83d"])
def test_a_lone_surrogate_is_not_text(value: str) -> None:
    assert not is_text(value)


def test_flaw_names_where_the_lone_surrogate_is() -> None:
    body = {"Line": [{"Description": "ok"}, {"Detail": {"Name": "a\udc01"}}]}
    assert flaw(body) == Flaw(
        "Line[1].Detail.Name", "Line[1].Detail.Name holds a lone surrogate (U+DC01), which is not a Unicode character"
    )
    assert flaw({"ok": {"\ud800": 1}}) == Flaw(
        "ok.<key>", "ok.<key> holds a lone surrogate (U+D800), which is not a Unicode character"
    )
    assert flaw("\ud800") == Flaw("", "the text holds a lone surrogate (U+D800), which is not a Unicode character")


def test_flaw_walks_dataclasses_tuples_and_lists() -> None:
    assert flaw(Holder([("a", {"b": "\udbff"})])) is not None
    assert flaw(Holder([("a", {"b": "fine"})])) is None


def test_flaw_bounds_the_nesting_without_recursing() -> None:
    assert flaw(nested(MAX_DEPTH)) is None
    too_deep = flaw(nested(MAX_DEPTH + 1))
    assert too_deep is not None and too_deep.reason.endswith(f"nested deeper than {MAX_DEPTH} levels")
    assert flaw(nested(100_000)) is not None  # far past the interpreter's recursion limit


def test_loads_refuses_what_it_could_not_keep() -> None:
    assert jsonio.loads(b'{"a": "\\ud83d\\ude00", "b": 1.5}') == {"a": "😀", "b": Decimal("1.5")}
    with pytest.raises(jsonio.Unreadable) as refused:
        jsonio.loads(b'{"a": ["x", "\\ud800"]}')
    assert refused.value.element == "a[1]"
    for raw in (b"[" * 50_000 + b"]" * 50_000, b'{"a": NaN}', b'{"a": 1e999999999}', b'{"a": -Infinity}'):
        with pytest.raises(jsonio.Unreadable):
            jsonio.loads(raw)
    assert jsonio.loads(b'{"a": 1e300, "b": 0e999999999}') == {"a": Decimal("1e300"), "b": Decimal("0e999999999")}


def test_dumps_of_a_huge_decimal_does_not_overflow() -> None:
    # a float, as before (abs() raised decimal.Overflow past the context's exponent limit of 999999)
    assert jsonio.dumps({"a": Decimal("1E+999999999")}) == b'{"a": Infinity}'


def test_amount_refuses_a_huge_exponent_as_2090_not_an_overflow() -> None:
    with pytest.raises(faults.ValidationFault) as refused:
        amount(Decimal("1E+999999999"), "Balance")
    assert refused.value.errors[0].code == "2090"


def test_query_parse_refuses_a_lone_surrogate_and_a_huge_query() -> None:
    with pytest.raises(faults.ValidationFault) as refused:
        query.parse("select * from Customer where DisplayName = '\ud800'")
    assert refused.value.errors[0].code == "4000"
    assert "U+D800" in refused.value.errors[0].detail
    with pytest.raises(faults.ValidationFault) as long:
        query.parse("select * from Customer where Id IN (" + ",".join(["'1'"] * 30_000) + ")")
    assert long.value.errors[0].code == "4001"


def test_backend_writes_refuse_a_lone_surrogate_and_store_nothing() -> None:
    backend = Backend(Clock())
    realm = create_company(backend, "Co", sample_data=False).realm_id
    with pytest.raises(faults.ValidationFault) as refused:
        backend.create(realm, "Customer", {"DisplayName": "x\ud800"}, request_id="r1")
    assert (refused.value.errors[0].code, refused.value.errors[0].element) == ("2010", "DisplayName")
    assert backend.list_entities(realm, "Customer") == []
    assert backend.create(realm, "Customer", {"DisplayName": "x"}, request_id="r1")["DisplayName"] == "x"
    with pytest.raises(faults.ValidationFault):
        backend.update(realm, "Customer", {"Id": "1\udc00", "SyncToken": "0"})


def test_a_state_file_row_that_is_not_sandbox_state_is_skipped(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db") as raw:
        raw.execute("INSERT INTO realms VALUES ('1', ?)", (pickle.dumps({"not": "a realm"}),))
    store = SqliteStore(tmp_path / "s.db")
    assert store.load_realms() == []
    store.close()
