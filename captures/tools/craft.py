#!/usr/bin/env python3
"""Hand-crafted frames for captures/record.sh, sent with scapy's sendp().

Run only inside namespace wlrec-a (ip netns exec wlrec-a ...): sendp()
writes the frames on the given veth end (default va), whose peer is vb in
namespace wlrec-b. Nothing is routed; every frame goes from
02:77:00:00:00:01 / 10.77.0.1 to 02:77:00:00:00:02 / 10.77.0.2 on that
one veth link.

  udp0     one UDP datagram with checksum 0 ("no checksum")
  vlan     802.1Q-tagged (VID 100, PCP 5, DEI 0) IPv4/UDP frames and one
           QinQ frame (0x88a8 VID 200, then 0x8100 VID 100)
  crafted  TCP SYN with full options, TCP ACK with SACK blocks, IPv4 with
           options (Record Route, Router Alert), UDP with zero checksum,
           TCP with CWR/ECE/URG, bad IPv4 header checksum, bad TCP checksum
"""
import argparse
import logging
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (  # noqa: E402
    Dot1AD, Dot1Q, Ether, ICMP, IP, IPOption_Router_Alert, IPOption_RR,
    TCP, UDP, conf, raw, sendp,
)

conf.verb = 0

MAC_A, MAC_B = "02:77:00:00:00:01", "02:77:00:00:00:02"
IP_A, IP_B = "10.77.0.1", "10.77.0.2"


def eth(**kw):
    return Ether(src=MAC_A, dst=MAC_B, **kw)


def ip(**kw):
    kw.setdefault("ttl", 64)
    return IP(src=IP_A, dst=IP_B, **kw)


def computed_checksum(pkt, layer):
    """The correct checksum scapy would fill in for `layer` of pkt."""
    return type(pkt)(raw(pkt))[layer].chksum


def wrong(good):
    bad = (good + 0x1111) & 0xFFFF
    assert bad not in (good, 0, 0xFFFF)
    return bad


def send_all(frames, iface):
    for f in frames:
        sendp(f, iface=iface)
        time.sleep(0.05)


def udp0_frames():
    return [eth() / ip(id=0x7701, flags="DF")
            / UDP(sport=40000, dport=10000, chksum=0) / b"zero checksum"]


def vlan_frames():
    return [
        # 802.1Q, PCP 5, DEI 0, VID 100, carrying IPv4/UDP
        eth(type=0x8100) / Dot1Q(prio=5, id=0, vlan=100)
        / ip(id=0x7711, flags="DF") / UDP(sport=40200, dport=10000) / b"vlan 100 #1",
        eth(type=0x8100) / Dot1Q(prio=5, id=0, vlan=100)
        / ip(id=0x7712, flags="DF") / UDP(sport=40200, dport=10000) / b"vlan 100 #2",
        # QinQ: outer S-tag 0x88a8 VID 200, inner C-tag 0x8100 VID 100
        eth(type=0x88A8) / Dot1AD(prio=0, id=0, vlan=200, type=0x8100)
        / Dot1Q(prio=5, id=0, vlan=100)
        / ip(id=0x7713, flags="DF") / UDP(sport=40200, dport=10000) / b"qinq 200/100",
    ]


def crafted_frames():
    frames = []
    # 1. SYN with the option set Linux uses: MSS, SACK-permitted, timestamps,
    #    NOP, window scale
    frames.append(
        eth() / ip(id=0x7721, flags="DF")
        / TCP(sport=40100, dport=8095, flags="S", seq=1000, window=64240,
              options=[("MSS", 1460), ("SAckOK", b""),
                       ("Timestamp", (100000, 0)), ("NOP", None),
                       ("WScale", 7)]))
    # 2. ACK carrying two SACK blocks (laid out like Linux: NOP NOP TS NOP NOP SACK)
    frames.append(
        eth() / ip(id=0x7722, flags="DF")
        / TCP(sport=40101, dport=8095, flags="A", seq=5001, ack=9001, window=502,
              options=[("NOP", None), ("NOP", None),
                       ("Timestamp", (100100, 200100)),
                       ("NOP", None), ("NOP", None),
                       ("SAck", (10449, 11897, 13345, 14793))]))
    # 3. ICMP echo request with IPv4 Record Route option (9 empty slots, as
    #    `ping -R` does); wlrec-b answers it, filling in its address
    frames.append(
        eth() / ip(id=0x7723, options=[IPOption_RR(routers=["0.0.0.0"] * 9)])
        / ICMP(type=8, id=0x77, seq=1) / b"record route")
    # 4. UDP in an IPv4 header with the Router Alert option
    frames.append(
        eth() / ip(id=0x7724, options=[IPOption_Router_Alert()])
        / UDP(sport=40102, dport=10000) / b"router alert")
    # 5. UDP with checksum 0 (no checksum)
    frames.append(
        eth() / ip(id=0x7725, flags="DF")
        / UDP(sport=40103, dport=10000, chksum=0) / b"zero checksum")
    # 6. TCP with CWR, ECE, URG (+PSH, ACK), urgent pointer, ECT(0) in the TOS
    frames.append(
        eth() / ip(id=0x7726, flags="DF", tos=0x02)
        / TCP(sport=40104, dport=8095, flags="CEUPA", seq=7001, ack=8001,
              window=512, urgptr=3) / b"urgent data")
    # 7. ICMP echo request whose IPv4 header checksum is wrong
    p = eth() / ip(id=0x7727) / ICMP(type=8, id=0x77, seq=2) / b"bad ip checksum"
    p[IP].chksum = wrong(computed_checksum(p, IP))
    frames.append(p)
    # 8. TCP segment whose TCP checksum is wrong
    p = (eth() / ip(id=0x7728, flags="DF")
         / TCP(sport=40105, dport=8095, flags="PA", seq=9001, ack=10001,
               window=512) / b"bad tcp checksum")
    p[TCP].chksum = wrong(computed_checksum(p, TCP))
    frames.append(p)
    return frames


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["udp0", "vlan", "crafted"])
    ap.add_argument("--iface", default="va")
    a = ap.parse_args()
    frames = {"udp0": udp0_frames, "vlan": vlan_frames,
              "crafted": crafted_frames}[a.what]()
    send_all(frames, a.iface)


if __name__ == "__main__":
    sys.exit(main())
