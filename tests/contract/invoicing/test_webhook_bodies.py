"""Odd and oversized bodies at our served app (uvicorn on a real port): refused with a clear 4xx in the one error
shape, read no further than the limit, and nothing stored (issue 9, items 8 and 9).

The oversized cases speak raw HTTP over a socket: a client library would either refuse to announce a length it
does not send or keep writing after the answer, and what is tested is exactly when the server answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import select
import socket
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.web.limits import API_LIMIT, WEBHOOK_LIMIT

GIGABYTE = 1024**3
STREAM_CAP = 32 * 1024 * 1024  # a streamed body stops here if nothing answered: far below any memory limit


def _signed(world: World, body: bytes) -> httpx.Response:
    token = world.app.settings.qbo_webhook_verifier_token.get_secret_value()
    signature = base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()
    return httpx.post(f"{world.url}/webhooks/qbo", content=body, headers={"intuit-signature": signature}, timeout=30)


def _stored_events(world: World) -> int:
    with world.app.engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT COUNT(*) FROM processed_events").scalar() or 0)


def _event(world: World, **fields: str) -> dict[str, str]:
    return {
        "specversion": "1.0", "id": "0b6e4a52-7bb2-4c4a-9a64-2f3c1d0e9f10", "type": "qbo.invoice.deleted.v1",
        "time": "2026-01-05T14:42:19.179Z", "intuitentityid": "130", "intuitaccountid": world.realm_id, **fields,
    }  # fmt: skip


# -- raw HTTP ----------------------------------------------------------------------------------------------------
def _exchange(url: str, head: str, chunks: Iterable[bytes]) -> tuple[int, dict[str, str], bytes, int]:
    """Send ``head`` then ``chunks`` until the server answers (or the chunks end); read the answer to its end.
    Returns status, headers, body and how many body bytes were sent before the answer came."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=30) as connection:
        connection.sendall(head.encode("latin-1"))
        sent = 0
        for chunk in chunks:
            if select.select([connection], [], [], 0)[0]:
                break  # the answer is there: stop writing, as a browser would
            try:
                connection.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        answer = _read_to_end(connection)
    head_bytes, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body, sent


def _read_to_end(connection: socket.socket) -> bytes:
    received = b""
    while True:
        try:
            data = connection.recv(65536)
        except ConnectionResetError:  # the server closed with our unread bytes in its buffer: keep what came
            return received
        if not data:
            return received
        received += data


def _head(world: World, path: str, length_or_chunked: int | None, content_type: str = "application/json") -> str:
    host = urlsplit(world.url).netloc
    framing = "Transfer-Encoding: chunked" if length_or_chunked is None else f"Content-Length: {length_or_chunked}"
    return f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n"


def _endless_chunks(size: int = 16 * 1024) -> Iterator[bytes]:
    """A chunked body that keeps coming (up to STREAM_CAP, then its last chunk)."""
    for _ in range(STREAM_CAP // size):
        yield f"{size:x}\r\n".encode() + b"[" * size + b"\r\n"
    yield b"0\r\n\r\n"


# -- item 8: unbounded bodies ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/webhooks/qbo", "/api/companies"])
def test_a_gigabyte_announced_is_refused_before_it_is_sent(make_world: WorldFactory, path: str) -> None:
    world = make_world("US", serve=True)

    status, headers, body, sent = _exchange(world.url, _head(world, path, GIGABYTE), [b"[" * 1024])

    assert status == 413  # answered while 1 KiB of the gigabyte has been sent: nothing waited for the rest
    assert sent <= 1024
    assert json.loads(body)["error"]["code"] == "too_large"
    assert headers["connection"] == "close"


@pytest.mark.parametrize(("path", "limit"), [("/webhooks/qbo", WEBHOOK_LIMIT), ("/api/companies", API_LIMIT)])
def test_a_chunked_body_that_keeps_coming_is_cut_off_at_the_limit(
    make_world: WorldFactory, path: str, limit: int
) -> None:
    world = make_world("US", serve=True)

    status, _, body, sent = _exchange(world.url, _head(world, path, None), _endless_chunks())

    assert status == 413
    assert json.loads(body)["error"]["code"] == "too_large"
    assert limit < sent < STREAM_CAP  # answered by the count, long before the stream (or memory) ran out
    assert _stored_events(world) == 0
    assert httpx.get(f"{world.url}/healthz").status_code == 200  # and the server serves on


def test_an_unsigned_webhook_over_the_limit_is_refused_by_size_before_its_signature(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)

    answer = httpx.post(f"{world.url}/webhooks/qbo", content=b" " * (WEBHOOK_LIMIT + 1))  # no signature at all

    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"


# -- item 9: odd bytes, validly signed ---------------------------------------------------------------------------
def _legacy(world: World, entity_id: str) -> dict[str, object]:
    change = {"name": "Invoice", "id": entity_id, "operation": "Delete", "lastUpdated": "2026-01-05T14:42:19.000Z"}
    return {"eventNotifications": [{"realmId": world.realm_id, "dataChangeEvent": {"entities": [change]}}]}


ODD_BODIES: dict[str, Callable[[World], bytes]] = {
    "utf-16 with a byte-order mark": lambda w: json.dumps([_event(w)]).encode("utf-16"),
    "utf-16 without one": lambda w: json.dumps([_event(w)]).encode("utf-16-le"),
    "utf-32": lambda w: json.dumps([_event(w)]).encode("utf-32"),
    "invalid utf-8": lambda w: json.dumps([_event(w)]).encode().replace(b"130", b"13\xff"),
    "an encoded surrogate": lambda w: json.dumps([_event(w)]).encode().replace(b"130", b"13\xed\xa0\x80"),
    "a 50,000-deep array": lambda w: b"[" * 50_000 + b"]" * 50_000,
    "a lone surrogate in the event id": lambda w: json.dumps([_event(w, id="\ud800")]).encode(),
    "a lone surrogate in the entity id": lambda w: json.dumps([_event(w, intuitentityid="13\udfff")]).encode(),
    "a lone surrogate in a legacy id": lambda w: json.dumps(_legacy(w, "\ud83d")).encode(),
    "a control character in the realm id": lambda w: json.dumps([_event(w, intuitaccountid="1\x00")]).encode(),
    "an event id of 129 characters": lambda w: json.dumps([_event(w, id="e" * 129)]).encode(),
    "a number for the event id": lambda w: json.dumps([{**_event(w), "id": 7}]).encode(),
    "1,001 events": lambda w: json.dumps([_event(w, id=f"e{n}") for n in range(1001)]).encode(),
}


@pytest.mark.parametrize("case", ODD_BODIES)
def test_a_validly_signed_odd_body_is_refused_with_400_and_nothing_stored(make_world: WorldFactory, case: str) -> None:
    world = make_world("US", serve=True)

    answer = _signed(world, ODD_BODIES[case](world))

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "bad_payload"
    assert answer.json()["error"]["message"].endswith(".")
    assert _stored_events(world) == 0


def test_after_odd_bodies_a_good_delivery_is_still_handled(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    for make_body in ODD_BODIES.values():
        _signed(world, make_body(world))

    good = _signed(world, json.dumps([_event(world)]).encode())

    assert (good.status_code, good.json()) == (200, {"queued": 1})
    assert _stored_events(world) == 1  # the worker (run at once here) handled it
