"""`invoicebridge keys new|rotate`: rotating the keys that encrypt QuickBooks tokens at rest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from invoicebridge.bootstrap import build
from invoicebridge.cli import app
from invoicebridge.domain.connection import TokenPair
from invoicebridge.settings import Settings

PAIR = TokenPair("access-1", "refresh-1", datetime(2026, 11, 2, tzinfo=UTC), None)


def store_tokens(data_dir: Path, key: str, companies: int = 1) -> None:
    container = build(Settings(data_dir=data_dir, token_keys=key), migrate=True)
    for n in range(companies):
        company = container.orderbook.create_company(f"Co {n}", "USD", "UTC").id or 0
        container.vault.save(company, PAIR)
    container.close()


def rotate(data_dir: Path, keys: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("INVOICEBRIDGE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("INVOICEBRIDGE_TOKEN_KEYS", keys)
    result = CliRunner().invoke(app, ["keys", "rotate"])
    return result.exit_code, result.output


def test_a_new_key_is_a_fernet_key() -> None:
    result = CliRunner().invoke(app, ["keys", "new"])
    assert result.exit_code == 0
    Fernet(result.output.strip().encode())  # raises unless it is one


def test_rotate_re_encrypts_with_the_newest_key_so_the_old_one_can_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    store_tokens(tmp_path, old, companies=2)
    code, output = rotate(tmp_path, f"{new},{old}", monkeypatch)
    assert code == 0, output
    assert "Re-encrypted the QuickBooks tokens of 2 companies" in output
    only_new = build(Settings(data_dir=tmp_path, token_keys=new))
    assert only_new.vault.load(1) == PAIR and only_new.vault.load(2) == PAIR
    only_new.close()


def test_tokens_no_key_reads_are_named_and_the_run_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lost = Fernet.generate_key().decode()
    store_tokens(tmp_path, lost)
    code, output = rotate(tmp_path, f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}", monkeypatch)
    assert code == 1
    assert "reconnect QuickBooks" in output and "companies 1" in output


def test_rotate_with_one_key_says_how_to_add_the_new_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = rotate(tmp_path, Fernet.generate_key().decode(), monkeypatch)
    assert code == 2
    assert "Put the new key first" in output
