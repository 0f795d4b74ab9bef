#!/usr/bin/env python3
"""Tiny TCP server/client pair used by captures/record.sh.

Run only inside the network namespaces that record.sh creates
(ip netns exec wlrec-a / wlrec-b ...). Every address used is on the
private veth pair of those namespaces.

server: the classic socket-tutorial echo server
    socket() -> setsockopt(SO_REUSEADDR) -> bind() -> listen(1) -> accept()
    -> recv(1024) -> sendall(data) -> close()
client: the classic socket-tutorial client
    socket() -> connect() -> sendall(b"hello") -> recv(1024) -> close()

Options select the variants used for the TCP-tracking captures.

A host containing ":" is IPv6 (AF_INET6, e.g. fd77::2, or a link-local
address with its zone, fe80::77:6ff:fe00:2%v6a); the calls are the same.
"""
import argparse
import os
import socket
import struct
import sys
import time


def wait_for(path, timeout=20.0):
    end = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > end:
            sys.exit(f"tcpapp: timed out waiting for {path}")
        time.sleep(0.02)


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def sockaddr(host, port):
    """(host, port) for IPv4; for IPv6 the 4-tuple with the zone's scope id."""
    if family(host) == socket.AF_INET:
        return (host, port)
    return socket.getaddrinfo(host, port, socket.AF_INET6, socket.SOCK_STREAM)[0][4]


def any_addr(host):
    return "::" if family(host) == socket.AF_INET6 else ""


def server(a):
    s = socket.socket(family(a.host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(sockaddr(a.host, a.port))
    s.listen(1)
    if a.ready:
        open(a.ready, "w").close()
    s.settimeout(30)
    conn, _peer = s.accept()
    conn.settimeout(30)
    if a.loop:
        # echo every message until the client closes (or aborts) its side
        try:
            while True:
                data = conn.recv(1024)
                if not data:
                    break
                conn.sendall(data)
        except ConnectionResetError:
            pass
    else:
        data = conn.recv(1024)
        conn.sendall(data)
        if a.close_delay:
            # simultaneous-close variant: close our side after a pause,
            # before we have seen the client's FIN (record.sh drops it once)
            time.sleep(a.close_delay)
            conn.shutdown(socket.SHUT_WR)
            while conn.recv(1024):
                pass
    conn.close()
    s.close()


def client(a):
    s = socket.socket(family(a.host), socket.SOCK_STREAM)
    s.settimeout(30)
    if a.sport:
        # fixed source port so that re-recording gives similar files
        s.bind((any_addr(a.host), a.sport))
    if a.go:
        # mid-stream variant: open the connection now, wait until the
        # capture has started, then exchange data
        s.connect(sockaddr(a.host, a.port))
        wait_for(a.go)
        time.sleep(0.2)
    else:
        s.connect(sockaddr(a.host, a.port))
    for i, msg in enumerate(a.msg):
        s.sendall(msg.encode())
        got = b""
        while len(got) < len(msg):
            chunk = s.recv(1024)
            if not chunk:
                break
            got += chunk
        if i + 1 < len(a.msg):
            time.sleep(0.1)
    if a.linger0:
        # SO_LINGER {on, 0 s}: close() aborts the connection with a RST
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif a.shutdown:
        # simultaneous-close variant: send our FIN, then wait for the peer's
        s.shutdown(socket.SHUT_WR)
        while s.recv(1024):
            pass
    s.close()


def refused(a):
    s = socket.socket(family(a.host), socket.SOCK_STREAM)
    s.settimeout(5)
    if a.sport:
        s.bind((any_addr(a.host), a.sport))
    try:
        s.connect(sockaddr(a.host, a.port))
    except ConnectionRefusedError:
        pass
    else:
        sys.exit("tcpapp: connect() unexpectedly succeeded")
    s.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("server")
    ps.add_argument("host")
    ps.add_argument("port", type=int)
    ps.add_argument("--ready", help="file to create once listening")
    ps.add_argument("--loop", action="store_true", help="echo until client closes")
    ps.add_argument("--close-delay", type=float, default=0.0)
    pc = sub.add_parser("client")
    pc.add_argument("host")
    pc.add_argument("port", type=int)
    pc.add_argument("--msg", action="append",
                    help="message to send (repeatable; default: hello)")
    pc.add_argument("--go", help="connect, then wait for this file before sending")
    pc.add_argument("--linger0", action="store_true")
    pc.add_argument("--shutdown", action="store_true")
    pc.add_argument("--sport", type=int, default=0)
    pr = sub.add_parser("refused", help="connect() to a closed port, expect RST")
    pr.add_argument("host")
    pr.add_argument("port", type=int)
    pr.add_argument("--sport", type=int, default=0)
    a = p.parse_args()
    if a.cmd == "client" and not a.msg:
        a.msg = ["hello"]
    {"server": server, "client": client, "refused": refused}[a.cmd](a)


if __name__ == "__main__":
    main()
