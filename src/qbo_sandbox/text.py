"""What the sandbox will keep of a client's strings and structures: Unicode text, nested a few levels deep.

JSON lets a client write half of a UTF-16 pair as an escape (``"\\ud800"``); Python's json turns it into a
``str`` holding a lone surrogate, which is not a Unicode character and which no UTF-8 encoder accepts. Kept,
such a string breaks every later answer that includes it — the JSON API, the control API, the UI, the SQLite
file — so it is refused where strings enter (request bodies, forms, query text) and left out where an older
state file still holds one (store.py). A body nested hundreds of levels deep parses, but breaks later copies
and pickles of what was stored (they recurse); QBO's deepest objects are about six levels, so a small bound
costs no real client anything.
"""

from __future__ import annotations

import dataclasses
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

MAX_DEPTH = 32  # nesting levels of a request body or stored object (a batch of invoices needs about 8)
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Flaw:
    """Why a value cannot be kept: ``element`` is where (``BillAddr.Line1``, ``Line[2].Description``; empty for
    the whole value), ``reason`` a sentence that names no unencodable character itself."""

    element: str
    reason: str


def is_text(value: str) -> bool:
    """True when ``value`` is Unicode text (encodable as UTF-8): no lone surrogate."""
    # a str from json holds surrogates only unpaired (pairs become one code point), so any one is lone
    return value.isascii() or _SURROGATE.search(value) is None


def flaw(value: object, max_depth: int = MAX_DEPTH) -> Flaw | None:
    """The first problem of a parsed body or stored object — a key or string that is not Unicode text, or
    nesting deeper than ``max_depth`` — or None. Walks dicts, lists, tuples, deques and dataclass
    instances without recursion, so no input can exhaust the stack here."""
    pending: list[tuple[object, str, int]] = [(value, "", 0)]
    while pending:
        node, where, depth = pending.pop()
        if isinstance(node, str):
            if not is_text(node):
                return _not_text(node, where)
            continue
        children = _children(node)
        if children is None:
            continue
        if depth >= max_depth:
            return Flaw(where, f"{where or 'the body'} is nested deeper than {max_depth} levels")
        for key, child in children:
            if isinstance(key, str) and not is_text(key):
                return _not_text(key, _join(where, "<key>"))
            pending.append((child, _join(where, key), depth + 1))
    return None


def _children(node: object) -> Iterable[tuple[object, object]] | None:
    if isinstance(node, dict):
        return list(node.items())
    if isinstance(node, list | tuple | deque):
        return list(enumerate(node))
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return [(f.name, getattr(node, f.name)) for f in dataclasses.fields(node)]
    return None


def _join(where: str, key: object) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


def _not_text(value: str, where: str) -> Flaw:
    found = _SURROGATE.search(value)
    code = f"U+{ord(found.group()):04X}" if found else "a surrogate"
    return Flaw(where, f"{where or 'the text'} holds a lone surrogate ({code}), which is not a Unicode character")
