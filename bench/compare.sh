#!/usr/bin/env bash
# Whole-process benchmark: wirelens against tcpdump and tshark on the same generated
# capture, in one run, alternating the commands round by round so that load from other
# processes hits both sides alike. Reports the median wall time of each command, the
# ratio of medians that each target is about, and the peak RSS (from /usr/bin/time -v).
#
#   bench/compare.sh [RUNS]            # default 5 rounds
#
# Environment:
#   BENCH_DIR   where the captures are written (default /tmp/wirelens-bench; never the repo)
#   BIG_N       packets in the main capture (default 2000000)
#   SMALL_N     packets in the capture for the table / tshark -V pair (default 200000)
#   FLAT_N      packets in the capture used only to check that memory stays flat (default 4000000)
#
# All output of the measured commands goes to /dev/null. Needs: cargo, tcpdump, tshark,
# /usr/bin/time (Debian package "time").
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-5}
BENCH_DIR=${BENCH_DIR:-/tmp/wirelens-bench}
BIG_N=${BIG_N:-2000000}
SMALL_N=${SMALL_N:-200000}
FLAT_N=${FLAT_N:-4000000}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

for tool in tcpdump tshark /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "compare.sh: $tool is missing (apt-get install tcpdump tshark time)" >&2; exit 2; }
done

cargo build --release --quiet --bin wirelens --example gen-capture
WL="$TARGET_DIR/release/wirelens"
GEN="$TARGET_DIR/release/examples/gen-capture"
mkdir -p "$BENCH_DIR"
BIG="$BENCH_DIR/big-$BIG_N.pcap"
SMALL="$BENCH_DIR/small-$SMALL_N.pcap"
FLAT="$BENCH_DIR/flat-$FLAT_N.pcap"
[ -s "$BIG" ] || "$GEN" "$BIG_N" "$BIG"
[ -s "$SMALL" ] || "$GEN" "$SMALL_N" "$SMALL"
[ -s "$FLAT" ] || "$GEN" "$FLAT_N" "$FLAT"

LOG="$BENCH_DIR/times.tsv"   # name <TAB> seconds <TAB> max RSS in KiB
: >"$LOG"

# measure NAME CMD...: runs CMD once with stdout to /dev/null, logs wall time and peak RSS.
measure() {
    local name=$1
    shift
    local out
    out=$(mktemp)
    if ! /usr/bin/time -v -o "$out" "$@" >/dev/null 2>/dev/null; then
        echo "compare.sh: '$*' failed" >&2
        cat "$out" >&2
        exit 1
    fi
    awk -v name="$name" -F': ' '
        /Elapsed \(wall clock\) time/ {
            n = split($2, p, ":"); s = 0
            for (i = 1; i <= n; i++) s = s * 60 + p[i]
        }
        /Maximum resident set size/ { rss = $2 }
        END { printf "%s\t%.3f\t%d\n", name, s, rss }' "$out" >>"$LOG"
    rm -f "$out"
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
echo "files: $BIG ($(du -m "$BIG" | cut -f1) MB), $SMALL ($(du -m "$SMALL" | cut -f1) MB)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$RUNS"); do
    echo "round $round/$RUNS" >&2
    # On the big capture; each wirelens mode right next to what it is compared with.
    measure "wirelens read"                "$WL" read "$BIG"
    measure "tcpdump -nn -r"               tcpdump -nn -r "$BIG"
    measure "wirelens read --format json"  "$WL" read "$BIG" --format json
    measure "tcpdump -nn -v -r"            tcpdump -nn -v -r "$BIG"
    measure "wirelens flows"               "$WL" flows "$BIG"
    measure "tshark -q -z conv,tcp"        tshark -n -q -z conv,tcp -r "$BIG"
    measure "tshark -n -r"                 tshark -n -r "$BIG"
    # tshark -V takes minutes on the big file: this pair runs on the small one.
    measure "wirelens read --format table (small)" "$WL" read "$SMALL" --format table
    measure "tshark -n -V -r (small)"      tshark -n -V -r "$SMALL"
done
# Memory must not grow with the file: the table once on the big file, then every mode
# once more on a capture twice as long.
measure "wirelens read --format table (big)" "$WL" read "$BIG" --format table
for mode in "read" "read --format json" "read --format table" "flows"; do
    # shellcheck disable=SC2086
    measure "wirelens $mode (flat check)" "$WL" $mode "$FLAT"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians and the largest peak RSS per command.
summary=$(awk -F'\t' '
    { t[$1] = t[$1] " " $2; if ($3 > rss[$1]) rss[$1] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
    END {
        for (i = 1; i <= n; i++) {
            k = order[i]; m = split(substr(t[k], 2), v, " ")
            for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (v[b] < v[a]) { x = v[a]; v[a] = v[b]; v[b] = x }
            med = (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
            printf "%s\t%.3f\t%d\t%d\n", k, med, rss[k], m
        }
    }' "$LOG")
med() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' <<<"$summary"; }
rss() { awk -F'\t' -v k="$1" '$1 == k { printf "%.1f", $3 / 1024 }' <<<"$summary"; }

echo
echo "| command | file | median wall s | peak RSS MiB |"
echo "| --- | --- | ---: | ---: |"
while IFS=$'\t' read -r name m r runs; do
    file="${BIG_N} pkts"
    case "$name" in
        *"(small)"*) file="${SMALL_N} pkts" ;;
        *"(big)"*) file="${BIG_N} pkts" ;;
        *"(flat check)"*) file="${FLAT_N} pkts" ;;
    esac
    printf "| \`%s\` | %s | %s (%s runs) | %.1f |\n" "${name% (*}" "$file" "$m" "$runs" "$(awk -v r="$r" 'BEGIN { print r / 1024 }')"
done <<<"$summary"

echo
echo "| target | ratio of medians | goal | met |"
echo "| --- | ---: | ---: | :---: |"
target() { # label numerator denominator goal
    awk -v l="$1" -v a="$(med "$2")" -v b="$(med "$3")" -v g="$4" 'BEGIN {
        r = a / b; printf "| %s | %.3f | ≤ %s | %s |\n", l, r, g, (r <= g ? "yes" : "NO") }'
}
target "summary vs tcpdump -nn -r" "wirelens read" "tcpdump -nn -r" 0.25
target "json vs tcpdump -nn -r" "wirelens read --format json" "tcpdump -nn -r" 0.5
target "table vs tshark -V (${SMALL_N} pkts)" "wirelens read --format table (small)" "tshark -n -V -r (small)" 0.5
target "flows vs tshark -q -z conv,tcp" "wirelens flows" "tshark -q -z conv,tcp" 0.05
echo
echo "| mode | peak RSS MiB, ${BIG_N} pkts | peak RSS MiB, ${FLAT_N} pkts | < 64 MiB |"
echo "| --- | ---: | ---: | :---: |"
for pair in "read|wirelens read|wirelens read (flat check)" \
    "read --format json|wirelens read --format json|wirelens read --format json (flat check)" \
    "read --format table|wirelens read --format table (big)|wirelens read --format table (flat check)" \
    "flows|wirelens flows|wirelens flows (flat check)"; do
    IFS='|' read -r mode a b <<<"$pair"
    ra=$(rss "$a")
    rb=$(rss "$b")
    awk -v m="$mode" -v a="$ra" -v b="$rb" 'BEGIN {
        printf "| %s | %s | %s | %s |\n", m, a, b, (a < 64 && b < 64 ? "yes" : "NO") }'
done
