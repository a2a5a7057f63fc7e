"""/webhooks/qbo: Intuit's notifications — signature checked, parsed, queued, answered at once. Public (Intuit
calls it), so everything before the signature check must be cheap and bounded: ``limits.BodyLimit`` refuses a
body over ``limits.WEBHOOK_LIMIT`` (256 KiB) with 413 before or while it arrives, so the body read here is small.

Only a body that is signed *and* parses is queued: ``parse_notifications`` refuses with a ValueError (→ 400
``bad_payload``) anything a worker could not store — bodies that are not UTF-8 JSON, nested too deeply, too many
events, ids that are not short printable ASCII — so nothing odd reaches the worker or the database.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from invoicebridge.qbo.webhooks import parse_notifications, verify_signature
from invoicebridge.web.auth import App
from invoicebridge.web.errors import error_response

router = APIRouter(tags=["quickbooks"])


@router.post("/webhooks/qbo", include_in_schema=False)
async def qbo_webhook(
    request: Request, app: App, signature: Annotated[str | None, Header(alias="intuit-signature")] = None
) -> JSONResponse:
    """Intuit's notifications: verified, queued, answered at once (Intuit wants an answer within seconds)."""
    body = await request.body()  # bounded by limits.BodyLimit
    if not verify_signature(body, signature, app.settings.qbo_webhook_verifier_token.get_secret_value()):
        return error_response(401, "bad_signature", "Signature check failed.")
    try:
        events = len(parse_notifications(body))  # refuse what no worker could read, before queueing it
    except ValueError as error:
        return error_response(400, "bad_payload", str(error))
    app.jobs.webhook(body)
    return JSONResponse({"queued": events})
