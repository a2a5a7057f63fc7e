"""`invoicebridge keys …`: the Fernet keys that encrypt QuickBooks tokens at rest (INVOICEBRIDGE_TOKEN_KEYS).

Rotating: `keys new` prints a key; put it first in INVOICEBRIDGE_TOKEN_KEYS, the old ones after it, on every
process; `keys rotate` re-encrypts every stored token with it; then drop the old keys. docs/security.md tells
the whole procedure.
"""

from __future__ import annotations

import typer
from cryptography.fernet import Fernet
from rich.console import Console

from invoicebridge.bootstrap import build
from invoicebridge.cli_access import SettingsLoader
from invoicebridge.settings import Settings

keys = typer.Typer(help="The keys that encrypt QuickBooks tokens at rest (INVOICEBRIDGE_TOKEN_KEYS).",
                   no_args_is_help=True)  # fmt: skip
console = Console()
err = Console(stderr=True)


@keys.command("new")
def new_key() -> None:
    """Print a fresh Fernet key (32 random bytes, URL-safe base64): put it first in INVOICEBRIDGE_TOKEN_KEYS."""
    console.print(Fernet.generate_key().decode(), soft_wrap=True, highlight=False, markup=False)


@keys.command("rotate")
def rotate(ctx: typer.Context) -> None:
    """Re-encrypt every company's stored tokens with the newest key (the first in INVOICEBRIDGE_TOKEN_KEYS)."""
    load: SettingsLoader = ctx.obj if callable(ctx.obj) else Settings
    settings = load()
    configured = settings.fernet_keys()
    if len(configured) < 2:
        err.print("Only one key is configured: nothing to rotate from. Put the new key first and the old ones after "
                  "it in INVOICEBRIDGE_TOKEN_KEYS (comma-separated), then run this again.")  # fmt: skip
        raise typer.Exit(2)
    container = build(settings, migrate=True)
    try:
        done, unreadable = container.vault.rekey()
    finally:
        container.close()
    console.print(
        f"Re-encrypted the QuickBooks tokens of {done} compan{'y' if done == 1 else 'ies'} with the newest key."
    )
    if unreadable:
        listed = ", ".join(str(c) for c in unreadable)
        err.print(f"[red]No configured key reads the tokens of companies {listed}:[/red] reconnect QuickBooks there.")
        raise typer.Exit(1)
    console.print("The old keys can now be removed from INVOICEBRIDGE_TOKEN_KEYS.")
