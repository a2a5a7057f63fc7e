"""invoicebridge: sales orders in, QuickBooks Online invoices out. See README.md and DESIGN.md."""

from __future__ import annotations

__all__: list[str] = []
