"""Which QuickBooks tax code a 0 % rate maps to by itself (sync/no_tax.py)."""

from __future__ import annotations

from typing import Any

from invoicebridge.domain.connection import TaxModel
from invoicebridge.sync.no_tax import no_tax_code


def code(code_id: str, name: str, taxable: bool = False, active: bool = True, *rates: str) -> dict[str, Any]:
    details = [{"TaxRateRef": {"value": r}} for r in rates]
    return {"Id": code_id, "Name": name, "Taxable": taxable, "Active": active,
            "SalesTaxRateList": {"TaxRateDetail": details}}  # fmt: skip


UK = [code("3", "20.0% S", True, True, "1"), code("4", "0.0% Z", False, True, "3"),
      code("5", "Exempt", False, True, "4"), code("6", "No VAT", False, True, "5")]  # fmt: skip


def test_a_uk_company_maps_zero_rates_to_no_vat() -> None:
    assert no_tax_code(UK, TaxModel.GLOBAL) == "6"


def test_a_canadian_company_prefers_out_of_scope_in_either_language() -> None:
    english = [code("4", "Exempt"), code("5", "Zero-rated"), code("9", "Out of Scope")]
    french = [code("3", "Hors champ"), code("4", "Exonéré"), code("5", "Détaxé")]
    assert no_tax_code(english, TaxModel.GLOBAL) == "9"
    assert no_tax_code(french, TaxModel.GLOBAL) == "3"


def test_without_a_named_one_the_oldest_untaxed_code_is_taken() -> None:
    codes = [code("12", "Input taxed"), code("10", "GST", True), code("11", "GST free")]
    assert no_tax_code(codes, TaxModel.GLOBAL) == "11"


def test_inactive_taxable_and_non_zero_codes_are_never_taken() -> None:
    rates = {"1": {"RateValue": "20"}, "2": {"RateValue": "0"}}
    codes = [code("6", "No VAT", False, False), code("7", "No tax", True), code("8", "Reduced", False, True, "1"),
             code("9", "Zero", False, True, "2")]  # fmt: skip
    assert no_tax_code(codes, TaxModel.GLOBAL, rates) == "9"
    assert no_tax_code(codes[:3], TaxModel.GLOBAL, rates) is None


def test_us_companies_keep_mapping_by_hand() -> None:
    us = [code("TAX", "TAX", True), code("NON", "NON")]
    assert no_tax_code(us, TaxModel.US) is None
