"""The production TokenSource: tokens from the encrypted vault, refreshed under the vault's per-company lock
(the new refresh token stored in the same transaction), connection health updated on success and failure."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from invoicebridge.domain import NotConnected
from invoicebridge.domain.connection import RECONNECT_MESSAGE, TokenPair
from invoicebridge.qbo.auth import Discovery, OAuthApp, Tokens, load_discovery, refresh_tokens
from invoicebridge.qbo.errors import OAuthError
from invoicebridge.sync.ports import TokenVault, UnitOfWorkFactory

MARGIN = timedelta(seconds=60)  # refresh a token that expires within a minute rather than send it


class OAuthSetup:
    """The app's credentials and Intuit's (or the sandbox's) endpoints, read from the discovery document on
    first use (nothing is fetched while the application starts)."""

    def __init__(self, app: OAuthApp, discovery_url: str, http: httpx.Client) -> None:
        self.app, self.discovery_url, self.http = app, discovery_url, http
        self._discovery: Discovery | None = None
        self._lock = threading.Lock()

    @property
    def discovery(self) -> Discovery:
        with self._lock:
            if self._discovery is None:
                self._discovery = load_discovery(self.http, self.discovery_url)
            return self._discovery


def to_pair(tokens: Tokens) -> TokenPair:
    hard = tokens.refresh_hard_expires_at
    refresh_until = min(tokens.refresh_expires_at, hard) if hard else tokens.refresh_expires_at
    return TokenPair(tokens.access_token, tokens.refresh_token, tokens.access_expires_at, refresh_until)


class VaultTokenSource:
    """A company's bearer tokens for QboClient (implements qbo.auth.TokenSource)."""

    def __init__(
        self, company_id: int, vault: TokenVault, oauth: OAuthSetup, uow: UnitOfWorkFactory, now: Callable[[], datetime]
    ) -> None:
        self._company_id, self._vault, self._oauth, self._uow, self._now = company_id, vault, oauth, uow, now
        self._held: TokenPair | None = None  # the last good pair: one vault read (and decrypt) serves many calls

    def access_token(self) -> str:
        if self._held is None or not self._usable(self._held):
            self._held = self._vault.load(self._company_id)
        if self._held is None:
            raise NotConnected("QuickBooks is not connected for this company: connect QuickBooks first.")
        if self._usable(self._held):
            return self._held.access_token
        return self._refresh(force=False)

    def _usable(self, tokens: TokenPair) -> bool:
        return tokens.access_expires_at - MARGIN > self._now()

    def force_refresh(self) -> str:
        return self._refresh(force=True)

    def _refresh(self, force: bool) -> str:
        seen = self._vault.load(self._company_id)

        def refresh(current: TokenPair) -> TokenPair | None:
            # Another worker may have refreshed while we waited for the lock: use its tokens.
            if self._usable(current) and not (force and current == seen):
                return None
            tokens = refresh_tokens(
                self._oauth.http, self._oauth.app, self._oauth.discovery, current.refresh_token, now=self._now
            )
            return to_pair(tokens)

        try:
            fresh = self._vault.refresh_locked(self._company_id, refresh)
        except LookupError:
            raise NotConnected("QuickBooks is not connected for this company: connect QuickBooks first.") from None
        except OAuthError as error:
            self._record_failure(error)
            if error.needs_reconnect:
                raise NotConnected(RECONNECT_MESSAGE) from error
            raise
        self._held = fresh
        self._record_success(fresh)
        return fresh.access_token

    def _record_success(self, fresh: TokenPair) -> None:
        with self._uow() as uow:
            connection = uow.connections.get(self._company_id)
            if connection is not None:
                uow.connections.save(connection.refreshed(fresh.refresh_expires_at))
                uow.commit()

    def _record_failure(self, error: OAuthError) -> None:
        with self._uow() as uow:
            connection = uow.connections.get(self._company_id)
            if connection is not None:
                uow.connections.save(connection.refresh_failed(str(error), final=error.needs_reconnect))
                uow.commit()
