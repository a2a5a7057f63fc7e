"""``POST taxservice/taxcode``: QBO's one way to make tax codes and rates (Intuit's TaxService reference). The
body names the code and its rates — existing ones by ``TaxRateId``, new ones by ``TaxRateName``, ``RateValue``
and ``TaxAgencyId``; the answer repeats it with the Ids made: ``{"TaxCode", "TaxCodeId", "TaxRateDetails"}``.

TaxCode and TaxRate stay read-only through their own endpoints. The new objects are stored as QBO's built-in tax
objects are (Backend.install: no webhook is sent for them; CDC sees them).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbo_sandbox import faults
from qbo_sandbox.backend import Backend
from qbo_sandbox.entities.common import amount, business, required, same_name


def create_tax_code(backend: Backend, realm_id: str, body: object) -> dict[str, Any]:
    """The TaxCode and any new TaxRates of `body`; 2020 without TaxCode or rates, 6240 for a name in use, 610
    for a rate or agency that does not exist."""
    if not isinstance(body, dict):
        raise business("The request body must be a JSON object.", "TaxService")
    name = str(required(body, "TaxCode"))
    if any(same_name(c.get("Name"), name) for c in backend.list_entities(realm_id, "TaxCode")):
        raise faults.validation(faults.DUPLICATE_NAME, "Duplicate Name Exists Error",
                                f"The name supplied already exists. : {name}", "TaxCode")  # fmt: skip
    details = [_rate(backend, realm_id, dict(d)) for d in required(body, "TaxRateDetails") if isinstance(d, dict)]
    sales = [d for d in details if d.get("TaxApplicableOn", "Sales") == "Sales"]
    code = {"Name": name, "Description": name, "Active": True, "Taxable": True, "TaxGroup": len(details) > 1,
            "SalesTaxRateList": {"TaxRateDetail": [_detail(d) for d in sales]},
            "PurchaseTaxRateList": {"TaxRateDetail": [_detail(d) for d in details if d not in sales]}}  # fmt: skip
    made = backend.install(realm_id, "TaxCode", code)
    return {"TaxCode": name, "TaxCodeId": made["Id"], "TaxRateDetails": details}


def _rate(backend: Backend, realm_id: str, detail: dict[str, Any]) -> dict[str, Any]:
    if detail.get("TaxRateId") not in (None, "", 0):
        found = backend.read(realm_id, "TaxRate", str(detail["TaxRateId"]))
        return {**detail, "TaxRateId": found["Id"], "TaxRateName": found.get("Name")}
    rate_name = str(required(detail, "TaxRateName", "TaxRateDetails.TaxRateName"))
    value = amount(required(detail, "RateValue", "TaxRateDetails.RateValue"), "RateValue")
    if value < 0 or value > Decimal(100):
        raise business("RateValue is a percentage from 0 to 100.", "RateValue")
    agency = str(required(detail, "TaxAgencyId", "TaxRateDetails.TaxAgencyId"))
    backend.read(realm_id, "TaxAgency", agency)  # 610 when there is none
    made = backend.install(realm_id, "TaxRate", {"Name": rate_name, "RateValue": value, "Active": True,
                                                 "AgencyRef": {"value": agency}, "SpecialTaxType": "NONE"})  # fmt: skip
    return {**detail, "TaxRateId": made["Id"], "RateValue": value}


def _detail(detail: dict[str, Any]) -> dict[str, Any]:
    return {"TaxRateRef": {"value": detail["TaxRateId"], "name": detail.get("TaxRateName")},
            "TaxTypeApplicable": "TaxOnAmount"}  # fmt: skip
