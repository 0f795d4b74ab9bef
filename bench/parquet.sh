#!/usr/bin/env bash
# Parquet export against JSON Lines on the same capture, in one run, alternating the two
# commands round by round so that load from other processes hits both alike. Reports
# the median wall time and CPU time of each, peak RSS (from /usr/bin/time -v), the file
# sizes, and the median time of a DuckDB query (handshake failures) over the export.
#
#   bench/parquet.sh [RUNS]            # default 5 rounds
#
# Environment:
#   BENCH_DIR   where captures and outputs are written (default /tmp/wirelens-bench;
#               the generated capture is shared with bench/compare.sh)
#   BIG_N       packets in the generated capture (default 2000000)
#   REAL        a capture of real traffic to measure too (default: none)
#
# Needs: cargo, /usr/bin/time (Debian package "time"), python3 with duckdb (pip install duckdb).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-5}
BENCH_DIR=${BENCH_DIR:-/tmp/wirelens-bench}
BIG_N=${BIG_N:-2000000}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

command -v /usr/bin/time >/dev/null || { echo "parquet.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
python3 -c 'import duckdb' 2>/dev/null || { echo "parquet.sh: python3 cannot import duckdb (pip install duckdb)" >&2; exit 2; }

cargo build --release --quiet --bin wirelens --example gen-capture
WL="$TARGET_DIR/release/wirelens"
GEN="$TARGET_DIR/release/examples/gen-capture"
mkdir -p "$BENCH_DIR"
BIG="$BENCH_DIR/big-$BIG_N.pcap"
[ -s "$BIG" ] || "$GEN" "$BIG_N" "$BIG"
OUT="$BENCH_DIR/parquet"
mkdir -p "$OUT"
LOG="$OUT/times.tsv"   # name <TAB> wall s <TAB> user+sys s <TAB> max RSS KiB
: >"$LOG"

# measure NAME CMD...: runs CMD once, logs wall time, CPU time and peak RSS.
measure() {
    local name=$1
    shift
    local t
    t=$(mktemp)
    if ! /usr/bin/time -v -o "$t" "$@" 2>/dev/null; then
        echo "parquet.sh: '$*' failed" >&2
        cat "$t" >&2
        exit 1
    fi
    awk -v name="$name" -F': ' '
        /Elapsed \(wall clock\) time/ {
            n = split($2, p, ":"); s = 0
            for (i = 1; i <= n; i++) s = s * 60 + p[i]
        }
        /User time/ { u = $2 }
        /System time/ { y = $2 }
        /Maximum resident set size/ { rss = $2 }
        END { printf "%s\t%.3f\t%.3f\t%d\n", name, s, u + y, rss }' "$t" >>"$LOG"
    rm -f "$t"
}

# The DuckDB query of README "Scaling past one machine": TCP connections whose
# handshake never completed, over the export; prints the seconds it took.
query() {
    python3 - "$1" <<'PY'
import sys, time, duckdb
con = duckdb.connect()
t = time.perf_counter()
con.execute("""
    SELECT capture, client, server, conn_state, history
    FROM read_parquet(?) WHERE proto = 'tcp' AND handshake = 'incomplete'
""", [sys.argv[1]]).fetchall()
print(f"{time.perf_counter() - t:.3f}")
PY
}

captures=("$BIG")
[ -n "${REAL:-}" ] && captures+=("$REAL")
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$RUNS"); do
    echo "round $round/$RUNS" >&2
    for c in "${captures[@]}"; do
        b=$(basename "$c" .pcap)
        measure "$b: read --format json"    sh -c "'$WL' read '$c' --format json > '$OUT/$b.jsonl'"
        measure "$b: read --format parquet" "$WL" read "$c" --format parquet -w "$OUT/$b.parquet"
        measure "$b: export (packets + flows)" "$WL" export "$c" --out "$OUT/lake-$b" -j 1
        echo -e "$b: duckdb handshake failures\t$(query "$OUT/lake-$b/flows/*.parquet")\t0\t0" >>"$LOG"
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per command.
echo
printf '%-45s %10s %10s %12s\n' "command ($RUNS runs, medians)" "wall s" "cpu s" "max RSS MiB"
cut -f1 "$LOG" | awk '!seen[$0]++' | while read -r name; do
    # median COLUMN: the median of that column of NAME's rows.
    median() {
        awk -F'\t' -v name="$name" -v col="$1" '$1 == name { print $col }' "$LOG" |
            sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
    }
    printf '%-45s %10.3f %10.3f %12.1f\n' "$name" "$(median 2)" "$(median 3)" \
        "$(awk -v k="$(median 4)" 'BEGIN { print k / 1024 }')"
done
echo
for c in "${captures[@]}"; do
    b=$(basename "$c" .pcap)
    j=$(stat -c %s "$OUT/$b.jsonl")
    p=$(stat -c %s "$OUT/$b.parquet")
    echo "$b: JSON Lines $((j / 1048576)) MiB, Parquet $((p / 1048576)) MiB: 1/$(awk -v j="$j" -v p="$p" 'BEGIN { printf "%.1f", j / p }') the size"
done
