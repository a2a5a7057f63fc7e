"""The QBO API under ``/v3/company/{realmId}/…`` — routing only: authentication, throttling, injected faults
and the request log wrap each call; the work is the backend's; every Fault is rendered by ``faults``.

One catch-all route per realm keeps the wrapping in one place. Handlers are ``async``; the backend (plain
Python under a lock) runs in the thread pool so that injected latency and slow calls overlap as on a real
server — which is what the throttle's concurrency limit counts.

Paths (lower-case entity names, as QBO's): ``GET {entity}/{id}``, ``POST {entity}`` (create, or update when the
body has an ``Id``; ``?operation=update|delete|void``), ``GET|POST query``, ``POST batch``, ``GET cdc``,
``GET|POST preferences``, ``GET companyinfo/{realmId}``, ``POST companyinfo``. ``minorversion`` is accepted
(any value; the sandbox serves one behaviour — COVERAGE.md), ``requestid`` is honoured on every write.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from qbo_sandbox import entities, faults, jsonio, metering, taxservice, uploads
from qbo_sandbox.backend import Backend
from qbo_sandbox.batch import run_batch
from qbo_sandbox.injection import LoggedRequest
from qbo_sandbox.links import linked, wants_invoice_link
from qbo_sandbox.sandbox import Sandbox

JSON = "application/json;charset=UTF-8"
SINGLETONS = {"preferences": ("Preferences", "1"), "companyinfo": ("CompanyInfo", "1")}


class DroppedAfterCommit(Exception):
    """Raised after the response has started so the server closes the connection (injected fault)."""


@dataclass(frozen=True)
class Call:
    """What one API request asks for, once parsed."""

    operation: str
    work: Callable[[], dict[str, Any]]
    metered: metering.Kind | None = None  # set where the operation alone does not tell (batch)


def routes(sandbox: Sandbox) -> list[BaseRoute]:
    handler = _Handler(sandbox)
    return [Route("/v3/company/{realm_id}/{rest:path}", handler.handle, methods=["GET", "POST"])]


class _Handler:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def handle(self, request: Request) -> Response:
        realm_id, rest = request.path_params["realm_id"], request.path_params["rest"].strip("/")
        tid = f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"  # the shape of Intuit's intuit_tid
        log = _LogEntry(request.method, rest, request.query_params.get("requestid"), tid)
        try:
            response = await self._serve(request, realm_id, rest, log)
        except faults.SandboxFault as fault:
            response = _fault_response(fault)
        response.headers["intuit_tid"] = tid
        self.sandbox.injector.record(realm_id, log.finish(response.status_code, self.sandbox.clock()))
        return response

    async def _serve(self, request: Request, realm_id: str, rest: str, log: _LogEntry) -> Response:
        client_id = self.sandbox.registry.authenticate(request.headers.get("authorization"), realm_id)
        log.client_id = client_id
        body = await request.body()
        rules = self.sandbox.injector.take(realm_id, request.method, _match_text(request, rest, body))
        kinds = {rule.kind: rule for rule in rules}
        log.injected = ",".join(sorted(kinds)) or None
        if "throttle" in kinds:
            raise faults.throttled(retry_after=1)
        request_id = None if "ignore_requestid" in kinds else request.query_params.get("requestid")
        call = self._parse(request, realm_id, rest, body, request_id)
        log.operation = call.operation
        with self.sandbox.throttle.guard(realm_id, client_id, batch=call.operation == "batch"):
            log.meter = self._charge(client_id, realm_id, call)
            if "latency" in kinds:
                await asyncio.sleep(kinds["latency"].seconds)
            if "fail_before_commit" in kinds:
                return _fault_response(faults.system_error(), kinds["fail_before_commit"].status)
            result = await run_in_threadpool(call.work)
        if "drop_after_commit" in kinds:
            return _DroppedResponse()
        return Response(jsonio.dumps(result), media_type=JSON)

    def _charge(self, client_id: str, realm_id: str, call: Call) -> str | None:
        """Count the call for its app (Core or CorePlus); raises the 403 of an app past its CorePlus cap."""
        kind = call.metered or metering.classify(call.operation)
        if kind is not None:
            self.sandbox.meter.charge(client_id, realm_id, kind)
        return kind

    def _parse(self, request: Request, realm_id: str, rest: str, body: bytes, request_id: str | None) -> Call:
        backend = self.sandbox.backend
        segments = rest.split("/")
        head = segments[0].lower()
        if head == "query":
            text = _query_text(request, body)
            return Call("query", _with_links(request, realm_id, lambda: backend.query(realm_id, text)))
        if head == "cdc" and request.method == "GET":
            names, since = _cdc_params(request)
            return Call("cdc", lambda: backend.cdc(realm_id, names, since))
        if head == "batch" and request.method == "POST":
            parsed = _json(body)
            return Call(
                "batch",
                lambda: backend.run_once(realm_id, request_id, lambda: run_batch(backend, realm_id, parsed)),
                metering.batch_kind(parsed),
            )
        if head in SINGLETONS:
            return self._singleton(request, realm_id, segments, body, request_id)
        if head == "upload" and request.method == "POST":  # multipart attachments (uploads.py)
            kind = request.headers.get("content-type", "")
            return Call(
                "create", _once(backend, realm_id, request_id, lambda: uploads.upload(backend, realm_id, kind, body))
            )
        if rest.lower() == "taxservice/taxcode" and request.method == "POST":  # QBO's tax code maker (taxservice.py)
            parsed = _json(body)
            return Call(
                "create",
                _once(backend, realm_id, request_id, lambda: taxservice.create_tax_code(backend, realm_id, parsed)),
            )
        entity = entities.canonical_name(head)
        if entity == "ExchangeRate" and request.method == "GET" and len(segments) == 1:
            # GET exchangerate?sourcecurrencycode=EUR[&asofdate=yyyy-mm-dd], as quickbooks-ruby's fetch_by_currency
            code, as_of = request.query_params.get("sourcecurrencycode"), request.query_params.get("asofdate")
            return Call("read", lambda: _wrap(entity, backend.exchange_rate(realm_id, code, as_of)))
        if request.method == "GET":
            if len(segments) != 2:
                raise _unsupported(rest)
            read = _with_links(request, realm_id, lambda: _wrap(entity, backend.read(realm_id, entity, segments[1])))
            return Call("read", read)
        if len(segments) != 1:
            raise _unsupported(rest)
        return self._write(request, realm_id, entity, _json(body), request_id)

    def _write(self, request: Request, realm_id: str, entity: str, body: object, request_id: str | None) -> Call:
        backend = self.sandbox.backend
        if not isinstance(body, dict):
            raise _bad_body("the request body must be a JSON object")
        body = entities.lifted(entity, body)
        if entity == "ExchangeRate" and "Id" not in body and not request.query_params.get("operation"):
            # QBO sets a rate by currency and date, without Id (python-quickbooks' ExchangeRate.save)
            return Call(
                "update",
                _replayed(backend, realm_id, request_id, entity, lambda: backend.set_exchange_rate(realm_id, body)),
            )
        operation = request.query_params.get("operation") or ("update" if "Id" in body else "create")
        if operation.lower() == "update" and "void" in request.query_params.get("include", "").lower().split(","):
            operation = "void"  # how Payment, SalesReceipt and BillPayment are voided (python-quickbooks' VoidMixin)
        writes = {"create": backend.create, "update": backend.update, "delete": backend.delete, "void": backend.void}
        write = writes.get(operation.lower())
        if write is None:
            raise faults.validation(
                faults.UNSUPPORTED_OPERATION, "Unsupported Operation",
                f"Operation {operation} is not supported.", "operation",
            )  # fmt: skip
        return Call(
            operation.lower(), _replayed(backend, realm_id, request_id, entity, lambda: write(realm_id, entity, body))
        )

    def _singleton(
        self, request: Request, realm_id: str, segments: list[str], body: bytes, request_id: str | None
    ) -> Call:
        backend = self.sandbox.backend
        entity, stored_id = SINGLETONS[segments[0].lower()]
        if request.method == "GET":
            if entity == "CompanyInfo" and segments[1:] != [realm_id]:
                raise faults.not_found(entity, "/".join(segments[1:]))
            return Call("read", lambda: _wrap(entity, backend.read(realm_id, entity, stored_id)))
        operation = (request.query_params.get("operation") or "update").lower()
        entities.require_operation(entity, operation)  # Preferences/CompanyInfo: read and update only
        if operation != "update" or len(segments) != 1:
            raise _unsupported("/".join(segments))
        parsed = _json(body)
        if not isinstance(parsed, dict):
            raise _bad_body("the request body must be a JSON object")
        return Call(
            "update", _replayed(backend, realm_id, request_id, entity, lambda: backend.update(realm_id, entity, parsed))
        )


@dataclass
class _LogEntry:
    method: str
    path: str
    request_id: str | None
    intuit_tid: str
    operation: str = ""
    injected: str | None = None
    client_id: str | None = None
    meter: str | None = None

    def finish(self, status: int, now: datetime) -> LoggedRequest:
        return LoggedRequest(
            self.method, "/" + self.path, status, now, self.operation, self.request_id, self.intuit_tid, self.injected,
            self.client_id, self.meter,
        )  # fmt: skip


class _DroppedResponse(Response):
    """Starts a response and breaks off: the server closes the connection and the client sees no answer,
    though the work is done."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]}
        await send(start)
        raise DroppedAfterCommit("response dropped after commit (injected fault)")


def _fault_response(fault: faults.SandboxFault, status: int | None = None) -> Response:
    headers = fault.headers()
    return Response(jsonio.dumps(fault.to_body()), status or fault.status, headers, media_type=JSON)


def _replayed(
    backend: Backend, realm_id: str, request_id: str | None, entity: str, write: Callable[[], dict[str, Any]]
) -> Callable[[], dict[str, Any]]:
    """A write whose whole answer a request id replays: a reused id answers with the first object under its own
    entity name, whatever the new request names."""
    return lambda: backend.run_once(realm_id, request_id, lambda: _wrap(entity, write()))


def _with_links(request: Request, realm_id: str, work: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """``include=invoiceLink`` adds each answered invoice's InvoiceLink (links.py)."""
    if not wants_invoice_link(request.query_params.get("include")):
        return work
    return linked(work, str(request.base_url), realm_id)


def _once(
    backend: Backend, realm_id: str, request_id: str | None, work: Callable[[], dict[str, Any]]
) -> Callable[[], dict[str, Any]]:
    return lambda: backend.run_once(realm_id, request_id, work)


def _wrap(entity: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {entities.json_name(entity): obj, "time": faults.qbo_time()}


def _json(body: bytes) -> object:
    try:
        return jsonio.loads(body)
    except jsonio.Unreadable as error:
        # a lone surrogate or deep nesting: refused whole, before anything is done or remembered for a requestid
        raise _bad_body(f"the request body cannot be kept: {error}", error.element) from None
    except ValueError as error:  # UnicodeDecodeError included
        raise _bad_body(f"the request body is not valid JSON: {error}") from None


def _bad_body(detail: str, element: str = "") -> faults.ValidationFault:
    # QBO answers unparseable bodies with 2010 "Request has invalid or unsupported property" — also bytes that
    # are not UTF-8 ("Invalid UTF-8 middle byte", intuit/QuickBooks-V3-Java-SDK issue #181); the wording of
    # Detail varies (COVERAGE.md).
    return faults.validation("2010", "Request has invalid or unsupported property", detail, element)


def _unsupported(path: str) -> faults.ValidationFault:
    return faults.validation(faults.UNSUPPORTED_OPERATION, "Unsupported Operation", f"Unsupported path: /{path}")


def _match_text(request: Request, rest: str, body: bytes) -> str:
    """What injection rules match on: the path, and for queries the query text too."""
    if rest.lower().startswith("query"):
        return f"{rest} {_query_text(request, body)}"
    return rest


def _query_text(request: Request, body: bytes) -> str:
    """A query comes as ?query= on GET, or as the body (Content-Type application/text) on POST."""
    text = request.query_params.get("query") if request.method == "GET" else body.decode("utf-8", "replace")
    return text or ""


def _cdc_params(request: Request) -> tuple[list[str], datetime]:
    names = [name.strip() for name in request.query_params.get("entities", "").split(",") if name.strip()]
    raw = request.query_params.get("changedSince", "")
    if not names or not raw:
        missing = "entities" if not names else "changedSince"
        raise faults.validation(
            faults.REQUIRED_PARAM_MISSING, "Required param missing, need to supply the required value for the API",
            f"Required parameter {missing} is missing in the request", missing,
        )  # fmt: skip
    try:
        since = datetime.fromisoformat(raw.replace(" ", "+"))  # a '+' in a query string arrives as a space
    except ValueError as error:
        raise faults.validation(
            faults.QUERY_PARSE_ERROR, "Error parsing query", f"changedSince is not a date-time: {raw}", "changedSince"
        ) from error
    # a time without offset is read in the company's zone (unconfirmed) — by the backend, which knows the zone
    return [entities.canonical_name(name) for name in names], since
