"""invoicebridge.qbo — see DESIGN.md §2."""
