"""From raw runs to one row per (scenario, dataset, contender).

A contender is reported only if every one of its repetitions in that cell exited 0 and
arrived intact; otherwise its row is FAILED with the reasons and carries no figures.
Medians are over repetitions. Ratios are median wall / the reference's median wall from
the same cell (same run, same interleaving); `paired` ratios, median over repetitions of
(this rep's wall / the reference's wall in the same rep), are kept in the JSON too: with
interleaving they cancel slow drifts of the machine's load.
"""

import statistics

from contenders import REFERENCES


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _cell_row(contender, runs, source_bytes):
    failures = [r for r in runs if r["status"] != "ok"]
    row = {"contender": contender, "reps": len(runs), "settings": runs[0].get("settings")}
    if failures:
        row["status"] = "FAILED"
        row["reasons"] = sorted({r["reason"] for r in failures})
        return row
    walls = [r["wall_s"] for r in runs]
    wall = statistics.median(walls)
    row.update({
        "status": "ok",
        "wall_s": wall, "wall_min_s": min(walls), "wall_max_s": max(walls),
        "throughput_mb_s": source_bytes / wall / 1e6,
        "send_cpu_s": _median(r["send"]["cpu_s"] for r in runs),
        "recv_cpu_s": _median(r["recv"]["cpu_s"] for r in runs),
        # The split shows where time per GB grows (scaling.py): user time is the program's
        # own work, system time includes the kernel's page allocation for the copy.
        "send_user_cpu_s": _median(r["send"]["cpu_user_s"] for r in runs),
        "recv_user_cpu_s": _median(r["recv"]["cpu_user_s"] for r in runs),
        "send_sys_cpu_s": _median(r["send"]["cpu_sys_s"] for r in runs),
        "recv_sys_cpu_s": _median(r["recv"]["cpu_sys_s"] for r in runs),
        # Peaks are peaks: the largest over the repetitions.
        "send_peak_rss_bytes": max(r["send"]["peak_rss_bytes"] for r in runs),
        "recv_peak_rss_bytes": max(r["recv"]["peak_rss_bytes"] for r in runs),
        "send_max_single_rss_bytes": max(r["send"]["max_single_rss_bytes"] for r in runs),
        "recv_max_single_rss_bytes": max(r["recv"]["max_single_rss_bytes"] for r in runs),
        "send_peak_threads": max(r["send"]["peak_threads"] for r in runs),
        "recv_peak_threads": max(r["recv"]["peak_threads"] for r in runs),
        "wire_to_recv_bytes": _median(r["wire"]["to_recv"] for r in runs),
        "wire_from_recv_bytes": _median(r["wire"]["from_recv"] for r in runs),
        "loadavg_1m": [r["loadavg_before"][0] for r in runs],
        # What xfer itself says it used, should its JSON line carry a "threads" field.
        "xfer_reported_threads": sorted({str((r.get(k) or {}).get("threads"))
                                         for r in runs for k in ("xfer_send_json", "xfer_recv_json")
                                         if (r.get(k) or {}).get("threads") is not None}),
    })
    return row


def _add_ratios(rows, runs_by_contender):
    by_name = {r["contender"]: r for r in rows}
    for ref in REFERENCES:
        base = by_name.get(ref)
        for row in rows:
            key = f"x_{ref}"
            if row["status"] != "ok" or not base or base["status"] != "ok":
                row[key] = row[key + "_paired"] = None
                continue
            row[key] = row["wall_s"] / base["wall_s"]
            ref_walls = {r["rep"]: r["wall_s"] for r in runs_by_contender[ref]}
            pairs = [r["wall_s"] / ref_walls[r["rep"]] for r in runs_by_contender[row["contender"]]
                     if r["rep"] in ref_walls]
            row[key + "_paired"] = statistics.median(pairs) if pairs else None


def summarize(runs, ceilings, datasets, order):
    """order: contender names in display order. Returns a list of cells."""
    cells = []
    keys = []
    for r in runs:
        if (r["scenario"], r["dataset"]) not in keys:
            keys.append((r["scenario"], r["dataset"]))
    for scenario, dataset in keys:
        in_cell = [r for r in runs if r["scenario"] == scenario and r["dataset"] == dataset]
        by_contender = {}
        for r in in_cell:
            by_contender.setdefault(r["contender"], []).append(r)
        source_bytes = datasets[dataset]["bytes"]
        rows = [_cell_row(c, by_contender[c], source_bytes) for c in order if c in by_contender]
        _add_ratios(rows, by_contender)
        bps = [c["bits_per_second"] for c in ceilings
               if c["scenario"] == scenario and c["dataset"] == dataset and c["bits_per_second"]]
        cells.append({"scenario": scenario, "dataset": dataset, "source_bytes": source_bytes,
                      "iperf3_bits_per_second": _median(bps), "iperf3_samples": bps,
                      "rows": rows})
    return cells
