"""Issue 3's targets 6 and 7 as two tables, from the same cells as the main tables:

  linearity  db, db2, db4 ... (N copies of db) per contender: seconds per GB at each size
             and that figure over the 1x one; a flat 1.00 is linear time. Beside it, CPU
             seconds per GB of each side, user and system apart: user time is the program's
             own work; system time also holds the kernel's cost of the receiver's fresh pages.
  memory     peak RSS of each side per contender for every dataset of the run; flat
             across sizes is what target 6 asks (at most 256 MiB).
"""

import datasets as ds
from report import _f as f, _label as label

MiB = 1 << 20


def _factor(dataset):
    """1 for db, N for dbN, None for anything else."""
    return 1 if dataset == "db" else ds.scale_of(dataset)


def _row(cell, contender):
    return next((r for r in cell["rows"] if r["contender"] == contender), None)


def _ok(row):
    return row is not None and row["status"] == "ok"


def _per_gb(cell, row):
    return row["wall_s"] / (cell["source_bytes"] / 1e9)


def _per_gb_pair(row, kind, gb):
    """'send / recv' CPU seconds per GB of one kind (user, sys); '—' where not recorded."""
    values = [row.get(f"{side}_{kind}_cpu_s") for side in ("send", "recv")]
    return " / ".join(f(None if v is None else v / gb) for v in values)


def _linearity_row(name, cell, r, base):
    gb = cell["source_bytes"] / 1e9
    cols = [label(name), f"×{_factor(cell['dataset'])}", f"{gb:.2f}"]
    if not _ok(r):
        return "| " + " | ".join(cols + ["**FAILED**"] + [""] * 5) + " |"
    per_gb = _per_gb(cell, r)
    cols += [f"{f(r['wall_s'])} ({f(r['wall_min_s'])}–{f(r['wall_max_s'])})",
             f"{per_gb:.3f}", f(per_gb / base if base else None),
             _per_gb_pair(r, "user", gb), _per_gb_pair(r, "sys", gb),
             f"{r['send_peak_rss_bytes'] / MiB:.0f} / {r['recv_peak_rss_bytes'] / MiB:.0f}"]
    return "| " + " | ".join(cols) + " |"


def _linearity(scenario, cells):
    family = sorted((c for c in cells if _factor(c["dataset"])),
                    key=lambda c: _factor(c["dataset"]))
    if len(family) < 2:
        return []
    lines = [f"### Linearity over {scenario}: db ×1, ×N (N full copies of db)", "",
             "| contender | size | GB | wall s, median (min–max) | s/GB | s/GB ÷ s/GB at ×1 "
             "| user CPU s/GB send / recv | system CPU s/GB send / recv "
             "| peak RSS MiB send / recv |",
             "|---|---|---|---|---|---|---|---|---|"]
    contenders = list(dict.fromkeys(r["contender"] for c in family for r in c["rows"]))
    for name in contenders:
        rows = [(cell, _row(cell, name)) for cell in family]
        ones = [_per_gb(c, r) for c, r in rows if _factor(c["dataset"]) == 1 and _ok(r)]
        base = ones[0] if ones else None
        lines += [_linearity_row(name, cell, r, base) for cell, r in rows if r is not None]
    return lines + [""]


def _memory(scenario, cells):
    names = [c["dataset"] for c in cells]
    lines = [f"### Peak RSS per side over {scenario}, MiB send / recv", "",
             "| contender | " + " | ".join(
                 f"{n} ({c['source_bytes'] / 1e9:.2f} GB)" for n, c in zip(names, cells)) + " |",
             "|---|" + "---|" * len(cells)]
    contenders = list(dict.fromkeys(r["contender"] for c in cells for r in c["rows"]))
    for name in contenders:
        row = []
        for cell in cells:
            r = _row(cell, name)
            if r is None:
                row.append("")
            elif r["status"] != "ok":
                row.append("FAILED")
            else:
                row.append(f"{r['send_peak_rss_bytes'] / MiB:.0f} / "
                           f"{r['recv_peak_rss_bytes'] / MiB:.0f}")
        lines.append(f"| {label(name)} | " + " | ".join(row) + " |")
    return lines + [""]


def render(cells):
    """Markdown: both tables for each scenario of the run (linearity only with db and a dbN)."""
    lines = []
    for scenario in dict.fromkeys(c["scenario"] for c in cells):
        mine = [c for c in cells if c["scenario"] == scenario]
        lines += _linearity(scenario, mine)
        lines += _memory(scenario, mine)
    return "\n".join(["## Scaling and memory", ""] + lines) if lines else ""
