#!/usr/bin/env python3
"""The chain's tail: how long after the source's last byte the last target commits, with 1, 3
and 6 chained targets on a namespace LAN (one bridge, one namespace per host, like the tests').

    sudo bench/chain_tail.py --bin BUILD_DIR [--targets 1,3,6] [--mb 256] [--runs 3]
                             [--dir /var/tmp] [--rate 1gbit]

The source (host 0) sends --mb MB of random data through a chain of xfer-recv --forward
(hosts 1..N), every link shaped to --rate by tbf. Each program runs with --json; a line is
timestamped when it arrives. A target's commit time is the ctime of its DIR/data, which the
commit's rename sets (a result line cannot tell it: a hop prints its result only once its
downstream answered). The data crosses every link at the same shaped rate, so the time to the
last byte hardly grows with N and what does grow is the tail. Reported per N, medians over
--runs: commit spread = last commit - first commit (near 0 when each target commits on its own,
one sync and more per hop when they commit one after another), wall = sender start to last
commit, and the tail beyond one target = wall(N) - wall(first N given). Writes to --dir (a real disk: on tmpfs a sync costs nothing).
Needs root (ip netns). Everything it made is removed at its end.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PREFIX = "xb-chain-"


def ip(*args):
    subprocess.run(["ip", *args], check=True)


def make_lan(hosts, rate):
    names = [PREFIX + "sw"] + [PREFIX + "h%d" % i for i in range(hosts)]
    for name in names:
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)
        ip("netns", "add", name)
        ip("-n", name, "link", "set", "lo", "up")
    ip("-n", names[0], "link", "add", "br0", "type", "bridge")
    ip("-n", names[0], "link", "set", "br0", "up")
    for i in range(hosts):
        host = names[i + 1]
        ip("-n", names[0], "link", "add", "veth%d" % i, "type", "veth", "peer", "name", "eth0",
           "netns", host)
        ip("-n", names[0], "link", "set", "veth%d" % i, "master", "br0", "up")
        ip("-n", host, "addr", "add", "10.98.0.%d/24" % (i + 1), "dev", "eth0")
        ip("-n", host, "link", "set", "eth0", "up")
        subprocess.run(["ip", "netns", "exec", host, "tc", "qdisc", "replace", "dev", "eth0",
                        "root", "tbf", "rate", rate, "burst", "256kb", "latency", "20ms"],
                       check=True)
    return names


def drop_lan(names):
    for name in reversed(names):
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)


class Timed:
    """A program in a namespace whose stdout lines are kept with their arrival time."""

    def __init__(self, netns, argv, stdin_text=None):
        self.proc = subprocess.Popen(["ip", "netns", "exec", netns, *argv],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines = []
        self.ticket = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if stdin_text is not None:
            self.proc.stdin.write(stdin_text)
            self.proc.stdin.flush()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.strip()))
            if line.startswith("xfer1:"):
                self.ticket.set()

    def ticket_line(self):
        if not self.ticket.wait(60):
            sys.exit("no ticket from %s" % self.proc.args)
        return next(text for _, text in self.lines if text.startswith("xfer1:"))

    def finish(self):
        if self.proc.wait(600) != 0:
            sys.exit("%s failed" % self.proc.args)
        self.reader.join(60)


def one_run(bin_dir, names, targets, source, work):
    dests = []
    for i in range(targets):
        dest = os.path.join(work, "t%d" % (i + 1))
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        dests.append(dest)
    receivers = [None] * targets
    ticket = None
    for i in reversed(range(targets)):  # a chain starts at its end
        argv = [os.path.join(bin_dir, "xfer-recv"), "--json"]
        if i + 1 < targets:
            argv += ["--forward", "10.98.0.%d" % (i + 3)]
        receivers[i] = Timed(names[i + 2], argv + ["--", dests[i]],
                             ticket + "\n" if ticket else None)
        ticket = receivers[i].ticket_line()
    start = time.time()
    sender = Timed(names[1], [os.path.join(bin_dir, "xfer-send"), "--json", "--to",
                              "10.98.0.2", "--", source], ticket + "\n")
    sender.finish()
    for r in receivers:
        r.finish()
    commits = [os.stat(os.path.join(dest, "data")).st_ctime for dest in dests]
    return max(commits) - min(commits), max(commits) - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="directory holding xfer-send and xfer-recv")
    parser.add_argument("--targets", default="1,3,6")
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default="/var/tmp")
    parser.add_argument("--rate", default="1gbit")
    args = parser.parse_args()
    counts = [int(n) for n in args.targets.split(",")]
    names = make_lan(max(counts) + 1, args.rate)
    work = tempfile.mkdtemp(prefix="xfer-chain-tail-", dir=args.dir)
    try:
        source = os.path.join(work, "src", "data")
        os.makedirs(source)
        with open(os.path.join(source, "blob"), "wb") as out:
            for _ in range(args.mb):
                out.write(os.urandom(1 << 20))
        print("| targets | commit spread (s) | wall (s) | tail beyond 1 target (s) |")
        print("|---|---|---|---|")
        one_target = None
        for n in counts:
            runs = [one_run(args.bin, names, n, source, work) for _ in range(args.runs)]
            spread, wall = (statistics.median(r[k] for r in runs) for k in range(2))
            one_target = wall if one_target is None else one_target
            print("| %d | %.2f | %.2f | %.2f |" % (n, spread, wall, wall - one_target), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        drop_lan(names)


if __name__ == "__main__":
    main()
