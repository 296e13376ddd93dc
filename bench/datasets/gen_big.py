#!/usr/bin/env python3
"""Builds the `big` dataset: one large file, half compressible text and half random bytes,
mixed in 1 MiB runs (a shuffled, exactly even split).

    gen_big.py OUT_DIR MIB [SEED]

Writes OUT_DIR/bigdir/big.bin. The directory, not the bare file, is what gets sent, so
every contender runs the same directory pipeline as for the other datasets.
"""

import os
import random
import sys

from textgen import make_corpus

MIB = 1 << 20


def main():
    out, mib = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    corpus = make_corpus(seed, 16 * MIB)
    kinds = [True] * (mib // 2) + [False] * (mib - mib // 2)  # True: compressible
    rng.shuffle(kinds)
    d = os.path.join(out, "bigdir")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "big.bin"), "wb") as f:
        for compressible in kinds:
            if compressible:
                start = rng.randrange(0, len(corpus) - MIB)
                f.write(corpus[start:start + MIB])
            else:
                f.write(os.urandom(MIB))
    print(f"gen_big: {mib} MiB in {d}/big.bin", file=sys.stderr)


if __name__ == "__main__":
    main()
