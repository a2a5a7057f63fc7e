"""One JSON error shape for every error: {"error": {"code", "message", "problems": [{"field", "message"}]}}."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from invoicebridge.domain import (
    Conflict,
    Forbidden,
    InvalidTransition,
    NotConnected,
    NotFound,
    Problem,
    TooManyAttempts,
    Unauthenticated,
    ValidationError,
)
from invoicebridge.qbo.errors import QboError
from invoicebridge.web.schemas import ErrorBody, ErrorOut, ProblemOut

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, problems: tuple[Problem, ...] = ()) -> JSONResponse:
    body = ErrorOut(
        error=ErrorBody(
            code=code, message=message, problems=[ProblemOut(field=p.field, message=p.message) for p in problems]
        )
    )
    return JSONResponse(body.model_dump(), status_code=status)


SCREENS = "/c/"  # the web app's company screens answer errors as pages, not JSON
CALLBACK = "/oauth/qbo/callback"  # where Intuit sends the admin's browser back


def _wants_page(request: Request) -> bool:
    """A company screen, or a browser coming back from Intuit: errors are pages people read, not JSON."""
    path = request.url.path
    return path.startswith(SCREENS) or (path == CALLBACK and "text/html" in request.headers.get("accept", ""))


def _problem_page(request: Request, status: int, heading: str, message: str) -> Response:
    templates = request.app.state.templates
    context = {"caller": getattr(request.state, "caller", None), "csrf_token": "", "heading": heading,
               "message": message}  # fmt: skip
    return templates.TemplateResponse(request, "screens/problem.html", context, status_code=status)  # type: ignore[no-any-return]


async def _validation(request: Request, error: Exception) -> Response:
    assert isinstance(error, ValidationError)
    if _wants_page(request):
        return _problem_page(request, 422, "That was refused", " ".join(p.message for p in error.problems))
    return error_response(422, "validation_error", "The input was refused; see problems.", error.problems)


async def _request_validation(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = tuple(Problem(_field(e["loc"]), _sentence(e["msg"])) for e in error.errors())
    if _wants_page(request):
        if any(e["loc"] and e["loc"][0] == "path" for e in error.errors()):  # /c/abc/so/1: no such page
            return _problem_page(request, 404, "Not found", "There is no such page, or it is not yours to see.")
        return _problem_page(request, 422, "That was refused", " ".join(f"{p.field}: {p.message}" for p in problems))
    return error_response(422, "validation_error", "The input was refused; see problems.", problems)


async def _not_found(request: Request, error: Exception) -> Response:
    if _wants_page(request):
        return _problem_page(request, 404, "Not found", "There is no such page, or it is not yours to see.")
    return error_response(404, "not_found", str(error))


async def _conflict(request: Request, error: Exception) -> Response:
    assert isinstance(error, Conflict)
    if _wants_page(request):
        return _problem_page(request, 409, "That could not be done", error.message)
    return error_response(409, "conflict", error.message, (Problem(error.field, error.message),))


async def _invalid_transition(_: Request, error: Exception) -> JSONResponse:
    return error_response(409, "invalid_transition", str(error))


async def _not_connected(_: Request, error: Exception) -> JSONResponse:
    return error_response(409, "not_connected", str(error))


async def _unauthenticated(request: Request, error: Exception) -> Response:
    """The JSON API answers 401; a page sends the browser to the login page, and back here afterwards."""
    assert isinstance(error, Unauthenticated)
    path = request.url.path
    if path.startswith("/api/") and path != "/api/docs":
        response = error_response(401, "unauthenticated", error.message)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    back = path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': back})}", status_code=303)


async def _forbidden(request: Request, error: Exception) -> Response:
    assert isinstance(error, Forbidden)
    if _wants_page(request):
        return _problem_page(request, 403, "Not allowed", error.message)
    return error_response(403, "forbidden", error.message)


async def _too_many_attempts(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TooManyAttempts)
    response = error_response(429, "too_many_attempts", str(error))
    response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _qbo(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, QboError)
    return error_response(502, "quickbooks_error", f"QuickBooks refused or failed: {error}")


async def _http(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if _wants_page(request) and error.status_code != 413:  # a 413 keeps its shape: the body limit answers it
        heading = "Not found" if error.status_code == 404 else "That did not work"
        return _problem_page(request, error.status_code, heading, str(error.detail))
    return error_response(error.status_code, "http_error", str(error.detail))


async def _unexpected(_: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=error)
    return error_response(500, "internal_error", "Something went wrong on our side; nothing was changed.")


def install(app: FastAPI) -> None:
    """Route every error kind to the one shape."""
    app.add_exception_handler(ValidationError, _validation)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(InvalidTransition, _invalid_transition)
    app.add_exception_handler(NotConnected, _not_connected)
    app.add_exception_handler(Unauthenticated, _unauthenticated)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(TooManyAttempts, _too_many_attempts)
    app.add_exception_handler(QboError, _qbo)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


def _field(location: tuple[int | str, ...] | list[int | str]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _sentence(message: str) -> str:
    message = message.removeprefix("Value error, ")
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
