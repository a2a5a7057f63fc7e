"""The control API under ``/_sandbox/`` — not part of QBO: what tests, demos and benchmarks use to set the
sandbox up and look inside it (documented in README.md of this package). Errors: ``{"error": "<sentence>"}``
with 400 (bad input, a string that is not Unicode text included) or 404 (unknown app or company); a body over
bodylimit.MAX_BODY_BYTES is 413."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeGuard

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from qbo_sandbox import seed
from qbo_sandbox.companies import create_company
from qbo_sandbox.sandbox import Sandbox
from qbo_sandbox.text import flaw
from qbo_sandbox.throttle import Limits

Handler = Callable[[Request], Awaitable[Response]]
MAX_CLOCK_STEP = 10 * 365 * 86400  # seconds one advance may move the clock (ten years)
LAST_YEAR = 9000  # the clock stops well before datetime's year 9999
MAX_WEBHOOK_DELAY = 86400.0


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def routes(sandbox: Sandbox) -> list[BaseRoute]:
    c = _Control(sandbox)
    table: list[tuple[str, Callable[[Request], Any], list[str]]] = [
        ("/_sandbox/apps", c.create_app, ["POST"]),
        ("/_sandbox/apps", c.list_apps, ["GET"]),
        ("/_sandbox/apps/{client_id}", c.update_app, ["PATCH"]),
        ("/_sandbox/apps/{client_id}/usage", c.usage, ["GET"]),
        ("/_sandbox/apps/{client_id}/usage", c.set_usage_cap, ["PUT"]),
        ("/_sandbox/companies", c.create_company, ["POST"]),
        ("/_sandbox/companies", c.list_companies, ["GET"]),
        ("/_sandbox/companies/{realm_id}", c.delete_company, ["DELETE"]),
        ("/_sandbox/tokens", c.tokens, ["POST"]),
        ("/_sandbox/companies/{realm_id}/faults", c.add_fault, ["POST"]),
        ("/_sandbox/companies/{realm_id}/faults", c.list_faults, ["GET"]),
        ("/_sandbox/companies/{realm_id}/faults", c.clear_faults, ["DELETE"]),
        ("/_sandbox/companies/{realm_id}/requests", c.list_requests, ["GET"]),
        ("/_sandbox/companies/{realm_id}/requests", c.clear_requests, ["DELETE"]),
        ("/_sandbox/companies/{realm_id}/webhooks", c.configure_webhooks, ["PUT"]),
        ("/_sandbox/webhooks/deliveries", c.deliveries, ["GET"]),
        ("/_sandbox/webhooks/flush", c.flush, ["POST"]),
        ("/_sandbox/clock/advance", c.advance_clock, ["POST"]),
        ("/_sandbox/limits", c.get_limits, ["GET"]),
        ("/_sandbox/limits", c.set_limits, ["PUT"]),
        ("/_sandbox/reset", c.reset, ["POST"]),
        ("/_sandbox/health", c.health, ["GET"]),
    ]
    known = [Route(path, _guarded(handler), methods=methods) for path, handler, methods in table]
    every = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [*known, Route("/_sandbox/{rest:path}", _unknown(known), methods=every)]


def _unknown(known: list[Route]) -> Handler:
    """Anything else under /_sandbox: 405 for a known path with another method, 404 otherwise — as JSON."""

    async def endpoint(request: Request) -> Response:
        path = request.url.path
        allowed = sorted({m for route in known if route.path_regex.match(path) for m in route.methods or ()})
        if allowed:
            message = f"{request.method} is not allowed on {path} (allowed: {', '.join(allowed)})"
            return JSONResponse({"error": message}, 405, headers={"Allow": ", ".join(allowed)})
        return JSONResponse({"error": f"no control endpoint at {path}"}, 404)

    return endpoint


def _guarded(handler: Callable[[Request], Any]) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            status, body = await handler(request)
        except ControlError as error:
            return JSONResponse({"error": str(error)}, error.status)
        return JSONResponse(body, status)

    return endpoint


class _Control:
    def __init__(self, sandbox: Sandbox) -> None:
        self.s = sandbox

    # -- apps and tokens -------------------------------------------------------------------------------
    async def create_app(self, request: Request) -> tuple[int, Any]:
        body = await _object(request)
        uris = body.get("redirect_uris", [])
        if not isinstance(uris, list) or not all(isinstance(u, str) and u for u in uris):
            raise ControlError("redirect_uris must be a list of URLs")
        webhook_url, webhook_format = _webhook(body)
        app = self.s.registry.register_app(uris, webhook_url, webhook_format)  # type: ignore[arg-type]
        return 201, _app_json(app)

    async def list_apps(self, request: Request) -> tuple[int, Any]:
        return 200, {"apps": [_app_json(app) for app in self.s.registry.apps()]}

    async def update_app(self, request: Request) -> tuple[int, Any]:
        """PATCH: only the settings in the body change (``"webhook_url": null`` turns webhooks off)."""
        body = await _object(request)
        client_id = request.path_params["client_id"]
        current = self.s.registry.app(client_id)
        if current is None:
            raise ControlError("no app with this client_id", 404)
        settings = {"webhook_url": current.webhook_url, "webhook_format": current.webhook_format, **body}
        webhook_url, webhook_format = _webhook(settings)
        try:
            app = self.s.registry.update_app(client_id, webhook_url, webhook_format)  # type: ignore[arg-type]
        except KeyError:
            raise ControlError("no app with this client_id", 404) from None
        return 200, _app_json(app)

    async def usage(self, request: Request) -> tuple[int, Any]:
        """The app's Core and CorePlus calls per month (metering.py)."""
        return 200, self.s.meter.usage(self._app(request.path_params["client_id"]))

    async def set_usage_cap(self, request: Request) -> tuple[int, Any]:
        """``{"coreplus_cap": n}`` blocks the app's CorePlus calls past n this month (and each month after);
        ``null`` lifts the cap."""
        client_id = self._app(request.path_params["client_id"])
        body = await _object(request)
        if set(body) != {"coreplus_cap"}:
            raise ControlError('the body is {"coreplus_cap": a whole number ≥ 0, or null for no cap}')
        cap = body["coreplus_cap"]
        if cap is not None and (not _whole(cap) or cap < 0):
            raise ControlError("coreplus_cap must be a whole number ≥ 0, or null for no cap")
        self.s.meter.set_cap(client_id, cap)
        return 200, self.s.meter.usage(client_id)

    def _app(self, client_id: str) -> str:
        if self.s.registry.app(client_id) is None:
            raise ControlError("no app with this client_id", 404)
        return client_id

    async def tokens(self, request: Request) -> tuple[int, Any]:
        body = await _object(request)
        client_id, realm_id = body.get("client_id"), body.get("realm_id")
        if not isinstance(client_id, str) or not isinstance(realm_id, str) or not client_id or not realm_id:
            raise ControlError("client_id and realm_id are required (strings)")
        self._company(realm_id)
        try:
            return 200, self.s.registry.issue_tokens(client_id, realm_id)
        except KeyError:
            raise ControlError("no app with this client_id", 404) from None

    # -- companies -------------------------------------------------------------------------------------
    async def create_company(self, request: Request) -> tuple[int, Any]:
        body = await _object(request)
        name = body.get("name", "Sandbox Company")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ControlError("name must be a non-empty string of at most 100 characters")
        flags = {key: body.get(key, default) for key, default in
                 (("multicurrency", False), ("custom_txn_numbers", False), ("sample_data", True))}  # fmt: skip
        if not all(isinstance(value, bool) for value in flags.values()):
            raise ControlError("multicurrency, custom_txn_numbers and sample_data must be true or false")
        country = body.get("country", "US")
        if country not in seed.COUNTRIES:
            raise ControlError(f"country must be one of {', '.join(seed.COUNTRIES)}")
        history, seed_number = body.get("history_months", 0), body.get("seed", 0)
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (history, seed_number)) or not (
            0 <= history <= 12
        ):
            raise ControlError("history_months must be a whole number from 0 to 12, and seed a whole number")
        company = create_company(self.s.backend, name.strip(), country, **flags, history_months=history,
                                 seed_number=seed_number)  # fmt: skip
        return 201, self._company_json(company.realm_id)

    async def list_companies(self, request: Request) -> tuple[int, Any]:
        return 200, {"companies": [self._company_json(c.realm_id) for c in self.s.backend.companies()]}

    async def delete_company(self, request: Request) -> tuple[int, Any]:
        realm_id = self._company(request.path_params["realm_id"])
        self.s.backend.drop_realm(realm_id)
        self.s.injector.clear(realm_id)
        return 200, {"deleted": realm_id}

    def _company_json(self, realm_id: str) -> dict[str, Any]:
        backend = self.s.backend
        info, prefs = backend.read(realm_id, "CompanyInfo", "1"), backend.read(realm_id, "Preferences", "1")
        currency = prefs.get("CurrencyPrefs", {})
        return {
            "realm_id": realm_id,
            "name": info.get("CompanyName"),
            "country": info.get("Country"),
            "home_currency": currency.get("HomeCurrency", {}).get("value"),
            "multicurrency": bool(currency.get("MultiCurrencyEnabled")),
            "custom_txn_numbers": bool(prefs.get("SalesFormsPrefs", {}).get("CustomTxnNumbers")),
        }

    def _company(self, realm_id: str) -> str:
        if realm_id not in {c.realm_id for c in self.s.backend.companies()}:
            raise ControlError(f"no company with realm_id {realm_id!r}", 404)
        return realm_id

    # -- faults, requests, webhooks --------------------------------------------------------------------
    async def add_fault(self, request: Request) -> tuple[int, Any]:
        realm_id = self._company(request.path_params["realm_id"])
        body = await _object(request)
        kind = body.pop("kind", None)
        try:
            rule = self.s.injector.add(realm_id, str(kind), **body)
        except ValueError as error:
            raise ControlError(str(error)) from None
        return 201, rule.to_json()

    async def list_faults(self, request: Request) -> tuple[int, Any]:
        realm_id = self._company(request.path_params["realm_id"])
        return 200, {"faults": [rule.to_json() for rule in self.s.injector.rules(realm_id)]}

    async def clear_faults(self, request: Request) -> tuple[int, Any]:
        self.s.injector.clear(self._company(request.path_params["realm_id"]))
        return 200, {"faults": []}

    async def list_requests(self, request: Request) -> tuple[int, Any]:
        realm_id = request.path_params["realm_id"]
        return 200, {"requests": [entry.to_json() for entry in self.s.injector.requests(realm_id)]}

    async def clear_requests(self, request: Request) -> tuple[int, Any]:
        self.s.injector.clear_requests(request.path_params["realm_id"])
        return 200, {"requests": []}

    async def configure_webhooks(self, request: Request) -> tuple[int, Any]:
        realm_id = self._company(request.path_params["realm_id"])
        body = await _object(request)
        duplicate, delay = body.get("duplicate", False), body.get("delay_seconds", 0)
        drop = body.get("drop", False)  # webhooks lost: the realm's changes are not sent at all
        if not isinstance(duplicate, bool) or not _number(delay, 0, MAX_WEBHOOK_DELAY):
            raise ControlError("duplicate must be true or false and delay_seconds a number from 0 to 86400")
        if not isinstance(drop, bool):
            raise ControlError("drop must be true or false")
        try:
            self.s.webhooks.configure(realm_id, duplicate, float(delay), drop)
        except ValueError as error:
            raise ControlError(str(error)) from None
        return 200, {"duplicate": duplicate, "delay_seconds": delay, "drop": drop}

    async def deliveries(self, request: Request) -> tuple[int, Any]:
        return 200, {"deliveries": [_delivery_json(d) for d in self.s.webhooks.deliveries]}

    async def flush(self, request: Request) -> tuple[int, Any]:
        timeout = (await _object(request)).get("timeout", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 120:
            raise ControlError("timeout must be a number of seconds from 0 to 120")
        try:
            # in the thread pool: waiting here must not stop the server answering other requests meanwhile
            await run_in_threadpool(self.s.webhooks.flush, float(timeout))
        except TimeoutError:
            raise ControlError("webhook deliveries still pending after the timeout", 409) from None
        return 200, {"deliveries": len(self.s.webhooks.deliveries)}

    # -- clock, limits, reset --------------------------------------------------------------------------
    async def advance_clock(self, request: Request) -> tuple[int, Any]:
        seconds = (await _object(request)).get("seconds")
        if not _number(seconds, 0, MAX_CLOCK_STEP):
            raise ControlError(f"seconds must be a number from 0 to {MAX_CLOCK_STEP} (the clock only moves forward)")
        if (self.s.clock() + timedelta(seconds=seconds)).year >= LAST_YEAR:
            raise ControlError(f"the clock cannot move past the year {LAST_YEAR}")
        self.s.clock.advance(seconds)
        return 200, {"now": self.s.clock().isoformat()}

    async def get_limits(self, request: Request) -> tuple[int, Any]:
        return 200, dataclasses.asdict(self.s.throttle.limits)

    async def set_limits(self, request: Request) -> tuple[int, Any]:
        body = await _object(request)
        current = dataclasses.asdict(self.s.throttle.limits)
        unknown = set(body) - set(current)
        if unknown:
            raise ControlError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        merged = {**current, **body}
        numbers_ok = all(_whole(merged[k]) and merged[k] >= 1 for k in ("per_minute", "concurrent", "batch_per_minute"))
        if not numbers_ok or not isinstance(merged["enabled"], bool):
            raise ControlError("limits are whole numbers ≥ 1 and enabled is true or false")
        if not _number(merged["window_seconds"], 0.1, 3600):
            raise ControlError("window_seconds must be a number of seconds from 0.1 to 3600")
        self.s.throttle.configure(Limits(**merged))
        return 200, merged

    async def reset(self, request: Request) -> tuple[int, Any]:
        self.s.reset()
        return 200, {"reset": True}

    async def health(self, request: Request) -> tuple[int, Any]:
        return 200, {"ok": True}


async def _object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_not_json)
    except (ValueError, RecursionError):  # RecursionError: nested about 1000 levels deep
        raise ControlError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    # a lone surrogate kept in a company name, app or rule would break every answer that lists it (text.py)
    problem = flaw(body)
    if problem is not None:
        raise ControlError(f"the body cannot be kept: {problem.reason}")
    return body


def _webhook(body: dict[str, Any]) -> tuple[str | None, str]:
    url, fmt = body.get("webhook_url"), body.get("webhook_format", "cloudevents")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise ControlError("webhook_url must be an http(s) URL or null")
    if fmt not in ("cloudevents", "legacy"):
        raise ControlError("webhook_format must be 'cloudevents' or 'legacy'")
    return url, fmt


def _not_json(constant: str) -> object:
    """NaN, Infinity and -Infinity: Python's json accepts them, JSON does not."""
    raise ValueError(f"{constant} is not JSON")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object, low: float, high: float) -> TypeGuard[int | float]:
    """A finite JSON number (not a boolean) from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and low <= value <= high


def _app_json(app: Any) -> dict[str, Any]:
    return {
        "client_id": app.client_id, "client_secret": app.client_secret, "verifier_token": app.verifier_token,
        "redirect_uris": app.redirect_uris, "webhook_url": app.webhook_url, "webhook_format": app.webhook_format,
    }  # fmt: skip


def _delivery_json(delivery: Any) -> dict[str, Any]:
    return {
        "delivery_id": delivery.delivery_id, "client_id": delivery.client_id, "url": delivery.url,
        "body": delivery.body.decode(), "signature": delivery.signature, "realm_ids": list(delivery.realm_ids),
        "event_count": delivery.event_count, "duplicate": delivery.duplicate, "status": delivery.status,
        "attempts": [
            {"at": a.at.isoformat(), "status_code": a.status_code, "error": a.error} for a in delivery.attempts
        ],
    }  # fmt: skip
