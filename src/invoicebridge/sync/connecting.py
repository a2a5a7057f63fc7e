"""Connecting a company to QuickBooks and setting up how its books take our invoices.

Connect: `start()` gives the authorization URL with a signed `state` (company, nonce, expiry — HMAC with the
app secret, so no server-side storage and no CSRF: a state we did not sign, or one that expired, is refused);
`finish()` checks it, trades the code for tokens (stored encrypted) and reads the company's preferences.
Disconnect revokes the tokens at Intuit and forgets them. Settings are refused until complete and valid
against the company's own accounts and tax codes.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from invoicebridge.domain import NotConnected, Problem, ValidationError
from invoicebridge.domain.connection import (
    AccountingMode,
    Connection,
    ConnectionSettings,
    Health,
    QboPreferences,
    TokenPair,
)
from invoicebridge.qbo.auth import authorization_url, exchange_code, revoke
from invoicebridge.qbo.client import QboClient, entity_rows
from invoicebridge.qbo.errors import OAuthError
from invoicebridge.sync import context
from invoicebridge.sync.gateway import AuditTrail, ClientFactory
from invoicebridge.sync.matching import quote
from invoicebridge.sync.ports import TokenVault, UnitOfWorkFactory
from invoicebridge.sync.reads import all_tax_rates
from invoicebridge.sync.tokens import OAuthSetup, to_pair

STATE_LIFETIME = timedelta(minutes=15)
ACCOUNT_KINDS = {
    "revenue_account_id": ("Income",),
    "cogs_account_id": ("Cost of Goods Sold",),
    "inventory_asset_account_id": ("Other Current Asset",),
}


@dataclass(frozen=True)
class Choices:
    """What the settings wizard offers: the company's QBO accounts and tax codes, our tax rates."""

    income_accounts: list[dict[str, str]]
    cogs_accounts: list[dict[str, str]]
    asset_accounts: list[dict[str, str]]
    tax_codes: list[dict[str, str]]
    preferences: QboPreferences


class Connecting:
    def __init__(
        self, uow: UnitOfWorkFactory, vault: TokenVault, oauth: OAuthSetup, clients: ClientFactory,
        now: Callable[[], datetime],
    ) -> None:  # fmt: skip
        self._uow, self._vault, self._oauth, self._clients, self._now = uow, vault, oauth, clients, now

    # -- connect / disconnect --------------------------------------------------------------------------
    def start(self, company_id: int) -> str:
        """The URL to send the user to (Intuit's consent page)."""
        return authorization_url(self._oauth.app, self._oauth.discovery, self._sign(company_id))

    def finish(self, state: str, code: str, realm_id: str) -> Connection:
        """The callback: check `state`, exchange `code`, store tokens, read preferences."""
        company_id = self._verify(state)
        tokens = exchange_code(self._oauth.http, self._oauth.app, self._oauth.discovery, code, now=self._now)
        return self.connect_with_tokens(company_id, realm_id, to_pair(tokens))

    def connect_with_tokens(self, company_id: int, realm_id: str, tokens: TokenPair) -> Connection:
        """Store a fresh connection (the OAuth callback, or the demo's sandbox tokens)."""
        self._vault.save(company_id, tokens)
        with self._uow() as uow:
            uow.companies.get(company_id)
            previous = uow.connections.get(company_id)
            if previous is not None and previous.realm_id != realm_id:
                uow.qbo_refs.forget_all(company_id)  # another QBO company: remembered ids mean nothing there
            settings = previous.settings if previous and previous.realm_id == realm_id else ConnectionSettings()
            connection = Connection(
                company_id, realm_id, Health.CONNECTED, self._now(), tokens.refresh_expires_at, None, settings
            )
            uow.connections.save(connection)
            uow.commit()
        return self.refresh_preferences(company_id)

    def disconnect(self, company_id: int) -> None:
        """Revoke at Intuit (best effort: a token already dead is fine) and forget the tokens."""
        tokens = self._vault.load(company_id)
        if tokens is not None:
            with contextlib.suppress(OAuthError):  # revoked or expired already: disconnecting must still work
                revoke(self._oauth.http, self._oauth.app, self._oauth.discovery, tokens.refresh_token)
        self._vault.delete(company_id)
        with self._uow() as uow:
            connection = uow.connections.get(company_id)
            if connection is not None:
                uow.connections.save(replace(connection, health=Health.DISCONNECTED))
            uow.commit()

    # -- settings --------------------------------------------------------------------------------------
    def refresh_preferences(self, company_id: int) -> Connection:
        connection = self._connection(company_id)
        context.preferences(self._uow, connection, self._client(connection), self._now(), refresh=True)
        return self._connection(company_id)

    def choices(self, company_id: int) -> Choices:
        connection = self._connection(company_id)
        client = self._client(connection)
        accounts = client.query_all("Account", "Active = true")
        codes = client.query_all("TaxCode", "Active = true")
        prefs = context.preferences(self._uow, connection, client, self._now())
        return Choices(
            _named(a for a in accounts if a.get("AccountType") == "Income"),
            _named(a for a in accounts if a.get("AccountType") == "Cost of Goods Sold"),
            _named(a for a in accounts if a.get("AccountType") == "Other Current Asset"),
            _named(codes),
            prefs,
        )

    def save_settings(self, company_id: int, settings: ConnectionSettings) -> Connection:
        """Refused (ValidationError) until complete and every id names an active QBO object of the right kind."""
        connection = self._connection(company_id)
        with self._uow() as uow:
            rate_ids = sorted(all_tax_rates(uow, company_id))
        problems = [Problem(f, m) for f, m in settings.problems(rate_ids)]
        problems += self._check_against_qbo(self._client(connection), settings)
        if problems:
            raise ValidationError(problems)
        with self._uow() as uow:
            saved = uow.connections.save(replace(connection, settings=settings))
            uow.commit()
        return saved

    def connection(self, company_id: int) -> Connection | None:
        with self._uow() as uow:
            return uow.connections.get(company_id)

    # -- helpers ---------------------------------------------------------------------------------------
    def _check_against_qbo(self, client: QboClient, settings: ConnectionSettings) -> list[Problem]:
        problems: list[Problem] = []
        wanted = {f: getattr(settings, f) for f in ACCOUNT_KINDS if getattr(settings, f)}
        if settings.mode is AccountingMode.PLAIN:
            wanted = {f: v for f, v in wanted.items() if f == "revenue_account_id"}
        if wanted:
            ids = ", ".join(quote(v) for v in wanted.values())
            found = {
                a["Id"]: a for a in entity_rows(client.query(f"SELECT * FROM Account WHERE Id IN ({ids})"), "Account")
            }
            for field, account_id in wanted.items():
                account = found.get(account_id)
                if account is None or account.get("AccountType") not in ACCOUNT_KINDS[field]:
                    kinds = " or ".join(ACCOUNT_KINDS[field])
                    problems.append(
                        Problem(field, f"Account {account_id} is not an active {kinds} account in QuickBooks.")
                    )
        codes = sorted(set(settings.tax_mapping.values()) - {"TAX", "NON"})
        if codes:
            listed = ", ".join(quote(c) for c in codes)
            known = {
                c["Id"] for c in entity_rows(client.query(f"SELECT * FROM TaxCode WHERE Id IN ({listed})"), "TaxCode")
            }
            for rate_id, code in settings.tax_mapping.items():
                if code not in known and code not in ("TAX", "NON"):
                    problems.append(
                        Problem(f"tax_mapping.{rate_id}", f"Tax code {code} is not an active QuickBooks tax code.")
                    )
        return problems

    def _connection(self, company_id: int) -> Connection:
        with self._uow() as uow:
            connection = uow.connections.get(company_id)
        if connection is None or connection.health is Health.DISCONNECTED:
            raise NotConnected("QuickBooks is not connected for this company: connect QuickBooks first.")
        return connection

    def _client(self, connection: Connection) -> QboClient:
        return self._clients(connection, AuditTrail())

    def _sign(self, company_id: int) -> str:
        expires = int((self._now() + STATE_LIFETIME).timestamp())
        body = f"{company_id}.{secrets.token_urlsafe(12)}.{expires}"
        return f"{body}.{self._mac(body)}"

    def _verify(self, state: str) -> int:
        body, _, mac = state.rpartition(".")
        parts = body.split(".")
        if len(parts) != 3 or not hmac.compare_digest(mac, self._mac(body)):
            raise ValidationError.single(
                "state", "This QuickBooks answer was not asked for by us: start connecting again."
            )
        if int(parts[2]) < self._now().timestamp():
            raise ValidationError.single("state", "Connecting took too long: start connecting again.")
        return int(parts[0])

    def _mac(self, body: str) -> str:
        key = self._oauth.app.client_secret.encode()
        digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _named(rows: Any) -> list[dict[str, str]]:
    return [{"id": str(r["Id"]), "name": str(r.get("Name", ""))} for r in rows]
