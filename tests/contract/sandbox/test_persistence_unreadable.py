"""A state file written by an older sandbox, which stored lone surrogates (issue 9), still starts: what cannot be
read is left out with a logged warning — a company whose own name is unreadable, a customer, a remembered
answer, an app with its tokens, a row that no longer unpickles — and everything else is served as before."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import httpx
import pytest
from tests.contract.sandbox.conftest import Qbo

from qbo_sandbox.backend import Backend
from qbo_sandbox.clock import Clock
from qbo_sandbox.companies import create_company
from qbo_sandbox.oauth import OAuthRegistry
from qbo_sandbox.realm import Replay
from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer
from qbo_sandbox.store import SqliteStore
from qbo_sandbox.throttle import Limits

CONFIG = SandboxConfig(limits=Limits.off(), webhook_batch_window=0.05)
REDIRECT = "http://localhost/callback"


def older_state_file(db: Path) -> dict[str, str]:
    """What an older sandbox could write: stored through the backend's seeding path and the registry, which
    never checked text. Returns the ids the test looks for."""
    store = SqliteStore(db)
    backend = Backend(Clock(), persist=store)
    good = create_company(backend, "Good Co", sample_data=False).realm_id
    kept = backend.install(good, "Customer", {"DisplayName": "Kept", "Active": True})["Id"]
    broken = backend.install(good, "Customer", {"DisplayName": "Broken \ud800", "Active": True})["Id"]
    backend.realm(good).replays["rid-1"] = Replay({"Customer": {"DisplayName": "\udc00"}}, None)
    backend.realm(good).replays["rid-2"] = Replay({"Customer": {"DisplayName": "Fine"}}, None)
    store.save(backend.realm(good))
    bad = backend.new_realm("Bad \ud800 Co", "US").realm_id  # the issue's case: a lone surrogate in a company name
    registry = OAuthRegistry()
    app = registry.register_app([REDIRECT])
    tokens = registry.issue_tokens(app.client_id, good)
    unreadable_app = registry.register_app([f"{REDIRECT}/\udfff"])
    registry.issue_tokens(unreadable_app.client_id, good)
    store.save_registry(registry.snapshot())
    store.close()
    with sqlite3.connect(db) as raw:  # a row pickled by a version whose classes no longer exist
        raw.execute("INSERT INTO realms (realm_id, state) VALUES ('9130000000000001', x'80049500')")
    return {"good": good, "bad": bad, "kept": kept, "broken": broken, "client_id": app.client_id,
            "client_secret": app.client_secret, "access_token": tokens["access_token"],
            "unreadable_app": unreadable_app.client_id}  # fmt: skip


def test_an_older_state_file_with_lone_surrogates_still_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "old.db"
    ids = older_state_file(db)
    with caplog.at_level(logging.WARNING, logger="qbo_sandbox"):
        server = SandboxServer(CONFIG, db=db)
    with server, httpx.Client(base_url=server.url, timeout=10) as http:
        companies = http.get("/_sandbox/companies")
        assert companies.status_code == 200, companies.text
        assert [c["realm_id"] for c in companies.json()["companies"]] == [ids["good"]]
        assert [a["client_id"] for a in http.get("/_sandbox/apps").json()["apps"]] == [ids["client_id"]]
        app = {"client_id": ids["client_id"], "client_secret": ids["client_secret"], "redirect_uris": [REDIRECT]}
        qbo = Qbo(http, app, companies.json()["companies"][0], {"access_token": ids["access_token"]})
        assert [c["Id"] for c in qbo.rows("select * from Customer")] == [ids["kept"]]
        assert qbo.get(f"customer/{ids['broken']}").status_code == 400  # left out: 610
        for page in ("/app", "/app/customers"):
            assert http.get(page, params={"realmId": ids["good"]}).status_code == 200
        # the remembered answer that was readable still replays; the unreadable one is forgotten
        replayed = qbo.post("customer", json={"DisplayName": "Other"}, requestid="rid-2")
        assert replayed.json()["Customer"] == {"DisplayName": "Fine"}
        forgotten = qbo.post("customer", json={"DisplayName": "New"}, requestid="rid-1")
        assert forgotten.json()["Customer"]["DisplayName"] == "New"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(ids["bad"] in w and "skipped: name holds a lone surrogate (U+D800)" in w for w in warnings), warnings
    assert any("9130000000000001" in w and "cannot be read" in w for w in warnings), warnings
    assert any(f"Customer '{ids['broken']}'" in w and "DisplayName holds a lone surrogate" in w for w in warnings)
    assert any("request id 'rid-1'" in w for w in warnings), warnings
    assert any(w.startswith("qbo_sandbox: 1 apps left out") for w in warnings), warnings
    assert any("1 refresh tokens left out" in w for w in warnings), warnings


def test_the_cleaned_company_is_saved_and_the_next_start_is_quiet_about_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "old.db"
    ids = older_state_file(db)
    with SandboxServer(CONFIG, db=db):
        pass
    caplog.clear()
    with (
        caplog.at_level(logging.WARNING, logger="qbo_sandbox"),
        SandboxServer(CONFIG, db=db) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        assert [c["realm_id"] for c in http.get("/_sandbox/companies").json()["companies"]] == [ids["good"]]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # what was left out is gone from the file; the skipped company and the unreadable row stay (and are named)
    assert not any("left out" in w for w in warnings), warnings
    assert any(ids["bad"] in w for w in warnings), warnings


def test_a_registry_row_that_does_not_unpickle_starts_without_apps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "old.db"
    older_state_file(db)
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE registry SET state = x'80049500' WHERE id = 1")
    with (
        caplog.at_level(logging.WARNING, logger="qbo_sandbox"),
        SandboxServer(CONFIG, db=db) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        assert http.get("/_sandbox/apps").json() == {"apps": []}
    assert any("apps and tokens in the state file cannot be read" in r.getMessage() for r in caplog.records)


def test_a_company_name_with_a_lone_surrogate_cannot_be_created_from_python() -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        create_company(Backend(Clock()), "Bad \ud800 Co")
