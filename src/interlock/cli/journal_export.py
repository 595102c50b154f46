"""Rows of `interlock journal export`: one per record, for an auditor's tools.

Each row is `seq, ts, kind, instance, fields`: `ts` the record's time as ISO 8601 UTC with
its nanoseconds, `kind` the journal's stable kind string, `fields` every field of the
record as JSON (nested requests as objects, Decimals as strings, enums by value), so the
record can be rebuilt from the row. A file gets the bytes as recorded; a terminal gets
every control character escaped (`render_text.printable`), never the raw byte. Parquet
(`write_parquet`, a file only) has the same columns, typed: `ts` a UTC nanosecond timestamp.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import IO, Any

import msgspec

from interlock.domain.events import Event
from interlock.journal.codec import KINDS

COLUMNS = ("seq", "ts", "kind", "instance", "fields")


def iso_utc(ts_ns: int) -> str:
    """`2012-08-01T13:30:00.000000001Z`: integer nanoseconds, none lost."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def fields_of(value: Any) -> Any:
    """`value` as JSON-ready builtins, structs as objects keyed by field name."""
    if isinstance(value, msgspec.Struct):
        return {f: fields_of(getattr(value, f)) for f in value.__struct_fields__}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [fields_of(v) for v in value]
    return value


def rows(records: Iterable[tuple[int, Event]], instance: str = "") -> Iterator[dict[str, Any]]:
    for seq, event in records:
        yield {
            "seq": seq,
            "ts": iso_utc(event.ts),
            "kind": KINDS[type(event)],
            "instance": instance,
            "fields": fields_of(event),
        }


_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _json(value: Any) -> str:
    """Compact JSON, non-ASCII kept, with the three line breaks JSON leaves raw (NEL, LS,
    PS) escaped too: a line-splitting reader must see one record per line."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_LINE_BREAKS)


def _csv_line(row: dict[str, Any]) -> str:
    buf = io.StringIO()
    cells = [row["seq"], row["ts"], row["kind"], row["instance"], _json(row["fields"])]
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


def write_rows(
    out: IO[str], fmt: str, records: Iterable[dict[str, Any]], escape: Callable[[str], str] | None
) -> int:
    """Write `records` as `fmt` ("csv": a header then rows; "jsonl": an object per line).

    `escape`, for a terminal, is applied to each whole line (its end aside), so a newline
    inside a field shows as `\\n` there and stays a real one in a file. Returns the count.
    """
    count = 0
    if fmt == "csv":
        header = ",".join(COLUMNS) + "\n"
        out.write(header)
    for row in records:
        line = _csv_line(row) if fmt == "csv" else _json(row) + "\n"
        out.write(line if escape is None else escape(line[:-1]) + "\n")
        count += 1
    return count


PARQUET_ROWS = 8_192
"""Rows per Parquet row group: the export streams, a long journal never sits in memory."""


def parquet_schema() -> Any:
    """seq int64, ts timestamp[ns, UTC] (the record's integer nanoseconds, none lost), kind
    and instance strings, fields the record's every field as JSON (the CSV's column): one
    schema for every kind, so a reader filters by kind and parses the fields it needs."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("seq", pa.int64(), nullable=False),
            pa.field("ts", pa.timestamp("ns", tz="UTC"), nullable=False),
            pa.field("kind", pa.string(), nullable=False),
            pa.field("instance", pa.string(), nullable=False),
            pa.field("fields", pa.string(), nullable=False),
        ],
        metadata={"fields": "JSON object of the record's fields, as in the CSV export"},
    )


def write_parquet(path: str, records: Iterable[tuple[int, Event]], instance: str = "") -> int:
    """Write `records` to a new Parquet file at `path`, one row per record; the count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        columns: tuple[list[Any], ...] = ([], [], [], [], [])
        for seq, event in records:
            seqs, stamps, kinds, instances, fields = columns
            seqs.append(seq)
            stamps.append(event.ts)
            kinds.append(KINDS[type(event)])
            instances.append(instance)
            fields.append(_json(fields_of(event)))
            count += 1
            if len(seqs) == PARQUET_ROWS:
                writer.write_batch(pa.record_batch(list(columns), schema=schema))
                columns = ([], [], [], [], [])
        if columns[0] or count == 0:
            writer.write_batch(pa.record_batch(list(columns), schema=schema))
    return count
