"""``/batch``: up to 30 operations in one request, each succeeding or failing on its own (Intuit's "Batch"
reference: ``BatchItemRequest`` items carry ``bId`` and either ``operation`` + the entity object or ``Query``)."""

from __future__ import annotations

from typing import Any

from qbo_sandbox import entities, faults
from qbo_sandbox.backend import BATCH_LIMIT, Backend

OPERATIONS = ("create", "update", "delete")


def run_batch(backend: Backend, realm_id: str, body: object) -> dict[str, Any]:
    """The ``BatchItemResponse`` for a batch body; raises a Fault only when the batch as a whole is malformed."""
    items = _items(body)
    return {"BatchItemResponse": [_one(backend, realm_id, item) for item in items], "time": faults.qbo_time()}


def _items(body: object) -> list[dict[str, Any]]:
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise faults.validation(
            faults.REQUIRED_PARAM_MISSING, "Required param missing, need to supply the required value for the API",
            "Required parameter BatchItemRequest is missing in the request", "BatchItemRequest",
        )  # fmt: skip
    if len(items) > BATCH_LIMIT:
        # Intuit: "A maximum of 30 batch items per request". Code and wording unconfirmed (COVERAGE.md).
        raise faults.validation(
            faults.BUSINESS_VALIDATION, "A business validation error has occurred while processing your request",
            f"Business Validation Error: a batch request holds at most {BATCH_LIMIT} items; this one has {len(items)}",
            "BatchItemRequest",
        )  # fmt: skip
    bids = [str(item.get("bId", "")) for item in items]
    if "" in bids or len(set(bids)) != len(bids):
        raise faults.validation(
            faults.REQUIRED_PARAM_MISSING, "Required param missing, need to supply the required value for the API",
            "Every batch item needs its own bId", "bId",
        )  # fmt: skip
    return items


def _one(backend: Backend, realm_id: str, item: dict[str, Any]) -> dict[str, Any]:
    bid = str(item["bId"])
    try:
        return {"bId": bid, **_execute(backend, realm_id, item)}
    except faults.SandboxFault as fault:
        return {"bId": bid, "Fault": fault.fault_json()}


def _execute(backend: Backend, realm_id: str, item: dict[str, Any]) -> dict[str, Any]:
    if "Query" in item:
        found = backend.query(realm_id, str(item["Query"]))
        return {"QueryResponse": found["QueryResponse"]}
    operation = item.get("operation")
    objects = [key for key in item if key not in ("bId", "operation", "optionsData")]
    if operation not in OPERATIONS or len(objects) != 1 or not isinstance(item[objects[0]], dict):
        raise faults.validation(
            faults.INVALID_ENUMERATION, "Invalid Enumeration",
            f"A batch item needs an operation ({', '.join(OPERATIONS)}) and one entity object, or a Query",
            "operation",
        )  # fmt: skip
    entity = entities.canonical_name(objects[0])
    write = {"create": backend.create, "update": backend.update, "delete": backend.delete}[operation]
    return {entity: write(realm_id, entity, item[objects[0]])}
