"""python-quickbooks pointed at the sandbox as its users point it at QBO (see test_compat_python_quickbooks.py): an
intuit-oauth AuthClient on the sandbox's discovery URL and a QuickBooks client on the sandbox's /v3."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from tests.contract.sandbox.conftest import Qbo

from qbo_sandbox.server import SandboxServer


def quickbooks_client(server: SandboxServer, qbo: Qbo) -> QuickBooks:
    """A python-quickbooks client for the app and company of ``qbo`` (it refreshes its token on creation)."""
    auth = AuthClient(
        qbo.app["client_id"], qbo.app["client_secret"], "http://localhost/callback",
        environment=f"{server.url}/.well-known/openid_sandbox_configuration",
    )  # fmt: skip
    client = QuickBooks(
        auth_client=auth, refresh_token=qbo.tokens["refresh_token"], company_id=qbo.realm_id, minorversion=75
    )
    client.api_url_v3 = f"{server.url}/v3"
    return client


@pytest.fixture
def pyqb(
    sandbox_server: SandboxServer, control: httpx.Client, qbo: Qbo, monkeypatch: pytest.MonkeyPatch
) -> Iterator[QuickBooks]:
    """python-quickbooks connected to ``qbo``'s company (a US company with sample data)."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # requests-oauthlib refuses plain http otherwise
    client = quickbooks_client(sandbox_server, qbo)
    yield client
    client.session.close()
