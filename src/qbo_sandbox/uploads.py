"""``POST /upload``: files attached through a multipart request (Intuit's Attachable reference, "Upload
attachments": parts ``file_metadata_NN`` — an Attachable as JSON — and ``file_content_NN`` — the file, optionally
base64 with ``Content-Transfer-Encoding``). Answers ``{"AttachableResponse": [{"Attachable": {…}}, …]}``.

The body is read with the standard library's MIME parser, which takes CRLF or bare LF line ends (python-quickbooks
writes its multipart body with LF). The file's bytes are measured, not kept (COVERAGE.md).
"""

from __future__ import annotations

import json
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any

from qbo_sandbox import faults
from qbo_sandbox.backend import Backend

METADATA, CONTENT = "file_metadata_", "file_content_"


def upload(backend: Backend, realm_id: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Create one Attachable per file part; a part's Fault answers in its place, as QBO's batch-like answer does."""
    files, metadata = _parts(content_type, body)
    if not files:
        raise faults.validation(
            faults.REQUIRED_PARAM_MISSING, "Required param missing, need to supply the required value for the API",
            "Required parameter file_content_01 is missing in the request", "file_content",
        )  # fmt: skip
    answers = []
    for suffix, part in sorted(files.items()):
        data = part.get_payload(decode=True)
        size = len(data) if isinstance(data, bytes) else 0
        described = {**metadata.get(suffix, {}), "Size": size}
        described.setdefault("ContentType", part.get_content_type())
        described.setdefault("FileName", part.get_filename() or f"attachment{suffix}")
        try:
            answers.append({"Attachable": backend.create(realm_id, "Attachable", described)})
        except faults.SandboxFault as fault:
            answers.append({"Fault": fault.fault_json()})
    return {"AttachableResponse": answers, "time": faults.qbo_time()}


def _parts(content_type: str, body: bytes) -> tuple[dict[str, Message], dict[str, dict[str, Any]]]:
    if not content_type.lower().startswith("multipart/"):
        raise _bad("an upload is a multipart/form-data request")
    message = BytesParser(policy=policy.compat32).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    files: dict[str, Message] = {}
    metadata: dict[str, dict[str, Any]] = {}
    for part in message.get_payload() if message.is_multipart() else []:
        if not isinstance(part, Message):
            continue
        name = str(part.get_param("name", header="content-disposition") or "")
        if name.startswith(CONTENT):
            files[name.removeprefix(CONTENT)] = part
        elif name.startswith(METADATA):
            metadata[name.removeprefix(METADATA)] = _metadata(part)
    return files, metadata


def _metadata(part: Message) -> dict[str, Any]:
    raw = part.get_payload(decode=True)
    try:
        parsed = json.loads(raw if isinstance(raw, bytes) else b"")
    except ValueError:
        raise _bad("file_metadata is not JSON") from None
    if not isinstance(parsed, dict):
        raise _bad("file_metadata must be an Attachable object")
    return parsed


def _bad(detail: str) -> faults.ValidationFault:
    return faults.validation("2010", "Request has invalid or unsupported property", detail, "upload")
