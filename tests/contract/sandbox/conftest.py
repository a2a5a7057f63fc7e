"""A real sandbox over real HTTP: one uvicorn server per test session, reset before every test.

``qbo`` gives a test an app, a connected company and an httpx client that calls the API as a QBO client would
(``qbo.get("query", params=...)``, ``qbo.post("invoice", json=...)``); ``control`` is a plain client for
``/_sandbox``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

MINOR_VERSION = "75"


@dataclass
class Qbo:
    """One app connected to one company, calling the API as a QBO client does."""

    http: httpx.Client
    app: dict[str, Any]
    company: dict[str, Any]
    tokens: dict[str, Any]

    @property
    def realm_id(self) -> str:
        return str(self.company["realm_id"])

    def url(self, path: str) -> str:
        return f"/v3/company/{self.realm_id}/{path}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}", "Accept": "application/json"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(self.url(path), params={"minorversion": MINOR_VERSION, **params}, headers=self.headers())

    def post(self, path: str, json: Any = None, **params: Any) -> httpx.Response:
        return self.http.post(
            self.url(path), params={"minorversion": MINOR_VERSION, **params}, json=json, headers=self.headers()
        )

    def query(self, text: str) -> httpx.Response:
        return self.get("query", query=text)

    def rows(self, text: str) -> list[dict[str, Any]]:
        """The objects a query finds (asserting it succeeded)."""
        response = self.query(text)
        assert response.status_code == 200, response.text
        body = response.json()["QueryResponse"]
        found = re.search(r"\bfrom\s+(\w+)", text, re.IGNORECASE)
        entity = found.group(1) if found else ""
        return list(next((v for k, v in body.items() if k.lower() == entity.lower()), []))


def connect(control: httpx.Client, **company: Any) -> Qbo:
    """A new app and a new company (US, sample data unless told otherwise), connected."""
    app = control.post("/_sandbox/apps", json={"redirect_uris": ["http://localhost/callback"]}).json()
    made = control.post("/_sandbox/companies", json={"name": "Test Co", **company})
    assert made.status_code == 201, made.text
    tokens = control.post("/_sandbox/tokens", json={"client_id": app["client_id"], "realm_id": made.json()["realm_id"]})
    assert tokens.status_code == 200, tokens.text
    return Qbo(control, app, made.json(), tokens.json())


@pytest.fixture
def qbo(control: httpx.Client) -> Qbo:
    return connect(control)
