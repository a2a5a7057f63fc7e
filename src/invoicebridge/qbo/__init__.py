"""The typed QuickBooks Online client: OAuth, the API client (the only way to call QBO), errors, links, webhooks.

Imports nothing else of invoicebridge and no web or database framework (import-linter enforces it).
"""

from __future__ import annotations

from invoicebridge.qbo.auth import (
    Discovery,
    MemoryTokenSource,
    OAuthApp,
    StaticTokenSource,
    Tokens,
    TokenSource,
    authorization_url,
    exchange_code,
    load_discovery,
    refresh_tokens,
    revoke,
)
from invoicebridge.qbo.client import Exchange, QboClient, QboConfig, batch_error, entity_rows
from invoicebridge.qbo.errors import (
    AuthenticationError,
    AuthorizationError,
    BusinessValidation,
    DuplicateDocNumber,
    DuplicateName,
    InvalidReference,
    OAuthError,
    ObjectNotFound,
    OutcomeUnknown,
    QboError,
    QueryError,
    ServerError,
    StaleObject,
    Throttled,
    ValidationError,
    from_fault,
)
from invoicebridge.qbo.limits import Ledger, Limiter, LimitRules, MemoryLedger, SharedLimiter, Unlimited
from invoicebridge.qbo.links import invoice_url, journal_entry_url
from invoicebridge.qbo.webhooks import EntityChange, parse_notifications, verify_signature

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "BusinessValidation",
    "Discovery",
    "DuplicateDocNumber",
    "DuplicateName",
    "EntityChange",
    "Exchange",
    "InvalidReference",
    "Ledger",
    "LimitRules",
    "Limiter",
    "MemoryLedger",
    "MemoryTokenSource",
    "OAuthApp",
    "OAuthError",
    "ObjectNotFound",
    "OutcomeUnknown",
    "QboClient",
    "QboConfig",
    "QboError",
    "QueryError",
    "ServerError",
    "SharedLimiter",
    "StaleObject",
    "StaticTokenSource",
    "Throttled",
    "TokenSource",
    "Tokens",
    "Unlimited",
    "ValidationError",
    "authorization_url",
    "batch_error",
    "entity_rows",
    "exchange_code",
    "from_fault",
    "invoice_url",
    "journal_entry_url",
    "load_discovery",
    "parse_notifications",
    "refresh_tokens",
    "revoke",
    "verify_signature",
]
