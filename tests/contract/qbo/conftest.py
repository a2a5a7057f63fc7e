"""The qbo client against a real qbo_sandbox over HTTP: one server per session, reset before every test.

``company`` is a new app connected to a new US company (sample data); ``client`` is a ``QboClient`` for it
whose sleeps and exchanges are recorded instead of slept / logged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from invoicebridge.qbo.auth import Discovery, OAuthApp, StaticTokenSource, Tokens, TokenSource, parse_tokens
from invoicebridge.qbo.client import Exchange, QboClient, QboConfig

REDIRECT_URI = "http://localhost/callback"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@dataclass
class Company:
    """One sandbox app connected to one sandbox company."""

    base_url: str
    control: httpx.Client
    app: dict[str, Any]
    realm_id: str
    token_response: dict[str, Any]

    @property
    def oauth_app(self) -> OAuthApp:
        return OAuthApp(self.app["client_id"], self.app["client_secret"], REDIRECT_URI)

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid_sandbox_configuration"

    @property
    def discovery(self) -> Discovery:
        base = self.base_url
        return Discovery(
            f"{base}/oauth2/authorize",
            f"{base}/oauth2/v1/tokens/bearer",
            f"{base}/oauth2/v1/tokens/revoke",
            f"{base}/v1/openid_connect/userinfo",
            f"{base}/op/v1",
        )

    @property
    def tokens(self) -> Tokens:
        return parse_tokens(self.token_response, datetime.now(UTC))

    def fault(self, kind: str, **rule: Any) -> None:
        """Inject a fault rule for this company's API requests."""
        made = self.control.post(f"/_sandbox/companies/{self.realm_id}/faults", json={"kind": kind, **rule})
        assert made.status_code == 201, made.text

    def requests(self) -> list[dict[str, Any]]:
        """The sandbox's log of this company's API requests."""
        found = self.control.get(f"/_sandbox/companies/{self.realm_id}/requests")
        return list(found.json()["requests"])

    def advance_clock(self, seconds: float) -> None:
        self.control.post("/_sandbox/clock/advance", json={"seconds": seconds}).raise_for_status()


def connect(control: httpx.Client, **company: Any) -> Company:
    """A new app and a new company (US, sample data unless told otherwise), connected through the control API."""
    app = control.post("/_sandbox/apps", json={"redirect_uris": [REDIRECT_URI]}).json()
    made = control.post("/_sandbox/companies", json={"name": "Test Co", **company})
    assert made.status_code == 201, made.text
    realm_id = str(made.json()["realm_id"])
    tokens = control.post("/_sandbox/tokens", json={"client_id": app["client_id"], "realm_id": realm_id})
    assert tokens.status_code == 200, tokens.text
    return Company(str(control.base_url).rstrip("/"), control, app, realm_id, tokens.json())


@pytest.fixture
def company(control: httpx.Client) -> Company:
    return connect(control)


@dataclass
class Recorder:
    """What the client would have slept and logged."""

    sleeps: list[float] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def make_client(
    company: Company,
    http: httpx.Client,
    recorder: Recorder,
    tokens: TokenSource | None = None,
    **config: Any,
) -> QboClient:
    return QboClient(
        QboConfig(api_base=f"{company.base_url}/v3", **config),
        company.realm_id,
        tokens or StaticTokenSource(company.token_response["access_token"]),
        http,
        on_exchange=recorder.exchanges.append,
        sleep=recorder.sleeps.append,
        jitter=lambda: 1.0,
    )


@pytest.fixture
def client(company: Company, http: httpx.Client, recorder: Recorder) -> QboClient:
    return make_client(company, http, recorder)
