#!/usr/bin/env bash
# Seeds the fuzz corpora from the real captures in captures/ (needs only coreutils):
#
#   fuzz/corpus/capture_file/  every capture file as it is;
#   fuzz/corpus/dissect/       per pcap file, one input holding all its frames in order
#                              (also with tiny tables: option byte 3), and one input per
#                              frame, in the layout that
#                              wirelens_fuzz::split_frames reads:
#                                option byte, then per frame: captured length (u16,
#                                big-endian), seconds since the frame before (i8), wire
#                                length minus captured length (u8, at most 254), bytes.
#
# Run it from anywhere; it rewrites only the seeds it makes (file names start "seed-"),
# so corpus entries the fuzzer found are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

captures=captures
file_corpus=fuzz/corpus/capture_file
frame_corpus=fuzz/corpus/dissect
mkdir -p "$file_corpus" "$frame_corpus"

# u32 at byte $2 of file $1, little-endian (classic pcap as our captures are written).
u32le() {
    od --endian=little -An -tu4 -j "$2" -N 4 "$1" | tr -d ' '
}

# One byte, given as a number 0..255, to stdout.
byte() {
    printf "\\$(printf '%03o' "$1")"
}

seeds=0
for f in "$captures"/*.pcap "$captures"/*.pcapng; do
    base=$(basename "$f")
    cp "$f" "$file_corpus/seed-$base"
    seeds=$((seeds + 1))
done

for f in "$captures"/*.pcap; do
    base=$(basename "$f" .pcap)
    magic=$(od -An -tx1 -N 4 "$f" | tr -d ' ')
    case "$magic" in
        d4c3b2a1 | 4d3cb2a1) ;; # little-endian pcap, micro- or nanoseconds
        *)
            echo "seed-corpus: $f is not a little-endian pcap file; only copied as a file seed" >&2
            continue
            ;;
    esac
    size=$(stat -c %s "$f")
    all="$frame_corpus/seed-$base-all"
    byte 0 > "$all"
    offset=24
    prev=""
    n=0
    # Stop at a record whose header or bytes run past the end (truncated.pcap, corrupt.pcap).
    while [ $((offset + 16)) -le "$size" ]; do
        secs=$(u32le "$f" "$offset")
        caplen=$(u32le "$f" $((offset + 8)))
        len=$(u32le "$f" $((offset + 12)))
        if [ "$caplen" -gt 65535 ] || [ $((offset + 16 + caplen)) -gt "$size" ]; then
            break
        fi
        step=0
        if [ -n "$prev" ]; then step=$((secs - prev)); fi
        step=$(( step > 127 ? 127 : (step < -128 ? -128 : step) ))
        extra=$(( len > caplen ? len - caplen : 0 ))
        extra=$(( extra > 254 ? 254 : extra ))
        n=$((n + 1))
        one="$frame_corpus/seed-$base-$n"
        {
            byte $((caplen >> 8))
            byte $((caplen & 255))
            byte $(( (step + 256) % 256 ))
            byte "$extra"
            # One read of exactly the frame: no pipe whose writer could die of SIGPIPE
            # when the reader has had enough (exit 141 under pipefail).
            dd if="$f" iflag=skip_bytes,count_bytes skip=$((offset + 16)) count="$caplen" status=none
        } > "$one.tmp"
        cat "$one.tmp" >> "$all"
        { byte 0; cat "$one.tmp"; } > "$one"
        rm -f "$one.tmp"
        prev=$secs
        offset=$((offset + 16 + caplen))
    done
    # The same frames with tiny tables and kept summaries (option bits 0 and 1), so that
    # the fuzzer starts with the eviction paths too.
    { byte 3; tail -c +2 "$all"; } > "$all-small-tables"
    seeds=$((seeds + n + 2))
done

echo "seed-corpus: $seeds seeds in $file_corpus and $frame_corpus"
