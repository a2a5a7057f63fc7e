"""/webhooks/qbo: Intuit's notifications — signature checked, queued, answered at once. Public (Intuit calls
it), so everything before the signature check must be cheap and bounded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from invoicebridge.qbo.webhooks import parse_notifications, verify_signature
from invoicebridge.web.auth import App

router = APIRouter(tags=["quickbooks"])


@router.post("/webhooks/qbo", include_in_schema=False)
async def qbo_webhook(
    request: Request, app: App, signature: Annotated[str | None, Header(alias="intuit-signature")] = None
) -> JSONResponse:
    """Intuit's notifications: verified, queued, answered at once (Intuit wants an answer within seconds)."""
    body = await request.body()
    if not verify_signature(body, signature, app.settings.qbo_webhook_verifier_token.get_secret_value()):
        return JSONResponse({"error": {"code": "bad_signature", "message": "Signature check failed.", "problems": []}},
                            status_code=401)  # fmt: skip
    try:
        events = len(parse_notifications(body))  # refuse what no worker could read, before queueing it
    except ValueError as error:
        return JSONResponse({"error": {"code": "bad_payload", "message": str(error), "problems": []}},
                            status_code=400)  # fmt: skip
    app.jobs.webhook(body)
    return JSONResponse({"queued": events})
