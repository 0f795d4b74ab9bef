#!/usr/bin/env python3
"""The far end of a tun device, used by captures/record.sh (`record.sh link`).

Run only inside the network namespace that record.sh creates (wll-t), on the
tun device it made there with `ip tuntap add mode tun`. Nothing here touches
any other interface: the process reads and writes the tun's file descriptor.

tun:  open("/dev/net/tun") -> ioctl(TUNSETIFF, name, IFF_TUN | IFF_NO_PI)
      -> read() each packet the kernel routes into the tun -> write() the answer

It answers what a host behind the tun would answer:
  ICMP echo request / ICMPv6 echo request -> echo reply
  UDP datagram                            -> the same payload back, ports swapped
  TCP SYN                                 -> RST/ACK (no listener: refused)
and ignores everything else (MLD reports, router solicitations). It exits
after --count answers or --timeout seconds, whichever is first.
"""
import argparse
import fcntl
import os
import select
import struct
import sys
import time

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def answer(pkt):
    """The answer to one raw IP packet, as bytes, or None."""
    if not pkt:
        return None
    version = pkt[0] >> 4
    if version == 4:
        ip = IP(pkt)
        back = IP(src=ip.dst, dst=ip.src, ttl=64)
        if ICMP in ip and ip[ICMP].type == 8:
            i = ip[ICMP]
            return bytes(back / ICMP(type=0, id=i.id, seq=i.seq) / bytes(i.payload))
    elif version == 6:
        ip = IPv6(pkt)
        back = IPv6(src=ip.dst, dst=ip.src, hlim=64)
        if ICMPv6EchoRequest in ip:
            i = ip[ICMPv6EchoRequest]
            return bytes(back / ICMPv6EchoReply(id=i.id, seq=i.seq, data=i.data))
    else:
        return None
    if UDP in ip:
        u = ip[UDP]
        return bytes(back / UDP(sport=u.dport, dport=u.sport) / bytes(u.payload))
    if TCP in ip and ip[TCP].flags == "S":
        t = ip[TCP]
        return bytes(back / TCP(sport=t.dport, dport=t.sport, seq=0, ack=t.seq + 1, flags="RA", window=0))
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("iface", help="the tun device, made beforehand with ip tuntap")
    p.add_argument("--count", type=int, default=1, help="answers to give, then exit")
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--ready", help="file to create once attached")
    a = p.parse_args()
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", a.iface.encode(), IFF_TUN | IFF_NO_PI))
    if a.ready:
        open(a.ready, "w").close()
    end = time.time() + a.timeout
    given = 0
    while given < a.count:
        left = end - time.time()
        if left <= 0:
            sys.exit(f"tunecho: timed out after {given} of {a.count} answers")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        reply = answer(os.read(fd, 65535))
        if reply is not None:
            os.write(fd, reply)
            given += 1
    os.close(fd)


if __name__ == "__main__":
    main()
