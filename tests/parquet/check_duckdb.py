"""Checks wirelens' Parquet files against its JSON Lines, with DuckDB.

    check_duckdb.py packets PARQUET JSONL CAPTURE [PARQUET JSONL CAPTURE ...]
    check_duckdb.py flows   PARQUET JSONL CAPTURE [...]

For every row of every file: each column equals the JSON key it flattens (README,
"Parquet schema"), nulls included, and every JSON key has its column. The file's
key-value metadata must hold wirelens.schema_version. Prints one line per file; exits 1
with the differences when any.
"""

import datetime
import json
import sys

import duckdb

# Columns that hold a nested JSON value as JSON text (README, "Parquet schema").
JSON_TEXT = {
    "vlan", "ipv4_options", "ipv6_ext", "tcp_options",
    "icmp_quoted", "icmpv6_ndp", "icmpv6_mld", "icmpv6_quoted",
}
# Keys of a packet object that are not layers.
FRAME_KEYS = {"n", "ts", "caplen", "len", "link_type", "notes", "vlan"}


def flatten_packet(obj):
    """The JSON object of a packet as the columns the README promises."""
    out = {}
    for key, value in obj.items():
        if key in FRAME_KEYS:
            out[key] = value
            continue
        for field, v in value.items():
            col = f"{key}_{field}"
            if col not in JSON_TEXT and isinstance(v, dict):
                for sub, w in v.items():
                    out[f"{col}_{sub}"] = w
            else:
                out[col] = v
    return out


def rfc3339(ts):
    """A DuckDB timestamp as the JSON's RFC 3339 text (microseconds, Z)."""
    ts = ts.astimezone(datetime.timezone.utc)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def value(col, v):
    """A column's value in the JSON's terms."""
    if v is None:
        return None
    if col in JSON_TEXT:
        return json.loads(v)
    if isinstance(v, datetime.datetime):
        return rfc3339(v)
    return v


def check(kind, parquet, jsonl, capture, con):
    problems = []
    meta = dict(
        (k.decode(), v.decode())
        for k, v in con.execute(
            "SELECT key, value FROM parquet_kv_metadata(?)", [parquet]
        ).fetchall()
    )
    if meta.get("wirelens.schema_version") != "1":
        problems.append(f"schema version {meta.get('wirelens.schema_version')!r}, not '1'")
    if meta.get("wirelens.table") != kind:
        problems.append(f"table {meta.get('wirelens.table')!r}, not {kind!r}")
    order = "n" if kind == "packets" else "proto, stream"
    cur = con.execute(f"SELECT * FROM read_parquet(?) ORDER BY {order}", [parquet])
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    with open(jsonl) as f:
        objs = [json.loads(line) for line in f if line.strip()]
    if kind == "packets":
        expected = [flatten_packet(o) for o in objs]
    else:
        expected = sorted(objs, key=lambda o: (o["proto"], o["stream"]))
    if len(rows) != len(expected):
        problems.append(f"{len(rows)} rows, but the JSON has {len(expected)}")
    for row, exp in zip(rows, expected):
        where = f"n={row.get('n')}" if kind == "packets" else f"{row['proto']} {row['stream']}"
        for key in exp:
            if key not in row:
                problems.append(f"{where}: JSON key {key} has no column")
        for col, got in row.items():
            if col == "capture":
                if got != capture:
                    problems.append(f"{where}: capture {got!r}, not {capture!r}")
                continue
            want = exp.get(col)
            if value(col, got) != want:
                problems.append(f"{where}: {col} = {value(col, got)!r}, JSON has {want!r}")
        if len(problems) > 20:
            break
    print(f"{parquet}: {len(rows)} rows x {len(cols)} columns"
          + ("" if not problems else f": {len(problems)} differences"))
    return problems


def main():
    kind = sys.argv[1]
    args = sys.argv[2:]
    con = duckdb.connect()
    failed = False
    for i in range(0, len(args), 3):
        problems = check(kind, args[i], args[i + 1], args[i + 2], con)
        for p in problems[:20]:
            print("  " + p)
        failed |= bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
