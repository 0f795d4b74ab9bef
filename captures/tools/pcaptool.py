#!/usr/bin/env python3
"""Helpers for the damaged-file captures (no network access at all).

  records FILE              list the records of a classic pcap file:
                            index, byte offset of the record header, caplen, len
  cut-offset FILE           print a byte count that ends in the middle of the
                            last record's packet data (for `head -c`)
  set-caplen IN OUT N VAL   copy IN to OUT with record N's (0-based) caplen
                            field overwritten with VAL
  null IN OUT               copy the raw-IP pcap IN (link type 101, 228 or 229)
                            to OUT as a BSD loopback file (LINKTYPE_NULL, 0):
                            each packet gets a 4-byte address family in front,
                            little-endian as a little-endian BSD host writes
                            it, AF_INET 2 or AF_INET6 30 (macOS/FreeBSD's value)
"""
import struct
import sys

MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",   # microsecond
    b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">",   # nanosecond
}

# address families in a NULL header: AF_INET is 2 everywhere; AF_INET6 is 30
# on macOS and FreeBSD (24 on NetBSD/OpenBSD, 28 on DragonFly)
AF_INET = 2
AF_INET6_BSD = 30


def records(data):
    end = MAGICS.get(data[:4])
    if end is None:
        sys.exit("pcaptool: not a classic pcap file")
    off, out, i = 24, [], 0
    while off + 16 <= len(data):
        _sec, _frac, caplen, length = struct.unpack(end + "IIII", data[off:off + 16])
        out.append((i, off, caplen, length))
        off += 16 + caplen
        i += 1
    return end, out


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    data = open(args[0], "rb").read()
    end, recs = records(data)
    if cmd == "records":
        for r in recs:
            print(*r)
    elif cmd == "cut-offset":
        _i, off, caplen, _len = recs[-1]
        print(off + 16 + caplen // 2)
    elif cmd == "set-caplen":
        out, n, val = args[1], int(args[2]), int(args[3], 0)
        off = recs[n][1]
        buf = bytearray(data)
        struct.pack_into(end + "I", buf, off + 8, val)
        open(out, "wb").write(bytes(buf))
    elif cmd == "null":
        link = struct.unpack(end + "I", data[20:24])[0]
        if link not in (101, 228, 229):
            sys.exit(f"pcaptool: {args[0]} has link type {link}, not raw IP")
        header = bytearray(data[:24])
        struct.pack_into(end + "I", header, 20, 0)
        out = [bytes(header)]
        for _i, off, caplen, length in recs:
            sec, frac = struct.unpack(end + "II", data[off:off + 8])
            pkt = data[off + 16:off + 16 + caplen]
            family = AF_INET if pkt[0] >> 4 == 4 else AF_INET6_BSD
            out.append(struct.pack(end + "IIII", sec, frac, caplen + 4, length + 4))
            out.append(struct.pack("<I", family) + pkt)
        open(args[1], "wb").write(b"".join(out))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
