"""Source-code-like text for the `small` and `big` datasets.

Real source trees compress about 3-4x with gzip/zstd -1; random words would not. So this
writes C-like lines from a fixed vocabulary: identifiers, keywords, strings, indentation.
The corpus is generated once (a few MiB) and files are slices of it, which keeps
generating a gigabyte fast while staying deterministic for a given seed.
"""

import random

_KEYWORDS = ["if", "for", "while", "return", "static", "const", "switch", "case", "break"]
_TYPES = ["int", "size_t", "uint64_t", "char *", "struct buffer *", "bool", "ssize_t", "void"]
_WORDS = ["buffer", "chunk", "offset", "length", "count", "stream", "header", "entry", "queue",
          "state", "ctx", "result", "error", "index", "frame", "socket", "digest", "path",
          "node", "table", "row", "page", "cursor", "limit", "flags", "mode", "owner"]


def _ident(rng):
    n = rng.randint(1, 3)
    return "_".join(rng.choice(_WORDS) for _ in range(n))


def _line(rng):
    indent = "    " * rng.randint(0, 3)
    kind = rng.random()
    a, b, c = _ident(rng), _ident(rng), _ident(rng)
    if kind < 0.2:
        return f"{indent}{rng.choice(_TYPES)} {a} = {b}({c}, {rng.randint(0, 4096)});"
    if kind < 0.35:
        return f"{indent}{rng.choice(_KEYWORDS[:3])} ({a} < {b}->{c}) {{"
    if kind < 0.45:
        return f"{indent}}}"
    if kind < 0.55:
        return f'{indent}log_message(LOG_{rng.choice(["DEBUG", "INFO", "WARN"])}, "{a} failed: %s", {b});'
    if kind < 0.65:
        return f"{indent}// {a.replace('_', ' ')} must be checked before {b.replace('_', ' ')}"
    if kind < 0.72:
        return ""
    if kind < 0.8:
        return f"{indent}return {a} + {b};"
    return f"{indent}{a}->{b} = {c};"


def make_corpus(seed, size):
    """About `size` bytes of newline-separated pseudo source code (ASCII)."""
    rng = random.Random(seed)
    lines, total = [], 0
    while total < size:
        line = _line(rng) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode("ascii")
