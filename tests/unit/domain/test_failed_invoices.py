"""Grouping failed invoices by reason (domain/failed_invoices.py)."""

from __future__ import annotations

from invoicebridge.domain import InvoiceScope
from invoicebridge.domain.failed_invoices import FailedInvoice, group_failures


def failed(so_id: int, code: str, message: str, number: int = 1) -> FailedInvoice:
    return FailedInvoice(so_id, f"SO-{so_id}", number, InvoiceScope.WHOLE, code, message)


def never(_: str) -> bool:
    return False


def test_failures_with_one_code_are_one_group_whose_sentence_names_no_so() -> None:
    groups = group_failures(
        [failed(2, "6140", "Invoice number SO-2 is already used in QuickBooks. QuickBooks invoice 7 has this number."),
         failed(1, "6140", "Invoice number SO-1 is already used in QuickBooks. QuickBooks invoice 9 has this number.")],
        never,
    )  # fmt: skip
    [group] = groups
    assert group.sentence == "Invoice number [SO number] is already used in QuickBooks."
    assert group.so_numbers == ("SO-1", "SO-2")  # in SO order
    assert group.invoices[0].message.endswith("invoice 9 has this number.")  # each keeps its whole message


def test_the_largest_group_comes_first_and_keys_differ_by_code() -> None:
    groups = group_failures(
        [failed(1, "reconnect", "Reconnect QuickBooks."), failed(2, "10000", "No answer."),
         failed(3, "10000", "No answer.")],
        lambda code: code == "10000",
    )  # fmt: skip
    assert [(g.code, g.count, g.uncertain) for g in groups] == [("10000", 2, True), ("reconnect", 1, False)]
    assert len({g.key for g in groups}) == 2


def test_messages_sharing_nothing_say_the_reasons_differ() -> None:
    [group] = group_failures([failed(1, "invalid", "No rows."), failed(2, "invalid", "A negative price.")], never)
    assert "differ" in group.sentence and group.count == 2


def test_a_later_invoice_of_an_so_is_listed_under_its_so() -> None:
    [group] = group_failures([failed(4, "6000", "Refused.", number=2), failed(4, "6000", "Refused.")], never)
    assert [(f.sales_order_id, f.number) for f in group.invoices] == [(4, 1), (4, 2)]
    assert group.so_numbers == ("SO-4",)
