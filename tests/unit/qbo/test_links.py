"""Links into QBO (production, Intuit sandbox) and into qbo_sandbox's own pages."""

from __future__ import annotations

import pytest

from invoicebridge.qbo.links import credit_memo_url, invoice_url, journal_entry_url


def test_production_invoice_link() -> None:
    assert invoice_url("production", "123", "45") == "https://app.qbo.intuit.com/app/invoice?txnId=45"


def test_intuit_sandbox_invoice_link() -> None:
    assert invoice_url("sandbox", "123", "45") == "https://app.sandbox.qbo.intuit.com/app/invoice?txnId=45"


def test_qbo_sandbox_invoice_link_names_the_realm() -> None:
    url = invoice_url("local", "123", "45", sandbox_base="http://127.0.0.1:8765/")

    assert url == "http://127.0.0.1:8765/app/invoice?txnId=45&realmId=123"


def test_journal_entry_link() -> None:
    assert journal_entry_url("production", "1", "9") == "https://app.qbo.intuit.com/app/journal?txnId=9"


def test_credit_memo_links_open_qbos_credit_memo_page() -> None:
    assert credit_memo_url("production", "1", "77") == "https://app.qbo.intuit.com/app/creditmemo?txnId=77"
    assert credit_memo_url("sandbox", "1", "77") == "https://app.sandbox.qbo.intuit.com/app/creditmemo?txnId=77"
    local = credit_memo_url("local", "123", "77", sandbox_base="http://127.0.0.1:8765")
    assert local == "http://127.0.0.1:8765/app/creditmemo?txnId=77&realmId=123"


def test_an_unknown_environment_without_sandbox_base_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown QBO environment"):
        invoice_url("staging", "1", "2")
