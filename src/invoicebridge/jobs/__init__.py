"""invoicebridge.jobs — see DESIGN.md §2."""
