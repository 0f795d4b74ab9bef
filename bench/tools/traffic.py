#!/usr/bin/env python3
"""Servers and clients that make the traffic of bench/record-real.sh.

Run only inside the network namespaces that record-real.sh creates; every
address here is one of theirs.

serve  ADDR...  : on each namespace's own addresses (dual-stack where "::"):
                  TCP 80    HTTP/1.1-like: "GET /obj/<bytes> HTTP/1.1" answered
                            with <bytes> of body; keep-alive unless
                            "Connection: close"
                  TCP 5001  bulk download: "GET <bytes>\\n" answered with <bytes>
                  TCP 5002  bulk upload: read to EOF, answer "ok"
                  UDP 53    DNS: real DNS messages (A/AAAA/TXT answers; some
                            TXT answers are bigger than the MTU, so they leave
                            as IP fragments)
client PLAN     : runs the plan (one task a line, see record-real.sh) with
                  WORKERS threads, so connections overlap as on a real host;
                  random choices come from a fixed seed.
"""
import argparse
import queue
import random
import socket
import struct
import sys
import threading
import time

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
IPV6_MULTICAST_IF = getattr(socket, "IPV6_MULTICAST_IF", 17)

TEXT = (
    b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
    b"tempor incididunt ut labore et dolore magna aliqua. "
)


def body(size):
    return (TEXT * (size // len(TEXT) + 1))[:size]


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sockaddr(host, port, kind=socket.SOCK_STREAM):
    return socket.getaddrinfo(host, port, family(host), kind)[0][4]


# --- servers -------------------------------------------------------------------


def recv_until(conn, buf, sep):
    while sep not in buf:
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data
    head, rest = buf.split(sep, 1)
    return head, rest


def http_conn(conn):
    buf = b""
    with conn:
        while True:
            req, buf = recv_until(conn, buf, b"\r\n\r\n")
            if req is None:
                return
            words = req.split(b"\r\n", 1)[0].split()
            try:
                size = int(words[1].rsplit(b"/", 1)[1])
            except (IndexError, ValueError):
                size = 0
            close = b"connection: close" in req.lower()
            if size < 0:
                head = b"HTTP/1.1 404 Not Found\r\nServer: wlbench\r\nContent-Length: 0\r\n"
                size = 0
            else:
                head = (
                    b"HTTP/1.1 200 OK\r\nServer: wlbench\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: %d\r\n" % size
                )
            if close:
                head += b"Connection: close\r\n"
            conn.sendall(head + b"\r\n" + body(size))
            if close:
                return


def bulk_down_conn(conn):
    with conn:
        line, _ = recv_until(conn, b"", b"\n")
        if line is None:
            return
        size = int(line.split()[1])
        conn.sendall(body(size))


def bulk_up_conn(conn):
    with conn:
        while conn.recv(65536):
            pass
        conn.sendall(b"ok\n")


def dns_name(data, off):
    labels = []
    while off < len(data) and data[off] != 0:
        n = data[off]
        labels.append(data[off + 1 : off + 1 + n])
        off += 1 + n
    return b".".join(labels), off + 1


def dns_answer(query):
    if len(query) < 12:
        return None
    ident, _flags, qd = struct.unpack("!HHH", query[:6])
    name, off = dns_name(query, 12)
    if off + 4 > len(query) or qd != 1:
        return None
    qtype, _qclass = struct.unpack("!HH", query[off : off + 4])
    question = query[12 : off + 4]
    h = sum(name) & 0xFF
    if name.startswith(b"nx"):
        return struct.pack("!HHHHHH", ident, 0x8183, 1, 0, 0, 0) + question
    answers = []
    if qtype == 1:  # A: two addresses
        for i in range(2):
            answers.append((1, bytes([192, 0, 2, (h + i) & 0xFF])))
    elif qtype == 28:  # AAAA
        answers.append((28, bytes.fromhex("20010db8000000000000000000%06x" % h)))
    elif qtype == 16:  # TXT, big when the name says so
        size = 2400 if name.startswith(b"big") else 120
        txt = b""
        chunk = body(size)
        for i in range(0, len(chunk), 255):
            part = chunk[i : i + 255]
            txt += bytes([len(part)]) + part
        answers.append((16, txt))
    out = struct.pack("!HHHHHH", ident, 0x8180, 1, len(answers), 0, 0) + question
    for rtype, rdata in answers:
        out += struct.pack("!HHHIH", 0xC00C, rtype, 1, 300, len(rdata)) + rdata
    return out


def dns_server(sock):
    while True:
        query, peer = sock.recvfrom(4096)
        answer = dns_answer(query)
        if answer:
            sock.sendto(answer, peer)


def tcp_server(addr, port, handler):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family(addr) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(sockaddr(addr, port))
    s.listen(128)

    def loop():
        while True:
            conn, _ = s.accept()
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def serve(a):
    for addr in a.addr:
        tcp_server(addr, 80, http_conn)
        tcp_server(addr, 5001, bulk_down_conn)
        tcp_server(addr, 5002, bulk_up_conn)
        u = socket.socket(family(addr), socket.SOCK_DGRAM)
        if family(addr) == socket.AF_INET6:
            u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        u.bind(sockaddr(addr, 53, socket.SOCK_DGRAM))
        threading.Thread(target=dns_server, args=(u,), daemon=True).start()
    if a.ready:
        open(a.ready, "w").close()
    while True:
        time.sleep(3600)


# --- client tasks ----------------------------------------------------------------


def connect(host, port):
    c = socket.create_connection(sockaddr(host, port)[:2], timeout=5)
    return c


def task_http(rng, host, nreq):
    """nreq requests on one connection; the last asks the server to close."""
    c = connect(host, 80)
    with c:
        buf = b""
        for i in range(int(nreq)):
            size = rng.choice([0, 150, 300, 600, 900, 1300, 2200, 3800, 7000])
            if rng.random() < 0.05:
                size = -1  # 404
            last = i == int(nreq) - 1
            req = (
                b"GET /obj/%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: wlbench/1.0\r\n"
                b"Accept: */*\r\n%s\r\n"
                % (size, host.encode(), b"Connection: close\r\n" if last else b"")
            )
            c.sendall(req)
            head, buf = recv_until(c, buf, b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            while len(buf) < length:
                buf += c.recv(65536)
            buf = buf[length:]
            if not last:
                time.sleep(rng.uniform(0.001, 0.03))
        while c.recv(65536):  # the server closes first, as HTTP/1.1 servers do
            pass


def task_down(rng, host, size):
    c = connect(host, 5001)
    with c:
        c.sendall(b"GET %d\n" % int(size))
        got = 0
        while True:
            data = c.recv(65536)
            if not data:
                break
            got += len(data)


def task_up(rng, host, size):
    c = connect(host, 5002)
    with c:
        c.sendall(body(int(size)))
        c.shutdown(socket.SHUT_WR)
        while c.recv(4096):
            pass


def task_dns(rng, host, qtype, name):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    with s:
        s.settimeout(1)
        ident = rng.randrange(65536)
        q = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)
        for label in name.split("."):
            q += bytes([len(label)]) + label.encode()
        q += b"\x00" + struct.pack("!HH", {"A": 1, "AAAA": 28, "TXT": 16}[qtype], 1)
        s.sendto(q, sockaddr(host, 53, socket.SOCK_DGRAM))
        try:
            s.recvfrom(8192)
        except socket.timeout:
            pass


def task_refused(rng, host, port):
    try:
        connect(host, int(port)).close()
    except OSError:
        pass


def task_udp_closed(rng, host, port, size="0"):
    """A datagram to a closed port; SIZE bytes (if given) with DF, past a smaller MTU."""
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    with s:
        data = body(int(size)) if int(size) else b"anyone there?"
        s.sendto(data, sockaddr(host, int(port), socket.SOCK_DGRAM))
        time.sleep(0.05)


def task_bcast(rng, addr, port, ifname):
    """A UDP broadcast (IPv4) or link-local multicast (IPv6) on IFNAME only."""
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    with s:
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode())
        if family(addr) == socket.AF_INET:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        else:
            idx = socket.if_nametoindex(ifname)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_MULTICAST_IF, idx)
        s.sendto(b"wlbench announce " + body(rng.randrange(20, 200)), sockaddr(addr, int(port), socket.SOCK_DGRAM))


TASKS = {
    "http": task_http,
    "down": task_down,
    "up": task_up,
    "dns": task_dns,
    "refused": task_refused,
    "udp-closed": task_udp_closed,
    "bcast": task_bcast,
}


def client(a):
    plan = [line.split() for line in open(a.plan) if line.strip() and not line.startswith("#")]
    work = queue.Queue()
    for i, words in enumerate(plan):
        work.put((i, words))
    errors = []

    def worker():
        while True:
            try:
                i, words = work.get_nowait()
            except queue.Empty:
                return
            rng = random.Random(i)
            try:
                TASKS[words[0]](rng, *words[1:])
            except OSError as e:
                errors.append("%s: %s" % (" ".join(words), e))
            time.sleep(rng.uniform(0, a.gap))

    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        print("traffic.py: task failed: " + e, file=sys.stderr)
    print("traffic.py: %d tasks, %d failed" % (len(plan), len(errors)))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("addr", nargs="+")
    s.add_argument("--ready")
    s.set_defaults(func=serve)
    c = sub.add_parser("client")
    c.add_argument("plan")
    c.add_argument("--workers", type=int, default=4)
    c.add_argument("--gap", type=float, default=0.02, help="most seconds between tasks")
    c.set_defaults(func=client)
    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
