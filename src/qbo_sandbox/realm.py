"""One company's state, with no HTTP and no locking (the Backend locks): objects, tombstones of deleted objects,
id counters, remembered request ids, and the RealmView the entity rules read."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from qbo_sandbox.clock import Clock
from qbo_sandbox.faults import SandboxFault


@dataclass
class Replay:
    """The first answer to a request id: a body, or the Fault it raised."""

    body: dict[str, Any] | None
    fault: SandboxFault | None


@dataclass
class RealmState:
    realm_id: str
    name: str
    country: str
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tombstones: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    replays: dict[str, Replay] = field(default_factory=dict)

    def table(self, entity: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(entity, {})

    def next_id(self, entity: str) -> str:
        self.counters[entity] = self.counters.get(entity, 0) + 1
        return str(self.counters[entity])

    def single(self, entity: str) -> dict[str, Any]:
        """Preferences and CompanyInfo: one object per company, Id "1"."""
        return self.table(entity).get("1", {})

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.single("CompanyInfo").get("DefaultTimeZone") or "America/Los_Angeles")


class View:
    """The RealmView of entities/: read-only copies, so a rule can never change state behind the backend."""

    def __init__(self, state: RealmState, clock: Clock) -> None:
        self.realm_id = state.realm_id
        self._state = state
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def preferences(self) -> dict[str, Any]:
        return copy.deepcopy(self._state.single("Preferences"))

    def company_info(self) -> dict[str, Any]:
        return copy.deepcopy(self._state.single("CompanyInfo"))

    def get(self, entity: str, entity_id: str) -> dict[str, Any] | None:
        found = self._state.table(entity).get(entity_id)
        return copy.deepcopy(found) if found is not None else None

    def all(self, entity: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(o) for o in self._state.table(entity).values()]

    def scan(self, entity: str) -> Iterable[Mapping[str, Any]]:
        return self._state.table(entity).values()

    def next_doc_number(self) -> str:
        """QBO increments the last invoice number, keeping its prefix: after App_1000 comes App_1001."""
        numbers = [str(i.get("DocNumber")) for i in self._state.table("Invoice").values() if i.get("DocNumber")]
        numbers += [
            str(i.get("DocNumber")) for i in self._state.tombstones.get("Invoice", {}).values() if i.get("DocNumber")
        ]
        if not numbers:
            return "1001"
        return increment(max(numbers, key=_number_key))


def increment(number: str) -> str:
    """ "App_1000" -> "App_1001", "SO-0099" -> "SO-0100", "X" -> "X1"."""
    match = re.search(r"(\d+)$", number)
    if not match:
        return number + "1"
    digits = match.group(1)
    return number[: match.start()] + str(int(digits) + 1).zfill(len(digits))


def _number_key(number: str) -> tuple[int, str]:
    match = re.search(r"(\d+)$", number)
    return (int(match.group(1)) if match else -1, number)
