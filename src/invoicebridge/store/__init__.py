"""invoicebridge.store — see DESIGN.md §2."""
