#!/usr/bin/env bash
# Parquet export against JSON Lines on the same capture, in one run, alternating the
# commands round by round so that load from other processes hits them alike. Reports
# the median wall time, CPU time (user + system, and each) and peak RSS (from
# /usr/bin/time -v) of each command, the file sizes, the median time of a DuckDB query
# (handshake failures) over the export, and the targets of issue 18 as ratios of this
# run's medians:
#   read --format parquet time <= read --format json time (wall and CPU)
#   Parquet file <= 1/8 of the JSON Lines
#   peak RSS of read --format parquet and of export < 128 MiB
#   DuckDB handshake-failure query over the export < 1 s
#
#   bench/parquet.sh [RUNS]            # default 5 rounds
#
# Two captures, each measured every round (the same as bench/compare.sh's):
#   big    examples/gen-capture, BIG_N packets
#   real   bench/real-seed.pcap (kernel traffic recorded by bench/record-real.sh),
#          repeated to BIG_N packets by examples/replicate
#
# Environment:
#   BENCH_DIR   where captures and outputs are written (default /tmp/wirelens-bench;
#               the captures are shared with bench/compare.sh, made here only if missing)
#   BIG_N       packets in each capture (default 2000000)
#   REAL        the real-traffic capture to use instead (REAL=none: the generated only)
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

cargo build --release --quiet --bin wirelens --example gen-capture --example replicate
WL="$TARGET_DIR/release/wirelens"
GEN="$TARGET_DIR/release/examples/gen-capture"
REP="$TARGET_DIR/release/examples/replicate"
mkdir -p "$BENCH_DIR"
BIG="$BENCH_DIR/big-$BIG_N.pcap"
[ -s "$BIG" ] || "$GEN" "$BIG_N" "$BIG"
REAL=${REAL:-$BENCH_DIR/real-$BIG_N.pcap}
if [ "$REAL" != none ] && [ ! -s "$REAL" ]; then
    "$REP" bench/real-seed.pcap "$BIG_N" "$REAL"
fi
OUT="$BENCH_DIR/parquet"
mkdir -p "$OUT"
LOG="$OUT/times.tsv"   # name <TAB> wall s <TAB> user+sys s <TAB> max RSS KiB <TAB> user s <TAB> sys s
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
        END { printf "%s\t%.3f\t%.3f\t%d\t%.3f\t%.3f\n", name, s, u + y, rss, u, y }' "$t" >>"$LOG"
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
[ "$REAL" != none ] && captures+=("$REAL")
echo "wirelens $(git rev-parse --short HEAD 2>/dev/null || echo '(no git)'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
for c in "${captures[@]}"; do echo "capture: $c ($(($(stat -c %s "$c") / 1048576)) MiB)"; done
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$RUNS"); do
    echo "round $round/$RUNS" >&2
    for c in "${captures[@]}"; do
        b=$(basename "$c" .pcap)
        measure "$b: read --format json"    sh -c "'$WL' read '$c' --format json > '$OUT/$b.jsonl'"
        measure "$b: read --format parquet" "$WL" read "$c" --format parquet -w "$OUT/$b.parquet"
        measure "$b: export (packets + flows)" "$WL" export "$c" --out "$OUT/lake-$b" -j 1
        echo -e "$b: duckdb handshake failures\t$(query "$OUT/lake-$b/flows/*.parquet")\t0\t0\t0\t0" >>"$LOG"
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# median NAME COLUMN: the median of that column of NAME's rows.
median() {
    awk -F'\t' -v name="$1" -v col="$2" '$1 == name { print $col }' "$LOG" |
        sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Medians per command.
echo
printf '%-42s %8s %8s %8s %8s %12s\n' "command ($RUNS runs, medians)" "wall s" "cpu s" "user s" "sys s" "max RSS MiB"
cut -f1 "$LOG" | awk '!seen[$0]++' | while read -r name; do
    printf '%-42s %8.3f %8.3f %8.3f %8.3f %12.1f\n' "$name" "$(median "$name" 2)" "$(median "$name" 3)" \
        "$(median "$name" 5)" "$(median "$name" 6)" "$(awk -v k="$(median "$name" 4)" 'BEGIN { print k / 1024 }')"
done

# The targets, as ratios of this run's medians.
echo
for c in "${captures[@]}"; do
    b=$(basename "$c" .pcap)
    j=$(stat -c %s "$OUT/$b.jsonl")
    p=$(stat -c %s "$OUT/$b.parquet")
    awk -v b="$b" -v j="$j" -v p="$p" \
        -v jw="$(median "$b: read --format json" 2)" -v jc="$(median "$b: read --format json" 3)" \
        -v pw="$(median "$b: read --format parquet" 2)" -v pc="$(median "$b: read --format parquet" 3)" \
        -v prss="$(median "$b: read --format parquet" 4)" -v erss="$(median "$b: export (packets + flows)" 4)" \
        -v q="$(median "$b: duckdb handshake failures" 2)" '
        function verdict(ok) { return ok ? "met" : "NOT MET" }
        BEGIN {
            printf "%s: parquet/json time: wall %.2f, CPU %.2f (target <= 1: %s)\n", b, pw / jw, pc / jc,
                verdict(pw <= jw && pc <= jc)
            printf "%s: JSON Lines %d MiB, Parquet %.1f MiB: 1/%.1f the size (target <= 1/8: %s)\n", b,
                j / 1048576, p / 1048576, j / p, verdict(p * 8 <= j)
            printf "%s: peak RSS %.1f MiB (read), %.1f MiB (export) (target < 128 MiB: %s)\n", b,
                prss / 1024, erss / 1024, verdict(prss < 131072 && erss < 131072)
            printf "%s: DuckDB handshake failures %.3f s (target < 1 s: %s)\n", b, q, verdict(q < 1)
        }'
done
