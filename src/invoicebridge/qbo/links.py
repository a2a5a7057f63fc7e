"""Links a user can click to open a QBO object in QuickBooks (or in qbo_sandbox's look-alike UI).

Intuit's web app: production ``https://app.qbo.intuit.com/app/invoice?txnId={Id}``, Intuit sandbox
``https://app.sandbox.qbo.intuit.com/app/invoice?txnId={Id}`` (qbo-reference.md, "Links into QBO"). qbo_sandbox
serves the same path shape under its own base, with ``realmId`` added since it holds many companies.
"""

from __future__ import annotations

from urllib.parse import urlencode

__all__ = ["PRODUCTION_APP", "SANDBOX_APP", "credit_memo_url", "invoice_url", "journal_entry_url"]

PRODUCTION_APP = "https://app.qbo.intuit.com"
SANDBOX_APP = "https://app.sandbox.qbo.intuit.com"
_INTUIT = {"production": PRODUCTION_APP, "sandbox": SANDBOX_APP}


def invoice_url(environment: str, realm_id: str, invoice_id: str, sandbox_base: str | None = None) -> str:
    """The invoice's page. ``environment`` is "production" or "sandbox" (Intuit's); with ``sandbox_base`` (the
    qbo_sandbox server URL) the link goes to qbo_sandbox. ValueError for any other environment."""
    return _link("invoice", environment, realm_id, invoice_id, sandbox_base)


def journal_entry_url(environment: str, realm_id: str, entry_id: str, sandbox_base: str | None = None) -> str:
    """The journal entry's page, on the same rules as :func:`invoice_url`."""
    return _link("journal", environment, realm_id, entry_id, sandbox_base)


def credit_memo_url(environment: str, realm_id: str, credit_memo_id: str, sandbox_base: str | None = None) -> str:
    """The credit memo's page (``…/app/creditmemo?txnId={Id}``), on the same rules as :func:`invoice_url`. The path is
    not in Intuit's API reference; it is the one QBO's own web app opens, and the one public integrations link to
    (e.g. CiviCRM's QuickBooks extension and several RMA tools: ``https://app.qbo.intuit.com/app/creditmemo?txnId=``)."""
    return _link("creditmemo", environment, realm_id, credit_memo_id, sandbox_base)


def _link(page: str, environment: str, realm_id: str, txn_id: str, sandbox_base: str | None) -> str:
    if sandbox_base:
        return f"{sandbox_base.rstrip('/')}/app/{page}?{urlencode({'txnId': txn_id, 'realmId': realm_id})}"
    base = _INTUIT.get(environment.lower())
    if base is None:
        raise ValueError(
            f"Unknown QBO environment {environment!r}: use 'production' or 'sandbox', or pass sandbox_base "
            "for qbo_sandbox."
        )
    return f"{base}/app/{page}?{urlencode({'txnId': txn_id})}"
