#!/bin/bash
# Issue 5: "Resuming after 80% of db must cost at most 30% of a full transfer." Measures, on
# loopback, tmpfs to tmpfs, for xfer's default (adaptive compression) and --no-compress:
#   full    xfer-send --resume into an empty directory (nothing to resume: a whole transfer);
#   cut     the same through bench/resume_proxy.py, which cuts both directions once 80% of the
#           sender->receiver bytes of a whole transfer (counted by the proxy in one calibration
#           transfer per mode) went through; both programs must fail (exit 1), leaving the
#           staging directory and its journal;
#   resume  xfer-send --resume / xfer-recv --resume into that directory, no proxy.
# Each repetition runs full, cut, resume for one mode, then for the other. Wall time is the
# sender's, from launch to exit; CPU from /usr/bin/time; the rest from both programs' JSON lines.
# Every copy is checked (diff -r; type, mode, size and mtime of every entry; no staging left).
#
#   bench/resume.sh [--xfer-bin DIR] [--reps N] [--data DIR] [--workdir DIR] [--out FILE]
#
# --xfer-bin: xfer-send and xfer-recv built from the current tree (default /tmp/bench-build, as
#   bench/run.sh builds them). --reps: repetitions (default 5). --data: the tree to send (default
#   the db dataset, /dev/shm/xfer-bench/datasets/db/sqldata). --workdir: copies and logs (default
#   /dev/shm/xfer-resume-bench; kept on tmpfs; removed at the end unless a run failed).
#   --out: the markdown results (default bench/results/resume-<date>.md).
#   --pin: run the sender on CPU 0 and the receiver on CPU 1 (two one-core "hosts").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
xfer_bin=/tmp/bench-build
reps=5
data=/dev/shm/xfer-bench/datasets/db/sqldata
workdir=/dev/shm/xfer-resume-bench
out="$here/results/resume-$(date +%Y-%m-%d-%H%M).md"
command_line="bench/resume.sh $*"
pin=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --xfer-bin) xfer_bin=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --data) data=${2%/}; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --pin) pin=1; shift ;;
    *) echo "resume.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
# --pin: the sender on CPU 0, the receiver on CPU 1, as two one-core hosts would be.
send_on=() recv_on=()
if ((pin)); then send_on=(taskset -c 0) recv_on=(taskset -c 1); fi

for program in xfer-send xfer-recv; do
  if [[ ! -x "$xfer_bin/$program" ]]; then
    echo "resume.sh: $xfer_bin/$program not found; build xfer from this tree there first:" >&2
    echo "  cmake -S . -B $xfer_bin -DCMAKE_BUILD_TYPE=RelWithDebInfo &&" \
      "cmake --build $xfer_bin --target xfer-send xfer-recv" >&2
    exit 2
  fi
done
if [[ ! -d "$data" ]]; then
  echo "resume.sh: $data not found; build the db dataset once with" >&2
  echo "  sudo bench/run.sh --datasets db --scenarios loopback --reps 1" >&2
  echo "(or bench/datasets/make_db.sh), or pass --data DIR" >&2
  exit 2
fi
usage_error() { echo "resume.sh: $*" >&2; exit 2; }
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || usage_error "--reps: not a positive number"
[[ -x /usr/bin/time ]] || usage_error "needs /usr/bin/time (apt-get install time)"
for program in xfer-send xfer-recv; do
  grep -q -- --resume <<< "$("$xfer_bin/$program" --help)" ||
    usage_error "$xfer_bin/$program has no --resume: rebuild it from this tree"
done

limit=120  # seconds: every process of a run is killed (as a process group) past this
declare -A live  # pids of running process groups, until reaped
keep=0
cleanup() {
  local pid
  for pid in "${!live[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  rm -rf "$workdir/dst"
  if [[ "$keep" -eq 1 ]]; then
    echo "resume.sh: logs kept in $workdir/runs" >&2
  else
    rm -rf "$workdir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { keep=1; echo "resume.sh: $*" >&2; exit 1; }

rm -rf "$workdir"
mkdir -p "$workdir/runs"
chmod 700 "$workdir"

# Starts "$@" in the background with stdout on a fresh pipe. timeout makes each process a group
# leader, so cleanup kills its whole group. Sets bg_pid and bg_fd (read end of the pipe).
start_bg() {
  mkfifo -m 600 "$workdir/fifo"
  exec {bg_fd}<>"$workdir/fifo"
  rm "$workdir/fifo"
  "$@" >&"$bg_fd" &
  bg_pid=$!
  live[$bg_pid]=1
}

# Waits for a process started in the background; sets rc to its exit status.
reap() {
  rc=0
  wait "$1" || rc=$?
  unset "live[$1]"
}

# One transfer of $data into $workdir/dst, results in $1 (a new directory): sender and receiver
# JSON, /usr/bin/time lines, stderr, exit codes, wall seconds. $2: the sender's mode flags.
# $3: "" (direct), "count" (through the proxy, counting) or N (through the proxy, cut after N).
transfer() {
  local run=$1 flags=$2 proxy=$3 ticket scheme port rest secret line t0 t1 rc
  mkdir -p "$run" "$workdir/dst"
  start_bg timeout "$limit" /usr/bin/time -f '%e %U %S %M' -o "$run/recv.time" \
    "${recv_on[@]}" "$xfer_bin/xfer-recv" --listen 127.0.0.1 --resume "$workdir/dst" 2>"$run/recv.err"
  local recv_pid=$bg_pid recv_fd=$bg_fd proxy_pid='' proxy_fd=''
  read -r -t 30 ticket <&"$recv_fd" || fail "$run: xfer-recv printed no ticket within 30 s"
  IFS=: read -r scheme port rest <<<"$ticket"
  secret=${rest%%:*}
  [[ "$scheme" == xfer1 && -n "$secret" ]] || fail "$run: xfer-recv's first line is not a ticket"
  if [[ -n "$proxy" ]]; then
    local cut=0
    [[ "$proxy" == count ]] || cut=$proxy
    start_bg timeout "$limit" python3 "$here/resume_proxy.py" --upstream "$port" \
      --cut-after "$cut" 2>"$run/proxy.err"
    proxy_pid=$bg_pid proxy_fd=$bg_fd
    read -r -t 30 line <&"$proxy_fd" || fail "$run: the proxy did not start"
    ticket="$scheme:${line#port }:$rest"
  fi
  # In the background and waited for, so that a signal to this script is handled at once.
  t0=$EPOCHREALTIME
  printf '%s\n' "$ticket" | timeout "$limit" /usr/bin/time -f '%e %U %S %M' -o "$run/send.time" \
    "${send_on[@]}" "$xfer_bin/xfer-send" --resume --to 127.0.0.1 ${flags:+"$flags"} "$data" >"$run/send.json" \
    2>"$run/send.err" &
  live[$!]=1
  reap $!
  t1=$EPOCHREALTIME
  echo "$rc" >"$run/send.rc"
  echo "$t0 $t1" | awk '{ printf "%.6f\n", $2 - $1 }' >"$run/wall"
  reap "$recv_pid"
  echo "$rc" >"$run/recv.rc"
  # Its ticket line was read; what is left is the JSON line, if it succeeded.
  if read -r -t 1 line <&"$recv_fd"; then echo "$line" >"$run/recv.json"; fi
  exec {recv_fd}<&-
  if [[ -n "$proxy_pid" ]]; then
    reap "$proxy_pid"
    [[ "$rc" -eq 0 ]] || fail "$run: the proxy exited with $rc (see $run/proxy.err)"
    read -r -t 1 line <&"$proxy_fd" || fail "$run: the proxy printed no counts"
    echo "$line" >"$run/proxy.json"
    exec {proxy_fd}<&-
  fi
  if grep -rqF -- "$secret" "$run"; then fail "$run: the ticket's secret leaked into the logs"; fi
}

# Both ends succeeded and $workdir/dst holds exactly a copy of $data.
check_copy() {
  local run=$1 name
  name=$(basename "$data")
  [[ "$(cat "$run/send.rc") $(cat "$run/recv.rc")" == "0 0" ]] ||
    fail "$run: exit codes send $(cat "$run/send.rc"), recv $(cat "$run/recv.rc") (see $run/*.err)"
  [[ "$(ls -A "$workdir/dst")" == "$name" ]] ||
    fail "$run: destination holds $(ls -A "$workdir/dst" | tr '\n' ' ') instead of $name alone"
  timeout "$limit" diff -r --no-dereference "$data" "$workdir/dst/$name" >"$run/diff" ||
    fail "$run: the copy differs from the source (see $run/diff)"
  local listing='%y %m %s %T@ %l %P\n'
  diff <(cd "$data" && find . -printf "$listing" | sort) \
    <(cd "$workdir/dst/$name" && find . -printf "$listing" | sort) >"$run/listing.diff" ||
    fail "$run: the copy's types, modes, sizes or mtimes differ (see $run/listing.diff)"
}

declare -A cut_at
modes=(default no-compress)
declare -A mode_flags=([default]="" [no-compress]="--no-compress")

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "resume.sh: source $data; calibrating the cut (one transfer per mode through the proxy)" >&2
for mode in "${modes[@]}"; do
  run="$workdir/runs/calibrate-$mode"
  transfer "$run" "${mode_flags[$mode]}" count
  check_copy "$run"
  rm -rf "$workdir/dst"
  total=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["to_upstream"])' \
    "$run/proxy.json")
  cut_at[$mode]=$((total * 8 / 10))
done

for ((rep = 1; rep <= reps; rep++)); do
  for mode in "${modes[@]}"; do
    base="$workdir/runs/$rep-$mode"
    transfer "$base-full" "${mode_flags[$mode]}" ""
    check_copy "$base-full"
    rm -rf "$workdir/dst"

    # Cut: both sides must fail on their own (exit 1, not a timeout) and leave the journal.
    transfer "$base-cut" "${mode_flags[$mode]}" "${cut_at[$mode]}"
    codes="$(cat "$base-cut/send.rc") $(cat "$base-cut/recv.rc")"
    [[ "$codes" == "1 1" ]] || fail "$base-cut: exit codes send, recv: $codes; expected 1 1"
    compgen -G "$workdir/dst/.xfer-staging-*.journal" >/dev/null ||
      fail "$base-cut: no journal left in the destination"

    transfer "$base-resume" "${mode_flags[$mode]}" ""
    check_copy "$base-resume"
    rm -rf "$workdir/dst"
    echo "resume.sh: rep $rep $mode: full $(cat "$base-full/wall") s," \
      "resume $(cat "$base-resume/wall") s" >&2
  done
done

mkdir -p "$(dirname "$out")"
python3 - "$workdir/runs" "$reps" "$out" "$command_line" "$data" "$here/.." "$(nproc)" \
  "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$("$xfer_bin/xfer-send" --version), built $(date -r "$xfer_bin/xfer-send" '+%F %T')" <<'EOF'
import json, os, statistics, sys

runs, reps, out, command, data, repo, nproc, load_start, load_end, version = sys.argv[1:]
reps = int(reps)
med = statistics.median


def load_run(name):
    """One run directory: wall seconds, both JSON lines, the proxy's counts, CPU per side."""
    def text(f):
        p = os.path.join(runs, name, f)
        return open(p).read().strip() if os.path.exists(p) else ""
    def cpu(f):  # /usr/bin/time's last line: elapsed user system maxrss_kib
        _, user, system, _ = text(f).splitlines()[-1].split()
        return float(user) + float(system)
    return {"wall": float(text("wall")), "send": json.loads(text("send.json") or "{}"),
            "recv": json.loads(text("recv.json") or "{}"),
            "proxy": json.loads(text("proxy.json") or "{}"),
            "cpu_send": cpu("send.time"), "cpu_recv": cpu("recv.time")}


def commit():
    """The commit the tree is at, read from .git without running git."""
    try:
        head = open(os.path.join(repo, ".git", "HEAD")).read().strip()
        if not head.startswith("ref: "):
            return head[:12]
        path = os.path.join(repo, ".git", head[5:])
        if os.path.exists(path):
            return open(path).read().strip()[:12]
        for line in open(os.path.join(repo, ".git", "packed-refs")):
            if line.rstrip().endswith(" " + head[5:]):
                return line.split()[0][:12]
    except OSError:
        pass
    return "unknown"


def span(xs, digits=2):  # median (min–max)
    f = lambda x: f"{x:.{digits}f}"
    return f"{f(med(xs))} ({f(min(xs))}–{f(max(xs))})"


def pair(a, b):  # two medians
    return f"{med(a):.2f} / {med(b):.2f}"


columns = ["mode", "cut at: s→r bytes of a whole transfer", "held: resumed / bytes", "full s",
           "resume s", "resume / full", "wire MB full / resume", "sender JSON s full / resume",
           "receiver JSON s full / resume", "CPU s send / recv, full",
           "CPU s send / recv, resume", "sender CPU s on held bytes, est."]
lines = [f"# Resume after 80% of {os.path.basename(data)} (issue 5)", "",
         f"`{command}`; {version}; tree at {commit()} when summarized; nproc {nproc}; load "
         f"average (1, 5, 15 min) {load_start} at start, {load_end} at end. Loopback, tmpfs to "
         f"tmpfs; wall = the sender's, launch to exit; medians (min–max) over {reps} "
         f"repetitions.", "",
         "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
per_rep = []
for mode in ("default", "no-compress"):
    whole = load_run(f"calibrate-{mode}")["proxy"]["to_upstream"]
    cut = load_run(f"1-{mode}-cut")["proxy"]["to_upstream"]
    full = [load_run(f"{r}-{mode}-full") for r in range(1, reps + 1)]
    res = [load_run(f"{r}-{mode}-resume") for r in range(1, reps + 1)]
    held = [b["send"]["resumed_bytes"] / b["send"]["bytes"] for b in res]
    ratio = [b["wall"] / a["wall"] for a, b in zip(full, res)]
    held_cpu = [b["cpu_send"] - (1 - h) * a["cpu_send"] for a, b, h in zip(full, res, held)]
    wire = lambda rs: [r["recv"]["wire_bytes"] / 1e6 for r in rs]
    cells = [mode, f"{cut:,} of {whole:,} ({100 * cut / whole:.1f}%)", span(held, 3),
             span([a["wall"] for a in full]), span([b["wall"] for b in res]),
             f"**{span(ratio)}**", f"{med(wire(full)):.0f} / {med(wire(res)):.0f}",
             pair([a["send"]["seconds"] for a in full], [b["send"]["seconds"] for b in res]),
             pair([a["recv"]["seconds"] for a in full], [b["recv"]["seconds"] for b in res]),
             pair([a["cpu_send"] for a in full], [a["cpu_recv"] for a in full]),
             pair([b["cpu_send"] for b in res], [b["cpu_recv"] for b in res]),
             f"{med(held_cpu):.2f}"]
    lines.append("| " + " | ".join(cells) + " |")
    for r, (a, b) in enumerate(zip(full, res), 1):
        per_rep.append(f"| {r} | {mode} | {a['wall']:.3f} | {b['wall']:.3f} | "
                       f"{b['wall'] / a['wall']:.3f} | {b['send']['resumed_files']} | "
                       f"{b['send']['resumed_bytes']:,} | {a['recv']['wire_bytes']:,} | "
                       f"{b['recv']['wire_bytes']:,} |")
lines += ["", "Wire MB: the receiver's wire_bytes (both directions). Held: the resume's "
          "resumed_bytes over its bytes. CPU: user + system of each program (/usr/bin/time). "
          "Sender CPU on held bytes: what reading and hashing the held part cost the sender, "
          "estimated per repetition as its resume CPU - (1 - held) x its full CPU.", "",
          "| rep | mode | full s | resume s | ratio | resumed files | resumed bytes | "
          "wire bytes full | wire bytes resume |", "|---|---|---|---|---|---|---|---|---|"]
text = "\n".join(lines + per_rep) + "\n"
open(out, "w").write(text)
print(text)
print(f"resume.sh: written to {out}", file=sys.stderr)
EOF
