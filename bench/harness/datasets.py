"""The datasets: built once under WORKDIR/datasets, reused by later runs.

  db     a cold MariaDB datadir filled by sysbench (datasets/make_db.sh); sends `sqldata`
  small  many 0.5-16 KiB source-like files in nested dirs (gen_small.py); sends `tree`
  big    one file, half compressible, half random, in 1 MiB runs (gen_big.py); sends `bigdir`

A dataset directory is complete when its `.complete` marker holds the parameters it was
built with; anything else (a missing marker, other parameters, a half-built directory
from an interrupted run) is rebuilt from scratch. --quick selects smaller parameters,
kept in a separate directory (NAME-quick) so both can stay cached.
"""

import json
import os
import shutil
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
