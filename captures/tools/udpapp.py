#!/usr/bin/env python3
"""UDP sender/receiver used by captures/record.sh.

Run only inside the network namespaces that record.sh creates.

sink:  socket(AF_INET, SOCK_DGRAM) -> bind((addr, port)) -> recvfrom() ...
       (optionally answers datagrams starting with b"ping" with b"pong")
send:  socket(AF_INET, SOCK_DGRAM) [-> setsockopt(SO_BROADCAST)]
       [-> setsockopt(SO_BINDTODEVICE)] [-> setsockopt(IP_MTU_DISCOVER)]
       [-> setsockopt(IP_TTL)] -> bind(("", sport)) -> sendto(payload, (dst, port))
       [-> recvfrom() for the answer]
rawip: socket(AF_INET, SOCK_RAW, proto) -> sendto(payload, (dst, 0))

An address containing ":" is IPv6: the same calls on an AF_INET6 socket.
For IPv6 --df sets IPV6_DONTFRAG (no local fragmentation), --ttl sets
IPV6_UNICAST_HOPS and --mcast-if IFNAME sets IPV6_MULTICAST_IF;
--no-df does not apply (IPv6 routers never fragment; the sender does).
"""
import argparse
import os
import socket
import sys
import time

# from <linux/in.h>; not all are exported by the socket module
IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DONT = getattr(socket, "IP_PMTUDISC_DONT", 0)
IP_PMTUDISC_DO = getattr(socket, "IP_PMTUDISC_DO", 2)
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
IPV6_DONTFRAG = getattr(socket, "IPV6_DONTFRAG", 62)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sockaddr(host, port):
    """(host, port) for IPv4; for IPv6 the 4-tuple with the zone's scope id."""
    if family(host) == socket.AF_INET:
        return (host, port)
    return socket.getaddrinfo(host, port, socket.AF_INET6, socket.SOCK_DGRAM)[0][4]


def payload(text, size):
    if size:
        # deterministic filler: "wirelens-" repeated, cut to size
        pat = b"wirelens-"
        return (pat * (size // len(pat) + 1))[:size]
    return text.encode()


def sink(a):
    s = socket.socket(family(a.addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(sockaddr(a.addr, a.port))
    if a.ready:
        open(a.ready, "w").close()
    s.settimeout(a.timeout)
    got = 0
    try:
        while got < a.count:
            data, peer = s.recvfrom(65535)
            got += 1
            if a.reply and data.startswith(b"ping"):
                s.sendto(b"pong", peer)
    except socket.timeout:
        print(f"udpapp sink: got {got}/{a.count} datagrams before timeout",
              file=sys.stderr)
    s.close()


def send(a):
    if family(a.dst) == socket.AF_INET6:
        return send6(a)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.broadcast:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    if a.bind_dev:
        # needed for 255.255.255.255: the namespace has no default route
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, a.bind_dev.encode())
    if a.no_df:
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
    if a.df:
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    if a.ttl:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, a.ttl)
    s.bind(("", a.sport))
    s.sendto(payload(a.text, a.size), (a.dst, a.port))
    if a.expect_reply:
        s.settimeout(3)
        s.recvfrom(65535)
    s.close()


def send6(a):
    if a.no_df or a.broadcast:
        sys.exit("udpapp: --no-df and --broadcast are IPv4 only")
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.bind_dev:
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, a.bind_dev.encode())
    if a.mcast_if:
        # which link a multicast datagram (e.g. to ff02::1) leaves on
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF,
                     socket.if_nametoindex(a.mcast_if))
    if a.df:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)
    if a.ttl:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, a.ttl)
    s.bind(("::", a.sport))
    s.sendto(payload(a.text, a.size), sockaddr(a.dst, a.port))
    if a.expect_reply:
        s.settimeout(3)
        s.recvfrom(65535)
    s.close()


def rawip(a):
    s = socket.socket(family(a.dst), socket.SOCK_RAW, a.proto)
    s.sendto(a.text.encode(), sockaddr(a.dst, 0))
    s.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("sink")
    k.add_argument("addr")
    k.add_argument("port", type=int)
    k.add_argument("--count", type=int, default=1)
    k.add_argument("--timeout", type=float, default=10)
    k.add_argument("--reply", action="store_true")
    k.add_argument("--ready")
    t = sub.add_parser("send")
    t.add_argument("dst")
    t.add_argument("port", type=int)
    t.add_argument("text", nargs="?", default="wirelens")
    t.add_argument("--size", type=int, default=0, help="payload size (filler)")
    t.add_argument("--sport", type=int, default=0)
    t.add_argument("--broadcast", action="store_true")
    t.add_argument("--bind-dev")
    t.add_argument("--no-df", action="store_true", help="IP_PMTUDISC_DONT")
    t.add_argument("--df", action="store_true", help="IP_PMTUDISC_DO")
    t.add_argument("--ttl", type=int, default=0)
    t.add_argument("--mcast-if", help="IPv6: IPV6_MULTICAST_IF for this interface")
    t.add_argument("--expect-reply", action="store_true")
    r = sub.add_parser("rawip")
    r.add_argument("dst")
    r.add_argument("proto", type=int)
    r.add_argument("text", nargs="?", default="wirelens")
    a = p.parse_args()
    {"sink": sink, "send": send, "rawip": rawip}[a.cmd](a)


if __name__ == "__main__":
    main()
