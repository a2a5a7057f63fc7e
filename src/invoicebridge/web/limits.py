"""Request body limits: a body over its limit is answered 413 (code ``too_large``, the one JSON error shape) and
the rest of it is never read.

Two moments: when ``Content-Length`` announces too much, before a byte of the body is read; and when a body
without one (chunked) grows past the limit while it streams in — bytes are counted as they arrive, so what
decides is the count, never how much memory the server has left.

The limits (bytes), module constants rather than settings because no deployment needs other values:

* ``WEBHOOK_LIMIT`` = 256 KiB for ``/webhooks/…``. The endpoint is public and its signature check needs the
  whole body, so the body must be bounded before it. Intuit's deliveries are small — a CloudEvent is ~300 bytes
  and carries no field values — so 256 KiB holds ~800 events, more than one delivery brings
  (``qbo.webhooks.MAX_EVENTS`` bounds the count again after the signature check).
* ``FORM_LIMIT`` = 128 KiB for form posts (``application/x-www-form-urlencoded``, ``multipart/form-data``): the
  login form and the pages' CSRF-guarded posts; 128 KiB still holds a bulk action over ~10,000 SO ids.
* ``UPLOAD_LIMIT`` = the importer's own file limit (10 MB) + 64 KiB of form around it, for the one form that
  uploads a file: the CSV import page (``/c/{company}/import``, multipart only).
* ``API_LIMIT`` = 16 MiB for everything else, the JSON API: the largest SO QuickBooks takes — 750 rows, each
  with a 4,000-character description that JSON may escape to 6 bytes a character — just fits; anything larger is
  no SO we could invoice.

The 413 carries ``Connection: close``: the unread rest of the body would otherwise be taken for the next request.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from invoicebridge.sync.order_import import MAX_FILE_BYTES
from invoicebridge.web.errors import error_response

__all__ = ["API_LIMIT", "FORM_LIMIT", "UPLOAD_LIMIT", "WEBHOOK_LIMIT", "BodyLimit", "limit_for"]

WEBHOOK_LIMIT = 256 * 1024
FORM_LIMIT = 128 * 1024
UPLOAD_LIMIT = MAX_FILE_BYTES + 64 * 1024
_UPLOADS = re.compile(r"/c/[0-9]{1,19}/import")
API_LIMIT = 16 * 1024 * 1024
_FORMS = (b"application/x-www-form-urlencoded", b"multipart/form-data")


class BodyTooLarge(Exception):
    """Raised from ``receive`` into the app once the body passed its limit; the middleware answers 413."""


def limit_for(path: str, content_type: bytes) -> int:
    """The largest body, in bytes, accepted for a request to ``path`` with this ``Content-Type``."""
    if path.startswith("/webhooks/"):
        return WEBHOOK_LIMIT
    kind = content_type.split(b";")[0].strip().lower()
    if kind == b"multipart/form-data" and _UPLOADS.fullmatch(path):
        return UPLOAD_LIMIT
    if kind in _FORMS:
        return FORM_LIMIT
    return API_LIMIT


class BodyLimit:
    """Pure ASGI (no body buffering of its own): refuses bodies over ``limit_for`` with 413."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = limit_for(scope["path"], headers.get(b"content-type", b""))
        if _announced(headers) > limit:
            await _refuse(scope, receive, send, limit)
            return
        await _Bounded(self.app, limit).run(scope, receive, send)


class _Bounded:
    """One request whose body is counted as it arrives. Past the limit, ``receive`` raises ``BodyTooLarge``;
    whatever the app makes of that (FastAPI turns a body it cannot read into a 400) is replaced by the 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        self.received = 0
        self.exceeded = False
        self.started = False  # a response start went out (the app's, before the limit was passed, or ours)

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting_receive() -> Message:
            if self.exceeded:  # the app asks again after the refusal: there is nothing more for it
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if not self.exceeded:
                self.started = self.started or message["type"] == "http.response.start"
                await send(message)
            elif not self.started:  # the app's answer to an unreadable body becomes ours, once
                self.started = True
                await _refuse(scope, receive, send, self.limit)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not self.exceeded:
                raise
        if self.exceeded and not self.started:
            self.started = True
            await _refuse(scope, receive, send, self.limit)


def _announced(headers: dict[bytes, bytes]) -> int:
    """The body length the Content-Length header announces; 0 without one (the server refuses a malformed one)."""
    value = headers.get(b"content-length", b"")
    return int(value) if value.isdigit() else 0


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = error_response(413, "too_large", f"The request body is larger than the {_size(limit)} accepted here.")
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit // 1024} KiB"
