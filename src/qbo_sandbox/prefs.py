"""A new company's Preferences: the ten sections QBO answers, with the fields Intuit's Preferences reference
shows (developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/preferences, and its sample
response; python-quickbooks' ``objects/preferences.py`` models the same sections).

Values are those of a new QBO company (Intuit's sample company where the reference shows one); a field without a
value (``BookCloseDate`` before the books are closed, ``DefaultTerms`` until terms exist) is left out, as QBO answers
only properties that have values. Which sections and fields a non-US company gets differently is unconfirmed: only
the tax fields and ``TaxForm`` (a US form) follow the country here.
"""

from __future__ import annotations

from typing import Any

SECTIONS = (
    "AccountingInfoPrefs", "ProductAndServicesPrefs", "SalesFormsPrefs", "EmailMessagesPrefs",
    "VendorAndPurchasesPrefs", "TimeTrackingPrefs", "TaxPrefs", "CurrencyPrefs", "ReportPrefs", "OtherPrefs",
)  # fmt: skip
THANKS = "Thank you for your business and have a great day!"


def default_preferences(
    country: str, home_currency: str, multicurrency: bool, custom_txn_numbers: bool
) -> dict[str, Any]:
    """Every section of a new company's Preferences (the backend adds Id, SyncToken and MetaData)."""
    us = country == "US"
    accounting: dict[str, Any] = {
        "FirstMonthOfFiscalYear": "January", "TaxYearMonth": "January", "UseAccountNumbers": False,
        "ClassTrackingPerTxn": False, "ClassTrackingPerTxnLine": False, "TrackDepartments": False,
        "DepartmentTerminology": "Location", "CustomerTerminology": "Customers",
    }  # fmt: skip
    if us:
        accounting["TaxForm"] = "6"  # a US tax form (Intuit's sample company)
    return {
        "AccountingInfoPrefs": accounting,
        "ProductAndServicesPrefs": {
            "ForSales": True,
            "ForPurchase": True,
            "QuantityWithPriceAndRate": True,
            "QuantityOnHand": True,
            "RevenueRecognitionEnabled": False,
            "RevenueRecognitionFrequency": "Monthly",
        },
        "SalesFormsPrefs": _sales_forms(custom_txn_numbers),
        "EmailMessagesPrefs": {
            f"{kind}Message": _message(label)
            for kind, label in (
                ("Invoice", "Invoice"),
                ("Estimate", "Estimate"),
                ("SalesReceipt", "Sales Receipt"),
                ("Statement", "Statement"),
            )
        },
        "VendorAndPurchasesPrefs": {
            "TrackingByCustomer": True,
            "BillableExpenseTracking": True,
            "TPAREnabled": False,
            "POCustomField": [{"CustomField": _custom_fields("PurchasePrefs", "Purchase")}],
        },
        "TimeTrackingPrefs": {
            "UseServices": True,
            "BillCustomers": True,
            "ShowBillRateToAll": False,
            "WorkWeekStartDate": "Monday",
            "MarkTimeEntriesBillable": True,
        },
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": us},
        "CurrencyPrefs": {"MultiCurrencyEnabled": multicurrency, "HomeCurrency": {"value": home_currency}},
        "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
        "OtherPrefs": {"NameValue": _other()},
    }


def _sales_forms(custom_txn_numbers: bool) -> dict[str, Any]:
    return {
        "CustomTxnNumbers": custom_txn_numbers, "AllowShipping": True, "AllowDiscount": True, "AllowDeposit": True,
        "AllowEstimates": True, "AllowServiceDate": False, "AutoApplyCredit": True, "AutoApplyPayments": True,
        "DefaultCustomerMessage": THANKS, "EmailCopyToCompany": False, "ETransactionEnabledStatus": "NotApplicable",
        "ETransactionAttachPDF": False, "ETransactionPaymentEnabled": False, "IPNSupportEnabled": False,
        "UsingPriceLevels": False, "UsingProgressInvoicing": False,
        "CustomField": [{"CustomField": _custom_fields("SalesFormsPrefs", "Sales")}],
    }  # fmt: skip


def _message(label: str) -> dict[str, str]:
    """QBO's default e-mail text; the bracketed names are filled in when the form is sent."""
    return {
        "Subject": f"{label} [{label} No.] from [Company Name]",
        "Message": f"Dear [Full Name],\n\nPlease find your {label.lower()} attached.\n\n{THANKS}\n\n[Company Name]",
    }


def _custom_fields(prefix: str, kind: str) -> list[dict[str, Any]]:
    """Three custom fields, unused (QBO's shape: a Use… flag per field)."""
    return [{"Name": f"{prefix}.Use{kind}Custom{n}", "Type": "BooleanType", "BooleanValue": False} for n in (1, 2, 3)]


def _other() -> list[dict[str, str]]:
    pairs = [
        ("SalesFormsPrefs.DefaultCustomerMessage", THANKS), ("DTXCopyMemo", "false"),
        ("DateFormat", "Month Date Year separated by a slash"), ("DateFormatMnemonic", "MMDDYYYY"),
        ("NumberFormat", "US Number Format"), ("NumberFormatMnemonic", "US_NB"),
        ("WarnDuplicateCheckNumber", "true"), ("WarnDuplicateBillNumber", "false"),
        ("WarnDuplicateJournalNumber", "false"),
    ]  # fmt: skip
    return [{"Name": name, "Value": value} for name, value in pairs]
