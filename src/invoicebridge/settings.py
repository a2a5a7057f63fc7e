"""The one settings class: the only reader of the environment (variables prefixed INVOICEBRIDGE_)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")
ENVIRONMENTS = ("production", "sandbox", "local")
DISCOVERY = {
    "production": "https://developer.intuit.com/.well-known/openid_configuration/",
    "sandbox": "https://developer.intuit.com/.well-known/openid_sandbox_configuration/",
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
API_BASE = {
    "production": "https://quickbooks.api.intuit.com/v3",
    "sandbox": "https://sandbox-quickbooks.api.intuit.com/v3",
}


class Settings(BaseSettings):
    """Configuration of every entry point; unsafe or invalid values are refused with the reason."""

    model_config = SettingsConfigDict(env_prefix="INVOICEBRIDGE_", extra="forbid")

    data_dir: Path = Path("var")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    # QuickBooks: which QBO ("production", Intuit's "sandbox", or "local" = qbo_sandbox at qbo_sandbox_url)
    qbo_environment: str = "local"
    qbo_sandbox_url: str = "http://127.0.0.1:8765"
    qbo_client_id: str = ""
    qbo_client_secret: SecretStr = SecretStr("")  # SecretStr: never shown in reprs, logs or tracebacks
    qbo_redirect_uri: str = "http://127.0.0.1:8000/oauth/qbo/callback"
    qbo_webhook_verifier_token: SecretStr = SecretStr("")
    qbo_minor_version: int = 75
    qbo_max_attempts: int = 5  # per QBO call, on 429/5xx/no answer (only where a retry is safe)
    qbo_backoff_seconds: float = 0.5  # first retry delay; doubles up to 30 s (QBO's Retry-After wins)
    # QBO's limits per company, kept by one limiter shared by every process (SQLite file in data_dir, or Redis
    # when redis_url is set): requests in any sliding minute, batch requests in any sliding minute, at once.
    # A request counts until a minute plus the margin after it finished; a killed worker's slot is freed after
    # the lease (longer than the 30 s HTTP timeout). See docs/operations.md, "Rate limits".
    qbo_requests_per_minute: int = 500
    qbo_batch_requests_per_minute: int = 40
    qbo_concurrent_requests: int = 10
    qbo_limit_margin_seconds: float = 1.0
    qbo_limit_lease_seconds: float = 90.0
    # Fernet keys for tokens at rest, comma-separated, newest first (MultiFernet: old keys still decrypt).
    # Empty: a key is generated into data_dir/token.key (fine on one machine; set it explicitly elsewhere).
    token_keys: SecretStr = SecretStr("")
    cdc_poll_minutes: int = 1  # the periodic CDC poll per company that catches lost webhooks
    # …paced by webhook health (sync/pacing.py): every cdc_poll_minutes only while a write of ours waits for its
    # webhook echo (or webhooks look lost: none came within webhook_echo_grace_seconds), else every cdc_idle_hours.
    cdc_idle_hours: int = 8
    webhook_echo_grace_seconds: int = 120
    # The meter (sync/meter.py): Intuit's free Builder tier allows 500,000 CorePlus calls (reads) a month across all
    # of an app's companies, then blocks them. 0 = no budget. Past warn_percent of it a warning is logged and shown.
    qbo_coreplus_monthly_budget: int = 500_000
    qbo_coreplus_warn_percent: int = 80
    # A claim (an SO being invoiced) untouched this long belongs to a worker that died: the sweeper resumes it.
    # Longer than any one invoice takes, retries and 429 back-offs included.
    claim_stale_seconds: int = 300
    # The job queue: Redis across machines; else a SQLite file in data_dir. `jobs_immediate` runs each task as it
    # is enqueued, in the enqueuing process (tests; a one-process setup with no worker).
    redis_url: str | None = None
    jobs_immediate: bool = False

    # Access. The secret key signs CSRF tokens and OAuth states; empty: one is generated into data_dir/secret.key
    # (fine on one machine, refused by `serve` beyond localhost). `behind_tls`: the site is reached over https
    # (directly or through a TLS proxy), so cookies are sent with `Secure`.
    secret_key: SecretStr = SecretStr("")
    behind_tls: bool = False
    session_idle_minutes: int = 12 * 60
    session_max_hours: int = 7 * 24
    # Where people reach the site (login links point here), e.g. https://invoices.example.com; default
    # http://host:port. `trusted_proxies`: addresses whose X-Forwarded-For is believed (the login throttle counts
    # failures per client address, which behind a proxy is the proxy's unless it is trusted).
    public_url: str | None = None
    trusted_proxies: str = "127.0.0.1"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        scheme = value.split("://", 1)[0].lower()
        if "://" not in value or scheme not in SUPPORTED_SCHEMES:
            raise ValueError(
                f"unsupported database URL {value.split('://', 1)[0]!r}: use sqlite:///path or postgresql://user@host/db"
            )
        return value.strip()

    @field_validator("port")
    @classmethod
    def _valid_port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError("port must be between 1 and 65535")
        return value

    @field_validator("log_level")
    @classmethod
    def _valid_level(cls, value: str) -> str:
        if value.lower() not in ("critical", "error", "warning", "info", "debug"):
            raise ValueError("log_level must be one of critical, error, warning, info, debug")
        return value.lower()

    @field_validator("qbo_environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in ENVIRONMENTS:
            raise ValueError(f"qbo_environment must be one of {', '.join(ENVIRONMENTS)}")
        return value

    @field_validator("qbo_minor_version")
    @classmethod
    def _supported_minor_version(cls, value: int) -> int:
        if value < 75:
            raise ValueError("qbo_minor_version must be 75 or later (Intuit retired older minor versions in 2025)")
        return value

    @field_validator("claim_stale_seconds")
    @classmethod
    def _sane_stale(cls, value: int) -> int:
        if not 1 <= value <= 86_400:
            raise ValueError("claim_stale_seconds must be between 1 and 86400")
        return value

    @field_validator("cdc_poll_minutes")
    @classmethod
    def _sane_poll(cls, value: int) -> int:
        if not 1 <= value <= 59:
            raise ValueError("cdc_poll_minutes must be between 1 and 59")
        return value

    @field_validator("cdc_idle_hours")
    @classmethod
    def _sane_idle_poll(cls, value: int) -> int:
        if not 1 <= value <= 24 * 7:  # QBO's CDC looks back 30 days; a week apart keeps well inside it
            raise ValueError("cdc_idle_hours must be between 1 and 168")
        return value

    @field_validator("webhook_echo_grace_seconds")
    @classmethod
    def _sane_echo_grace(cls, value: int) -> int:
        if not 1 <= value <= 3600:
            raise ValueError("webhook_echo_grace_seconds must be between 1 and 3600")
        return value

    @field_validator("qbo_coreplus_monthly_budget")
    @classmethod
    def _sane_budget(cls, value: int) -> int:
        if value < 0:
            raise ValueError("qbo_coreplus_monthly_budget must be 0 (no budget) or a number of calls a month")
        return value

    @field_validator("qbo_coreplus_warn_percent")
    @classmethod
    def _sane_warn_percent(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise ValueError("qbo_coreplus_warn_percent must be between 1 and 100")
        return value

    @field_validator("qbo_requests_per_minute", "qbo_batch_requests_per_minute", "qbo_concurrent_requests")
    @classmethod
    def _sane_limit(cls, value: int) -> int:
        if not 1 <= value <= 100_000:
            raise ValueError("QBO request limits must be between 1 and 100000")
        return value

    @field_validator("qbo_limit_margin_seconds")
    @classmethod
    def _sane_margin(cls, value: float) -> float:
        if not 0 <= value <= 30:
            raise ValueError("qbo_limit_margin_seconds must be between 0 and 30")
        return value

    @field_validator("qbo_limit_lease_seconds")
    @classmethod
    def _sane_lease(cls, value: float) -> float:
        # shorter than a request may take (30 s HTTP timeout) would free a running request's slot
        if not 31 <= value <= 3600:
            raise ValueError("qbo_limit_lease_seconds must be between 31 and 3600 (longer than the 30 s HTTP timeout)")
        return value

    @model_validator(mode="after")
    def _batches_within_requests(self) -> Settings:
        if self.qbo_batch_requests_per_minute > self.qbo_requests_per_minute:
            raise ValueError("qbo_batch_requests_per_minute cannot exceed qbo_requests_per_minute")
        return self

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and len(value.get_secret_value().strip()) < 32:
            raise ValueError("secret_key must have at least 32 characters (e.g. `python -c 'import secrets; "
                             "print(secrets.token_urlsafe(48))'`)")  # fmt: skip
        return value

    @field_validator("session_idle_minutes", "session_max_hours")
    @classmethod
    def _positive_lifetime(cls, value: int) -> int:
        if not 1 <= value <= 100_000:
            raise ValueError("session lifetimes must be between 1 and 100000")
        return value

    def serving_problems(self, host: str) -> list[str]:
        """Why serving on `host` would be unsafe: beyond localhost, a generated secret key and cookies without
        `Secure` are refused (cookies would cross the network in clear, keys would differ per machine)."""
        if host in LOOPBACK:
            return []
        problems = []
        if not self.secret_key.get_secret_value().strip():
            problems.append(
                f"Serving on {host} needs INVOICEBRIDGE_SECRET_KEY (32+ random characters, the same on every web "
                "process): it signs CSRF tokens and QuickBooks connect requests."
            )
        if not self.behind_tls:
            problems.append(
                f"Serving on {host} without TLS would send session cookies in clear. Serve it over https (e.g. "
                "behind a TLS-terminating proxy) and set INVOICEBRIDGE_BEHIND_TLS=true, or bind to 127.0.0.1."
            )
        return problems

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("http://", "https://")) or not value.isprintable() or " " in value:
            raise ValueError("public_url must be an http(s) address, e.g. https://invoices.example.com")
        return value.strip().rstrip("/")

    def site_url(self) -> str:
        """Where people reach the site: public_url, else this process's own host and port."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.behind_tls else 'http'}://{host}:{self.port}"

    def secret_key_bytes(self) -> bytes:
        """The configured secret key, or the one kept in data_dir/secret.key (created on first use)."""
        configured = self.secret_key.get_secret_value().strip()
        return (configured or _kept_secret(self.data_dir / "secret.key", lambda: secrets.token_urlsafe(48))).encode()

    def qbo_discovery_url(self) -> str:
        if self.qbo_environment == "local":
            return f"{self.qbo_sandbox_url.rstrip('/')}/.well-known/openid_sandbox_configuration"
        return DISCOVERY[self.qbo_environment]

    def qbo_api_base(self) -> str:
        if self.qbo_environment == "local":
            return f"{self.qbo_sandbox_url.rstrip('/')}/v3"
        return API_BASE[self.qbo_environment]

    def fernet_keys(self) -> list[str]:
        """The configured keys, or the one kept in data_dir/token.key (created on first use)."""
        configured = self.token_keys.get_secret_value()
        if configured.strip():
            return [key.strip() for key in configured.split(",") if key.strip()]
        return [_kept_secret(self.data_dir / "token.key", lambda: Fernet.generate_key().decode())]

    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file in data_dir (the directory is created)."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'invoicebridge.db').resolve()}"


def _kept_secret(path: Path, make: Callable[[], str]) -> str:
    """A secret kept in a file only its owner can read, created on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others
        except FileExistsError:  # another process made it a moment ago
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as file:
            file.write(make())
    return path.read_text().strip()
