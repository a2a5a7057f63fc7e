"""The query language as QBO clients write it (issue 13's gaps): python-quickbooks' `SELECT *, Sku` and `ORDER BY`,
`!=`, and the fields Intuit's entity reference marks filterable on Account and Customer — over real HTTP."""

from __future__ import annotations

from importlib.resources import files

from quickbooks import QuickBooks
from quickbooks.objects.customer import Customer
from quickbooks.objects.item import Item
from tests.contract.sandbox.conftest import Qbo
from tests.contract.sandbox.contract_support import account_id, create, customer, fault
from tests.contract.sandbox.quickbooks_support import pyqb

from qbo_sandbox import query

__all__ = ["pyqb"]  # the fixture, used by name


def test_item_all_sends_select_star_and_sku_and_gets_every_item_with_its_sku(pyqb: QuickBooks, qbo: Qbo) -> None:
    items = Item.all(qb=pyqb)  # SELECT *, Sku FROM Item MAXRESULTS 100
    assert {i.Sku for i in items} >= {"SRV-DESIGN", "RF-100", "PUMP-1"}
    assert all(i.Name and i.Type for i in items)  # the star answers every field, not only Sku


def test_order_by_in_two_words_sorts_as_orderby_does(pyqb: QuickBooks, qbo: Qbo) -> None:
    names = [i.Name for i in Item.all(order_by="Name DESC", qb=pyqb)]  # ... ORDER BY Name DESC ...
    assert names == sorted(names, key=str.lower, reverse=True) and len(names) >= 7
    one_word = [r["Name"] for r in qbo.rows("select * from Item orderby Name desc")]
    assert one_word == names
    ascending = [c.DisplayName for c in Customer.filter(order_by="DisplayName", qb=pyqb, Active=True)]
    assert ascending == sorted(ascending, key=str.lower)


def test_not_equal_excludes_the_matching_objects_only(pyqb: QuickBooks, qbo: Qbo) -> None:
    others = Customer.where("DisplayName != 'Cool Cars'", qb=pyqb)
    names = {c.DisplayName for c in others}
    assert "Cool Cars" not in names and "Amy's Bird Sanctuary" in names
    assert len(others) == len(qbo.rows("select * from Customer")) - 1
    assert {r["Name"] for r in qbo.rows("select * from Item where Type != 'Service'")} == {
        "Rock Fountain", "Sprinkler Heads", "Pump", "Sod",
    }  # fmt: skip


def test_account_filters_from_intuits_entity_reference(qbo: Qbo) -> None:
    parent_id = account_id(qbo, "Checking")
    child = create(qbo, "Account", {"Name": "Petty Cash", "AccountType": "Bank", "Description": "cash in the drawer",
                                    "ParentRef": {"value": parent_id}})  # fmt: skip
    assert child["SubAccount"] is True and child["FullyQualifiedName"] == "Checking:Petty Cash"
    by = {
        "FullyQualifiedName = 'Checking:Petty Cash'": {"Petty Cash"},
        "SubAccount = true": {"Petty Cash"},
        f"ParentRef = '{parent_id}'": {"Petty Cash"},
        "Description LIKE '%drawer%'": {"Petty Cash"},
        "CurrentBalance > '0'": set(),
    }
    for where, names in by.items():
        assert {r["Name"] for r in qbo.rows(f"select * from Account where {where}")} == names, where
    assert len(qbo.rows("select * from Account where CurrentBalance = '0' and SubAccount = false")) >= 9


def test_customer_filters_from_intuits_entity_reference(qbo: Qbo) -> None:
    customer(qbo, "Ann Q Public", GivenName="Ann", MiddleName="Quinn", FamilyName="Public")
    assert [r["DisplayName"] for r in qbo.rows("select * from Customer where MiddleName = 'Quinn'")] == ["Ann Q Public"]
    found = qbo.rows("select Id, DisplayName from Customer where FullyQualifiedName = 'Cool Cars'")
    assert [r["DisplayName"] for r in found] == ["Cool Cars"] and "PrimaryEmailAddr" not in found[0]


def test_a_field_intuit_does_not_mark_filterable_is_still_refused(qbo: Qbo) -> None:
    fault(qbo.query("select * from Customer where Notes = 'x'"), 400, "4001")
    fault(qbo.query("select * from Customer where DisplayName <> 'x'"), 400, "4000")
    fault(qbo.query("select * from Customer ORDER DisplayName"), 400, "4000")


def test_coverage_lists_every_queryable_entity_with_its_filterable_fields() -> None:
    coverage = (files("qbo_sandbox") / "COVERAGE.md").read_text()
    table = coverage.split("## Filterable fields (query)", 1)[1]
    rows = {
        cells[0]: cells[1]
        for line in table.splitlines()
        if line.startswith("| ") and (cells := [c.strip() for c in line.strip("|").split("|")])[0] != "entity"
    }
    assert set(rows) == set(query.FILTERABLE)
    for entity, fields in query.FILTERABLE.items():
        assert rows[entity] == (", ".join(f"`{field}`" for field in fields) or "—"), entity
