"""Sales transactions beyond the invoice: Payment, SalesReceipt, CreditMemo, RefundReceipt, Estimate.

Per Intuit's API reference (all-entities/<entity>): Payment needs CustomerRef and TotalAmt and can be voided;
SalesReceipt needs Line and can be voided; CreditMemo and Estimate need CustomerRef and Line; RefundReceipt needs
Line and DepositToAccountRef. All can be deleted. Their sales lines, tax and totals follow the invoice's rules
(invoice.py), so a line QBO accepts on an invoice is accepted here too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbo_sandbox.entities import invoice as invoice_rules
from qbo_sandbox.entities import payments
from qbo_sandbox.entities.common import Outcome, RealmView, required
from qbo_sandbox.entities.describe import TXN, Effect, Own, Spec, zeroed


def _sales_lines(status: dict[str, Any]) -> Own:
    """Lines, tax and TotalAmt as on an invoice, then the form's own status fields (`"=TotalAmt"`: the total)."""

    def rule(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
        lines, subtotal, _ = invoice_rules._lines(view, required(entity, "Line"))
        tax = invoice_rules._tax(view, entity, lines)
        total = subtotal if entity.get("GlobalTaxCalculation") == "TaxInclusive" else subtotal + tax
        entity["Line"] = [*lines, {"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}]
        entity["TotalAmt"] = total
        for key, value in status.items():
            entity[key] = total if value == "=TotalAmt" else value
        return []

    return rule


def _payment(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    return payments.apply(view, "Payment", entity, current)


def _void_payment(view: RealmView, current: dict[str, Any]) -> Outcome:
    outcome = zeroed(view, current)
    outcome.side_effects = payments.released(view, "Payment", current)
    return outcome


def _delete_payment(view: RealmView, current: dict[str, Any]) -> list[Effect]:
    return payments.released(view, "Payment", current)


CUSTOMER = {"CustomerRef": "Customer", "ARAccountRef": "Account", "DepositToAccountRef": "Account",
            "PaymentMethodRef": "PaymentMethod", "ClassRef": "Class", "DepartmentRef": "Department"}  # fmt: skip

PAYMENT = Spec(
    "Payment", TXN | {"void"}, required=("CustomerRef", "TotalAmt"), references=CUSTOMER, dated=True,
    currency=True, defaults={"ProcessPayment": False}, own=_payment, voided=_void_payment,
    deleted=_delete_payment,
)  # fmt: skip
SALES_RECEIPT = Spec(
    "SalesReceipt", TXN | {"void"}, required=("Line",), references=CUSTOMER, dated=True, currency=True,
    own=_sales_lines({"Balance": Decimal(0)}), voided=zeroed,
)  # fmt: skip
CREDIT_MEMO = Spec(
    "CreditMemo", TXN, required=("CustomerRef", "Line"), references=CUSTOMER, dated=True, currency=True,
    own=_sales_lines({"Balance": "=TotalAmt", "RemainingCredit": "=TotalAmt"}),
)  # fmt: skip
REFUND_RECEIPT = Spec(
    "RefundReceipt", TXN, required=("Line", "DepositToAccountRef"), references=CUSTOMER, dated=True,
    currency=True, own=_sales_lines({"Balance": Decimal(0)}),
)  # fmt: skip
ESTIMATE = Spec(
    "Estimate", TXN, required=("CustomerRef", "Line"), references=CUSTOMER, dated=True, currency=True,
    defaults={"TxnStatus": "Pending"}, own=_sales_lines({}),
)  # fmt: skip
SPECS = (PAYMENT, SALES_RECEIPT, CREDIT_MEMO, REFUND_RECEIPT, ESTIMATE)
