#!/usr/bin/env python3
"""Builds the `small` dataset: many small source-like files in nested directories.

    gen_small.py OUT_DIR NFILES [SEED]

Writes OUT_DIR/tree: NFILES regular files of 512 B to 16 KiB (uniform), about 40 per leaf
directory, three levels deep; one in 50 is executable and one in 1000 gets a relative
symlink beside it, as in a real source tree (and so the copy check sees modes and links).
"""

import os
import random
import sys

from textgen import make_corpus

FILES_PER_DIR = 40
EXTENSIONS = [".c", ".h", ".cc", ".py", ".txt"]


def leaf_dir(i):
    # 20 top-level modules, 10 packages each, then as many units as needed.
    return os.path.join(f"module_{i % 20:02d}", f"pkg_{(i // 20) % 10}", f"unit_{i // 200:03d}")


def main():
    out, nfiles = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    corpus = make_corpus(seed, 8 << 20)
    root = os.path.join(out, "tree")
    for n in range(nfiles):
        d = os.path.join(root, leaf_dir(n // FILES_PER_DIR))
        if n % FILES_PER_DIR == 0:
            os.makedirs(d, exist_ok=True)
        size = rng.randint(512, 16384)
        start = rng.randrange(0, len(corpus) - size)
        name = f"file_{n:06d}{rng.choice(EXTENSIONS)}"
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(corpus[start:start + size])
        if n % 50 == 7:
            os.chmod(path, 0o755)
        if n % 1000 == 3:
            os.symlink(name, os.path.join(d, f"link_{n:06d}"))
    print(f"gen_small: {nfiles} files under {root}", file=sys.stderr)


if __name__ == "__main__":
    main()
