"""Every company's state and the operations on it — no HTTP (moto's split: state apart from the routes).

Thread-safe: one re-entrant lock around every operation. Rules (validation, defaults, derived fields) live in
entities/; this module sets what the backend owns — Id, SyncToken, MetaData, domain, sparse — keeps tombstones
of deleted objects for CDC, replays request ids, and tells subscribers (the webhook dispatcher) what changed.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from qbo_sandbox import entities, faults, query
from qbo_sandbox.clock import Clock
from qbo_sandbox.realm import RealmState, Replay, View

CDC_LOOKBACK = timedelta(days=30)
BATCH_LIMIT = 30
TOMBSTONE_FIELDS = ("domain", "status", "Id", "MetaData")  # a deleted object in CDC (qbo-reference.md)


@dataclass(frozen=True)
class ChangeEvent:
    realm_id: str
    entity: str
    entity_id: str
    operation: str  # "Create" | "Update" | "Delete" | "Void"
    when: datetime


@dataclass(frozen=True)
class Company:
    realm_id: str
    name: str
    country: str


Listener = Callable[[ChangeEvent], None]


class Persistence(Protocol):
    """Where realms are kept beyond memory (store.SqliteStore for --db)."""

    def save(self, state: RealmState) -> None: ...
    def drop(self, realm_id: str) -> None: ...
    def clear(self) -> None: ...


class Backend:
    """All companies of one sandbox."""

    def __init__(self, clock: Clock | None = None, persist: Persistence | None = None) -> None:
        self.clock = clock or Clock()
        self._lock = threading.RLock()
        self._realms: dict[str, RealmState] = {}
        self._listeners: list[Listener] = []
        self._persist = persist

    # -- companies -------------------------------------------------------------------------------------
    def add_realm(self, state: RealmState) -> None:
        """Adopt a realm as it is (loading from disk, seeding)."""
        with self._lock:
            self._realms[state.realm_id] = state
            if self._persist:
                self._persist.save(state)

    def new_realm(self, name: str, country: str) -> RealmState:
        realm_id = str(9130350000000000 + uuid.uuid4().int % 10**12)  # 16 digits like Intuit's sandbox realms
        state = RealmState(realm_id, name, country)
        self.add_realm(state)
        return state

    def companies(self) -> list[Company]:
        with self._lock:
            return [Company(r.realm_id, r.name, r.country) for r in self._realms.values()]

    def realm(self, realm_id: str) -> RealmState:
        with self._lock:
            state = self._realms.get(realm_id)
        if state is None:
            raise faults.authorization_failed(realm_id)
        return state

    def install(self, realm_id: str, entity: str, body: dict[str, Any], entity_id: str | None = None) -> dict[str, Any]:
        """Store an object as given, without rules or events: how a company's built-in objects (preferences,
        tax codes) come to exist."""
        with self._lock:
            state = self.realm(realm_id)
            now = self.clock()
            chosen = entity_id or state.next_id(entity)
            stored = self._stamp(state, entity, body, chosen, "0", now, created=now)
            if self._persist:
                self._persist.save(state)
            return copy.deepcopy(stored)

    def drop_realm(self, realm_id: str) -> None:
        with self._lock:
            self._realms.pop(realm_id, None)
            if self._persist:
                self._persist.drop(realm_id)

    def reset(self) -> None:
        with self._lock:
            self._realms.clear()
            if self._persist:
                self._persist.clear()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # -- writes ----------------------------------------------------------------------------------------
    def create(self, realm_id: str, entity: str, body: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        """Create an object; returns it as stored. Raises the Fault QBO would."""
        result: dict[str, Any] = self._write(
            realm_id, request_id, body, lambda state: self._create(state, entity, body)
        )
        return result

    def update(self, realm_id: str, entity: str, body: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        """Sparse (body["sparse"] true) or full update; 5010 on a stale SyncToken."""
        result: dict[str, Any] = self._write(
            realm_id, request_id, body, lambda state: self._update(state, entity, body)
        )
        return result

    def delete(self, realm_id: str, entity: str, body: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        """Delete (where QBO allows it); the object leaves and a tombstone stays for CDC."""
        result: dict[str, Any] = self._write(
            realm_id, request_id, body, lambda state: self._delete(state, entity, body)
        )
        return result

    def void(self, realm_id: str, entity: str, body: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._write(realm_id, request_id, body, lambda state: self._void(state, entity, body))
        return result

    def set_exchange_rate(self, realm_id: str, body: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        """Set a currency's rate on a date (today when none is given): the rate of that day is updated, or made."""
        result: dict[str, Any] = self._write(realm_id, request_id, body, lambda state: self._set_rate(state, body))
        return result

    def run_once(self, realm_id: str, request_id: str | None, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run `work` (which makes its own backend calls) at most once per request id — how a whole batch
        request is replayed."""
        result: dict[str, Any] = self._once(realm_id, request_id, lambda state: (work(), []))
        return result

    def _write(self, realm_id: str, request_id: str | None, body: object, work: Callable[[RealmState], Any]) -> Any:
        """A write of a client's body: refused (Fault 2010) before anything is done or remembered for its request
        id when a string in it is not Unicode text or it is nested too deep — kept, either breaks later reads."""
        entities.common.check_text(body)
        return self._once(realm_id, request_id, work)

    def _once(self, realm_id: str, request_id: str | None, work: Callable[[RealmState], Any]) -> Any:
        """Run `work` under the lock, at most once per request id: a repeated id gets the first answer."""
        events: list[ChangeEvent] = []
        with self._lock:
            state = self.realm(realm_id)
            if request_id and request_id in state.replays:
                return _replay(state.replays[request_id])
            try:
                result, events = work(state)
            except faults.SandboxFault as fault:
                if request_id:
                    state.replays[request_id] = Replay(None, fault)
                    if self._persist:  # a remembered answer must outlive a crash, or a retry would act again
                        self._persist.save(state)
                raise
            if request_id:
                state.replays[request_id] = Replay(copy.deepcopy(result), None)
            if self._persist and (events or request_id):
                self._persist.save(state)
        for event in events:
            for listener in self._listeners:
                listener(event)
        return copy.deepcopy(result)

    def _create(self, state: RealmState, entity: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[ChangeEvent]]:
        outcome = entities.validate_create(View(state, self.clock), entity, body)
        now = self.clock()
        stored = self._stamp(state, entity, outcome.entity, state.next_id(entity), "0", now, created=now)
        events = [ChangeEvent(state.realm_id, entity, stored["Id"], "Create", now)]
        events += self._side_effects(state, outcome.side_effects, now)
        return self._present(state, entity, stored), events

    def _update(self, state: RealmState, entity: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[ChangeEvent]]:
        current = self._current(state, entity, body)
        outcome = entities.validate_update(View(state, self.clock), entity, current, body, bool(body.get("sparse")))
        now = self.clock()
        stored = self._stamp(state, entity, outcome.entity, current["Id"], _next(current), now, created=None)
        events = [ChangeEvent(state.realm_id, entity, stored["Id"], "Update", now)]
        events += self._side_effects(state, outcome.side_effects, now)
        return self._present(state, entity, stored), events

    def _delete(self, state: RealmState, entity: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[ChangeEvent]]:
        entities.require_operation(entity, "delete")
        current = self._current(state, entity, body)
        side_effects = entities.check_delete(View(state, self.clock), entity, current)
        now = self.clock()
        del state.table(entity)[current["Id"]]
        tombstone = {"domain": "QBO", "status": "Deleted", "Id": current["Id"],
                     "MetaData": {**current.get("MetaData", {}), "LastUpdatedTime": _qbo_time(state, now)}}  # fmt: skip
        if entity == "Invoice" and current.get("DocNumber"):
            tombstone["DocNumber"] = current["DocNumber"]  # kept so numbering continues after it
        state.tombstones.setdefault(entity, {})[current["Id"]] = tombstone
        response = {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}
        events = [ChangeEvent(state.realm_id, entity, current["Id"], "Delete", now)]
        return response, events + self._side_effects(state, side_effects, now)

    def _void(self, state: RealmState, entity: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[ChangeEvent]]:
        entities.require_operation(entity, "void")
        current = self._current(state, entity, body)
        outcome = entities.apply_void(View(state, self.clock), entity, current)
        now = self.clock()
        stored = self._stamp(state, entity, outcome.entity, current["Id"], _next(current), now, created=None)
        events = [ChangeEvent(state.realm_id, entity, stored["Id"], "Void", now)]
        return stored, events + self._side_effects(state, outcome.side_effects, now)

    def _set_rate(self, state: RealmState, body: dict[str, Any]) -> tuple[dict[str, Any], list[ChangeEvent]]:
        day = body.get("AsOfDate") or self.clock().astimezone(state.zone()).date().isoformat()
        code = body.get("SourceCurrencyCode")
        same_day = [
            r for r in state.table("ExchangeRate").values()
            if r.get("SourceCurrencyCode") == code and str(r.get("AsOfDate")) == str(day)
        ]  # fmt: skip
        if not same_day:
            return self._create(state, "ExchangeRate", {**body, "AsOfDate": day})
        current = same_day[0]
        token = body.get("SyncToken") if body.get("SyncToken") not in (None, "") else current["SyncToken"]
        return self._update(state, "ExchangeRate", {**body, "Id": current["Id"], "SyncToken": token, "sparse": True})

    def _current(self, state: RealmState, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """The object a write names, after the Id and SyncToken checks."""
        entity_id = str(entities.common.required(body, "Id"))
        token = str(entities.common.required(body, "SyncToken"))
        current = state.table(entity).get(entity_id)
        if current is None:
            raise faults.not_found(entity, entity_id)
        if token != current["SyncToken"]:
            raise faults.validation(
                faults.STALE_OBJECT, "Stale Object Error",
                f"Stale Object Error : You and another user were working on the same thing. The other user finished "
                f"before you did, so your work was not saved. (SyncToken {token} is not {current['SyncToken']})",
                "SyncToken",
            )  # fmt: skip
        return current

    def _stamp(
        self, state: RealmState, entity: str, body: dict[str, Any], entity_id: str, token: str, now: datetime,
        created: datetime | None,
    ) -> dict[str, Any]:  # fmt: skip
        previous = state.table(entity).get(entity_id, {}).get("MetaData", {})
        stored = {**body, "Id": entity_id, "SyncToken": token, "domain": "QBO", "sparse": False}
        stored["MetaData"] = {
            "CreateTime": _qbo_time(state, created) if created else previous.get("CreateTime"),
            "LastUpdatedTime": _qbo_time(state, now),
        }
        state.table(entity)[entity_id] = stored
        return stored

    def _side_effects(
        self, state: RealmState, effects: list[tuple[str, dict[str, Any]]], now: datetime
    ) -> list[ChangeEvent]:
        events = []
        for entity, updated in effects:
            current = state.table(entity)[updated["Id"]]
            self._stamp(state, entity, updated, current["Id"], _next(current), now, created=None)
            events.append(ChangeEvent(state.realm_id, entity, current["Id"], "Update", now))
        return events

    def _present(self, state: RealmState, entity: str, stored: dict[str, Any]) -> dict[str, Any]:
        return entities.present(View(state, self.clock), entity, [copy.deepcopy(stored)])[0]

    # -- reads -----------------------------------------------------------------------------------------
    def read(self, realm_id: str, entity: str, entity_id: str) -> dict[str, Any]:
        entities.require_operation(entity, "read")
        with self._lock:
            state = self.realm(realm_id)
            found = state.table(entity).get(entity_id)
            if found is None:
                raise faults.not_found(entity, entity_id)
            return self._present(state, entity, found)

    def exchange_rate(self, realm_id: str, code: str | None, as_of: str | None) -> dict[str, Any]:
        """The rate of a currency on a date (the latest set on or before it; today when no date is given)."""
        if not code:
            raise faults.validation(
                faults.REQUIRED_PARAM_MISSING, "Required param missing, need to supply the required value for the API",
                "Required parameter sourcecurrencycode is missing in the request", "sourcecurrencycode",
            )  # fmt: skip
        with self._lock:
            state = self.realm(realm_id)
            day = as_of or self.clock().astimezone(state.zone()).date().isoformat()
            rates = [
                r
                for r in state.table("ExchangeRate").values()
                if str(r.get("SourceCurrencyCode", "")).upper() == code.upper() and str(r.get("AsOfDate", "")) <= day
            ]
            if not rates:
                raise faults.not_found("ExchangeRate", f"{code} as of {day}")
            latest = max(rates, key=lambda r: (str(r.get("AsOfDate", "")), int(r["Id"])))
            return entities.present(View(state, self.clock), "ExchangeRate", [copy.deepcopy(latest)])[0]

    def list_entities(self, realm_id: str, entity: str) -> list[dict[str, Any]]:
        """Every stored object of an entity, as the API answers with it (derived fields included)."""
        with self._lock:
            state = self.realm(realm_id)
            rows = copy.deepcopy(list(state.table(entity).values()))
            return entities.present(View(state, self.clock), entity, rows)

    def query(self, realm_id: str, text: str) -> dict[str, Any]:
        """Run a QBO query (query.py has the grammar and its Faults)."""
        parsed = query.parse(text)
        entities.require_operation(parsed.entity, "query")
        if parsed.entity == "CreditCardPayment":  # answered under its JSON name (entities.json_name)
            body = query.execute(parsed, self.list_entities(realm_id, parsed.entity))
            if "CreditCardPayment" in body["QueryResponse"]:
                body["QueryResponse"]["CreditCardPaymentTxn"] = body["QueryResponse"].pop("CreditCardPayment")
            return body
        if parsed.entity != "Invoice":
            return query.execute(parsed, self.list_entities(realm_id, parsed.entity))
        with self._lock:  # the big table: filtered as stored (names are not filterable), only the answer is copied
            state = self.realm(realm_id)
            body = query.execute(parsed, list(state.table("Invoice").values()))
            found = body["QueryResponse"].get("Invoice")
            if found:
                body["QueryResponse"]["Invoice"] = entities.present(View(state, self.clock), "Invoice",
                                                                     copy.deepcopy(found))  # fmt: skip
            return body

    def cdc(self, realm_id: str, names: list[str], changed_since: datetime) -> dict[str, Any]:
        """Objects changed since `changed_since` (deleted ones as tombstones), per entity; 30 days at most. A time
        without offset is read in the company's zone, as QBO writes its times (unconfirmed)."""
        if changed_since.tzinfo is None:
            changed_since = changed_since.replace(tzinfo=self.realm(realm_id).zone())
        if changed_since < self.clock() - CDC_LOOKBACK:
            raise faults.validation(
                "4001", "Invalid query", "changedSince is more than 30 days ago (CDC looks back 30 days) (unconfirmed)",
                "changedSince",
            )  # fmt: skip
        with self._lock:
            state = self.realm(realm_id)
            responses = [self._changes(state, entities.canonical_name(n), changed_since) for n in names]
        return {"CDCResponse": [{"QueryResponse": responses}], "time": faults.qbo_time(self.clock())}

    def _changes(self, state: RealmState, entity: str, since: datetime) -> dict[str, Any]:
        # a tombstone shows QBO's fields only (it keeps DocNumber for numbering, which CDC does not show)
        gone = [{k: t[k] for k in TOMBSTONE_FIELDS if k in t} for t in state.tombstones.get(entity, {}).values()]
        live = [o for o in state.table(entity).values() if _updated(o) >= since]
        # ordered as stored, then presented: an answer may keep MetaData inside (a RecurringTransaction's template)
        ordered = sorted([(o, False) for o in live] + [(t, True) for t in gone if _updated(t) >= since],
                         key=lambda pair: _updated(pair[0]))[:1000]  # fmt: skip
        presented = iter(entities.present(View(state, self.clock), entity, [o for o, dead in ordered if not dead]))
        changed = [o if dead else next(presented) for o, dead in ordered]
        found = copy.deepcopy(changed[:1000])
        body: dict[str, Any] = {"startPosition": 1, "maxResults": len(found), "totalCount": len(found)}
        if found:
            body[entity] = found
        return body


def _next(current: dict[str, Any]) -> str:
    return str(int(current["SyncToken"]) + 1)


def _replay(replay: Replay) -> Any:
    if replay.fault is not None:
        raise replay.fault
    return copy.deepcopy(replay.body)


def _qbo_time(state: RealmState, moment: datetime) -> str:
    """QBO writes times in the company's zone with its offset: 2026-01-05T06:42:19-08:00."""
    return moment.astimezone(state.zone()).isoformat(timespec="milliseconds")


def _updated(obj: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(obj["MetaData"]["LastUpdatedTime"])
