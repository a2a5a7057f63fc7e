"""The one settings class: the only reader of the environment (variables prefixed INVOICEBRIDGE_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")


class Settings(BaseSettings):
    """Configuration of every entry point; unsafe or invalid values are refused with the reason."""

    model_config = SettingsConfigDict(env_prefix="INVOICEBRIDGE_", extra="forbid")

    data_dir: Path = Path("var")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

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

    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file in data_dir (the directory is created)."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'invoicebridge.db').resolve()}"
