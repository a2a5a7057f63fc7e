"""A bound on request bodies: one over :data:`MAX_BODY_BYTES` is answered 413 before any handler reads it.

Without a bound a client could make the sandbox hold any amount of memory, and parse it under the lock. QBO
documents a size limit only for attachment uploads (100 MB, Fault 6030); 10 MiB is far above the largest real
JSON request (a batch of 30 invoices of a few hundred lines each). The 413 has the shape each surface answers
errors with: a QBO Fault under ``/v3`` (code 6030 — the closest documented one, unconfirmed for JSON bodies),
``{"error": …}`` under ``/_sandbox``, plain text elsewhere.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qbo_sandbox import faults, jsonio

MAX_BODY_BYTES = 10 * 1024 * 1024
# After refusing, the rest of the body is read and dropped so that a client still sending sees the 413 rather
# than a reset connection; past this much more, the connection is closed instead.
DRAIN_BYTES = 8 * MAX_BODY_BYTES
JSON = "application/json;charset=UTF-8"


class _Gone(Exception):
    """The client disconnected while sending its body."""


class BodyLimit:
    """ASGI middleware: buffers each HTTP request's body up to ``limit`` bytes and hands it on whole."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await _read(receive, self.limit)
        except _Gone:
            return
        if body is None:
            await _too_large(scope["path"], self.limit)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None (the rest drained) once it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Gone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            if message.get("more_body", False):
                await _drain(receive)
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _drain(receive: Receive) -> None:
    left = DRAIN_BYTES
    while left > 0:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        left -= len(message.get("body", b""))


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the buffered body first, then whatever the server sends next (a disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _too_large(path: str, limit: int = MAX_BODY_BYTES) -> Response:
    """The 413 answer for a request to ``path``."""
    sentence = f"The request body is larger than the {limit:,} bytes qbo_sandbox accepts."
    if path.startswith("/v3/"):
        fault = faults.validation(
            faults.REQUEST_TOO_LARGE, "Upload request size exceeds allowed limit",
            f"{sentence} (unconfirmed: QBO documents a limit for attachment uploads only)",
        )  # fmt: skip
        return Response(jsonio.dumps(fault.to_body()), 413, media_type=JSON)
    if path.startswith("/_sandbox/"):
        return JSONResponse({"error": sentence}, 413)
    return PlainTextResponse(sentence, 413)
