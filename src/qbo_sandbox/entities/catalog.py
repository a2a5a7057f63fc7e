"""Every entity described declaratively (describe.Spec), by name — what entities/__init__ dispatches to besides
the hand-written rules of Customer, Item, Account, Term, Invoice, JournalEntry and the company objects."""

from __future__ import annotations

from qbo_sandbox.entities import attachable, names, purchases, recurring, sales
from qbo_sandbox.entities.describe import Spec

SPECS: dict[str, Spec] = {
    spec.name: spec for spec in (*names.SPECS, *sales.SPECS, *purchases.SPECS, *attachable.SPECS, *recurring.SPECS)
}
