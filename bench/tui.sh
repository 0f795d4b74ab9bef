#!/usr/bin/env bash
# Times `wirelens tui` on a big capture in a real terminal (tmux): time to the first
# screen, time until End shows the last packet, and the peak resident memory (VmHWM).
#
#   cargo run --release --example gen-capture 2000000 /tmp/big.pcap
#   bash bench/tui.sh /tmp/big.pcap
#
# Run it on real traffic too (the README's benchmark corpus, e.g. real-2000000.pcap):
# the generated capture has no fragments and few notes, which the viewer also keeps.
#
# Times are measured by polling the screen every 10 ms, so they are up to 10 ms late.
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-/tmp/big.pcap}
bin=${WIRELENS:-target/release/wirelens}
[ -x "$bin" ] || cargo build --release --locked --bin wirelens
[ -f "$file" ] || { echo "no $file: make it with: cargo run --release --example gen-capture 2000000 $file" >&2; exit 2; }
last=$("$bin" stats "$file" --no-progress 2>/dev/null | awk 'NR == 1 {print $1; exit}' || true)
sock="wirelens-bench-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"' EXIT
now() { date +%s.%N; }
pane() { tmux -L "$sock" capture-pane -p -t b; }
wait_for() { # text → seconds waited since $t0
    until pane | grep -qF -- "$1"; do sleep 0.01; done
    echo "$(now) - $t0" | bc
}
t0=$(now)
tmux -L "$sock" new-session -d -s b -x 120 -y 40 "exec $bin tui $file"
pid=$(tmux -L "$sock" display-message -p -t b '#{pane_pid}')
first=$(wait_for "Packets (")
tmux -L "$sock" send-keys -t b End
# End selects the last packet and stays on it while the index grows: wait until the
# list shows the file's last frame number (its summary line starts with it).
end_at=$(wait_for "Packets (${last:-2000000})")
wait_for " ${last:-2000000} " > /dev/null
end_at2=$(echo "$(now) - $t0" | bc)
# Let analysis finish, then read the peak memory.
until ! pane | grep -q "analysing"; do sleep 0.1; done
done_at=$(echo "$(now) - $t0" | bc)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
tmux -L "$sock" send-keys -t b q
printf 'file %s (%s packets)\n' "$file" "${last:-?}"
printf 'first screen      %.2f s\n' "$first"
printf 'End shows last    %.2f s after start (index complete at %.2f s)\n' "$end_at2" "$end_at"
printf 'analysis complete %.2f s\n' "$done_at"
printf 'peak RSS          %d MiB\n' $((hwm / 1024))
