#!/usr/bin/env python3
"""Hand-crafted IPv6 frames for `captures/record.sh ipv6`, sent with scapy.

Run only inside the namespaces that record.sh creates for IPv6
(ip netns exec wl6-a / wl6-b ...). sendp() writes each frame on one veth
end (v6a in wl6-a, or v6b in wl6-b); its peer is the other namespace. The
only addresses used are those of that link: fd77::1 / fd77::2, their
link-local addresses, and the link-scope multicast group ff02::1.

  udp0     (wl6-a, on v6a) one UDP datagram with checksum 0, which is not
           allowed over IPv6 (RFC 8200 8.1); wl6-b's kernel drops it
  dstopt   (wl6-a, on v6a) UDP behind a Destination Options header holding
           an unknown option of type 0x9e (top bits 10: "discard, send a
           Parameter Problem"); wl6-b's kernel answers with ICMPv6 4/2
  rthdr    (wl6-a, on v6a) UDP behind a type 0 Routing header (deprecated by
           RFC 5095) with segments left 1 and the one address fd77::2;
           wl6-b's kernel answers with ICMPv6 Parameter Problem 4/0
  frag1    (wl6-a, on v6a) only the first fragment of a UDP datagram; wl6-b's
           kernel answers with ICMPv6 Time Exceeded 3/1 when reassembly
           times out (net.ipv6.ip6frag_time)
  ra       (wl6-b, on v6b) wait for a Router Solicitation, then send one
           Router Advertisement to ff02::1 with the options source link-layer
           address, MTU and prefix information fd77::/64 (on-link, SLAAC)
"""
import argparse
import logging
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (  # noqa: E402
    Ether, HBHOptUnknown, ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment, IPv6ExtHdrRouting, UDP, conf, raw, sendp, sniff,
)

conf.verb = 0

MAC_A, MAC_B = "02:77:06:00:00:01", "02:77:06:00:00:02"
IP_A, IP_B = "fd77::1", "fd77::2"
LL_B = "fe80::77:6ff:fe00:2"      # EUI-64 of MAC_B
MAC_ALL_NODES = "33:33:00:00:00:01"  # ff02::1


def a_to_b(**kw):
    return Ether(src=MAC_A, dst=MAC_B) / IPv6(src=IP_A, dst=IP_B, hlim=64, **kw)


def udp0():
    return [a_to_b() / UDP(sport=40700, dport=10000, chksum=0)
            / b"zero checksum over IPv6"]


def dstopt():
    return [a_to_b() / IPv6ExtHdrDestOpt(
        options=[HBHOptUnknown(otype=0x9E, optdata=b"wl")])
        / UDP(sport=40701, dport=10000) / b"unknown destination option"]


def rthdr():
    # The UDP checksum is over the final destination (RFC 8200 8.1), the last
    # address of the routing header. That is fd77::2, the IPv6 destination
    # itself, so that either reading gives the same sum: tshark 4.0 uses the
    # final destination for the packet but the IPv6 destination for the copy
    # quoted in the ICMPv6 error.
    return [a_to_b() / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["fd77::2"])
            / UDP(sport=40703, dport=10000) / b"routing header type 0"]


def frag1():
    # a 2000-byte UDP datagram, of which only the first 1448 bytes are sent
    dgram = UDP(sport=40702, dport=10000) / (b"wirelens-" * 300)[:1992]
    dgram = UDP(raw(IPv6(src=IP_A, dst=IP_B) / dgram)[40:])  # checksum filled
    first = raw(dgram)[:1448]
    return [a_to_b(nh=44) / IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=0x77060001)
            / first]


def ra(a):
    frame = (Ether(src=MAC_B, dst=MAC_ALL_NODES)
             / IPv6(src=LL_B, dst="ff02::1", hlim=255)
             / ICMPv6ND_RA(chlim=64, prf=0, routerlifetime=1800, reachabletime=0,
                           retranstimer=0)
             / ICMPv6NDOptSrcLLAddr(lladdr=MAC_B)
             / ICMPv6NDOptMTU(mtu=1500)
             / ICMPv6NDOptPrefixInfo(prefix="fd77::", prefixlen=64, L=1, A=1,
                                     validlifetime=86400,
                                     preferredlifetime=14400))

    def started():
        if a.ready:
            open(a.ready, "w").close()

    got = sniff(iface=a.iface, count=1, timeout=a.timeout,
                lfilter=lambda p: ICMPv6ND_RS in p, started_callback=started)
    if not got:
        sys.exit("craft6 ra: no router solicitation seen")
    time.sleep(0.1)
    sendp(frame, iface=a.iface)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["udp0", "dstopt", "rthdr", "frag1", "ra"])
    ap.add_argument("--iface", default="v6a")
    ap.add_argument("--ready", help="ra: file to create once sniffing")
    ap.add_argument("--timeout", type=float, default=15)
    a = ap.parse_args()
    if a.what == "ra":
        return ra(a)
    for f in {"udp0": udp0, "dstopt": dstopt, "rthdr": rthdr, "frag1": frag1}[a.what]():
        sendp(f, iface=a.iface)
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
