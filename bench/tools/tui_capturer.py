#!/usr/bin/env python3
"""A capturer for bench/live.sh that is `wirelens tui`.

Runs the command it is given (live.sh appends `-i IFACE`) in a detached tmux terminal,
says "listening on" once the status bar shows the live capture, and on SIGINT reads the
status bar ("N captured, P pkt/s, D dropped by the kernel"), prints it in the words
live.sh reads from capture statistics, and quits the TUI with `q`.

    CAPTURERS=$'wirelens tui|bench/tools/tui_capturer.py target/release/wirelens tui
    wirelens live|target/release/wirelens live' bench/live.sh 3

Written in Python because live.sh starts capturers in the background, where a shell
script cannot trap the SIGINT it is stopped with. It sends nothing: the capture is
live.sh's, inside its namespaces.
"""
import os
import re
import shlex
import signal
import subprocess
import sys
import time

SOCK = f"wl-tui-capturer-{os.getpid()}"
STATUS = re.compile(r"(\d+) captured, (\d+) pkt/s(?:, (\d+) dropped by the kernel)?")


def tmux(*args, **kw):
    return subprocess.run(["tmux", "-L", SOCK, *args], capture_output=True, text=True, **kw)


def pane():
    return tmux("capture-pane", "-p", "-t", "0").stdout


def main():
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    cmd = "exec " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        tmux("new-session", "-d", "-x", "220", "-y", "30", cmd, check=True)
        for _ in range(400):
            if STATUS.search(pane()):
                break
            time.sleep(0.05)
        else:
            print("tui_capturer: the TUI did not show a live capture:\n" + pane(), file=sys.stderr)
            return 2
        print(f"listening on {' '.join(sys.argv[1:])} (in tmux)", file=sys.stderr, flush=True)
        while not stop:
            time.sleep(0.1)
        # Kernel drops are asked for once a second: let the status bar catch up.
        time.sleep(1.5)
        found = STATUS.findall(pane())
        captured, _, dropped = found[-1] if found else ("0", "0", "0")
        tmux("send-keys", "-t", "0", "q")
        for _ in range(100):
            if tmux("has-session").returncode != 0:
                break
            time.sleep(0.05)
        print(f"{captured} packets captured", file=sys.stderr)
        print(f"{captured} packets received by filter", file=sys.stderr)
        print(f"{dropped or 0} packets dropped by kernel", file=sys.stderr)
        return 0
    finally:
        tmux("kill-server")


if __name__ == "__main__":
    sys.exit(main())
