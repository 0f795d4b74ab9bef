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
  mld      (anywhere; sends nothing) write ipv6-mld.pcap with scapy's
           wrpcap(): MLDv1 and MLDv2 queries, MLDv1 report and done, an MLDv2
           report whose records list sources, and an OSPFv3 Hello. No kernel
           here sends MLD queries (b would have to run a multicast router) or
           MLDv1 (it speaks MLDv2 unless forced), so these are crafted; the
           timestamps are fixed, so the file comes out the same every time
"""
import argparse
import logging
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (  # noqa: E402
    Ether, HBHOptUnknown, ICMPv6MLDMultAddrRec, ICMPv6MLDone, ICMPv6MLQuery,
    ICMPv6MLQuery2, ICMPv6MLReport, ICMPv6MLReport2, ICMPv6ND_RA, ICMPv6ND_RS,
    ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr, IPv6,
    IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting, RouterAlert, UDP, conf, raw, sendp, sniff, wrpcap,
)
from scapy.contrib.ospf import OSPFv3_Hdr, OSPFv3_Hello  # noqa: E402

conf.verb = 0

MAC_A, MAC_B = "02:77:06:00:00:01", "02:77:06:00:00:02"
IP_A, IP_B = "fd77::1", "fd77::2"
LL_A = "fe80::77:6ff:fe00:1"      # EUI-64 of MAC_A
LL_B = "fe80::77:6ff:fe00:2"      # EUI-64 of MAC_B
MAC_ALL_NODES = "33:33:00:00:00:01"  # ff02::1
GROUP = "ff15::77"                # a transient, site-scope group for the MLD frames
SOURCES = ["fd78::2", "fd78::3"]  # senders to that group, behind router b
MLD_TIME = 1796000000.0           # fixed capture time of the first mld frame (2026)


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


def mcast_mac(group):
    """RFC 2464 section 7: 33:33 and the group's last 32 bits."""
    low = raw(IPv6(dst=group))[-4:]
    return "33:33:" + ":".join(f"{b:02x}" for b in low)


def mld_frame(src_mac, src, dst, msg):
    # RFC 2710/3810: link-local source, hop limit 1, and a hop-by-hop Router
    # Alert option with value 0 (MLD), as the kernel's own MLD reports have
    return (Ether(src=src_mac, dst=mcast_mac(dst))
            / IPv6(src=src, dst=dst, hlim=1)
            / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / msg)


def mld():
    """b is the querier (a multicast router), a a listener of GROUP."""
    frames = [
        # 1. MLDv1 general query: 24 bytes, delay 10000 ms, address ::
        mld_frame(MAC_B, LL_B, "ff02::1", ICMPv6MLQuery(mrd=10000, mladdr="::")),
        # 2. MLDv2 multicast-address-and-source-specific query for GROUP and
        #    two sources; maximum response code 0x9000 is in the floating
        #    point form of RFC 3810 5.1.3: (0x000 | 0x1000) << (1 + 3) = 65536 ms
        mld_frame(MAC_B, LL_B, GROUP,
                  ICMPv6MLQuery2(mrd=0x9000, mladdr=GROUP, S=0, QRV=2, QQIC=125,
                                 sources=SOURCES)),
        # 3. MLDv1 report of GROUP, to GROUP
        mld_frame(MAC_A, LL_A, GROUP, ICMPv6MLReport(mladdr=GROUP)),
        # 4. MLDv1 done for GROUP, to all routers
        mld_frame(MAC_A, LL_A, "ff02::2", ICMPv6MLDone(mladdr=GROUP)),
        # 5. MLDv2 report: MODE_IS_INCLUDE (1) GROUP from both sources, and
        #    ALLOW_NEW_SOURCES (5) for ff15::78 from the first
        mld_frame(MAC_A, LL_A, "ff02::16", ICMPv6MLReport2(records=[
            ICMPv6MLDMultAddrRec(rtype=1, dst=GROUP, sources=SOURCES),
            ICMPv6MLDMultAddrRec(rtype=5, dst="ff15::78", sources=SOURCES[:1]),
        ])),
        # 6. OSPFv3 Hello from b to AllSPFRouters (ff02::5): an IP protocol
        #    (89) that tshark names but wirelens does not decode
        (Ether(src=MAC_B, dst=mcast_mac("ff02::5"))
         / IPv6(src=LL_B, dst="ff02::5", hlim=1)
         / OSPFv3_Hdr(src="10.77.0.2", area="0.0.0.0")
         / OSPFv3_Hello(intid=2, prio=1, options="V6+E+R", router="0.0.0.0",
                        backup="0.0.0.0")),
    ]
    for i, f in enumerate(frames):
        f.time = MLD_TIME + i / 10
    return frames


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
    ap.add_argument("what", choices=["udp0", "dstopt", "rthdr", "frag1", "ra", "mld"])
    ap.add_argument("--iface", default="v6a")
    ap.add_argument("--write", help="mld: the pcap file to write")
    ap.add_argument("--ready", help="ra: file to create once sniffing")
    ap.add_argument("--timeout", type=float, default=15)
    a = ap.parse_args()
    if a.what == "ra":
        return ra(a)
    if a.what == "mld":
        if not a.write:
            sys.exit("craft6 mld: --write FILE is required (mld sends nothing)")
        return wrpcap(a.write, mld())
    for f in {"udp0": udp0, "dstopt": dstopt, "rthdr": rthdr, "frag1": frag1}[a.what]():
        sendp(f, iface=a.iface)
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
