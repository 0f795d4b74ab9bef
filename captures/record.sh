#!/usr/bin/env bash
# Records the real Linux-kernel captures in captures/ (see captures/README.md).
#
#   sudo bash captures/record.sh          # from the repository root: all files
#   sudo bash captures/record.sh ipv4     # only the IPv4-era files (wlrec-*)
#   sudo bash captures/record.sh ipv6     # only the ipv6-*.pcap files (wl6-*),
#                                         # except ipv6-noise.pcap (ipv4 part);
#                                         # ipv6-mld.pcap is written, not sent
#   sudo bash captures/record.sh link     # only the link-type files (wll-*):
#                                         # linux-any-*, linux-vb-ethernet, tun-raw,
#                                         # bsd-null, mixed-interfaces
#
# Needs root, iproute2, ethtool, nftables (nft), tcpdump, dumpcap, iputils
# ping/arping, tshark/capinfos (for the final check), python3 with scapy:
#   apt-get install -y ethtool nftables iputils-arping tshark tcpdump
#   pip install scapy
#
# NETWORK SAFETY: every packet is sent inside network namespaces this script
# creates (wlrec-a, wlrec-b and, for icmp-errors only, wlrec-c; for the IPv6
# part wl6-a, wl6-b and wl6-c), over veth pairs that exist only between them.
# IPv6 multicast (ff02::1, solicited-node groups, MLD to ff02::16) is
# link-scope and stays on those veths. Nothing is sent on the host's own
# interfaces. The link part (wll-a, wll-b, wll-t) captures `-i any` only inside
# wll-b, and its tun device exists only inside wll-t, where a python process
# answers for the far end. The namespaces (and with them the veths) are removed on exit,
# also on failure (trap cleanup EXIT).
#
# Topology
#   wlrec-a  va 02:77:00:00:00:01 10.77.0.1/24  <-veth->  vb 02:77:00:00:00:02 10.77.0.2/24  wlrec-b
#   (icmp-errors only)  wlrec-b vr 02:77:00:00:01:01 10.78.0.1/24 <-veth-> vc 02:77:00:00:01:02 10.78.0.2/24 wlrec-c
#
# Every capture is taken inside a namespace with tcpdump (or dumpcap for the
# pcapng file) on one veth end, started before the traffic and stopped with
# SIGINT after it. Checksum offload is off on every veth end (so checksums in
# the files are the real ones) except in offload-partial-checksums.pcap.
# In the IPv4 part IPv6 is disabled except in ipv6-noise.pcap. Neighbour
# entries are static (nud permanent) except in arp.pcap, so no ARP appears
# anywhere else. The IPv6 part (`ipv6`, at the end of this file) has its own
# namespaces with IPv6 on; see the comment there.

set -euo pipefail

if [[ $EUID -ne 0 ]]; then
    echo "record.sh: must be run as root (network namespaces, tcpdump)" >&2
    exit 1
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE
TOOLS=$HERE/tools

NS_A=wlrec-a
NS_B=wlrec-b
NS_C=wlrec-c
MAC_A=02:77:00:00:00:01
MAC_B=02:77:00:00:00:02
MAC_BR=02:77:00:00:01:01
MAC_C=02:77:00:00:01:02
IP_A=10.77.0.1
IP_B=10.77.0.2
IP_BR=10.78.0.1
IP_C=10.78.0.2

for tool in ip ethtool nft tcpdump dumpcap mergecap ping arping capinfos tshark python3; do
    command -v "$tool" >/dev/null || { echo "record.sh: missing $tool" >&2; exit 1; }
done
PY=$(python3 -c 'import sys; print(sys.executable)')
"$PY" -c 'import scapy' 2>/dev/null || { echo "record.sh: pip install scapy" >&2; exit 1; }

WORK=$(mktemp -d /tmp/wlrec.XXXXXX)
BGPIDS=()
CAP_PID=

cleanup() {
    local rc=$?
    set +e
    for pid in "${BGPIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null
    done
    for pid in "${BGPIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    for ns in "$NS_C" "$NS_B" "$NS_A" wl6-c wl6-b wl6-a wll-t wll-b wll-a; do
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$WORK"
    if [[ $rc -ne 0 ]]; then
        echo "record.sh: FAILED (exit $rc); namespaces removed" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '\n== %s\n' "$*"; }
ina() { ip netns exec "$NS_A" "$@"; }
inb() { ip netns exec "$NS_B" "$@"; }
inc() { ip netns exec "$NS_C" "$@"; }
# Background jobs are started with a bare `ip netns exec ... &` (never through
# these functions), so that $! is the PID of the program itself and cleanup
# can end it.

wait_file() { # path [timeout-seconds]
    local i
    for ((i = 0; i < ${2:-10} * 50; i++)); do
        [[ -e $1 ]] && return 0
        sleep 0.02
    done
    echo "record.sh: timed out waiting for $1" >&2
    return 1
}

wait_grep() { # file pattern
    local i
    for ((i = 0; i < 500; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.02
    done
    echo "record.sh: capture did not start:" >&2
    cat "$1" >&2
    return 1
}

# --- capture control ---------------------------------------------------------

# cap_start NS IFACE FILE [tcpdump options...]
cap_start() {
    local ns=$1 ifc=$2 file=$3
    shift 3
    : >"$WORK/cap.err"
    ip netns exec "$ns" tcpdump -U -n -Z root -i "$ifc" -w "$OUT/$file" "$@" \
        2>"$WORK/cap.err" &
    CAP_PID=$!
    BGPIDS+=("$CAP_PID")
    wait_grep "$WORK/cap.err" "listening on"
    sleep 0.3
}

# cap_start_dumpcap NS IFACE FILE  (native pcapng writer)
cap_start_dumpcap() {
    local ns=$1 ifc=$2 file=$3
    : >"$WORK/cap.err"
    ip netns exec "$ns" dumpcap -n -i "$ifc" -w "$OUT/$file" 2>"$WORK/cap.err" &
    CAP_PID=$!
    BGPIDS+=("$CAP_PID")
    wait_grep "$WORK/cap.err" "Capturing on"
    sleep 0.5
}

cap_stop() {
    sleep 0.7 # let the last packets arrive
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || true
    CAP_PID=
    grep -E "captured|Packets" "$WORK/cap.err" || true
    chmod 644 "$OUT"/*.pcap* # dumpcap creates its file 0600
}

# --- topology ------------------------------------------------------------------

mkns() {
    ip netns add "$1"
    # IPv6 off before any link exists or comes up: no ND/MLD noise
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
    ip -n "$1" link set lo up
}

offload() { # on|off
    ina ethtool -K va tx "$1" rx "$1" >/dev/null
    inb ethtool -K vb tx "$1" rx "$1" >/dev/null
}

static_neigh() {
    ip -n "$NS_A" neigh replace "$IP_B" lladdr "$MAC_B" dev va nud permanent
    ip -n "$NS_B" neigh replace "$IP_A" lladdr "$MAC_A" dev vb nud permanent
}

wait_up() { # ns ifc
    local i
    for ((i = 0; i < 250; i++)); do
        ip -n "$1" link show "$2" | grep -q "LOWER_UP" && return 0
        sleep 0.02
    done
    echo "record.sh: $2 in $1 did not come up" >&2
    return 1
}

setup() {
    log "setting up $NS_A <-> $NS_B"
    for ns in "$NS_C" "$NS_B" "$NS_A"; do # leftovers of an interrupted run
        ip netns del "$ns" 2>/dev/null || true
    done
    mkns "$NS_A"
    mkns "$NS_B"
    # both veth ends are created directly inside the namespaces
    ip link add va netns "$NS_A" address "$MAC_A" type veth \
        peer name vb netns "$NS_B" address "$MAC_B"
    ip -n "$NS_A" addr add "$IP_A/24" dev va
    ip -n "$NS_B" addr add "$IP_B/24" dev vb
    offload off
    ip -n "$NS_A" link set va up
    ip -n "$NS_B" link set vb up
    wait_up "$NS_A" va
    wait_up "$NS_B" vb
    static_neigh
    sleep 1
}

# --- traffic helpers -----------------------------------------------------------

# tcp_echo PORT SPORT [client args...]   (server: SERVER_OPTS array)
SERVER_OPTS=()
tcp_echo() {
    local port=$1 sport=$2
    shift 2
    rm -f "$WORK/ready"
    ip netns exec "$NS_B" "$PY" "$TOOLS/tcpapp.py" server "$IP_B" "$port" --ready "$WORK/ready" \
        ${SERVER_OPTS[@]+"${SERVER_OPTS[@]}"} &
    local spid=$!
    BGPIDS+=("$spid")
    wait_file "$WORK/ready"
    ina "$PY" "$TOOLS/tcpapp.py" client "$IP_B" "$port" --sport "$sport" "$@"
    wait "$spid"
}

# nft_drop_once TABLE RULE-MATCH: in wlrec-b, drop the first packet matching
# RULE-MATCH at prerouting (after tcpdump on vb has already seen it)
nft_drop_once() {
    inb nft -f - <<EOF
table inet $1 {
    chain pre {
        type filter hook prerouting priority raw; policy accept;
        $2 limit rate 1/hour burst 1 packets counter drop
    }
}
EOF
}

# --- the captures (one function per file) --------------------------------------

rec_tcp_echo() {
    log "tcp-echo.pcap"
    cap_start "$NS_B" vb tcp-echo.pcap
    tcp_echo 8090 40090 --msg hello
    cap_stop
}

rec_tcp_echo_pcapng() {
    log "tcp-echo.pcapng (dumpcap, native pcapng)"
    cap_start_dumpcap "$NS_B" vb tcp-echo.pcapng
    tcp_echo 8090 40091 --msg hello
    cap_stop
}

rec_tcp_echo_ns() {
    log "tcp-echo-ns.pcap (nanosecond pcap)"
    cap_start "$NS_B" vb tcp-echo-ns.pcap --time-stamp-precision=nano
    tcp_echo 8090 40092 --msg hello
    cap_stop
}

rec_snaplen_64() {
    log "snaplen-64.pcap"
    cap_start "$NS_B" vb snaplen-64.pcap -s 64
    tcp_echo 8090 40093 --msg "hello, this line is longer than the 64-byte snapshot length"
    cap_stop
}

rec_tcp_refused() {
    log "tcp-refused.pcap"
    cap_start "$NS_B" vb tcp-refused.pcap
    ina "$PY" "$TOOLS/tcpapp.py" refused "$IP_B" 9 --sport 40094
    cap_stop
}

rec_arp() {
    log "arp.pcap"
    ip -n "$NS_A" neigh del "$IP_B" dev va
    ip -n "$NS_B" neigh del "$IP_A" dev vb
    cap_start "$NS_B" vb arp.pcap
    ina ping -n -c 1 -W 1 "$IP_B" >/dev/null        # ARP who-has/is-at + ICMP echo
    sleep 0.3
    ina arping -q -U -c 1 -I va "$IP_A" || true      # gratuitous ARP request
    sleep 0.3
    ina arping -q -A -c 1 -I va "$IP_A" || true      # gratuitous ARP reply
    cap_stop
    static_neigh
}

rec_udp() {
    log "udp.pcap"
    rm -f "$WORK/ready"
    ip netns exec "$NS_B" "$PY" "$TOOLS/udpapp.py" sink 0.0.0.0 10000 --count 4 --reply --timeout 10 \
        --ready "$WORK/ready" &
    local spid=$!
    BGPIDS+=("$spid")
    wait_file "$WORK/ready"
    cap_start "$NS_B" vb udp.pcap
    ina "$PY" "$TOOLS/udpapp.py" send "$IP_B" 10000 "ping unicast" --sport 40000 --expect-reply
    sleep 0.2
    ina "$PY" "$TOOLS/udpapp.py" send 10.77.0.255 10000 "subnet broadcast" --sport 40000 --broadcast
    sleep 0.2
    ina "$PY" "$TOOLS/udpapp.py" send 255.255.255.255 10000 "limited broadcast" --sport 40000 \
        --broadcast --bind-dev va
    sleep 0.2
    ina "$PY" "$TOOLS/craft.py" udp0 --iface va                 # checksum 0
    wait "$spid"
    cap_stop
}

rec_fragments() {
    log "fragments.pcap"
    rm -f "$WORK/ready"
    ip netns exec "$NS_B" "$PY" "$TOOLS/udpapp.py" sink "$IP_B" 10001 --count 2 --timeout 10 \
        --ready "$WORK/ready" &
    local spid=$!
    BGPIDS+=("$spid")
    wait_file "$WORK/ready"
    cap_start "$NS_B" vb fragments.pcap
    ina "$PY" "$TOOLS/udpapp.py" send "$IP_B" 10001 --size 4000 --sport 40001 --no-df
    sleep 0.2
    ina "$PY" "$TOOLS/udpapp.py" send "$IP_B" 10001 --size 1473 --sport 40001 --no-df
    wait "$spid"
    cap_stop
}

rec_icmp_errors() {
    log "icmp-errors.pcap (wlrec-b routes to wlrec-c)"
    mkns "$NS_C"
    ip link add vr netns "$NS_B" address "$MAC_BR" mtu 1280 type veth \
        peer name vc netns "$NS_C" address "$MAC_C" mtu 1280
    ip -n "$NS_B" addr add "$IP_BR/24" dev vr
    ip -n "$NS_C" addr add "$IP_C/24" dev vc
    inb ethtool -K vr tx off rx off >/dev/null
    inc ethtool -K vc tx off rx off >/dev/null
    ip -n "$NS_B" link set vr up
    ip -n "$NS_C" link set vc up
    wait_up "$NS_B" vr
    wait_up "$NS_C" vc
    ip -n "$NS_B" neigh replace "$IP_C" lladdr "$MAC_C" dev vr nud permanent
    ip -n "$NS_C" neigh replace "$IP_BR" lladdr "$MAC_BR" dev vc nud permanent
    ip -n "$NS_C" route add 10.77.0.0/24 via "$IP_BR"
    ip -n "$NS_A" route add 10.78.0.0/24 via "$IP_B"
    inb sysctl -qw net.ipv4.ip_forward=1
    sleep 0.5

    cap_start "$NS_B" vb icmp-errors.pcap
    ina ping -n -c 1 -W 1 "$IP_B" >/dev/null                    # echo request/reply
    sleep 0.2
    ina "$PY" "$TOOLS/udpapp.py" send "$IP_B" 9 "closed port" --sport 40300  # 3/3
    sleep 0.2
    ina "$PY" "$TOOLS/udpapp.py" rawip "$IP_B" 253 "unknown protocol"         # 3/2
    sleep 0.2
    ina ping -n -c 1 -W 1 -t 1 "$IP_C" >/dev/null || true       # 11/0 from the router
    sleep 0.2
    ina "$PY" "$TOOLS/udpapp.py" send "$IP_C" 9 --size 1400 --df --sport 40301  # 3/4 mtu 1280
    sleep 0.2
    ina "$PY" "$TOOLS/udpapp.py" send "$IP_C" 9 "closed port, far side" --sport 40302  # 3/3 from c
    sleep 0.2
    ina "$PY" "$TOOLS/udpapp.py" send 10.78.0.99 9 "nobody home" --sport 40303  # 3/1 after ARP fails
    sleep 3.5
    cap_stop

    inb sysctl -qw net.ipv4.ip_forward=0
    ip -n "$NS_A" route del 10.78.0.0/24
    ip netns del "$NS_C" # takes the vr/vc pair with it
}

rec_vlan() {
    log "vlan.pcap"
    cap_start "$NS_B" vb vlan.pcap
    ina "$PY" "$TOOLS/craft.py" vlan --iface va
    cap_stop
}

rec_crafted() {
    log "crafted.pcap"
    # wlrec-b's netfilter drops the crafted TCP/UDP (after the capture point) so
    # its kernel does not answer them with RSTs / ICMP port unreachables
    inb nft -f - <<EOF
table inet wlrec_crafted {
    chain pre {
        type filter hook prerouting priority raw; policy accept;
        ip saddr $IP_A meta l4proto { tcp, udp } counter drop
    }
}
EOF
    cap_start "$NS_B" vb crafted.pcap
    ina "$PY" "$TOOLS/craft.py" crafted --iface va
    cap_stop
    inb nft delete table inet wlrec_crafted
}

rec_tcp_midstream() {
    log "tcp-midstream.pcap"
    rm -f "$WORK/ready" "$WORK/go"
    ip netns exec "$NS_B" "$PY" "$TOOLS/tcpapp.py" server "$IP_B" 8091 --loop --ready "$WORK/ready" &
    local spid=$!
    BGPIDS+=("$spid")
    wait_file "$WORK/ready"
    ip netns exec "$NS_A" "$PY" "$TOOLS/tcpapp.py" client "$IP_B" 8091 --sport 40096 --go "$WORK/go" \
        --msg hello --msg "still there?" --msg bye &
    local cpid=$!
    BGPIDS+=("$cpid")
    sleep 1.5 # handshake done long before the capture starts
    cap_start "$NS_B" vb tcp-midstream.pcap
    touch "$WORK/go"
    wait "$cpid"
    wait "$spid"
    cap_stop
}

rec_tcp_retransmission() {
    log "tcp-retransmission.pcap"
    nft_drop_once wlrec_retx "ip saddr $IP_A tcp dport 8092 tcp flags & psh == psh"
    cap_start "$NS_B" vb tcp-retransmission.pcap
    tcp_echo 8092 40097 --msg hello
    cap_stop
    inb nft delete table inet wlrec_retx
}

rec_tcp_simultaneous_close() {
    log "tcp-simultaneous-close.pcap"
    nft_drop_once wlrec_simclose "ip saddr $IP_A tcp dport 8093 tcp flags & fin == fin"
    cap_start "$NS_B" vb tcp-simultaneous-close.pcap
    SERVER_OPTS=(--close-delay 0.1)
    tcp_echo 8093 40098 --msg hello --shutdown
    SERVER_OPTS=()
    cap_stop
    inb nft delete table inet wlrec_simclose
}

rec_tcp_reset() {
    log "tcp-reset.pcap"
    cap_start "$NS_B" vb tcp-reset.pcap
    SERVER_OPTS=(--loop)
    tcp_echo 8094 40099 --msg hello --linger0
    SERVER_OPTS=()
    cap_stop
}

rec_offload_partial() {
    log "offload-partial-checksums.pcap (offload ON, captured on the sender va)"
    offload on
    cap_start "$NS_A" va offload-partial-checksums.pcap
    tcp_echo 8090 40095 --msg hello
    cap_stop
    offload off
}

rec_ipv6_noise() {
    log "ipv6-noise.pcap (IPv6 enabled for this one)"
    cap_start "$NS_B" vb ipv6-noise.pcap
    ina sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.va.disable_ipv6=0
    inb sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.vb.disable_ipv6=0
    ip -n "$NS_A" addr add fd77::1/64 dev va nodad
    ip -n "$NS_B" addr add fd77::2/64 dev vb nodad
    sleep 2.5 # link-local DAD, MLD reports, router solicitation
    ina ping -n -6 -c 2 -i 0.2 -W 1 fd77::2 >/dev/null
    sleep 0.5
    cap_stop
    ina sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    inb sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

make_truncated() {
    log "truncated.pcap (tcp-echo.pcap cut in the middle of its last record)"
    local n
    n=$("$PY" "$TOOLS/pcaptool.py" cut-offset "$OUT/tcp-echo.pcap")
    head -c "$n" "$OUT/tcp-echo.pcap" >"$OUT/truncated.pcap"
}

make_corrupt() {
    log "corrupt.pcap (record 3's caplen = 0xFFFFFFF0)"
    "$PY" "$TOOLS/pcaptool.py" set-caplen "$OUT/tcp-echo.pcap" "$OUT/corrupt.pcap" 3 0xFFFFFFF0
}

summary() {
    log "summary"
    local f
    for f in "$OUT"/*.pcap "$OUT"/*.pcapng; do
        case $(basename "$f") in truncated.pcap | corrupt.pcap) continue ;; esac
        printf '%-34s %4s packets\n' "$(basename "$f")" \
            "$(tshark -r "$f" 2>/dev/null | wc -l)"
    done
}

# --- the IPv6 part (`record.sh ipv6`) ------------------------------------------
#
# Its own three namespaces, with IPv6 on:
#   wl6-a  v6a 02:77:06:00:00:01 fd77::1/64 <-veth-> v6b 02:77:06:00:00:02 fd77::2/64  wl6-b (router)
#                                        wl6-b  v6r 02:77:06:00:01:01 fd78::1/64 <-veth-> v6c 02:77:06:00:01:02 fd78::2/64  wl6-c
#   (v6r/v6c have MTU 1280). Link-local addresses are EUI-64 of the MACs,
#   e.g. fe80::77:6ff:fe00:1. Every recorded file is captured on v6b in wl6-b.
# Neighbour entries are static (nud permanent) and router solicitations off,
# except in ipv6-ndp.pcap, which is recorded last and turns IPv6 off and on.
# ipv6-mld.pcap is not recorded: craft6.py writes it with the same addresses.

NS6_A=wl6-a
NS6_B=wl6-b
NS6_C=wl6-c
MAC6_A=02:77:06:00:00:01
MAC6_B=02:77:06:00:00:02
MAC6_BR=02:77:06:00:01:01
MAC6_C=02:77:06:00:01:02
IP6_A=fd77::1
IP6_B=fd77::2
IP6_BR=fd78::1
IP6_C=fd78::2
LL6_A=fe80::77:6ff:fe00:1
LL6_B=fe80::77:6ff:fe00:2
IPV6_FILES=(ipv6-tcp-echo.pcap ipv6-udp.pcap ipv6-fragments.pcap ipv6-icmpv6.pcap ipv6-ndp.pcap
    ipv6-mld.pcap)

in6a() { ip netns exec "$NS6_A" "$@"; }
in6b() { ip netns exec "$NS6_B" "$@"; }
in6c() { ip netns exec "$NS6_C" "$@"; }

mkns6() {
    ip netns add "$1"
    # IPv6 on; no router solicitations (ipv6-ndp turns them on for v6a);
    # no ICMPv6 rate limit, so no error is lost
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
        net.ipv6.conf.default.disable_ipv6=0 \
        net.ipv6.conf.default.router_solicitations=0 \
        net.ipv6.conf.all.router_solicitations=0 \
        net.ipv6.icmp.ratelimit=0
    ip -n "$1" link set lo up
}

static_neigh6() {
    ip -n "$NS6_A" neigh replace "$IP6_B" lladdr "$MAC6_B" dev v6a nud permanent
    ip -n "$NS6_A" neigh replace "$LL6_B" lladdr "$MAC6_B" dev v6a nud permanent
    ip -n "$NS6_B" neigh replace "$IP6_A" lladdr "$MAC6_A" dev v6b nud permanent
    ip -n "$NS6_B" neigh replace "$LL6_A" lladdr "$MAC6_A" dev v6b nud permanent
}

setup6() {
    log "setting up $NS6_A <-> $NS6_B (router) <-> $NS6_C, IPv6"
    for ns in "$NS6_C" "$NS6_B" "$NS6_A"; do # leftovers of an interrupted run
        ip netns del "$ns" 2>/dev/null || true
    done
    mkns6 "$NS6_A"
    mkns6 "$NS6_B"
    mkns6 "$NS6_C"
    # b is a router from the start, so its all-routers joins happen now
    in6b sysctl -qw net.ipv6.conf.all.forwarding=1
    ip link add v6a netns "$NS6_A" address "$MAC6_A" type veth \
        peer name v6b netns "$NS6_B" address "$MAC6_B"
    ip link add v6r netns "$NS6_B" address "$MAC6_BR" mtu 1280 type veth \
        peer name v6c netns "$NS6_C" address "$MAC6_C" mtu 1280
    in6a ethtool -K v6a tx off rx off >/dev/null
    in6b ethtool -K v6b tx off rx off >/dev/null
    in6b ethtool -K v6r tx off rx off >/dev/null
    in6c ethtool -K v6c tx off rx off >/dev/null
    ip -n "$NS6_A" addr add "$IP6_A/64" dev v6a nodad
    ip -n "$NS6_B" addr add "$IP6_B/64" dev v6b nodad
    ip -n "$NS6_B" addr add "$IP6_BR/64" dev v6r nodad
    ip -n "$NS6_C" addr add "$IP6_C/64" dev v6c nodad
    ip -n "$NS6_A" link set v6a up
    ip -n "$NS6_B" link set v6b up
    ip -n "$NS6_B" link set v6r up
    ip -n "$NS6_C" link set v6c up
    wait_up "$NS6_A" v6a
    wait_up "$NS6_B" v6b
    wait_up "$NS6_B" v6r
    wait_up "$NS6_C" v6c
    static_neigh6
    ip -n "$NS6_B" neigh replace "$IP6_C" lladdr "$MAC6_C" dev v6r nud permanent
    ip -n "$NS6_C" neigh replace "$IP6_BR" lladdr "$MAC6_BR" dev v6c nud permanent
    ip -n "$NS6_A" -6 route add fd78::/64 via "$IP6_B"
    ip -n "$NS6_A" -6 route add fd79::/64 via "$IP6_B" # b has no route there
    ip -n "$NS6_C" -6 route add fd77::/64 via "$IP6_BR"
    # a fragment whose datagram never completes is given up after 2 s (not 60)
    in6b sysctl -qw net.ipv6.ip6frag_time=2
    sleep 3 # link-local DAD and the MLD reports of link-up are over
}

# cap6_start NS IFACE FILE: cap_start with --immediate-mode. Without it
# libpcap's TPACKET_V3 ring hands packets over only when a block is full or
# its 1 s timeout expires, and tcpdump, stopped by SIGINT, drops the packets
# of a block not yet handed over: the last traffic of a capture could be lost.
cap6_start() {
    cap_start "$@" --immediate-mode
}

# udp_sink6 COUNT [sink args...]: UDP sink on [::]:10000 in wl6-b (background)
udp_sink6() {
    local count=$1
    shift
    rm -f "$WORK/ready"
    ip netns exec "$NS6_B" "$PY" "$TOOLS/udpapp.py" sink :: 10000 --count "$count" --timeout 10 \
        --ready "$WORK/ready" "$@" &
    SINK_PID=$!
    BGPIDS+=("$SINK_PID")
    wait_file "$WORK/ready"
}

# tcp_echo6 SERVER-ADDR CLIENT-ADDR PORT SPORT [client args...]  (server: SERVER_OPTS)
tcp_echo6() {
    local saddr=$1 caddr=$2 port=$3 sport=$4
    shift 4
    rm -f "$WORK/ready"
    ip netns exec "$NS6_B" "$PY" "$TOOLS/tcpapp.py" server "$saddr" "$port" --ready "$WORK/ready" \
        ${SERVER_OPTS[@]+"${SERVER_OPTS[@]}"} &
    local spid=$!
    BGPIDS+=("$spid")
    wait_file "$WORK/ready"
    in6a "$PY" "$TOOLS/tcpapp.py" client "$caddr" "$port" --sport "$sport" "$@"
    wait "$spid"
}

rec6_tcp_echo() {
    log "ipv6-tcp-echo.pcap"
    cap6_start "$NS6_B" v6b ipv6-tcp-echo.pcap
    tcp_echo6 "$IP6_B" "$IP6_B" 8090 40600 --msg hello
    sleep 0.2
    SERVER_OPTS=(--loop)
    tcp_echo6 "$IP6_B" "$IP6_B" 8090 40601 --msg hello --msg "over IPv6"
    SERVER_OPTS=()
    sleep 0.2
    tcp_echo6 "$LL6_B%v6b" "$LL6_B%v6a" 8090 40602 --msg "link-local"
    sleep 0.2
    in6a "$PY" "$TOOLS/tcpapp.py" refused "$IP6_B" 9 --sport 40603
    cap_stop
}

rec6_udp() {
    log "ipv6-udp.pcap"
    udp_sink6 3 --reply
    cap6_start "$NS6_B" v6b ipv6-udp.pcap
    in6a "$PY" "$TOOLS/udpapp.py" send "$IP6_B" 10000 "ping unicast" --sport 40000 --expect-reply
    sleep 0.2
    in6a "$PY" "$TOOLS/udpapp.py" send ff02::1 10000 "all nodes" --sport 40000 --mcast-if v6a
    sleep 0.2
    in6a "$PY" "$TOOLS/udpapp.py" send "$LL6_B%v6a" 10000 "link-local unicast" --sport 40000
    sleep 0.2
    in6a "$PY" "$TOOLS/craft6.py" udp0 --iface v6a   # checksum 0: dropped by b
    wait "$SINK_PID"
    cap_stop
}

rec6_fragments() {
    log "ipv6-fragments.pcap"
    udp_sink6 3
    cap6_start "$NS6_B" v6b ipv6-fragments.pcap
    in6a "$PY" "$TOOLS/udpapp.py" send "$IP6_B" 10000 --size 3000 --sport 40001
    sleep 0.2
    in6a "$PY" "$TOOLS/udpapp.py" send "$IP6_B" 10000 --size 4000 --sport 40001
    sleep 0.2
    in6a "$PY" "$TOOLS/udpapp.py" send "$IP6_B" 10000 --size 1453 --sport 40001  # MTU + 1
    sleep 0.2
    in6a ping -n -6 -c 1 -W 1 -s 3000 "$IP6_B" >/dev/null    # both ways fragmented
    wait "$SINK_PID"
    cap_stop
}

rec6_icmpv6() {
    log "ipv6-icmpv6.pcap (wl6-b routes to wl6-c)"
    cap6_start "$NS6_B" v6b ipv6-icmpv6.pcap
    in6a ping -n -6 -c 1 -W 1 "$IP6_B" >/dev/null                         # 128/129
    sleep 0.2
    in6a "$PY" "$TOOLS/udpapp.py" send "$IP6_B" 9 "closed port" --sport 40300     # 1/4
    sleep 0.2
    in6a "$PY" "$TOOLS/udpapp.py" send fd79::1 9 "no route" --sport 40301          # 1/0 from b
    sleep 0.2
    in6a ping -n -6 -c 1 -W 1 -t 1 "$IP6_C" >/dev/null || true            # 3/0 from b
    sleep 0.2
    in6a "$PY" "$TOOLS/udpapp.py" send "$IP6_C" 9 --size 1400 --df --sport 40302  # 2/0 mtu 1280
    sleep 0.2
    in6a "$PY" "$TOOLS/udpapp.py" send "$IP6_C" 9 "closed port, far side" --sport 40303  # 1/4 from c
    sleep 0.2
    in6a "$PY" "$TOOLS/udpapp.py" rawip "$IP6_B" 253 "unknown next header"     # 4/1
    sleep 0.2
    in6a "$PY" "$TOOLS/craft6.py" dstopt --iface v6a                      # 4/2
    sleep 0.2
    in6a "$PY" "$TOOLS/craft6.py" frag1 --iface v6a                       # 3/1 after 2 s
    sleep 2.5
    in6a "$PY" "$TOOLS/udpapp.py" send fd78::99 9 "nobody home" --sport 40304  # 1/3 after ND fails
    sleep 3.5
    in6a "$PY" "$TOOLS/craft6.py" rthdr --iface v6a                       # 4/0
    cap_stop
}

rec6_ndp() {
    log "ipv6-ndp.pcap (IPv6 switched off and on again on v6a/v6b)"
    in6a sysctl -qw net.ipv6.conf.v6a.disable_ipv6=1 # drops addresses, routes, neighbours
    in6b sysctl -qw net.ipv6.conf.v6b.disable_ipv6=1
    in6a sysctl -qw net.ipv6.conf.v6a.router_solicitations=3
    rm -f "$WORK/ready"
    ip netns exec "$NS6_B" "$PY" "$TOOLS/craft6.py" ra --iface v6b --ready "$WORK/ready" &
    local rpid=$!
    BGPIDS+=("$rpid")
    wait_file "$WORK/ready"
    cap6_start "$NS6_B" v6b ipv6-ndp.pcap
    # link-local addresses appear: DAD, MLD reports; a (a host) solicits a router
    in6b sysctl -qw net.ipv6.conf.v6b.disable_ipv6=0
    in6a sysctl -qw net.ipv6.conf.v6a.disable_ipv6=0
    wait "$rpid" # craft6 ra answered a's router solicitation: SLAAC, DAD
    sleep 1.5
    # the unique-local addresses, with DAD this time
    ip -n "$NS6_B" addr add "$IP6_B/64" dev v6b
    ip -n "$NS6_A" addr add "$IP6_A/64" dev v6a
    sleep 2
    # NS -> NA, then echo; ~5 s later b confirms a with a unicast NS -> NA
    ip -n "$NS6_A" neigh flush dev v6a
    in6a ping -n -6 -c 1 -W 1 "$IP6_B" >/dev/null
    sleep 6
    # redirect: a sends to fd77::99 through b, which is on a's own link
    ip -n "$NS6_B" neigh replace fd77::99 lladdr 02:77:06:00:00:99 dev v6b nud permanent
    ip -n "$NS6_A" -6 route add fd77::99/128 via "$LL6_B" dev v6a
    in6a ping -n -6 -c 2 -i 0.5 -W 0.5 fd77::99 >/dev/null || true
    cap_stop
}

# ipv6-mld.pcap is written by scapy's wrpcap(), not recorded: nothing is sent
# (see craft6.py mld). It needs no namespace and can be made alone with
#   python3 captures/tools/craft6.py mld --write captures/ipv6-mld.pcap
make6_mld() {
    log "ipv6-mld.pcap (written by craft6.py mld, nothing sent)"
    "$PY" "$TOOLS/craft6.py" mld --write "$OUT/ipv6-mld.pcap"
}

summary6() {
    log "summary (IPv6)"
    local f
    for f in "${IPV6_FILES[@]}"; do
        printf '%-34s %4s packets %6s bytes\n' "$f" \
            "$(tshark -r "$OUT/$f" 2>/dev/null | wc -l)" "$(stat -c %s "$OUT/$f")"
    done
}

main_ipv6() {
    setup6
    rec6_tcp_echo
    rec6_udp
    rec6_fragments
    rec6_icmpv6
    rec6_ndp
    make6_mld
    summary6
}

main_ipv4() {
    setup
    rec_tcp_echo
    rec_tcp_echo_pcapng
    rec_tcp_echo_ns
    rec_snaplen_64
    rec_tcp_refused
    rec_arp
    rec_udp
    rec_fragments
    rec_icmp_errors
    rec_vlan
    rec_crafted
    rec_tcp_midstream
    rec_tcp_retransmission
    rec_tcp_simultaneous_close
    rec_tcp_reset
    rec_offload_partial
    rec_ipv6_noise
    make_truncated
    make_corrupt
    summary
}

# --- the link-type part (`record.sh link`) --------------------------------------
#
# The same kernel traffic captured on several link types at once, for the
# decoders of issue 15 and for tests/link_types.rs (flows must not depend on
# the link type):
#   wll-a  va 02:77:0c:00:00:01 10.79.0.1/24 fd7a::1/64 <-veth-> vb 02:77:0c:00:00:02 10.79.0.2/24 fd7a::2/64  wll-b
#   wll-t  tun0 (ip tuntap, mode tun) 10.80.0.1/24 fd7b::1/64; tunecho.py answers for 10.80.0.2 / fd7b::2
# IPv6 on (router solicitations off, no DAD on the unique-local addresses);
# neighbour entries are NOT static, so ARP and NDP show. Three tcpdumps run
# at once inside wll-b: `-i any` (Linux cooked v2), `-y LINUX_SLL -i any`
# (cooked v1) and `-i vb` (Ethernet). `any` in wll-b covers only wll-b's own
# interfaces (lo and vb): it never sees the host's.

NSL_A=wll-a
NSL_B=wll-b
NSL_T=wll-t
MACL_A=02:77:0c:00:00:01
MACL_B=02:77:0c:00:00:02
IPL_A=10.79.0.1
IPL_B=10.79.0.2
IP6L_A=fd7a::1
IP6L_B=fd7a::2
IPL_TUN=10.80.0.1
IPL_FAR=10.80.0.2
IP6L_TUN=fd7b::1
IP6L_FAR=fd7b::2
LINK_FILES=(linux-any-v2.pcap linux-any-v1.pcap linux-vb-ethernet.pcap tun-raw.pcap bsd-null.pcap
    mixed-interfaces.pcapng)

inla() { ip netns exec "$NSL_A" "$@"; }
inlb() { ip netns exec "$NSL_B" "$@"; }
inlt() { ip netns exec "$NSL_T" "$@"; }

# capl_start NS IFACE FILE NAME [tcpdump options...]: one of several tcpdumps
# running at once; its PID goes in CAPS, its messages in $WORK/NAME.err
CAPS=()
capl_start() {
    local ns=$1 ifc=$2 file=$3 name=$4
    shift 4
    : >"$WORK/$name.err"
    ip netns exec "$ns" tcpdump -U -n -Z root --immediate-mode -i "$ifc" -w "$file" "$@" \
        2>"$WORK/$name.err" &
    CAPS+=($!)
    BGPIDS+=($!)
    wait_grep "$WORK/$name.err" "listening on"
}

capl_stop() {
    local pid
    sleep 0.7 # let the last packets arrive
    for pid in "${CAPS[@]}"; do
        kill -INT "$pid"
    done
    for pid in "${CAPS[@]}"; do
        wait "$pid" || true
    done
    CAPS=()
    chmod 644 "$OUT"/*.pcap* # dumpcap creates its file 0600
}

setupl() {
    log "setting up $NSL_A <-> $NSL_B, and $NSL_T with a tun device"
    for ns in "$NSL_T" "$NSL_B" "$NSL_A"; do # leftovers of an interrupted run
        ip netns del "$ns" 2>/dev/null || true
    done
    mkns6 "$NSL_A"
    mkns6 "$NSL_B"
    mkns6 "$NSL_T"
    ip link add va netns "$NSL_A" address "$MACL_A" type veth \
        peer name vb netns "$NSL_B" address "$MACL_B"
    inla ethtool -K va tx off rx off >/dev/null
    inlb ethtool -K vb tx off rx off >/dev/null
    ip -n "$NSL_A" addr add "$IPL_A/24" dev va
    ip -n "$NSL_B" addr add "$IPL_B/24" dev vb
    ip -n "$NSL_A" addr add "$IP6L_A/64" dev va nodad
    ip -n "$NSL_B" addr add "$IP6L_B/64" dev vb nodad
    ip -n "$NSL_A" link set va up
    ip -n "$NSL_B" link set vb up
    wait_up "$NSL_A" va
    wait_up "$NSL_B" vb
    # the tun device is made inside wll-t; its addresses route 10.80.0.0/24 and
    # fd7b::/64 into it
    ip -n "$NSL_T" tuntap add dev tun0 mode tun
    ip -n "$NSL_T" addr add "$IPL_TUN/24" dev tun0
    ip -n "$NSL_T" addr add "$IP6L_TUN/64" dev tun0 nodad
    ip -n "$NSL_T" link set tun0 up
    sleep 3 # link-local DAD and the MLD reports of link-up are over
}

recl_any() {
    log "linux-any-v2.pcap, linux-any-v1.pcap, linux-vb-ethernet.pcap (at once, in $NSL_B)"
    capl_start "$NSL_B" any "$OUT/linux-any-v2.pcap" v2
    capl_start "$NSL_B" any "$OUT/linux-any-v1.pcap" v1 -y LINUX_SLL
    capl_start "$NSL_B" vb "$OUT/linux-vb-ethernet.pcap" eth
    sleep 0.3
    # IPv4: ARP who-has/is-at, then the echo
    inla ping -n -c 1 -W 1 "$IPL_B" >/dev/null
    sleep 0.2
    rm -f "$WORK/ready"
    ip netns exec "$NSL_B" "$PY" "$TOOLS/tcpapp.py" server "$IPL_B" 8090 --ready "$WORK/ready" &
    local spid=$!
    BGPIDS+=("$spid")
    wait_file "$WORK/ready"
    inla "$PY" "$TOOLS/tcpapp.py" client "$IPL_B" 8090 --sport 40700 --msg hello
    wait "$spid"
    sleep 0.2
    rm -f "$WORK/ready"
    ip netns exec "$NSL_B" "$PY" "$TOOLS/udpapp.py" sink :: 10000 --count 2 --reply --timeout 10 \
        --ready "$WORK/ready" &
    local upid=$!
    BGPIDS+=("$upid")
    wait_file "$WORK/ready"
    inla "$PY" "$TOOLS/udpapp.py" send "$IPL_B" 10000 "ping over IPv4" --sport 40701 --expect-reply
    sleep 0.2
    # IPv6: neighbour solicitation/advertisement, then the echo
    inla ping -n -6 -c 1 -W 1 "$IP6L_B" >/dev/null
    sleep 0.2
    inla "$PY" "$TOOLS/udpapp.py" send "$IP6L_B" 10000 "ping over IPv6" --sport 40702 --expect-reply
    wait "$upid"
    sleep 0.2
    rm -f "$WORK/ready"
    ip netns exec "$NSL_B" "$PY" "$TOOLS/tcpapp.py" server "$IP6L_B" 8090 --ready "$WORK/ready" &
    spid=$!
    BGPIDS+=("$spid")
    wait_file "$WORK/ready"
    inla "$PY" "$TOOLS/tcpapp.py" client "$IP6L_B" 8090 --sport 40703 --msg "hello over IPv6"
    wait "$spid"
    capl_stop
}

recl_tun() {
    log "tun-raw.pcap (tcpdump -i tun0 in $NSL_T; dumpcap beside it for the pcapng)"
    rm -f "$WORK/ready"
    ip netns exec "$NSL_T" "$PY" "$TOOLS/tunecho.py" tun0 --count 7 --timeout 15 \
        --ready "$WORK/ready" &
    local tpid=$!
    BGPIDS+=("$tpid")
    wait_file "$WORK/ready"
    capl_start "$NSL_T" tun0 "$OUT/tun-raw.pcap" tun
    : >"$WORK/dumpcap.err"
    ip netns exec "$NSL_T" dumpcap -n -i tun0 -w "$WORK/tun.pcapng" 2>"$WORK/dumpcap.err" &
    CAPS+=($!)
    BGPIDS+=($!)
    wait_grep "$WORK/dumpcap.err" "Capturing on"
    sleep 0.5
    inlt ping -n -c 2 -i 0.2 -W 1 "$IPL_FAR" >/dev/null
    sleep 0.2
    inlt "$PY" "$TOOLS/udpapp.py" send "$IPL_FAR" 10000 "ping through the tun" --sport 40710 \
        --expect-reply
    sleep 0.2
    inlt "$PY" "$TOOLS/tcpapp.py" refused "$IPL_FAR" 9 --sport 40711
    sleep 0.2
    inlt ping -n -6 -c 1 -W 1 "$IP6L_FAR" >/dev/null
    sleep 0.2
    inlt "$PY" "$TOOLS/udpapp.py" send "$IP6L_FAR" 10000 "IPv6 through the tun" --sport 40712 \
        --expect-reply
    sleep 0.2
    inlt "$PY" "$TOOLS/tcpapp.py" refused "$IP6L_FAR" 9 --sport 40713
    wait "$tpid"
    capl_stop
    chmod 644 "$WORK/tun.pcapng"
}

make_bsd_null() {
    log "bsd-null.pcap (tun-raw.pcap with a 4-byte little-endian address family in front)"
    "$PY" "$TOOLS/pcaptool.py" null "$OUT/tun-raw.pcap" "$OUT/bsd-null.pcap"
}

make_mixed() {
    log "mixed-interfaces.pcapng (mergecap: dumpcap's tun0 pcapng + linux-any-v2.pcap)"
    mergecap -F pcapng -w "$OUT/mixed-interfaces.pcapng" "$WORK/tun.pcapng" "$OUT/linux-any-v2.pcap"
    chmod 644 "$OUT/mixed-interfaces.pcapng"
}

summaryl() {
    log "summary (link types)"
    local f
    for f in "${LINK_FILES[@]}"; do
        printf '%-34s %4s packets %6s bytes\n' "$f" \
            "$(tshark -r "$OUT/$f" 2>/dev/null | wc -l)" "$(stat -c %s "$OUT/$f")"
    done
}

main_link() {
    setupl
    recl_any
    recl_tun
    make_bsd_null
    make_mixed
    summaryl
}

main() {
    case ${1:-all} in
    ipv4) main_ipv4 ;;
    ipv6) main_ipv6 ;;
    link) main_link ;;
    all)
        main_ipv4
        main_ipv6
        main_link
        ;;
    *)
        echo "usage: record.sh [all|ipv4|ipv6|link]" >&2
        exit 2
        ;;
    esac
}

main "$@"
