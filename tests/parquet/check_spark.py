"""Checks an export with Spark (local mode): conversations per conn_state, counted by
Spark over OUT/flows, equal those of `flows --format json` of the same captures.

    check_spark.py OUT FLOWS_JSONL [FLOWS_JSONL ...]

Also counts the packets table and checks a typed column (tcp_flags is a list of
strings, ts a timestamp), so that Spark reads every column type wirelens writes.
"""

import collections
import json
import sys

from pyspark.sql import SparkSession, functions as F


def main():
    out, jsonls = sys.argv[1], sys.argv[2:]
    want = collections.Counter()
    for path in jsonls:
        with open(path) as f:
            for line in f:
                if line.strip():
                    want[json.loads(line)["conn_state"]] += 1
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("wirelens-parquet-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    flows = spark.read.parquet(f"{out}/flows")
    got = {r["conn_state"]: r["count"] for r in flows.groupBy("conn_state").count().collect()}
    packets = spark.read.parquet(f"{out}/packets")
    syns = (
        packets.where(F.array_contains("tcp_flags", "SYN"))
        .where(~F.array_contains("tcp_flags", "ACK"))
        .count()
    )
    total = packets.count()
    first = packets.agg(F.min("ts")).collect()[0][0]
    spark.stop()
    print(f"Spark: conn_state counts {dict(sorted(got.items()))}")
    print(f"JSON:  conn_state counts {dict(sorted(want.items()))}")
    print(f"Spark: {total} packets, {syns} SYNs, first at {first}")
    if got != dict(want):
        print("conn_state counts differ")
        sys.exit(1)
    if total == 0 or syns == 0 or first is None:
        print("the packets table reads as empty")
        sys.exit(1)


if __name__ == "__main__":
    main()
