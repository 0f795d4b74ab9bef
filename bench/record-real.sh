#!/usr/bin/env bash
# Records the seed of the real-traffic benchmark corpus: kernel traffic of one host,
# IPv4 and IPv6, captured at that host twice at once:
#
#   bench/real-seed.pcap        Ethernet, tcpdump -i vc (the host's only interface)
#   bench/real-seed-sll2.pcap   Linux cooked v2, tcpdump -i any -y LINUX_SLL2
#
#   sudo bench/record-real.sh [OUTDIR]      # default: bench/ (the committed seeds)
#
# bench/compare.sh repeats a seed to millions of packets with examples/replicate.rs
# (into BENCH_DIR under /tmp); only the seeds (about 1 MB each) are in git.
#
# The traffic (bench/tools/traffic.py, plus ping and neighbour-cache flushes), from the
# client host c to a server s on its link and to a far host f routed through s:
#   - ~260 HTTP/1.1-like connections, 1-3 requests each, IPv4 and IPv6, to s and f:
#     handshake, request, response of 0-7000 bytes, server-side close; a few 404s;
#   - bulk TCP: two downloads of 100 kB (IPv4 from f, IPv6 from s), one IPv6 upload
#     of 60 kB to f (MSS 1220 across the 1280-byte link);
#   - DNS over UDP to s, IPv4 and IPv6: A, AAAA, TXT, NXDOMAIN, and TXT answers of
#     2.4 kB that leave s as IP fragments;
#   - ICMP/ICMPv6 echo, 3000-byte pings (fragmented both ways), hop limit 1 to f
#     (time exceeded from s), UDP to closed ports (port unreachable), 1400-byte
#     datagrams with DF to f (fragmentation needed / packet too big from s), TCP to
#     a closed port (RST);
#   - ARP and NDP: neighbour caches with short reachable times, flushed every 2 s;
#     UDP broadcasts to 10.88.0.255 and link-local multicast to ff02::1 (port 17500).
#
# Needs root, iproute2, ethtool, tcpdump, ping, python3.
#
# NETWORK SAFETY: every packet is sent inside the three network namespaces this script
# creates (wlbench-c, wlbench-s, wlbench-f), over two veth pairs that exist only between
# them. Broadcasts and IPv6 multicast (ff02::/16, link scope) stay on those veths.
# Nothing is sent on the host's interfaces. The namespaces (and with them the veths)
# are removed on exit, also on failure (trap cleanup EXIT).
#
# Topology (checksum, segmentation and receive offloads off on every veth end, so the
# files hold the packets as the wire carries them, with real checksums):
#   wlbench-c  vc 02:88:00:00:00:01 10.88.0.1/24 fd88::1/64
#        <-veth->  vs 02:88:00:00:00:02 10.88.0.2/24 fd88::2/64  wlbench-s (router)
#   wlbench-s  vr 02:88:00:00:01:01 10.88.1.1/24 fd88:0:0:1::1/64, MTU 1280
#        <-veth->  vf 02:88:00:00:01:02 10.88.1.2/24 fd88:0:0:1::2/64  wlbench-f
# examples/replicate.rs relies on these ranges: it shifts 10.88.0.0/16, fd88::/16,
# link-local fe80::/64 and the locally administered MACs per copy.
set -euo pipefail

if [[ $EUID -ne 0 ]]; then
    echo "record-real.sh: must be run as root (network namespaces, tcpdump)" >&2
    exit 1
fi
for tool in ip ethtool tcpdump ping python3; do
    command -v "$tool" >/dev/null || { echo "record-real.sh: missing $tool" >&2; exit 1; }
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(cd "${1:-$HERE}" && pwd)
PY=$(python3 -c 'import sys; print(sys.executable)')
TRAFFIC=$HERE/tools/traffic.py

NS_C=wlbench-c
NS_S=wlbench-s
NS_F=wlbench-f
C4=10.88.0.1 S4=10.88.0.2 SR4=10.88.1.1 F4=10.88.1.2
C6=fd88::1 S6=fd88::2 SR6=fd88:0:0:1::1 F6=fd88:0:0:1::2

WORK=$(mktemp -d /tmp/wlbench-rec.XXXXXX)
BGPIDS=()

cleanup() {
    local rc=$?
    set +e
    for pid in "${BGPIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null
    done
    for pid in "${BGPIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    for ns in "$NS_F" "$NS_S" "$NS_C"; do
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$WORK"
    if [[ $rc -ne 0 ]]; then
        echo "record-real.sh: FAILED (exit $rc); namespaces removed" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '== %s\n' "$*"; }
inc() { ip netns exec "$NS_C" "$@"; }
ins() { ip netns exec "$NS_S" "$@"; }

wait_file() { # path
    local i
    for ((i = 0; i < 500; i++)); do
        [[ -e $1 ]] && return 0
        sleep 0.02
    done
    echo "record-real.sh: timed out waiting for $1" >&2
    return 1
}

wait_grep() { # file pattern
    local i
    for ((i = 0; i < 500; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.02
    done
    echo "record-real.sh: capture did not start:" >&2
    cat "$1" >&2
    return 1
}

mkns() {
    ip netns add "$1"
    # IPv4 and IPv6 on; no ICMP rate limits (no error is lost)
    ip netns exec "$1" sysctl -qw \
        net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
        net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
    ip -n "$1" link set lo up
}

# ifsetup NS IF: offloads off; short neighbour reachable times, so caches are
# re-confirmed (ARP/NDP probes) during the run
ifsetup() {
    ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null
    ip netns exec "$1" sysctl -qw \
        "net.ipv4.neigh.$2.base_reachable_time_ms=3000" \
        "net.ipv6.neigh.$2.base_reachable_time_ms=3000" \
        "net.ipv4.neigh.$2.delay_first_probe_time=1" \
        "net.ipv6.neigh.$2.delay_first_probe_time=1"
}

# veth NS1 IF1 MAC1 NS2 IF2 MAC2 MTU
veth() {
    ip link add "$2" netns "$1" address "$3" mtu "$7" type veth \
        peer name "$5" netns "$4" address "$6" mtu "$7"
    ifsetup "$1" "$2"
    ifsetup "$4" "$5"
}

setup() {
    log "setting up $NS_C <-> $NS_S (router) <-> $NS_F"
    for ns in "$NS_F" "$NS_S" "$NS_C"; do # leftovers of an interrupted run
        ip netns del "$ns" 2>/dev/null || true
    done
    mkns "$NS_C"
    mkns "$NS_S"
    mkns "$NS_F"
    ins sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    veth "$NS_C" vc 02:88:00:00:00:01 "$NS_S" vs 02:88:00:00:00:02 1500
    veth "$NS_S" vr 02:88:00:00:01:01 "$NS_F" vf 02:88:00:00:01:02 1280
    ip -n "$NS_C" addr add "$C4/24" dev vc
    ip -n "$NS_S" addr add "$S4/24" dev vs
    ip -n "$NS_S" addr add "$SR4/24" dev vr
    ip -n "$NS_F" addr add "$F4/24" dev vf
    ip -n "$NS_C" addr add "$C6/64" dev vc nodad
    ip -n "$NS_S" addr add "$S6/64" dev vs nodad
    ip -n "$NS_S" addr add "$SR6/64" dev vr nodad
    ip -n "$NS_F" addr add "$F6/64" dev vf nodad
    ip -n "$NS_C" link set dev vc up
    ip -n "$NS_S" link set dev vs up
    ip -n "$NS_S" link set dev vr up
    ip -n "$NS_F" link set dev vf up
    ip -n "$NS_C" route add default via "$S4"
    ip -n "$NS_C" -6 route add default via "$S6"
    ip -n "$NS_F" route add default via "$SR4"
    ip -n "$NS_F" -6 route add default via "$SR6"
    sleep 2 # link-local DAD and the MLD reports of link-up are over
}

# The client's plan, one task a line (see traffic.py), in a fixed pseudo-random order.
make_plan() {
    "$PY" - "$WORK/plan" <<'EOF'
import random, sys
rng = random.Random(19)
S4, S6, F4, F6 = "10.88.0.2", "fd88::2", "10.88.1.2", "fd88:0:0:1::2"
tasks = []
for i in range(260):
    v6 = rng.random() < 0.45
    far = rng.random() < 0.3
    host = (F6 if far else S6) if v6 else (F4 if far else S4)
    tasks.append("http %s %d" % (host, rng.choice([1, 1, 1, 2, 2, 3])))
for i in range(220):
    host = S6 if rng.random() < 0.45 else S4
    r = rng.random()
    if r < 0.04:
        tasks.append("dns %s TXT big%d.example.org" % (host, i))
    elif r < 0.12:
        tasks.append("dns %s A nx%d.example.net" % (host, i))
    else:
        qtype = rng.choice(["A", "A", "AAAA", "TXT"])
        tasks.append("dns %s %s www%d.example.org" % (host, qtype, rng.randrange(60)))
for host in (S4, S6) * 4:
    tasks.append("refused %s 81" % host)
    tasks.append("udp-closed %s 9" % host)
for host in (F4, F6) * 2:
    tasks.append("udp-closed %s 9 1400" % host)
for i in range(6):
    tasks.append("bcast 10.88.0.255 17500 vc")
    tasks.append("bcast ff02::1 17500 vc")
rng.shuffle(tasks)
# the bulk transfers start early and overlap the rest
tasks[3:3] = ["down %s 100000" % F4, "down %s 100000" % S6]
tasks[40:40] = ["up %s 60000" % F6]
open(sys.argv[1], "w").write("\n".join(tasks) + "\n")
EOF
}

# cap_start IFACE FILE [tcpdump options...]: tcpdump in the client namespace, with a
# 64 MiB ring. Not --immediate-mode: libpcap then uses TPACKET_V2 with one
# snaplen-sized (256 KiB) slot per packet, and the "any" capture dropped packets in
# bursts. Without it, a ring block is handed over when full or after tcpdump's 1 s
# timeout, so record() leaves 2 s of silence before stopping the captures.
cap_start() {
    local ifc=$1 file=$2
    shift 2
    : >"$WORK/$file.err"
    ip netns exec "$NS_C" tcpdump -U -n -Z root -B 65536 -i "$ifc" -w "$WORK/$file" "$@" \
        2>"$WORK/$file.err" &
    BGPIDS+=($!)
    wait_grep "$WORK/$file.err" "listening on"
}

record() {
    log "servers in $NS_S and $NS_F"
    rm -f "$WORK/ready-s" "$WORK/ready-f"
    ip netns exec "$NS_S" "$PY" "$TRAFFIC" serve :: --ready "$WORK/ready-s" &
    BGPIDS+=($!)
    ip netns exec "$NS_F" "$PY" "$TRAFFIC" serve :: --ready "$WORK/ready-f" &
    BGPIDS+=($!)
    wait_file "$WORK/ready-s"
    wait_file "$WORK/ready-f"

    log "capturing on vc and on any in $NS_C"
    cap_start vc eth.pcap
    local eth_pid=${BGPIDS[-1]}
    cap_start any sll2.pcap -y LINUX_SLL2
    local sll_pid=${BGPIDS[-1]}
    sleep 0.5

    log "traffic"
    # neighbour caches forgotten every 2 s: ARP requests, NDP solicitations
    (
        for _ in $(seq 8); do
            sleep 2
            ip -n "$NS_C" neigh flush dev vc
            ip -n "$NS_S" neigh flush dev vs
        done
    ) &
    local flush_pid=$!
    BGPIDS+=("$flush_pid")
    local pings=()
    inc ping -n -q -c 40 -i 0.25 "$S4" >/dev/null &
    pings+=($!)
    inc ping -n -q -6 -c 40 -i 0.25 "$S6" >/dev/null &
    pings+=($!)
    inc ping -n -q -c 12 -i 0.8 "$F4" >/dev/null &
    pings+=($!)
    inc ping -n -q -6 -c 12 -i 0.8 "$F6" >/dev/null &
    pings+=($!)
    inc ping -n -q -c 4 -i 2 -s 3000 "$S4" >/dev/null &
    pings+=($!)
    inc ping -n -q -6 -c 4 -i 2 -s 3000 "$S6" >/dev/null &
    pings+=($!)
    inc ping -n -q -c 3 -i 3 -t 1 "$F4" >/dev/null &
    pings+=($!)
    inc ping -n -q -6 -c 3 -i 3 -t 1 "$F6" >/dev/null &
    pings+=($!)
    BGPIDS+=("${pings[@]}")
    inc "$PY" "$TRAFFIC" client "$WORK/plan" --workers 4 --gap 0.04
    for pid in "${pings[@]}"; do
        wait "$pid" || true # the hop-limit-1 pings get no reply
    done
    wait "$flush_pid"
    sleep 2 # the last packets arrive, and their ring block is handed over
    kill -INT "$eth_pid" "$sll_pid"
    wait "$eth_pid" || true
    wait "$sll_pid" || true
    cat "$WORK/eth.pcap.err" "$WORK/sll2.pcap.err" | grep -E "captured|dropped" || true
}

main() {
    setup
    make_plan
    record
    cp "$WORK/eth.pcap" "$OUT/real-seed.pcap"
    cp "$WORK/sll2.pcap" "$OUT/real-seed-sll2.pcap"
    chmod 644 "$OUT/real-seed.pcap" "$OUT/real-seed-sll2.pcap"
    ls -l "$OUT/real-seed.pcap" "$OUT/real-seed-sll2.pcap"
}

main
