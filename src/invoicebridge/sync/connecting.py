"""Connecting a company to QuickBooks and setting up how its books take our invoices.

Connect: `start()` stores a single-use state (a random nonce bound to the admin who started, their company and
an expiry) and gives the authorization URL carrying it, signed with the server's key. `finish()` refuses — before
any code is exchanged and with nothing stored — a state we did not sign, one used before, expired, or started by
another person, and a QuickBooks company other than the connected one unless the admin confirmed the switch at
start. Then it spends the state, trades the code for tokens (stored encrypted) and reads the preferences.
Disconnect revokes the tokens at Intuit and forgets them. Settings are refused until complete and valid
against the company's own accounts and tax codes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from invoicebridge.domain import Conflict, Forbidden, NotConnected, Problem, ValidationError
from invoicebridge.domain.access import OAuthState, Role
from invoicebridge.domain.connection import (
    AccountingMode,
    Connection,
    ConnectionSettings,
    Health,
    QboPreferences,
    TaxModel,
    TokenPair,
)
from invoicebridge.qbo.auth import authorization_url, exchange_code, revoke
from invoicebridge.qbo.client import QboClient, entity_rows
from invoicebridge.qbo.errors import OAuthError
from invoicebridge.sync import context
from invoicebridge.sync.gateway import AuditTrail, ClientFactory
from invoicebridge.sync.matching import quote
from invoicebridge.sync.no_tax import no_tax_code
from invoicebridge.sync.payments import tracking_changed
from invoicebridge.sync.ports import TokenVault, UnitOfWorkFactory
from invoicebridge.sync.reads import all_tax_rates, zero_rate_ids
from invoicebridge.sync.secrets import new_token, same, sign
from invoicebridge.sync.tokens import OAuthSetup, to_pair

STATE_LIFETIME = timedelta(minutes=15)
MAX_STATE = 200  # a nonce, a dot and a signature: anything longer is not ours
ASK_AGAIN = "This QuickBooks answer was not asked for by you, or was used already: start connecting again."
# Accounts looked up per query: up to 1,000 categories may name theirs, and one query naming them all could pass
# QBO's query length (a 502 for the admin's typing) and its default page of 100 rows.
ACCOUNTS_PER_QUERY = 100
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
    no_tax_code_id: str | None = None  # what a 0 % tax rate maps to unless mapped itself (sync/no_tax.py)
    categories: tuple[str, ...] = ()  # the order book's product categories, each of which may get its own account


class Connecting:
    def __init__(
        self, uow: UnitOfWorkFactory, vault: TokenVault, oauth: OAuthSetup, clients: ClientFactory,
        now: Callable[[], datetime], state_key: bytes,
    ) -> None:  # fmt: skip
        self._uow, self._vault, self._oauth, self._clients, self._now = uow, vault, oauth, clients, now
        self._state_key = state_key

    # -- connect / disconnect --------------------------------------------------------------------------
    def start(self, company_id: int, user_id: int, replace_realm: bool = False) -> str:
        """The URL to send the admin to (Intuit's consent page), with a state only they can bring back once.
        `replace_realm`: the admin confirms that another QuickBooks company may replace the connected one.
        Raises NotFound for a company that does not exist."""
        nonce = new_token()
        with self._uow() as uow:
            uow.companies.get(company_id)
            uow.oauth_states.forget_expired(self._now())
            state = OAuthState(nonce, company_id, user_id, replace_realm, self._now() + STATE_LIFETIME)
            uow.oauth_states.add(state)
            uow.commit()
        return authorization_url(self._oauth.app, self._oauth.discovery, f"{nonce}.{sign(self._state_key, nonce)}")

    def finish(self, state: str, code: str, realm_id: str, user_id: int) -> Connection:
        """The callback, for the logged-in `user_id`: check and spend `state`, exchange `code`, store tokens,
        read preferences. Refusals (ValidationError, Forbidden, Conflict) exchange no code and store nothing."""
        company_id = self._spend_state(state, realm_id, user_id)
        tokens = exchange_code(self._oauth.http, self._oauth.app, self._oauth.discovery, code, now=self._now)
        return self.connect_with_tokens(company_id, realm_id, to_pair(tokens))

    def _spend_state(self, state: str, realm_id: str, user_id: int) -> int:
        nonce = self._verified_nonce(state)
        if not realm_id.isascii() or not realm_id.isalnum() or len(realm_id) > 32:
            raise ValidationError.single("realmId", "QuickBooks sent a company id that is not one.")
        with self._uow() as uow:
            saved = uow.oauth_states.get(nonce)
            if saved is None or saved.used_at is not None:
                raise ValidationError.single("state", ASK_AGAIN)
            if saved.user_id != user_id or uow.memberships.roles_of(user_id).get(saved.company_id) is not Role.ADMIN:
                raise Forbidden("Connecting was started by someone else: start connecting again yourself.")
            if saved.expires_at <= self._now():
                raise ValidationError.single("state", "Connecting took too long: start connecting again.")
            previous = uow.connections.get(saved.company_id)
            if previous is not None and previous.realm_id != realm_id and not saved.replace_realm:
                raise Conflict("realmId", (
                    f"This company is connected to QuickBooks company {previous.realm_id}, not {realm_id}. To switch, "
                    "start connecting again and confirm that the other QuickBooks company replaces it."
                ))  # fmt: skip
            if not uow.oauth_states.use(nonce, self._now()):
                raise ValidationError.single("state", ASK_AGAIN)
            uow.commit()
        return saved.company_id

    def connect_with_tokens(self, company_id: int, realm_id: str, tokens: TokenPair) -> Connection:
        """Store a fresh connection (the OAuth callback, or the demo's sandbox tokens)."""
        self._vault.save(company_id, tokens)
        with self._uow() as uow:
            uow.companies.get(company_id)
            previous = uow.connections.get(company_id)
            if previous is not None and previous.realm_id != realm_id:
                uow.qbo_refs.forget_all(company_id)  # another QBO company: remembered ids mean nothing there
                uow.qbo_mirror.clear(company_id)  # and neither does the mirror of the other company
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
        with self._uow() as uow:
            categories = uow.products.categories(company_id)
        return Choices(
            _named(a for a in accounts if a.get("AccountType") == "Income"),
            _named(a for a in accounts if a.get("AccountType") == "Cost of Goods Sold"),
            _named(a for a in accounts if a.get("AccountType") == "Other Current Asset"),
            _named(codes),
            prefs,
            no_tax_code(codes, prefs.tax_model),
            categories,
        )

    def save_settings(self, company_id: int, settings: ConnectionSettings) -> Connection:
        """Refused (ValidationError) until complete and every id names an active QBO object of the right kind.
        A 0 % tax rate left unmapped is mapped to the company's no-tax code (sync/no_tax.py), which is also kept
        for 0 % rates added later."""
        connection = self._connection(company_id)
        with self._uow() as uow:
            rates = all_tax_rates(uow, company_id)
        client = self._client(connection)
        zero = zero_rate_ids(rates)
        settings = self._with_no_tax(connection, client, settings, zero)
        problems = [Problem(f, m) for f, m in settings.problems(sorted(rates), zero)]
        refused = {p.field for p in problems}  # one sentence a field: what is not a category needs no account check
        problems += [p for p in self._check_against_qbo(client, settings) if p.field not in refused]
        if problems:
            raise ValidationError(problems)
        with self._uow() as uow:
            saved = uow.connections.save(replace(connection, settings=settings))
            if settings.track_payments != connection.settings.track_payments:  # opt-in flipped (sync/payments.py)
                tracking_changed(uow, connection, settings.track_payments)
            uow.commit()
        return saved

    def connection(self, company_id: int) -> Connection | None:
        with self._uow() as uow:
            return uow.connections.get(company_id)

    # -- helpers ---------------------------------------------------------------------------------------
    def _with_no_tax(
        self, connection: Connection, client: QboClient, settings: ConnectionSettings, zero: set[int]
    ) -> ConnectionSettings:
        """Outside the US: the settings with the company's no-tax code (one read of its tax codes) and every 0 %
        rate the caller left unmapped mapped to it. US companies map every rate themselves, as before."""
        prefs = context.preferences(self._uow, connection, client, self._now())
        if prefs.tax_model is TaxModel.US:
            return replace(settings, no_tax_code_id=None)
        code = no_tax_code(client.query_all("TaxCode", "Active = true"), prefs.tax_model)
        if code is None:  # no no-tax code at all in this company: its 0 % rates are mapped by hand
            return replace(settings, no_tax_code_id=None)
        mapping = {rate: code for rate in sorted(zero)} | dict(settings.tax_mapping)
        return replace(settings, tax_mapping=mapping, no_tax_code_id=code)

    def _check_against_qbo(self, client: QboClient, settings: ConnectionSettings) -> list[Problem]:
        problems: list[Problem] = []
        wanted = {f: getattr(settings, f) for f in ACCOUNT_KINDS if getattr(settings, f)}
        if settings.mode is AccountingMode.PLAIN:
            wanted = {f: v for f, v in wanted.items() if f == "revenue_account_id"}
        wanted |= {f"category_accounts.{name}": v for name, v in settings.category_accounts.items() if v}
        if wanted:
            found = _accounts(client, sorted(set(wanted.values())))
            for field, account_id in wanted.items():
                account = found.get(account_id)
                allowed = ACCOUNT_KINDS.get(field, ACCOUNT_KINDS["revenue_account_id"])  # a category's: Income
                if account is None or account.get("AccountType") not in allowed:
                    kinds = " or ".join(allowed)
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

    def _verified_nonce(self, state: str) -> str:
        nonce, _, mac = state.partition(".")
        if len(state) > MAX_STATE or not mac or not same(mac, sign(self._state_key, nonce)):
            raise ValidationError.single("state", ASK_AGAIN)
        return nonce


def _named(rows: Any) -> list[dict[str, str]]:
    return [{"id": str(r["Id"]), "name": str(r.get("Name", ""))} for r in rows]


def _accounts(client: QboClient, ids: list[str]) -> dict[str, Any]:
    """QBO's accounts with these ids, by id (an unknown id is left out), asked ACCOUNTS_PER_QUERY at a time. Raises
    what the client raises."""
    found: dict[str, Any] = {}
    for start in range(0, len(ids), ACCOUNTS_PER_QUERY):
        listed = ", ".join(quote(v) for v in ids[start : start + ACCOUNTS_PER_QUERY])
        rows = entity_rows(client.query(f"SELECT * FROM Account WHERE Id IN ({listed})"), "Account")
        found |= {row["Id"]: row for row in rows}
    return found
