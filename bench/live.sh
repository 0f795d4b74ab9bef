#!/usr/bin/env bash
# Live-capture drop benchmark: `tcpreplay --topspeed` replays a generated capture into one
# end of a veth pair; `wirelens live` and `tcpdump -w /dev/null` take turns capturing on
# the other end, round after round, so that load from other processes hits all of them
# alike. Reports, per capturer, the medians of what its end-of-capture statistics say
# (captured, received by filter, dropped by kernel, dropped by interface), of what the veth
# says arrived, and the drop percentage; then whether wirelens dropped no more than tcpdump.
#
#   bench/live.sh [ROUNDS]             # default 5 rounds
#
# Environment:
#   BENCH_DIR   where the capture is written (default /tmp/wirelens-bench; never the repo)
#   LIVE_N      packets replayed per run (default 1000000)
#   SNAPLEN     snapshot length for every capturer (default 262144, both tools' default)
#   SETTLE      seconds to let a capturer catch up after tcpreplay ends (default 1)
#   CAPTURERS   replaces the list of capturers: one "NAME|COMMAND" per line, COMMAND
#               without -i (added by the script), e.g.
#               CAPTURERS=$'pnet|target/release/wirelens live --backend pnet' bench/live.sh 3
#
# Network safety: the script creates its own two namespaces (wlbench-tx, wlbench-rx)
# joined by a veth pair (wlb-tx in wlbench-tx, wlb-rx in wlbench-rx), with no address and
# no route, and removes them on exit, error, Ctrl-C or SIGTERM. tcpreplay runs only inside
# wlbench-tx, on wlb-tx: nothing is sent outside the namespaces.
#
# Needs root (namespaces, raw sockets), cargo, tcpreplay, tcpdump, iproute2.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-5}
BENCH_DIR=${BENCH_DIR:-/tmp/wirelens-bench}
LIVE_N=${LIVE_N:-1000000}
SNAPLEN=${SNAPLEN:-262144}
SETTLE=${SETTLE:-1}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

TX_NS=wlbench-tx
RX_NS=wlbench-rx
TX_IF=wlb-tx
RX_IF=wlb-rx

die() {
    echo "live.sh: $*" >&2
    exit 2
}

[ "$(id -u)" = 0 ] || die "needs root: it creates network namespaces and opens raw sockets."
for tool in ip tcpdump; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install iproute2 tcpdump)."
done
if ! command -v tcpreplay >/dev/null; then
    echo "live.sh: tcpreplay is missing; installing the Debian package tcpreplay." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y tcpreplay >/dev/null ||
        die "could not install tcpreplay (Debian package tcpreplay): install it and run again."
fi
for ns in "$TX_NS" "$RX_NS"; do
    if ip netns list | grep -qw "$ns"; then
        die "the namespace $ns already exists (another run, or one that was killed with SIGKILL): remove it with 'ip netns del $ns' if no run is going on."
    fi
done

cargo build --release --quiet --bin wirelens --example gen-capture
WL="$(pwd)/$TARGET_DIR/release/wirelens"
[ -x "$WL" ] || WL="$TARGET_DIR/release/wirelens"
GEN="$TARGET_DIR/release/examples/gen-capture"
mkdir -p "$BENCH_DIR"
PCAP="$BENCH_DIR/live-$LIVE_N.pcap"
[ -s "$PCAP" ] || "$GEN" "$LIVE_N" "$PCAP"
WORK=$(mktemp -d "$BENCH_DIR/live-run.XXXXXX")
LOG="$BENCH_DIR/live-results.tsv"   # one line per run; kept after the run
: >"$LOG"

CAPTURER_PID=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$CAPTURER_PID" ]; then
        kill -INT "$CAPTURER_PID" 2>/dev/null || true
        sleep 0.5
        kill -KILL "$CAPTURER_PID" 2>/dev/null || true
    fi
    # Deleting a namespace deletes the veth end inside it, and with it its peer.
    ip netns del "$TX_NS" 2>/dev/null || true
    ip netns del "$RX_NS" 2>/dev/null || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$TX_NS"
ip netns add "$RX_NS"
for ns in "$TX_NS" "$RX_NS"; do
    # No IPv6 autoconfiguration: only the replayed frames cross the link.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip link add "$TX_IF" netns "$TX_NS" type veth peer name "$RX_IF" netns "$RX_NS"
ip -n "$TX_NS" link set "$TX_IF" up
ip -n "$RX_NS" link set "$RX_IF" up

# rx_counters: "packets dropped" of the rx veth end, as the kernel counts them.
rx_counters() {
    ip -n "$RX_NS" -s link show dev "$RX_IF" | awk '/RX:/ { getline; print $2, $4; exit }'
}

# wait_listening FILE PID: waits until the capturer's stderr says it is capturing.
wait_listening() {
    local i
    for i in $(seq 200); do
        grep -q "listening on" "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# count REGEX FILE: the number before REGEX in the capturer's statistics, or 0.
count() {
    grep -oE "[0-9]+ (packets? )?$1" "$2" | head -1 | grep -oE '^[0-9]+' || echo 0
}

# run NAME CMD...: one capture with CMD (its -i is added here) during one replay.
run() {
    local name=$1
    shift
    local err="$WORK/stderr" replay="$WORK/replay"
    read -r rx0 rxdrop0 < <(rx_counters)
    ip netns exec "$RX_NS" "$@" -i "$RX_IF" >/dev/null 2>"$err" &
    CAPTURER_PID=$!
    wait_listening "$err" "$CAPTURER_PID" || { cat "$err" >&2; die "'$*' did not start capturing."; }
    ip netns exec "$TX_NS" tcpreplay --topspeed -q -i "$TX_IF" "$PCAP" >"$replay" 2>&1 ||
        { cat "$replay" >&2; die "tcpreplay failed."; }
    sleep "$SETTLE"
    kill -INT "$CAPTURER_PID"
    local rc=0
    wait "$CAPTURER_PID" || rc=$?
    CAPTURER_PID=
    [ "$rc" = 0 ] || { cat "$err" >&2; die "'$*' exited with status $rc."; }
    read -r rx1 rxdrop1 < <(rx_counters)
    local pps
    pps=$(grep -oE 'Rated: [0-9.]+ Bps, [0-9.]+ Mbps, [0-9.]+ pps' "$replay" | awk '{ print $6 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" \
        "$(count captured "$err")" "$(count 'received by filter' "$err")" \
        "$(count 'dropped by kernel' "$err")" "$(count 'dropped by interface' "$err")" \
        "$((rx1 - rx0))" "$((rxdrop1 - rxdrop0))" "${pps:-0}" >>"$LOG"
    tail -1 "$LOG" | awk -F'\t' '{ printf "  %-34s captured %s, received %s, dropped %s (kernel) %s (interface); veth rx %s; replay %s pps\n", $1, $2, $3, $4, $5, $6, $8 }' >&2
}

# The capturers, in the order they run in odd rounds (even rounds run them backwards).
# Every one keeps the same snapshot length. "-B" is the capture buffer in KiB for both
# tools; tcpdump's default is libpcap's 2 MiB, wirelens's default is its own (see
# `wirelens live --help`), so each tool runs once as users run it and once with the other's
# buffer size.
WL_DEFAULT_KIB=$("$WL" live --help | awk '/--buffer-size/ { f = 1 } f && /default: [0-9]+/ { sub(/.*default: /, ""); sub(/[^0-9].*/, ""); print; exit }')
[ -n "$WL_DEFAULT_KIB" ] || die "could not read the default of --buffer-size from 'wirelens live --help'."
if [ -n "${CAPTURERS:-}" ]; then
    mapfile -t CAPTURERS <<<"$CAPTURERS"
else
    CAPTURERS=(
        "wirelens live|$WL live -s $SNAPLEN"
        "wirelens live -B 2048|$WL live -s $SNAPLEN -B 2048"
        "wirelens live --format json|$WL live -s $SNAPLEN --format json"
        "tcpdump -w /dev/null|tcpdump -s $SNAPLEN -w /dev/null"
        "tcpdump -w /dev/null -B $WL_DEFAULT_KIB|tcpdump -s $SNAPLEN -B $WL_DEFAULT_KIB -w /dev/null"
    )
fi

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -r)"
echo "tools: $(tcpdump --version 2>&1 | head -2 | paste -sd' '), $(tcpreplay --version 2>&1 | head -1)"
echo "capture: $PCAP ($LIVE_N packets, $(du -m "$PCAP" | cut -f1) MB); snaplen $SNAPLEN; wirelens default buffer ${WL_DEFAULT_KIB:-?} KiB"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    echo "round $round/$ROUNDS" >&2
    order=("${CAPTURERS[@]}")
    if [ $((round % 2)) = 0 ]; then
        order=()
        for ((i = ${#CAPTURERS[@]} - 1; i >= 0; i--)); do order+=("${CAPTURERS[i]}"); done
    fi
    for c in "${order[@]}"; do
        # shellcheck disable=SC2086
        run "${c%%|*}" ${c#*|}
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per capturer. Drop % = dropped by kernel / packets the veth received.
summary=$(awk -F'\t' '
    function median(list,    v, m, a, b, x) {
        m = split(substr(list, 2), v, " ")
        for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (v[b] + 0 < v[a] + 0) { x = v[a]; v[a] = v[b]; v[b] = x }
        return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
    }
    {
        if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
        cap[$1] = cap[$1] " " $2; rec[$1] = rec[$1] " " $3; drop[$1] = drop[$1] " " $4
        ifd[$1] = ifd[$1] " " $5; rx[$1] = rx[$1] " " $6; rxd[$1] = rxd[$1] " " $7; pct[$1] = pct[$1] " " ($6 > 0 ? 100 * $4 / $6 : 0)
        pps[$1] = pps[$1] " " $8; runs[$1]++
    }
    END {
        for (i = 1; i <= n; i++) {
            k = order[i]
            printf "%s\t%d\t%d\t%d\t%d\t%d\t%.2f\t%d\t%d\t%d\n", k, median(cap[k]), median(rec[k]),
                median(drop[k]), median(ifd[k]), median(rx[k]), median(pct[k]), median(pps[k]), runs[k], median(rxd[k])
        }
    }' "$LOG")

echo
echo "| capturer | rounds | veth rx | veth rx dropped | captured | received by filter | dropped by kernel | dropped by interface | drop % | replay pps |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
while IFS=$'\t' read -r name c r d i x p pps runs xd; do
    printf "| \`%s\` | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" "$name" "$runs" "$x" "$xd" "$c" "$r" "$d" "$i" "$p" "$pps"
done <<<"$summary"

echo
echo "(medians of each column taken separately; drop % is the median over rounds of dropped by kernel / veth rx)"
echo
field() { awk -F'\t' -v k="$1" -v f="$2" '$1 == k { print $f }' <<<"$summary"; }
compare() { # label wirelens-capturer tcpdump-capturer (skipped unless both ran)
    [ -n "$(field "$2" 4)" ] && [ -n "$(field "$3" 4)" ] || return 0
    awk -v l="$1" -v a="$(field "$2" 4)" -v b="$(field "$3" 4)" 'BEGIN {
        printf "%s: wirelens dropped %d, tcpdump %d (medians): %s\n", l, a, b,
            (a <= b ? "wirelens dropped no more than tcpdump" : "wirelens dropped MORE than tcpdump") }'
}
compare "defaults" "wirelens live" "tcpdump -w /dev/null"
compare "both 2 MiB" "wirelens live -B 2048" "tcpdump -w /dev/null"
compare "both ${WL_DEFAULT_KIB} KiB" "wirelens live" "tcpdump -w /dev/null -B $WL_DEFAULT_KIB"
