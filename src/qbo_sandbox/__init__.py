"""qbo_sandbox: a local QuickBooks Online that QBO clients cannot tell from the real one.

Run it with ``qbo-sandbox serve`` (or ``python -m qbo_sandbox``); see README.md in this package.
"""

from __future__ import annotations

__all__: list[str] = []
