"""Invoice numbers (QBO `DocNumber`) with a company's optional prefix: "INV-" + "SO-1042" → "INV-SO-1042".

QBO caps DocNumber at 21 characters (shared/qbo-reference.md, "Entities"). Without a prefix the rule of
domain/order_invoices.py stands (the SO number; a later invoice's "-k" suffix shortens the SO number from its
end). With a prefix nothing is ever shortened: prefix + SO number (+ "-k") must fit, else the invoice is refused
before any QuickBooks call with a sentence naming the SO, and it can be retried once the prefix is shorter (or
removed). Shortening silently would give two SOs the same number, or an invoice a number nobody recognises.

SO numbers are unique in a company and every SO takes the same prefix, so prefixed numbers are unique too;
a number made under an earlier prefix is QuickBooks' to refuse (6140), like any number already used there.
"""

from __future__ import annotations

from invoicebridge.domain import checks
from invoicebridge.domain.errors import ValidationError

DOC_NUMBER_MAX = 21  # QBO's Invoice.DocNumber limit
PREFIX_MAX = DOC_NUMBER_MAX - 1  # at least one character is left for the SO number
PREFIX_FIELD = "invoice_number_prefix"


def clean_prefix(value: object) -> str:
    """The prefix as stored: trimmed, "" for none. ValidationError (field `invoice_number_prefix`) when it is not
    text, is longer than PREFIX_MAX, or holds a character that is not printable (tabs, line breaks, control or
    invisible formatting characters)."""
    prefix = checks.text(
        value, PREFIX_FIELD, max_length=PREFIX_MAX, forbidden="\t\n\r", required=False,
        what="The invoice number prefix",
    )  # fmt: skip
    if not prefix.isprintable():
        raise ValidationError.single(PREFIX_FIELD, "The invoice number prefix may hold printable characters only.")
    return prefix


def prefix_problems(prefix: str) -> list[tuple[str, str]]:
    """(field, sentence) for a stored prefix that clean_prefix would not give back as it is (for
    ConnectionSettings.problems: a bad prefix is never saved, whoever sends it)."""
    try:
        cleaned = clean_prefix(prefix)
    except ValidationError as refused:
        return [(p.field, p.message) for p in refused.problems]
    if cleaned != prefix:
        return [(PREFIX_FIELD, "The invoice number prefix cannot begin or end with a space.")]
    return []


def suffixed(order_number: str, slot: int) -> str:
    """The SO number with its slot's suffix, unshortened: "SO-1042", then "SO-1042-2", "SO-1042-3"…"""
    return order_number if slot == 1 else f"{order_number}-{slot}"


def prefixed_doc_number(prefix: str, order_number: str, slot: int) -> str:
    """The DocNumber of the SO's invoice in `slot` under `prefix` (non-empty). ValidationError, naming the SO and
    the length, when it would pass QBO's 21 characters: never shortened."""
    number = prefix + suffixed(order_number, slot)
    if len(number) > DOC_NUMBER_MAX:
        raise ValidationError.single(
            PREFIX_FIELD,
            f"The invoice number {number} ({len(number)} characters) is longer than the {DOC_NUMBER_MAX} characters "
            f"QuickBooks allows: shorten or remove the invoice number prefix {prefix!r} in the QuickBooks settings, "
            "then retry this invoice.",
        )
    return number
