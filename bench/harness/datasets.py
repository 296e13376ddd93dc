"""The datasets: built once under WORKDIR/datasets, reused by later runs.

  db     a cold MariaDB datadir filled by sysbench (datasets/make_db.sh); sends `sqldata`
  small  many 0.5-16 KiB source-like files in nested dirs (gen_small.py); sends `tree`
  big    one file, half compressible, half random, in 1 MiB runs (gen_big.py); sends `bigdir`

A dataset directory is complete when its `.complete` marker holds the parameters it was
built with; anything else (a missing marker, other parameters, a half-built directory
from an interrupted run) is rebuilt from scratch. --quick selects smaller parameters,
kept in a separate directory (NAME-quick) so both can stay cached.

  dbN    (db2 ... db8) N full copies of db, for the linearity runs: WORKDIR/scaled/dbN/
         sqldata-xN/copy1 ... copyN, each `cp -a` of db's sqldata (own inodes, holes kept;
         hardlinks would travel as links, not as data). Not cached: built just before its
         runs and deleted right after (scaled_copy), because N copies plus one received copy
         is 2 x N x 1.2 GB of RAM on tmpfs. check_room refuses up front when that won't fit.
"""

import contextlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time

from treecheck import manifest, summarize

GEN_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "datasets")

SPECS = {
    "db": {"payload": "sqldata", "full": {"table_size": 1000000}, "quick": {"table_size": 100000}},
    "small": {"payload": "tree", "full": {"files": 100000}, "quick": {"files": 10000}},
    "big": {"payload": "bigdir", "full": {"mib": 4096}, "quick": {"mib": 512}},
}


SCALED = re.compile(r"db([2-8])$")
# Left free for everyone else on the machine while a scaled dataset and its copy exist.
SPARE_BYTES = 2 << 30


def scale_of(name):
    """N for a scaled name dbN, else None."""
    m = SCALED.match(name)
    return int(m.group(1)) if m else None


def known(name):
    return name in SPECS or scale_of(name) is not None


class Dataset:
    def __init__(self, name, root, payload, params):
        self.name = name
        self.root = root          # WORKDIR/datasets/NAME[-quick]
        self.payload = payload    # what gets sent: root/payload
        self.params = params
        self._manifest = None

    @property
    def path(self):
        return os.path.join(self.root, self.payload)

    def manifest(self):
        if self._manifest is None:
            self._manifest = manifest(self.path)
        return self._manifest

    def describe(self):
        return {"name": self.name, "path": self.path, "params": self.params,
                **summarize(self.manifest())}


def _build_command(name, out, params):
    if name == "db":
        return [os.path.join(GEN_DIR, "make_db.sh"), out, str(params["table_size"])]
    if name == "small":
        return [sys.executable, os.path.join(GEN_DIR, "gen_small.py"), out, str(params["files"])]
    return [sys.executable, os.path.join(GEN_DIR, "gen_big.py"), out, str(params["mib"])]


def ensure(name, quick, workdir, log):
    spec = SPECS[name]
    params = spec["quick" if quick else "full"]
    root = os.path.join(workdir, "datasets", name + ("-quick" if quick else ""))
    marker = os.path.join(root, ".complete")
    wanted = {"dataset": name, **params}
    try:
        with open(marker) as f:
            if json.load(f) == wanted:
                return Dataset(name, root, spec["payload"], params)
    except (FileNotFoundError, ValueError):
        pass
    building = root + ".building"
    shutil.rmtree(building, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(building)
    log(f"preparing dataset {name} {params} in {root} (cached for later runs)")
    t0 = time.monotonic()
    subprocess.run(_build_command(name, building, params), check=True, timeout=3600)
    with open(os.path.join(building, ".complete"), "w") as f:
        json.dump(wanted, f)
    os.rename(building, root)
    log(f"dataset {name} ready in {time.monotonic() - t0:.0f} s")
    return Dataset(name, root, spec["payload"], params)


def _tree_bytes(path):
    """Sum of regular file sizes under path (apparent sizes: tar writes holes out as zeros)."""
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            st = os.lstat(os.path.join(d, f))
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def _free_bytes(workdir):
    """What tmpfs can still hold: the smaller of MemAvailable and the filesystem's free space."""
    with open("/proc/meminfo") as f:
        avail = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    st = os.statvfs(workdir)
    return min(avail, st.f_bavail * st.f_frsize)


def check_room(name, base, workdir):
    """Exits with a clear message unless N copies of base plus one received copy of them
    (and SPARE_BYTES) fit in memory now."""
    n = scale_of(name)
    need = 2 * n * _tree_bytes(base.path) + SPARE_BYTES
    free = _free_bytes(workdir)
    if free < need:
        raise SystemExit(
            f"not enough memory for dataset {name}: it needs {need / 2**30:.1f} GiB free "
            f"({n} copies of {base.path} on tmpfs, one received copy of them, "
            f"{SPARE_BYTES >> 30} GiB to spare) and only {free / 2**30:.1f} GiB is "
            f"(MemAvailable / free space of {workdir}). Use a smaller N or free memory.")


@contextlib.contextmanager
def scaled_copy(name, base, workdir, log):
    """Dataset dbN, N copies of base, for the duration of the with block; always deleted."""
    n = scale_of(name)
    check_room(name, base, workdir)
    root = os.path.join(workdir, "scaled", name)
    payload = f"{base.payload}-x{n}"
    shutil.rmtree(root, ignore_errors=True)  # a leftover of a run killed hard
    try:
        log(f"preparing dataset {name}: {n} copies of {base.path} (cp -a), deleted after its runs")
        for i in range(1, n + 1):
            dst = os.path.join(root, payload, f"copy{i}")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            subprocess.run(["cp", "-a", base.path, dst], check=True, timeout=1800)
        ds = Dataset(name, root, payload, {"copies": n, "of": base.path})
        log(f"hashing {name} for the copy checks")
        ds.describe()
        yield ds
    finally:
        shutil.rmtree(root, ignore_errors=True)
        log(f"deleted dataset {name}")
