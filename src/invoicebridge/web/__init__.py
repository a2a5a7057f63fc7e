"""invoicebridge.web — see DESIGN.md §2."""
