"""The results file a person reads: bench/results/<date>.md (the .json beside it has
every raw figure). Column meanings are in bench/README.md."""

from contenders import BY_NAME

MiB = 1 << 20


def _f(v, fmt="{:.2f}"):
    return "—" if v is None else fmt.format(v)


def _pair(a, b, fmt):
    return f"{_f(a, fmt)} / {_f(b, fmt)}"


def _label(name):
    c = BY_NAME.get(name)
    return (c.label if c else name).replace("|", "\\|")


def _row(r):
    if r["status"] != "ok":
        reasons = "; ".join(r["reasons"]).replace("|", "\\|")
        return f"| {_label(r['contender'])} | **FAILED** ({r['reps']} reps): {reasons} |" + " |" * 7
    return ("| {} | {} ({}–{}) | {} | {} | {} | {} | {} | {} | {} |".format(
        _label(r["contender"]), _f(r["wall_s"]), _f(r["wall_min_s"]), _f(r["wall_max_s"]),
        _f(r["throughput_mb_s"], "{:.0f}"), _f(r["x_transferpy"], "{:.3f}"),
        _f(r["x_tar-nc"], "{:.3f}"),
        _pair(r["send_cpu_s"], r["recv_cpu_s"], "{:.1f}"),
        _pair(r["send_peak_rss_bytes"] / MiB, r["recv_peak_rss_bytes"] / MiB, "{:.0f}"),
        _f(r["wire_to_recv_bytes"] / 1e6, "{:.0f}"),
        f"{r['send_peak_threads']} / {r['recv_peak_threads']}"))


HEADER = ("| contender | wall s, median (min–max) | MB/s | × transferpy | × tar\\|nc "
          "| CPU s send / recv | peak RSS MiB send / recv | wire MB → recv | threads send / recv |\n"
          "|---|---|---|---|---|---|---|---|---|")


def _cell(cell, scenario_desc, dataset_desc):
    ds = dataset_desc
    bps = cell["iperf3_bits_per_second"]
    ceiling = ("iperf3 (one TCP stream, same path): "
               + (f"**{bps / 8e6:.0f} MB/s** ({bps / 1e9:.2f} Gbit/s), median of "
                  f"{len(cell['iperf3_samples'])}" if bps else "no measurement"))
    return "\n".join([
        f"### {cell['dataset']} over {cell['scenario']}",
        "",
        f"{scenario_desc}. Source: {ds['files']:,} files, {ds['dirs']:,} directories, "
        f"{ds['symlinks']:,} symlinks, {ds['bytes'] / 1e6:,.0f} MB. {ceiling}.",
        "",
        HEADER,
        *[_row(r) for r in cell["rows"]],
        "",
    ])


def render(meta, datasets, scenarios, cells):
    m = meta
    lines = [
        f"# xfer benchmark, {m['date']}",
        "",
        f"Command: `{m['command']}`",
        "",
        f"- Machine: {m['nproc']} cores (nproc), {m['mem_gib']:.0f} GiB, kernel {m['kernel']}; "
        f"1-minute load average {m['loadavg_start'][0]:.2f} at start, "
        f"{m['loadavg_end'][0]:.2f} at end, {m['loadavg_min']:.2f}–{m['loadavg_max']:.2f} "
        "before the runs (a shared machine: others were building and testing).",
        f"- xfer: `{m['xfer_version']}`, tree {m['git_head']}, binaries in `{m['xfer_bin']}`; "
        f"threads: {m['xfer_threads']} on {m['nproc']} cores; the `threads` column is the "
        "peak thread count sampled per side.",
        f"- Work dir (datasets and copies): `{m['workdir']}` on {m['workdir_fs']}"
        + ("; `--prewarm`: before each transfer the harness wrote and deleted as many bytes "
           "as the copy takes, so every receiver wrote into recently used memory."
           if m.get("prewarm") else "."),
        f"- {m['reps']} repetitions, contenders interleaved round-robin (each repetition "
        "starts one further down the list); iperf3 interleaved the same way.",
        "- Every copy was compared with its source (content hash, type, mode, owner, "
        "symlink target, mtime at the contender's resolution); a contender with any "
        "failed repetition is shown FAILED, without figures.",
        "- Ratios are median wall / the reference's median wall in the same table "
        "(below 1 is faster). Meaning of each column: bench/README.md.",
        "",
    ]
    for cell in cells:
        lines.append(_cell(cell, scenarios[cell["scenario"]], datasets[cell["dataset"]]))
    return "\n".join(lines)
