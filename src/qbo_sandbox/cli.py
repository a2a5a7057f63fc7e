"""``qbo-sandbox serve`` (also ``python -m qbo_sandbox``): a local QuickBooks Online."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Sequence
from types import FrameType

import uvicorn

from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import build, save_state, uvicorn_config
from qbo_sandbox.throttle import Limits


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="qbo-sandbox", description="A local QuickBooks Online for tests and demos.")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the sandbox over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--db", help="keep state in this SQLite file (default: in memory, gone on exit)")
    serve.add_argument("--limits", choices=["real", "off"], default="real", help="QBO's throttling limits, or none")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return root


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    limits = Limits.real() if args.limits == "real" else Limits.off()
    sandbox, store = build(SandboxConfig(limits=limits), args.db)
    print(f"qbo_sandbox on http://{args.host}:{args.port}  (discovery: /.well-known/openid_sandbox_configuration,"
          f" API: /v3, control: /_sandbox, UI: /app)", flush=True)  # fmt: skip
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again with the handler it found:
    # make that a normal exit (status 0, no traceback) so the state below is saved first.
    previous = signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        uvicorn.Server(uvicorn_config(sandbox, store, args.host, args.port, args.log_level)).run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if store is not None:
            save_state(sandbox, store)
            store.close()


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
