"""Hypothesis strategies, kept in one module (as attrs does)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from invoicebridge.domain.payments import InvoiceBalance

# Anything a JSON body, a CSV cell or a careless caller could hand us.
junk: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)

amount_text = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=2).map(str)
positive_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=4)
names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120)

# -- QBO webhook bodies (tests/unit/qbo/test_webhook_parser_properties.py) ---------------------------------------
# Near-valid deliveries: a well-formed CloudEvent or legacy entity with a few fields dropped or swapped for odd
# values (lone surrogates, control characters, ids too long, numbers, nested JSON), plus bytes that are no
# delivery at all. The tests encode documents in each of `webhook_encodings`, including ones Intuit never uses.
_json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
webhook_ids = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=32)
_odd_text = st.one_of(
    st.text(st.characters(categories=["Cs", "Cc", "Cf", "Zs"]), min_size=1, max_size=4),  # surrogates, controls
    st.builds(lambda a, b, c: a + b + c, webhook_ids, st.characters(categories=["Cs", "Cc"]), webhook_ids),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=129, max_size=200),  # too long
    st.text(max_size=12),
    st.just(""),
)
_odd_values = _odd_text | _json_values
_TIMES = ["2026-01-05T14:42:19.179Z", "2026-01-05T14:42:19", "2026-01-05T14:42:19+05:30", "0001-01-01T00:00:00Z"]
_TYPES = ["qbo.invoice.deleted.v1", "qbo.customer.created.v1", "qbo.Invoice.emailed.v1", "payments.charge.created.v1"]


@st.composite
def _mutated(draw: st.DrawFn, valid: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """A dict whose fields are drawn from `valid`, then up to three of them dropped or replaced by odd values."""
    made = {key: draw(strategy) for key, strategy in valid.items()}
    for key in draw(st.lists(st.sampled_from(sorted(valid)), unique=True, max_size=3)):
        if draw(st.booleans()):
            del made[key]
        else:
            made[key] = draw(_odd_values)
    return made


_odd_types = st.builds("qbo.{}.{}.v1".format, _odd_text | webhook_ids, _odd_text | webhook_ids)
cloudevents = _mutated(
    {
        "specversion": st.just("1.0"),
        "id": st.uuids().map(str) | webhook_ids,
        "type": st.sampled_from(_TYPES) | _odd_types,
        "time": st.sampled_from(_TIMES),
        "intuitentityid": webhook_ids,
        "intuitaccountid": webhook_ids,
        "data": st.just({}),
    }
)
legacy_entities = _mutated(
    {
        "name": st.sampled_from(["Invoice", "Customer", "JournalEntry"]),
        "id": webhook_ids,
        "operation": st.sampled_from(["Create", "Update", "Delete", "Merge", "Void", "Emailed"]),
        "lastUpdated": st.sampled_from(_TIMES),
    }
)
_notifications = _mutated(
    {
        "realmId": webhook_ids,
        "dataChangeEvent": st.fixed_dictionaries({"entities": st.lists(legacy_entities, max_size=3)}),
    }
)
webhook_documents: st.SearchStrategy[Any] = st.one_of(
    st.lists(cloudevents, max_size=4),
    cloudevents,
    st.fixed_dictionaries({"eventNotifications": st.lists(_notifications, max_size=3)}),
    _json_values,
)
webhook_encodings = st.one_of(  # two in three draws the way Intuit encodes, so most bodies reach the fields
    st.just("ascii-escaped"),
    st.just("utf-8"),
    st.sampled_from(["surrogates-as-bytes", "utf-8-bom", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]),
)
webhook_junk_bytes = st.one_of(
    st.binary(max_size=300),
    st.integers(1, 5_000).map(lambda depth: b"[" * depth + b"]" * depth),  # past ~1,000 json.loads recurses out
    st.integers(1, 3_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
)

# -- bounds (issue 9) -------------------------------------------------------------------------------------------
# Every amount the validators accept: 0 to 9,999,999,999.9999 with up to 4 decimals (domain/money.py, MAX_AMOUNT).
exact_amounts = st.decimals(min_value=Decimal(0), max_value=Decimal("9999999999.9999"), places=4)
# Quantities and prices whose product may or may not fit one QuickBooks line.
line_amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("9999999999.9999"), places=4)
# Plain decimals as people write them: ASCII digits, an optional point and up to 4 decimals.
plain_amounts = st.from_regex(r"\A[0-9]{1,10}(\.[0-9]{1,4})?\Z")
# Numbers Python's Decimal would read but people do not write as amounts: other scripts' digits (Arabic-Indic,
# Devanagari, full-width), digit-group underscores, exponents.
_foreign_digit = st.sampled_from("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९０１２３４５６７８９")
non_plain_amounts = st.one_of(
    st.lists(_foreign_digit, min_size=1, max_size=8).map("".join),
    st.tuples(st.integers(1, 999), st.integers(0, 999)).map(lambda p: f"{p[0]}_{p[1]:03d}"),
    st.tuples(st.integers(1, 9), st.integers(-4, 9)).map(lambda p: f"{p[0]}e{p[1]}"),
)

# -- CSV import (tests/unit/sync/test_import_robustness.py): order files, whole or damaged, and bytes near them ---

IMPORT_COLUMNS = ("so_number", "customer_name", "sku", "quantity", "unit_price")
IMPORT_EXTRA_COLUMNS = ("description", "created_at", "product_name", "unit_cost")
# Descriptions may hold commas, quotes and line breaks (then they are quoted), but neither enough commas on one
# line to read as a row of the file nor a comma at the end: the importer takes either for the sign of a stray quote.
import_descriptions = st.text(alphabet='ab ,"\n', max_size=10).filter(lambda d: d.count(",") < 4 and d[-1:] != ",")
# What can go wrong with one line: a stray quote at the start or in the middle of a value, a stray comma, a NUL, a
# date or a number beyond what Python holds, a value longer than any column takes.
IMPORT_DAMAGES = ("quote", "inner quote", "comma", "nul", "date", "number", "long")


class OrderFile:
    """A CSV file of orders, some lines damaged, with what was written: `rows`, each SO's rows (SKU, quantity) in
    file order; `damage`, the kinds of damage done to each SO's lines; `damaged_lines`, every line of the file a
    damaged record spans."""

    def __init__(
        self,
        data: bytes,
        rows: dict[str, list[tuple[str, Decimal]]],
        damage: dict[str, set[str]],
        damaged_lines: frozenset[int],
    ) -> None:
        self.data, self.rows, self.damage, self.damaged_lines = data, rows, damage, damaged_lines

    def __repr__(self) -> str:  # what hypothesis shows of a failing example
        return f"OrderFile({self.data!r}, damage={self.damage})"


def _import_field(value: str) -> str:
    """A value as a spreadsheet writes it (RFC 4180): quoted, quotes doubled, when it holds , " or a line break."""
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if any(c in value for c in ',"\r\n') else value


def _damaged_line(cells: dict[str, str], header: list[str], damage: tuple[str, int]) -> str:
    from invoicebridge.sync.order_csv import MAX_CELL

    kind, at = damage
    cells = dict(cells)
    if kind == "nul":
        cells[header[at]] += "\x00"
    elif kind == "date" and "created_at" in cells:
        cells["created_at"] = "0001-01-01T00:00:00+05:00"  # in UTC, before year 1
    elif kind in ("date", "number"):
        cells["quantity"] = "1e1000000"  # beyond decimal's exponents
    elif kind == "long":
        cells["sku"] = "K" * (MAX_CELL + 1)
    fields = [_import_field(cells[column]) for column in header]
    if kind == "quote":
        fields[at] = '"' + fields[at]
    elif kind == "inner quote":
        middle = len(fields[at]) // 2
        fields[at] = fields[at][:middle] + '"' + fields[at][middle:]
    elif kind == "comma":
        fields[at] += ","
    return ",".join(fields)


@st.composite
def order_files(draw: st.DrawFn) -> OrderFile:
    """A file of 1 to 4 SOs of 1 to 3 rows, columns in any order, lines shuffled, up to 2 lines damaged."""
    extra = draw(st.lists(st.sampled_from(IMPORT_EXTRA_COLUMNS), unique=True))
    header = list(draw(st.permutations([*IMPORT_COLUMNS, *extra])))
    rows: list[dict[str, str]] = []
    for index in range(1, draw(st.integers(1, 4)) + 1):
        order = {"so_number": f"SO-{index}", "customer_name": f"Customer {draw(st.integers(1, 2))}"}
        order["created_at"] = f"2026-11-0{draw(st.integers(1, 9))}"
        for _ in range(draw(st.integers(1, 3))):
            sku = draw(st.sampled_from(["K1", "K2", "K3"]))
            row = {"sku": sku, "product_name": f"Product {sku}", "unit_cost": "1", **order}
            row |= {"quantity": str(draw(st.integers(1, 99))), "unit_price": str(draw(st.integers(0, 999)))}
            rows.append(row | {"description": draw(import_descriptions)})
    rows = draw(st.permutations(rows))
    # At most one stray quote a file: two can pair up into well-formed CSV that no reader can tell from quoting
    # meant (`,"` on one line closed by `""",` on the next); the importer promises nothing about what they hold.
    damages = draw(
        st.dictionaries(
            st.integers(0, len(rows) - 1),
            st.tuples(st.sampled_from(IMPORT_DAMAGES), st.integers(0, len(header) - 1)),
            max_size=2,
        ).filter(lambda damages: sum("quote" in kind for kind, _ in damages.values()) <= 1)
    )
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text, line = ",".join(header) + newline, 2
    expected: dict[str, list[tuple[str, Decimal]]] = {}
    damage: dict[str, set[str]] = {}
    damaged_lines: set[int] = set()
    for index, row in enumerate(rows):
        cells = {column: row[column] for column in header}
        record = (
            _damaged_line(cells, header, damages[index])
            if index in damages
            else ",".join(_import_field(cells[column]) for column in header)
        )
        spans = 1 + record.count("\n")  # physical lines: descriptions break lines with \n alone
        if index in damages:
            damage.setdefault(row["so_number"], set()).add(damages[index][0])
            damaged_lines.update(range(line, line + spans))
        expected.setdefault(row["so_number"], []).append((row["sku"], Decimal(row["quantity"])))
        text += record + newline
        line += spans
    bom = draw(st.sampled_from(["", "\ufeff"]))
    data = (bom + text).encode()
    return OrderFile(data, expected, damage, frozenset(damaged_lines))


# Any bytes, and bytes near a file of orders: a valid file with a few bytes inserted, removed or changed.
_byte_edits = st.lists(
    st.tuples(st.sampled_from(["insert", "delete", "replace"]), st.integers(0), st.binary(max_size=3)), max_size=4
)


@st.composite
def _edited_order_files(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(order_files()).data)
    for kind, at, chunk in draw(_byte_edits):
        at %= len(data) + 1
        if kind == "insert":
            data[at:at] = chunk
        elif kind == "delete":
            del data[at : at + len(chunk) + 1]
        else:
            data[at : at + len(chunk)] = chunk
    return bytes(data)


import_bytes: st.SearchStrategy[bytes] = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: (",".join(IMPORT_COLUMNS) + "\n" + t).encode("utf-8", "surrogatepass")),
    _edited_order_files(),
)


@st.composite
def invoice_balances(draw: st.DrawFn) -> InvoiceBalance:
    """An invoice as QBO reports it (domain/payments.py): a total and what is still owed, 0 ≤ balance ≤ total."""
    total = draw(st.decimals(min_value=Decimal(0), max_value=Decimal("100000"), places=2))
    balance = draw(st.decimals(min_value=Decimal(0), max_value=total, places=2))
    return InvoiceBalance(total, balance)


# An SO's live invoices for payment status: each read (a balance) or not read yet (None).
so_balances = st.lists(st.none() | invoice_balances(), max_size=6)
