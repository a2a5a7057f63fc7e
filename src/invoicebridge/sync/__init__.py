"""Use cases: the order book now; invoicing, matching, COGS and reconciliation come with later issues."""
