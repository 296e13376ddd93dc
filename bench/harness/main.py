#!/usr/bin/python3
"""The benchmark runner (started by bench/run.sh, which installs and builds first).

For each scenario: bring up its namespaces; for each repetition, for each dataset, run
every contender once plus one iperf3 measurement, in round-robin order shifted by one
each repetition so each contender in turn goes first (a slow drift of the machine's
load then spreads over all contenders, and over all datasets: every repetition runs each
dataset in turn, so no size, db2 say, is measured only early or only late);
check every copy; then write bench/results/<date>.{json,md,png}.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import time

import ceiling
import datasets as ds
import report
import scaling
import summary
import treecheck
from contenders import BY_NAME, CONTENDERS
from runone import run_transfer
from scenarios import SCENARIOS
from sshd import SshSetup

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH_DIR)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Bench:
    """What every run shares: paths, the xfer build, ports, deadlines, the copy check."""

    def __init__(self, args):
        self.workdir = args.workdir
        self.xfer_bin = args.xfer_bin
        self.xfer_threads = args.xfer_threads
        self.timeout_scale = args.timeout_scale
        self.prewarm = args.prewarm
        self.ssh = SshSetup(self.workdir)
        self._port = 20000
        self._run = 0
        # Logs of this invocation's runs (kept only for failed ones).
        self.runs_dir = os.path.join(self.workdir, "runs", time.strftime("%Y%m%d-%H%M%S"))

    def next_port(self):
        # A fresh port per run: no TIME_WAIT leftovers, no reuse between contenders.
        self._port = 20000 + (self._port - 20000 + 1) % 20000
        return self._port

    def new_run_dir(self, label):
        self._run += 1
        d = os.path.join(self.runs_dir, f"{self._run:04d}-{label}")
        os.makedirs(d)
        return d

    def timeout_for(self, dataset):
        # Generous: 2 minutes plus 5 MB/s. The slowest contender here does ~20 MB/s.
        return self.timeout_scale * (120 + dataset.describe()["bytes"] / 5e6)

    def verify(self, dataset, copy_root, mtime_resolution):
        return treecheck.compare(dataset.manifest(), copy_root, mtime_resolution)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="scaled-down datasets (db 4x100k rows, 10k small files, 512 MiB big), "
                        "2 reps, 2 s iperf3: a smoke run")
    p.add_argument("--datasets", default="db,small,big",
                   help="any of db, small, big, and dbN (N = 2..8: N copies of db, built "
                        "before its runs and deleted after; for linearity: db,db2,db4)")
    p.add_argument("--scenarios", default="loopback,1g,10g")
    p.add_argument("--contenders", default=",".join(c.name for c in CONTENDERS))
    p.add_argument("--reps", type=int, help="repetitions (default 3, --quick 2)")
    p.add_argument("--workdir", default="/dev/shm/xfer-bench",
                   help="tmpfs directory for datasets and copies (default /dev/shm/xfer-bench)")
    p.add_argument("--xfer-bin", default="/tmp/bench-build", help="directory with xfer-send/-recv")
    p.add_argument("--xfer-threads", type=int, help="pass --threads N to both xfer sides")
    p.add_argument("--iperf-seconds", type=int, help="iperf3 duration (default 5, --quick 2)")
    p.add_argument("--prewarm", action="store_true",
                   help="before each transfer, write and delete as many bytes as the copy will "
                        "take, so every receiver writes into recently used memory (README, "
                        "Caveats: memory idle a few seconds costs kernel time to touch again)")
    p.add_argument("--timeout-scale", type=float, default=1.0,
                   help="multiply every per-run deadline (default 1)")
    p.add_argument("--out", default=os.path.join(BENCH_DIR, "results"),
                   help="where the .md/.json/.png go (default bench/results)")
    p.add_argument("--name", help="results file name without extension (default: the date)")
    args = p.parse_args(argv)
    args.reps = args.reps or (2 if args.quick else 3)
    args.iperf_seconds = args.iperf_seconds or (2 if args.quick else 5)
    args.datasets = _names(args.datasets, ds.known, "dataset", "db, small, big, db2 ... db8")
    args.scenarios = _names(args.scenarios, SCENARIOS.__contains__, "scenario",
                            ", ".join(SCENARIOS))
    args.contenders = _names(args.contenders, BY_NAME.__contains__, "contender",
                             ", ".join(BY_NAME))
    return args


def _names(csv, is_known, what, known_text):
    names = [n for n in csv.split(",") if n]
    for n in names:
        if not is_known(n):
            sys.exit(f"unknown {what} {n!r}; known: {known_text}")
    return names


def _git_head():
    """The commit the tree is at, read from .git without running git."""
    try:
        with open(os.path.join(REPO, ".git", "HEAD")) as f:
            head = f.read().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        path = os.path.join(REPO, ".git", ref)
        if os.path.exists(path):
            with open(path) as f:
                return f.read().strip()[:12]
        with open(os.path.join(REPO, ".git", "packed-refs")) as f:
            for line in f:
                if line.rstrip().endswith(" " + ref):
                    return line.split()[0][:12]
    except OSError:
        pass
    return "unknown"


def _cmd_out(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def machine_meta(args):
    fs = (_cmd_out(["findmnt", "-n", "-o", "FSTYPE", "--target", args.workdir]) or "unknown").split()[0]
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "command": os.environ.get("XB_COMMAND", "bench/run.sh " + " ".join(sys.argv[1:])),
        "nproc": os.cpu_count(), "mem_gib": mem_kib / (1 << 20), "kernel": platform.release(),
        "loadavg_start": os.getloadavg(),
        "xfer_version": _cmd_out([os.path.join(args.xfer_bin, "xfer-send"), "--version"]),
        "xfer_bin": args.xfer_bin, "git_head": _git_head(),
        "xfer_threads": ("xfer's default (no --threads)"
                         if args.xfer_threads is None else f"--threads {args.xfer_threads}"),
        "workdir": args.workdir, "workdir_fs": fs, "reps": args.reps, "quick": args.quick,
        "prewarm": args.prewarm,
        "tools": {t: _cmd_out(v) for t, v in {
            "tar": ["tar", "--version"], "pigz": ["pigz", "--version"],
            "openssl": ["openssl", "version"], "zstd": ["zstd", "--version"],
            "rsync": ["rsync", "--version"], "iperf3": ["iperf3", "--version"],
            "netcat-openbsd": ["dpkg-query", "-W", "-f=${Version}", "netcat-openbsd"],
            "ssh": ["dpkg-query", "-W", "-f=${Version}", "openssh-client"]}.items()},
    }


def rotated(items, k):
    k %= len(items)
    return items[k:] + items[:k]


def run_rep(bench, scenario, dataset, rep, args, runs, ceilings):
    """One repetition on one dataset: every contender once and iperf3 once."""
    contenders = [BY_NAME[n] for n in args.contenders]
    for item in rotated(contenders + ["iperf3"], rep):
        if item == "iperf3":
            c = ceiling.measure(bench, scenario, dataset, rep, args.iperf_seconds)
            ceilings.append(c)
            bps = c["bits_per_second"]
            log(f"{scenario.name}/{dataset.name} rep {rep}: iperf3 "
                + (f"{bps / 1e9:.2f} Gbit/s" if bps else c.get("error", "failed")))
            continue
        r = run_transfer(bench, item, scenario, dataset, rep)
        runs.append(r)
        what = (f"{r['wall_s']:.2f} s" if r["status"] == "ok"
                else f"FAILED: {r['reason']} (logs: {r.get('logs')})")
        log(f"{scenario.name}/{dataset.name} rep {rep}: {item.name}: {what}")


def _bases(names):
    """The cached datasets these names need: themselves, or db for a scaled dbN."""
    return list(dict.fromkeys("db" if ds.scale_of(n) else n for n in names))


@contextlib.contextmanager
def rep_dataset(name, prepared, args):
    """A cached dataset as is; a scaled one built for this repetition only (one at a time:
    db4's copies and its received copy already take ~9.4 GB of RAM)."""
    if not ds.scale_of(name):
        yield prepared[name]
        return
    with ds.scaled_copy(name, prepared["db"], args.workdir, log) as scaled:
        yield scaled


def write_results(args, meta, dataset_desc, runs, ceilings, complete):
    cells = summary.summarize(runs, ceilings, dataset_desc, args.contenders)
    loads = [r["loadavg_before"][0] for r in runs] or [0.0]
    meta.update(loadavg_end=os.getloadavg(), loadavg_min=min(loads), loadavg_max=max(loads))
    scenarios = {n: SCENARIOS[n].description for n in args.scenarios}
    results = {"meta": meta, "datasets": dataset_desc, "scenarios": scenarios,
               "summary": cells, "runs": runs, "iperf3": ceilings}
    os.makedirs(args.out, exist_ok=True)
    name = args.name or (datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
                         + ("-quick" if args.quick else ""))
    if not complete:
        name += "-partial"
        meta["partial"] = True
    base = os.path.join(args.out, name)
    with open(base + ".json", "w") as f:
        json.dump(results, f, indent=1, default=str)
    with open(base + ".md", "w") as f:
        f.write(report.render(meta, dataset_desc, scenarios, cells) + "\n" + scaling.render(cells))
    try:
        import chart
        chart.draw(results, base + ".png")
    except Exception as e:  # the tables matter more than the picture
        log(f"chart not drawn: {e}")
    log(f"results: {base}.md, .json, .png")


def main(argv):
    args = parse_args(argv)
    # SIGTERM (run.sh's timeout, a kill) unwinds like Ctrl-C, so the finally below runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.makedirs(args.workdir, exist_ok=True)
    bench = Bench(args)
    meta = machine_meta(args)
    bench.ssh.prepare()
    prepared = {n: ds.ensure(n, args.quick, args.workdir, log) for n in _bases(args.datasets)}
    for n in args.datasets:  # refuse now, not after an hour of other runs
        if ds.scale_of(n):
            ds.check_room(n, prepared["db"], args.workdir)
    log("hashing the sources (once) for the copy checks")
    dataset_desc = {n: d.describe() for n, d in prepared.items() if n in args.datasets}
    runs, ceilings = [], []
    complete = False
    try:
        for sname in args.scenarios:
            scenario = SCENARIOS[sname]
            log(f"scenario {sname}: {scenario.description}")
            scenario.up()
            try:
                for rep in range(args.reps):
                    for dname in args.datasets:
                        with rep_dataset(dname, prepared, args) as dataset:
                            dataset_desc[dname] = dataset.describe()
                            run_rep(bench, scenario, dataset, rep, args, runs, ceilings)
            finally:
                scenario.down()
        complete = True
    finally:
        if runs:
            write_results(args, meta, dataset_desc, runs, ceilings, complete)


if __name__ == "__main__":
    main(sys.argv[1:])
