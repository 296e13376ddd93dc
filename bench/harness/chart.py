#!/usr/bin/python3
"""Throughput per contender per scenario, one panel per dataset, from a results .json.

    chart.py RESULTS.json OUT.png

Bars are source MB / median wall second; the dashed line over each scenario is iperf3's
throughput on that path. FAILED contenders get no bar, only a label.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def draw(results, out_png):
    cells = results["summary"]
    datasets = list(dict.fromkeys(c["dataset"] for c in cells))
    contenders = list(dict.fromkeys(r["contender"] for c in cells for r in c["rows"]))
    colors = plt.get_cmap("tab10")
    fig, axes = plt.subplots(len(datasets), 1, figsize=(11, 4.2 * len(datasets)), squeeze=False)
    for ax, dataset in zip(axes[:, 0], datasets):
        mine = [c for c in cells if c["dataset"] == dataset]
        width = 0.8 / len(contenders)
        for i, cell in enumerate(mine):
            rows = {r["contender"]: r for r in cell["rows"]}
            for j, name in enumerate(contenders):
                x = i - 0.4 + width * (j + 0.5)
                r = rows.get(name)
                if r is None:
                    continue
                label = name if i == 0 else None
                if r["status"] == "ok":
                    bars = ax.bar(x, r["throughput_mb_s"], width, color=colors(j), label=label)
                    ax.bar_label(bars, fmt="%.0f", fontsize=7)
                else:
                    ax.bar(x, 0, width, color=colors(j), label=label)
                    # x in data units, y in axes units: visible whatever the (log) scale.
                    ax.text(x, 0.03, "FAILED", rotation=90, ha="center", va="bottom",
                            fontsize=8, color="red", transform=ax.get_xaxis_transform())
            bps = cell["iperf3_bits_per_second"]
            if bps:
                ax.hlines(bps / 8e6, i - 0.45, i + 0.45, colors="black", linestyles="dashed",
                          label="iperf3 (ceiling)" if i == 0 else None)
        ax.set_xticks(range(len(mine)), [c["scenario"] for c in mine])
        ax.set_ylabel("MB/s (source bytes / wall)")
        ax.set_title(f"{dataset}: throughput, median of {results['meta']['reps']} reps "
                     f"({results['meta']['date']})")
        ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.savefig(out_png, dpi=110, bbox_inches="tight")  # keeps the legend outside the axes


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        draw(json.load(f), sys.argv[2])
