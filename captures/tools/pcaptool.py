#!/usr/bin/env python3
"""Helpers for the damaged-file captures (no network access at all).

  records FILE              list the records of a classic pcap file:
                            index, byte offset of the record header, caplen, len
  cut-offset FILE           print a byte count that ends in the middle of the
                            last record's packet data (for `head -c`)
  set-caplen IN OUT N VAL   copy IN to OUT with record N's (0-based) caplen
                            field overwritten with VAL
"""
import struct
import sys

MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",   # microsecond
    b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">",   # nanosecond
}


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
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
