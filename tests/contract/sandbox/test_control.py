"""The control API under /_sandbox over real HTTP: apps, companies (per country and option), tokens, clock,
limits, reset, and the ``{"error": ...}`` answers to bad input."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.contract.sandbox.conftest import Qbo, connect

REDIRECT = "http://localhost/callback"


def _app(control: httpx.Client, **extra: Any) -> dict[str, Any]:
    made = control.post("/_sandbox/apps", json={"redirect_uris": [REDIRECT], **extra})
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"]
    assert isinstance(body["error"], str) and body["error"]
    return str(body["error"])


# -- apps ---------------------------------------------------------------------------------------------------
def test_create_app_answers_201_with_credentials(control: httpx.Client) -> None:
    app = _app(control)
    assert set(app) == {"client_id", "client_secret", "verifier_token", "redirect_uris", "webhook_url",
                        "webhook_format"}  # fmt: skip
    assert all(isinstance(app[key], str) and len(app[key]) >= 16 for key in
               ("client_id", "client_secret", "verifier_token"))  # fmt: skip
    assert app["redirect_uris"] == [REDIRECT]
    assert app["webhook_url"] is None
    assert app["webhook_format"] == "cloudevents"
    other = _app(control)
    assert other["client_id"] != app["client_id"]
    assert other["client_secret"] != app["client_secret"]
    assert other["verifier_token"] != app["verifier_token"]


def test_create_app_with_webhook_settings(control: httpx.Client) -> None:
    app = _app(control, webhook_url="https://hooks.example/qbo", webhook_format="legacy")
    assert app["webhook_url"] == "https://hooks.example/qbo"
    assert app["webhook_format"] == "legacy"


def test_list_apps(control: httpx.Client) -> None:
    assert control.get("/_sandbox/apps").json() == {"apps": []}
    first, second = _app(control), _app(control)
    listed = control.get("/_sandbox/apps")
    assert listed.status_code == 200
    assert listed.json() == {"apps": [first, second]}


def test_patch_app_sets_and_clears_webhook(control: httpx.Client) -> None:
    app = _app(control)
    patched = control.patch(f"/_sandbox/apps/{app['client_id']}",
                            json={"webhook_url": "http://127.0.0.1:9/hooks", "webhook_format": "legacy"})  # fmt: skip
    assert patched.status_code == 200
    assert patched.json() == {**app, "webhook_url": "http://127.0.0.1:9/hooks", "webhook_format": "legacy"}
    assert control.get("/_sandbox/apps").json() == {"apps": [patched.json()]}
    # PATCH changes only what the body names
    reformatted = control.patch(f"/_sandbox/apps/{app['client_id']}", json={"webhook_format": "cloudevents"})
    assert reformatted.status_code == 200
    assert reformatted.json() == {**app, "webhook_url": "http://127.0.0.1:9/hooks", "webhook_format": "cloudevents"}
    unchanged = control.patch(f"/_sandbox/apps/{app['client_id']}", json={})
    assert unchanged.json() == reformatted.json()
    cleared = control.patch(f"/_sandbox/apps/{app['client_id']}", json={"webhook_url": None})
    assert cleared.status_code == 200
    assert cleared.json() == {**app, "webhook_url": None, "webhook_format": "cloudevents"}


@pytest.mark.parametrize(
    "body",
    [
        {"redirect_uris": "http://localhost/callback"},
        {"redirect_uris": [""]},
        {"redirect_uris": [1]},
        {"webhook_url": "ftp://hooks.example"},
        {"webhook_url": 5},
        {"webhook_format": "xml"},
    ],
)
def test_create_app_rejects_bad_input(control: httpx.Client, body: dict[str, Any]) -> None:
    _error(control.post("/_sandbox/apps", json=body), 400)
    assert control.get("/_sandbox/apps").json() == {"apps": []}


def test_patch_app_rejects_bad_input_and_unknown_app(control: httpx.Client) -> None:
    app = _app(control)
    _error(control.patch(f"/_sandbox/apps/{app['client_id']}", json={"webhook_format": "soap"}), 400)
    _error(control.patch(f"/_sandbox/apps/{app['client_id']}", json={"webhook_url": "hooks.example"}), 400)
    assert _error(control.patch("/_sandbox/apps/nope", json={}), 404) == "no app with this client_id"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b'{"seconds": NaN}', b'{"seconds": Infinity}'])
def test_bodies_that_are_not_json_objects_are_refused(control: httpx.Client, raw: bytes) -> None:
    for path in ("/_sandbox/apps", "/_sandbox/companies", "/_sandbox/tokens", "/_sandbox/clock/advance"):
        _error(control.post(path, content=raw, headers={"content-type": "application/json"}), 400)
    _error(control.put("/_sandbox/limits", content=raw), 400)


# -- companies ----------------------------------------------------------------------------------------------
def _company(control: httpx.Client, **body: Any) -> dict[str, Any]:
    made = control.post("/_sandbox/companies", json=body)
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def _qbo(control: httpx.Client, company: dict[str, Any]) -> Qbo:
    app = _app(control)
    tokens = control.post("/_sandbox/tokens", json={"client_id": app["client_id"], "realm_id": company["realm_id"]})
    assert tokens.status_code == 200, tokens.text
    return Qbo(control, app, company, tokens.json())


HOME = {"US": "USD", "GB": "GBP", "CA": "CAD", "AU": "AUD"}
TAX_CODES = {
    "US": {"TAX", "NON", "California"},
    "GB": {"20.0% S", "5.0% R", "0.0% Z", "Exempt", "No VAT"},
    "CA": {"GST", "HST ON", "GST/PST BC", "Exempt", "Zero-rated"},
    "AU": {"GST", "GST free", "Input taxed"},
}
EXTRA_CURRENCIES = {"US": {"EUR", "GBP", "CAD"}, "GB": {"EUR", "USD"}, "CA": {"USD", "EUR"}, "AU": {"USD", "NZD"}}


@pytest.mark.parametrize("country", ["US", "GB", "CA", "AU"])
def test_company_defaults_per_country(control: httpx.Client, country: str) -> None:
    company = _company(control, name=f"Co {country}", country=country)
    assert company == {
        "realm_id": company["realm_id"], "name": f"Co {country}", "country": country,
        "home_currency": HOME[country], "multicurrency": False, "custom_txn_numbers": False,
    }  # fmt: skip
    assert company["realm_id"].isdigit()
    qbo = _qbo(control, company)
    types = {row["AccountType"] for row in qbo.rows("select * from Account")}
    assert {"Income", "Cost of Goods Sold", "Other Current Asset", "Accounts Receivable"} <= types
    names = {row["Name"]: row["AccountType"] for row in qbo.rows("select * from Account")}
    assert names["Inventory Asset"] == "Other Current Asset"
    assert names["Cost of Goods Sold"] == "Cost of Goods Sold"
    assert names["Sales of Product Income"] == "Income"
    items = qbo.rows("select * from Item")
    assert {item["Sku"] for item in items} == {"SRV-DESIGN", "SRV-INSTALL", "SRV-GARDEN", "RF-100", "SPR-HEAD",
                                               "PUMP-1", "SOD-1"}  # fmt: skip
    pump = next(item for item in items if item["Name"] == "Pump")
    assert pump["Type"] == "Inventory"
    assert pump["TrackQtyOnHand"] is True
    assert pump["AssetAccountRef"]["value"] == next(
        row["Id"] for row in qbo.rows("select * from Account") if row["Name"] == "Inventory Asset"
    )
    assert len(qbo.rows("select * from Customer")) == 12
    terms = {row["Name"]: row["DueDays"] for row in qbo.rows("select * from Term")}
    assert terms == {"Due on receipt": 0, "Net 15": 15, "Net 30": 30, "Net 60": 60}
    assert {row["Name"] for row in qbo.rows("select * from TaxCode")} == TAX_CODES[country]
    prefs = qbo.get("preferences").json()["Preferences"]
    assert prefs["CurrencyPrefs"]["HomeCurrency"]["value"] == HOME[country]
    assert prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] is False
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is False
    info = qbo.get(f"companyinfo/{company['realm_id']}").json()["CompanyInfo"]
    assert info["CompanyName"] == f"Co {country}"
    assert info["Country"] == country
    assert qbo.rows("select * from CompanyCurrency") == []


@pytest.mark.parametrize("country", ["US", "GB", "CA", "AU"])
def test_company_with_multicurrency_and_custom_numbers_without_sample_data(control: httpx.Client, country: str) -> None:
    company = _company(control, name="Multi", country=country, multicurrency=True, custom_txn_numbers=True,
                       sample_data=False)  # fmt: skip
    assert company["multicurrency"] is True
    assert company["custom_txn_numbers"] is True
    assert company["home_currency"] == HOME[country]
    qbo = _qbo(control, company)
    prefs = qbo.get("preferences").json()["Preferences"]
    assert prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] is True
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    assert {row["Code"] for row in qbo.rows("select * from CompanyCurrency")} == EXTRA_CURRENCIES[country]
    assert qbo.rows("select * from Customer") == []
    assert qbo.rows("select * from Item") == []
    # the chart of accounts, terms and tax codes are built in, sample data or not
    assert {"Income", "Cost of Goods Sold"} <= {row["AccountType"] for row in qbo.rows("select * from Account")}
    assert len(qbo.rows("select * from Term")) == 4
    assert {row["Name"] for row in qbo.rows("select * from TaxCode")} == TAX_CODES[country]


def test_company_name_defaults_and_is_trimmed(control: httpx.Client) -> None:
    assert _company(control)["name"] == "Sandbox Company"
    assert _company(control, name="  Padded Ltd  ")["name"] == "Padded Ltd"


def test_list_and_delete_companies(control: httpx.Client) -> None:
    assert control.get("/_sandbox/companies").json() == {"companies": []}
    first = _company(control, name="One", sample_data=False)
    second = _company(control, name="Two", country="GB", sample_data=False)
    assert first["realm_id"] != second["realm_id"]
    listed = control.get("/_sandbox/companies")
    assert listed.status_code == 200
    assert sorted(listed.json()["companies"], key=lambda c: c["name"]) == [first, second]
    deleted = control.delete(f"/_sandbox/companies/{first['realm_id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"deleted": first["realm_id"]}
    assert control.get("/_sandbox/companies").json() == {"companies": [second]}
    _error(control.delete(f"/_sandbox/companies/{first['realm_id']}"), 404)


def test_deleted_company_is_gone_from_the_api(control: httpx.Client) -> None:
    qbo = connect(control, sample_data=False)
    assert qbo.get(f"companyinfo/{qbo.realm_id}").status_code == 200
    assert control.delete(f"/_sandbox/companies/{qbo.realm_id}").status_code == 200
    gone = qbo.get(f"companyinfo/{qbo.realm_id}")
    assert gone.status_code == 403
    assert gone.json()["Fault"]["type"] == "AuthorizationFault"
    assert [error["code"] for error in gone.json()["Fault"]["Error"]] == ["3100"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "name must be a non-empty string of at most 100 characters"),
        ({"name": "   "}, "name must be a non-empty string of at most 100 characters"),
        ({"name": "x" * 101}, "name must be a non-empty string of at most 100 characters"),
        ({"name": 7}, "name must be a non-empty string of at most 100 characters"),
        ({"country": "FR"}, "country must be one of US, GB, CA, AU"),
        ({"multicurrency": "yes"}, "multicurrency, custom_txn_numbers and sample_data must be true or false"),
        ({"custom_txn_numbers": 1}, "multicurrency, custom_txn_numbers and sample_data must be true or false"),
        ({"sample_data": None}, "multicurrency, custom_txn_numbers and sample_data must be true or false"),
    ],
)
def test_create_company_rejects_bad_input(control: httpx.Client, body: dict[str, Any], message: str) -> None:
    assert _error(control.post("/_sandbox/companies", json=body), 400) == message
    assert control.get("/_sandbox/companies").json() == {"companies": []}


# -- tokens -------------------------------------------------------------------------------------------------
def test_tokens_connect_an_app_to_a_company(control: httpx.Client) -> None:
    app = _app(control)
    company = _company(control, sample_data=False)
    issued = control.post("/_sandbox/tokens", json={"client_id": app["client_id"], "realm_id": company["realm_id"]})
    assert issued.status_code == 200
    tokens = issued.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 100 * 24 * 3600
    assert tokens["access_token"] and tokens["refresh_token"]
    answer = control.get(f"/v3/company/{company['realm_id']}/companyinfo/{company['realm_id']}",
                         headers={"Authorization": f"Bearer {tokens['access_token']}"})  # fmt: skip
    assert answer.status_code == 200
    assert answer.json()["CompanyInfo"]["CompanyName"] == "Sandbox Company"


def test_tokens_refuse_unknown_app_or_company(control: httpx.Client) -> None:
    app = _app(control)
    company = _company(control, sample_data=False)
    unknown_company = control.post("/_sandbox/tokens", json={"client_id": app["client_id"], "realm_id": "999"})
    assert _error(unknown_company, 404) == "no company with realm_id '999'"
    unknown_app = control.post("/_sandbox/tokens", json={"client_id": "nope", "realm_id": company["realm_id"]})
    assert _error(unknown_app, 404) == "no app with this client_id"
    for body in ({}, {"client_id": app["client_id"]}, {"realm_id": company["realm_id"]},
                 {"client_id": app["client_id"], "realm_id": int(company["realm_id"])}):  # fmt: skip
        assert (
            _error(control.post("/_sandbox/tokens", json=body), 400) == "client_id and realm_id are required (strings)"
        )


# -- clock --------------------------------------------------------------------------------------------------
def test_clock_advance_moves_time_forward(control: httpx.Client) -> None:
    first = control.post("/_sandbox/clock/advance", json={"seconds": 0})
    assert first.status_code == 200
    before = datetime.fromisoformat(first.json()["now"])
    later = control.post("/_sandbox/clock/advance", json={"seconds": 7200})
    assert later.status_code == 200
    after = datetime.fromisoformat(later.json()["now"])
    assert timedelta(seconds=7200) <= after - before < timedelta(seconds=7210)


def test_clock_advance_shows_in_created_objects(control: httpx.Client) -> None:
    qbo = connect(control, sample_data=False)
    control.post("/_sandbox/clock/advance", json={"seconds": 1800}).raise_for_status()
    now = datetime.fromisoformat(control.post("/_sandbox/clock/advance", json={"seconds": 0}).json()["now"])
    made = qbo.post("customer", json={"DisplayName": "Later Ltd"})
    assert made.status_code == 200, made.text
    created = datetime.fromisoformat(made.json()["Customer"]["MetaData"]["CreateTime"])
    assert abs(created - now) < timedelta(seconds=5)


@pytest.mark.parametrize(
    "body", [{}, {"seconds": -1}, {"seconds": "10"}, {"seconds": True}, {"seconds": 1e300}, {"seconds": 315360001}]
)
def test_clock_advance_rejects_bad_seconds(control: httpx.Client, body: dict[str, Any]) -> None:
    assert _error(control.post("/_sandbox/clock/advance", json=body), 400) == (
        "seconds must be a number from 0 to 315360000 (the clock only moves forward)"
    )
    assert control.get("/_sandbox/health").status_code == 200


def test_clock_advance_stops_before_the_calendar_ends(control: httpx.Client) -> None:
    for _ in range(800):  # ten years a step: refused near the year 9000, long before 800 steps
        answer = control.post("/_sandbox/clock/advance", json={"seconds": 315360000})
        if answer.status_code != 200:
            break
    assert _error(answer, 400) == "the clock cannot move past the year 9000"
    now = datetime.fromisoformat(control.post("/_sandbox/clock/advance", json={"seconds": 0}).json()["now"])
    assert now.year < 9000
    qbo = connect(control, sample_data=False)  # the sandbox still works at the far end of time
    assert qbo.get(f"companyinfo/{qbo.realm_id}").status_code == 200


# -- limits -------------------------------------------------------------------------------------------------
def test_limits_get_and_put(control: httpx.Client) -> None:
    assert control.get("/_sandbox/limits").json() == {
        "per_minute": 500, "concurrent": 10, "batch_per_minute": 40, "enabled": False, "window_seconds": 60.0,
    }  # fmt: skip
    changed = control.put("/_sandbox/limits", json={"per_minute": 5, "enabled": True})
    assert changed.status_code == 200
    expected = {"per_minute": 5, "concurrent": 10, "batch_per_minute": 40, "enabled": True, "window_seconds": 60.0}
    assert changed.json() == expected
    assert control.get("/_sandbox/limits").json() == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"per_minute": 0}, "limits are whole numbers ≥ 1 and enabled is true or false"),
        ({"concurrent": 1.5}, "limits are whole numbers ≥ 1 and enabled is true or false"),
        ({"batch_per_minute": "40"}, "limits are whole numbers ≥ 1 and enabled is true or false"),
        ({"per_minute": True}, "limits are whole numbers ≥ 1 and enabled is true or false"),
        ({"enabled": "yes"}, "limits are whole numbers ≥ 1 and enabled is true or false"),
        ({"per_hour": 5}, "unknown limit(s): per_hour"),
        ({"window_seconds": 0}, "window_seconds must be a number of seconds from 0.1 to 3600"),
        ({"window_seconds": "60"}, "window_seconds must be a number of seconds from 0.1 to 3600"),
    ],
)
def test_limits_reject_bad_input(control: httpx.Client, body: dict[str, Any], message: str) -> None:
    before = control.get("/_sandbox/limits").json()
    assert _error(control.put("/_sandbox/limits", json=body), 400) == message
    assert control.get("/_sandbox/limits").json() == before


# -- reset --------------------------------------------------------------------------------------------------
def test_reset_empties_the_sandbox(control: httpx.Client) -> None:
    qbo = connect(control)
    control.post(f"/_sandbox/companies/{qbo.realm_id}/faults", json={"kind": "latency"}).raise_for_status()
    control.put("/_sandbox/limits", json={"per_minute": 7}).raise_for_status()
    reset = control.post("/_sandbox/reset")
    assert reset.status_code == 200
    assert reset.json() == {"reset": True}
    assert control.get("/_sandbox/apps").json() == {"apps": []}
    assert control.get("/_sandbox/companies").json() == {"companies": []}
    assert control.get("/_sandbox/webhooks/deliveries").json() == {"deliveries": []}
    # the limits the server started with (the session server's are off)
    assert control.get("/_sandbox/limits").json() == {
        "per_minute": 500, "concurrent": 10, "batch_per_minute": 40, "enabled": False, "window_seconds": 60.0,
    }  # fmt: skip
    assert control.get(f"/_sandbox/companies/{qbo.realm_id}/requests").json() == {"requests": []}
    assert qbo.get(f"companyinfo/{qbo.realm_id}").status_code == 401


def test_health(control: httpx.Client) -> None:
    answer = control.get("/_sandbox/health")
    assert answer.status_code == 200
    assert answer.json() == {"ok": True}


def test_unknown_company_in_control_paths_is_404(control: httpx.Client) -> None:
    for response in (
        control.post("/_sandbox/companies/404/faults", json={"kind": "latency"}),
        control.get("/_sandbox/companies/404/faults"),
        control.delete("/_sandbox/companies/404/faults"),
        control.put("/_sandbox/companies/404/webhooks", json={"duplicate": True}),
        control.delete("/_sandbox/companies/404"),
    ):
        assert _error(response, 404) == "no company with realm_id '404'"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/_sandbox/reset", "POST"),
        ("DELETE", "/_sandbox/apps", "GET, HEAD, POST"),
        ("POST", "/_sandbox/health", "GET, HEAD"),
        ("PUT", "/_sandbox/companies/1/faults", "DELETE, GET, HEAD, POST"),
        ("GET", "/_sandbox/webhooks/flush", "POST"),
    ],
)
def test_a_known_path_with_another_method_is_405(control: httpx.Client, method: str, path: str, allowed: str) -> None:
    answer = control.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allowed
    assert answer.json() == {"error": f"{method} is not allowed on {path} (allowed: {allowed})"}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_an_unknown_control_path_is_404(control: httpx.Client, method: str) -> None:
    answer = control.request(method, "/_sandbox/nothing/here")
    assert answer.status_code == 404
    assert answer.json() == {"error": "no control endpoint at /_sandbox/nothing/here"}
