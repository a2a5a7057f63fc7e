"""Sample companies seeded the way Intuit's sandbox companies are: a chart of accounts with income, cost of
goods sold and inventory asset accounts; terms; tax codes and rates fitting the country (US sales tax with the
TAX/NON pseudo codes; GB VAT; CA GST/HST/PST; AU GST); customers and items with SKUs; currencies when
multicurrency is on.

References between seeded objects are by name (`{"name": "Net 30"}`); `companies.create_company` resolves them
to the Ids the backend assigns. Amounts are Decimal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbo_sandbox import prefs

HOME_CURRENCY = {"US": "USD", "GB": "GBP", "CA": "CAD", "AU": "AUD"}
TIME_ZONE = {"US": "America/Los_Angeles", "GB": "Europe/London", "CA": "America/Toronto", "AU": "Australia/Sydney"}
COUNTRIES = tuple(HOME_CURRENCY)
COMPANY_START_DATE = "2025-01-01"  # also the date of the seeded exchange rates

ACCOUNTS = [
    ("Sales of Product Income", "Income", "SalesOfProductIncome"),
    ("Services", "Income", "ServiceFeeIncome"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    ("Inventory Asset", "Other Current Asset", "Inventory"),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    ("Checking", "Bank", "Checking"),
    ("Sales Tax Payable", "Other Current Liability", "GlobalTaxPayable"),
    ("Opening Balance Equity", "Equity", "OpeningBalanceEquity"),
    # what Intuit's sample company adds for purchases: payables, a second bank account, two cards, expenses
    ("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
    ("Savings", "Bank", "Savings"),
    ("Mastercard", "Credit Card", "CreditCard"),
    ("Visa", "Credit Card", "CreditCard"),
    ("Advertising", "Expense", "AdvertisingPromotional"),
    ("Office Expenses", "Expense", "OfficeGeneralAdministrativeExpenses"),
    ("Rent or Lease", "Expense", "RentOrLeaseOfBuildings"),
    ("Utilities", "Expense", "Utilities"),
    ("Job Expenses", "Expense", "SuppliesMaterials"),
]
TERMS = [("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60)]
DEFAULT_TERMS = "Net 30"

# (name, [(rate name, percent)]) per country; the US adds the TAX and NON pseudo codes.
TAX: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "US": [("California", [("California State", "7.25"), ("San Francisco County", "1.375")])],
    "GB": [("20.0% S", [("20.0% S", "20")]), ("5.0% R", [("5.0% R", "5")]), ("0.0% Z", [("0.0% Z", "0")]),
           ("Exempt", [("Exempt", "0")]), ("No VAT", [("No VAT", "0")])],
    "CA": [("GST", [("GST", "5")]), ("HST ON", [("HST ON", "13")]), ("GST/PST BC", [("GST", "5"), ("PST BC", "7")]),
           ("Exempt", [("Exempt", "0")]), ("Zero-rated", [("Zero-rated", "0")])],
    "AU": [("GST", [("GST", "10")]), ("GST free", [("GST free", "0")]), ("Input taxed", [("Input taxed", "0")])],
}  # fmt: skip

CUSTOMERS = [
    ("Amy's Bird Sanctuary", "Birds@Intuit.com", "4581 Finch St.", "Bayshore", "CA", "94326", None),
    ("Bill's Windsurf Shop", "Surf@Intuit.com", "12 Ocean Dr.", "Half Moon Bay", "CA", "94213", "Net 30"),
    ("Cool Cars", "Cool_Cars@intuit.com", "65 Ocean Dr.", "Half Moon Bay", "CA", "94213", None),
    ("Diego Rodriguez", "Diego@Rodriguez.com", "321 Channing", "Palo Alto", "CA", "94303", None),
    ("Dukes Basketball Camp", "Dukes_bball@intuit.com", "25 Court St.", "Tucson", "AZ", "85719", "Net 15"),
    ("Freeman Sporting Goods", "Sporting_goods@intuit.com", "370 Easy St.", "Middlefield", "CA", "94482", None),
    ("Geeta Kalapatapu", "Geeta@Kalapatapu.com", "1987 Main St.", "Middlefield", "CA", "94303", None),
    ("Jeff's Jalopies", "Jalopies@intuit.com", "12 Willow Rd.", "Menlo Park", "CA", "94305", None),
    ("John Melton", "John@Melton.com", "85 Pine St.", "Menlo Park", "CA", "94304", "Due on receipt"),
    ("Kookies by Kathy", "qbwebsamplecompany@yahoo.com", "789 Sugar Lane", "Middlefield", "CA", "94303", None),
    ("Mark Cho", "Mark@Cho.com", "36 Willow Rd", "Menlo Park", "CA", "94304", None),
    ("Paulsen Medical Supplies", "Medical@intuit.com", "900 Main St.", "Middlefield", "CA", "94303", None),
]
# (name, sku, type, price, cost, quantity on hand)
ITEMS = [
    ("Design", "SRV-DESIGN", "Service", "75", "0", None),
    ("Installation", "SRV-INSTALL", "Service", "50", "0", None),
    ("Gardening", "SRV-GARDEN", "Service", "25", "0", None),
    ("Rock Fountain", "RF-100", "NonInventory", "275", "125", None),
    ("Sprinkler Heads", "SPR-HEAD", "NonInventory", "2", "0.75", None),
    ("Pump", "PUMP-1", "Inventory", "15", "10", "25"),
    ("Sod", "SOD-1", "Inventory", "20", "12", "100"),
]
# Vendors, employees and other lists named as in Intuit's sample company (display names unique across customers,
# vendors and employees): (name, e-mail, terms)
VENDORS = [
    ("Books by Bessie", "Books@Intuit.com", "Net 15"), ("Brosnahan Insurance Agency", None, None),
    ("Cal Telephone", None, "Net 30"), ("Computers by Jenni", "Msfixit@Intuit.com", None),
    ("Hicks Hardware", None, "Net 30"), ("Lee Advertising", None, None), ("Norton Lumber and Building Materials",
    "Materials@intuit.com", "Net 30"), ("PG&E", "utilities@noemail.com", "Net 15"), ("Tania's Nursery",
    "plantqueen@taniasnursery.com", None),
]  # fmt: skip
EMPLOYEES = [("Emily", "Platt"), ("John", "Johnson")]
CLASSES = ["Landscaping", "Design", "Maintenance"]
DEPARTMENTS = ["Garden Center", "Mobile Crew"]
PAYMENT_METHODS = [("Cash", "NON_CREDIT_CARD"), ("Check", "NON_CREDIT_CARD"), ("Visa", "CREDIT_CARD"),
                   ("MasterCard", "CREDIT_CARD")]  # fmt: skip
EXTRA_CURRENCIES = {"USD": ("EUR", "GBP", "CAD"), "GBP": ("EUR", "USD"), "CAD": ("USD", "EUR"), "AUD": ("USD", "NZD")}
RATES_TO_HOME = {"EUR": "1.08", "GBP": "1.27", "CAD": "0.73", "USD": "1", "NZD": "0.60", "AUD": "0.65"}


def default_preferences(country: str, multicurrency: bool, custom_txn_numbers: bool) -> dict[str, Any]:
    """All ten sections QBO answers (prefs.py)."""
    return prefs.default_preferences(country, HOME_CURRENCY[country], multicurrency, custom_txn_numbers)


def default_company_info(name: str, country: str) -> dict[str, Any]:
    return {
        "CompanyName": name, "LegalName": name, "Country": country, "CompanyStartDate": COMPANY_START_DATE,
        "DefaultTimeZone": TIME_ZONE[country], "SupportedLanguages": "en",
        "CompanyAddr": {"Line1": "2500 Garcia Ave", "City": "Mountain View", "Country": country},
    }  # fmt: skip


def tax_codes(country: str) -> list[tuple[str, list[tuple[str, Decimal]]]]:
    return [(name, [(rate, Decimal(p)) for rate, p in rates]) for name, rates in TAX[country]]


def sample_customers(country: str, home: str) -> list[dict[str, Any]]:
    return [
        {"DisplayName": name, "CompanyName": name, "PrimaryEmailAddr": {"Address": email},
         "BillAddr": {"Line1": line1, "City": city, "CountrySubDivisionCode": region, "PostalCode": postal,
                      "Country": country},
         **({"SalesTermRef": {"name": terms}} if terms else {})}
        for name, email, line1, city, region, postal, terms in CUSTOMERS
    ]  # fmt: skip


def sample_items() -> list[dict[str, Any]]:
    items = []
    for name, sku, kind, price, cost, on_hand in ITEMS:
        item: dict[str, Any] = {
            "Name": name, "Sku": sku, "Type": kind, "UnitPrice": Decimal(price), "PurchaseCost": Decimal(cost),
            "IncomeAccountRef": {"name": "Services" if kind == "Service" else "Sales of Product Income"},
        }  # fmt: skip
        if kind == "Inventory":
            item.update(AssetAccountRef={"name": "Inventory Asset"}, ExpenseAccountRef={"name": "Cost of Goods Sold"},
                        QtyOnHand=Decimal(on_hand or "0"), InvStartDate="2025-01-01", TrackQtyOnHand=True)  # fmt: skip
        items.append(item)
    return items


def sample_vendors() -> list[dict[str, Any]]:
    return [
        {"DisplayName": name, "CompanyName": name, **({"PrimaryEmailAddr": {"Address": email}} if email else {}),
         **({"TermRef": {"name": terms}} if terms else {})}
        for name, email, terms in VENDORS
    ]  # fmt: skip


def sample_lists() -> list[tuple[str, dict[str, Any]]]:
    """Employees, classes, departments and payment methods, as (entity, body)."""
    made: list[tuple[str, dict[str, Any]]] = [("Employee", {"GivenName": g, "FamilyName": f}) for g, f in EMPLOYEES]
    made += [("Class", {"Name": name}) for name in CLASSES]
    made += [("Department", {"Name": name}) for name in DEPARTMENTS]
    return made + [("PaymentMethod", {"Name": name, "Type": kind}) for name, kind in PAYMENT_METHODS]
