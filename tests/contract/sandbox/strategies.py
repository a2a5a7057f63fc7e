"""Hypothesis strategies of the sandbox's hostile-input tests, kept in one module (as attrs keeps its own): text no
client should send but some do, JSON values of every type and depth, and the ways a valid body can be mutated.

Bodies are sent as ``json.dumps(body)`` (``ensure_ascii``), so a lone surrogate travels as the JSON escape
``\\ud800`` — the way a client with a broken string puts one into a request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

LONE_SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
CONTROL_CHARACTERS = st.integers(0, 0x1F).map(chr)
ODD_CHARACTERS = st.one_of(
    LONE_SURROGATES,
    CONTROL_CHARACTERS,
    st.sampled_from(["\x7f", "\ufeff", "\ufffe", "\uffff", "\U0010ffff", "\u202e", "😀", "'", "\\", ":", "%", '"']),
    st.characters(),
)
# Long enough to pass every QBO length limit (500 for DisplayName, 4000 for PrivateNote); a few of them end up
# stored, so keep them short enough that reading everything back stays quick.
HUGE_TEXT = st.sampled_from([600, 4_001, 60_000]).map(lambda n: "Ж" * n)
ODD_TEXT = st.one_of(
    st.text(ODD_CHARACTERS, max_size=12),
    st.tuples(st.text(max_size=4), LONE_SURROGATES, st.text(max_size=4)).map("".join),
    HUGE_TEXT,
)
KEYS = st.one_of(
    st.sampled_from(["value", "name", "Line1", "Description", "Amount", "Id", "SyncToken", "sparse", "Notes"]),
    st.text(ODD_CHARACTERS, max_size=6),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ODD_TEXT)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3), max_leaves=6
)
DEEP_VALUES = st.tuples(st.integers(20, 80), st.booleans()).map(lambda spec: nested(*spec))
VALUES = st.one_of(ODD_TEXT, JSON_VALUES, DEEP_VALUES)


def nested(depth: int, as_objects: bool) -> object:
    """A value ``depth`` levels deep: ``[[[…]]]`` or ``{"a": {"a": …}}``."""
    value: object = "bottom"
    for _ in range(depth):
        value = {"a": value} if as_objects else [value]
    return value


def paths(obj: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value inside ``obj`` (dict keys and list indexes)."""
    found = [prefix] if prefix else []
    children = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for key, value in children:
        found += paths(value, (*prefix, key))
    return found


def replaced(obj: Any, path: tuple[object, ...], value: object) -> Any:
    """A copy of ``obj`` with the value at ``path`` replaced."""
    if not path:
        return value
    copied = dict(obj) if isinstance(obj, dict) else list(obj)
    copied[path[0]] = replaced(copied[path[0]], path[1:], value)  # type: ignore[index]
    return copied


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with one value replaced, or one key added at any level of objects (values of any type)."""
    if draw(st.booleans()):
        return replaced(base, draw(st.sampled_from(paths(base))), draw(VALUES))  # type: ignore[no-any-return]
    containers = [()] + [path for path in paths(base) if isinstance(replaced_at(base, path), dict)]
    where = draw(st.sampled_from(containers))
    inner = dict(replaced_at(base, where))
    inner[draw(KEYS)] = draw(VALUES)
    return replaced(base, where, inner)  # type: ignore[no-any-return]


def replaced_at(obj: Any, path: tuple[object, ...]) -> Any:
    """The value at ``path``."""
    for key in path:
        obj = obj[key]
    return obj


def strings(obj: object) -> Iterator[str]:
    """Every string in ``obj``, keys included."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from strings(value)


def has_lone_surrogate(obj: object) -> bool:
    """Whether the server reads a lone surrogate from ``encoded(obj)`` (a high one followed by a low one makes a
    valid pair there, one character)."""
    return any(0xD800 <= ord(c) <= 0xDFFF for text in strings(json.loads(encoded(obj))) for c in text)


def encoded(body: object) -> bytes:
    """The body as a client with a broken string would send it: lone surrogates as ``\\udXXX`` escapes."""
    return json.dumps(body).encode()
