"""One transfer of one dataset by one contender in one scenario, measured and checked.

Sequence: start the receiver; wait until its port is listening (polling `ss -ltn` in its
namespace; for xfer, first read the ticket it prints); arm the wire counters; start the
sender (the clock starts here); wait for both to exit, each with a deadline; read the
counters; compare the received tree with the source. Wall time ends when the later of the
two sides exits, i.e. when the data is on the receiver and every process is done.
"""

import json
import os
import shutil
import time

from contenders import RunContext
from procs import Side, Sampler

READY_TIMEOUT = 30       # seconds for a receiver to start listening
PREWARM_CHUNK = 1 << 20
PEER_GRACE = 10          # seconds the other side gets once one side has failed


def _poll(predicate, deadline, interval=0.02):
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def _read_ticket(path):
    try:
        with open(path) as f:
            line = f.readline()
    except FileNotFoundError:
        return None
    return line.strip() if line.endswith("\n") else None


def _wait_ready(contender, scenario, recv, rc, rundir):
    """The receiver's port once it listens, or None. Writes the ticket file for xfer."""
    deadline = time.monotonic() + READY_TIMEOUT
    port = rc.port
    if contender.ticket:
        ticket = _poll(lambda: _read_ticket(recv.stdout_path) or (not recv.running and "dead"),
                       deadline)
        if not ticket or ticket == "dead":
            return None
        with open(os.path.join(rundir, "ticket"), "w") as f:
            f.write(ticket + "\n")
        port = int(ticket.split(":")[1])
    ok = _poll(lambda: scenario.is_listening(port) or not recv.running, deadline)
    return port if ok and recv.running else None


def prewarm(directory, nbytes):
    """Writes nbytes of zeros to a file in directory and deletes it.

    In this VM (virtio-balloon free page reporting), memory that stayed free for a few
    seconds goes back to the host, and the next process to touch it pays a host page fault
    per page: about 1.3 s of kernel time per GB, on whichever receiver writes the copy. A
    transfer that follows a long pause (iperf3, building a dataset) pays it, one that follows
    a same-size copy's deletion mostly does not. Touching the memory just before each
    transfer gives every contender and every size the same, recently used, memory."""
    path = os.path.join(directory, "prewarm")
    zeros = bytes(PREWARM_CHUNK)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(-(-nbytes // PREWARM_CHUNK)):
            os.write(fd, zeros)
    finally:
        os.close(fd)
        os.unlink(path)


def _failed(side, ok_exits):
    return not side.running and side.exit_code() not in ok_exits


def _wait_both(send, recv, recv_ok_exits, deadline):
    """None when both exited by themselves, else why they had to be killed."""
    failed_at = None
    while send.running or recv.running:
        now = time.monotonic()
        if now >= deadline:
            return "timeout"
        if failed_at is None and (_failed(send, (0,)) or _failed(recv, recv_ok_exits)):
            failed_at = now
        if failed_at is not None and now - failed_at > PEER_GRACE:
            return "one side failed and the other did not exit"
        (send if send.running else recv).wait(0.05)
    return None


def _last_line(path):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return ""
    return lines[-1][:200] if lines else ""


def _xfer_json(path):
    line = _last_line(path)
    try:
        return json.loads(line)
    except ValueError:
        return None


def run_transfer(bench, contender, scenario, dataset, rep):
    rundir = bench.new_run_dir(f"{scenario.name}-{dataset.name}-{contender.name}-{rep}")
    dst = os.path.join(rundir, "dst")
    os.makedirs(dst)
    try:
        return _transfer(bench, contender, scenario, dataset, rep, rundir, dst)
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM, a harness error): the partial copy can be GBs of
        # tmpfs, i.e. RAM; it must not outlive the run.
        shutil.rmtree(rundir, ignore_errors=True)
        raise


def _transfer(bench, contender, scenario, dataset, rep, rundir, dst):
    rc = RunContext(os.path.dirname(dataset.path), dataset.payload, dst, scenario.recv_addr,
                    None if contender.ticket else bench.next_port(), bench.xfer_bin,
                    bench.xfer_threads, bench.ssh)
    result = {"scenario": scenario.name, "dataset": dataset.name, "rep": rep,
              "contender": contender.name, "settings": contender.settings(rc),
              "loadavg_before": os.getloadavg(), "status": "ok", "reason": None}
    recv = Side("recv", scenario.recv_ns, contender.recv_argv(rc),
                stdout_path=os.path.join(rundir, "recv.out"),
                stderr_path=os.path.join(rundir, "recv.err"))
    send = None
    if bench.prewarm:
        # Apparent bytes: an upper bound of what the copy takes (tar writes holes out).
        prewarm(rundir, dataset.describe()["bytes"])
    try:
        with Sampler() as sampler:
            recv.start()
            sampler.watch(recv)
            port = _wait_ready(contender, scenario, recv, rc, rundir)
            if port is None:
                return _fail(result, "receiver never listened: " + _last_line(recv.stderr_path),
                             rundir, recv, None)
            scenario.arm_counters(port)
            send = Side("send", scenario.send_ns, contender.send_argv(rc),
                        stdin_path=os.path.join(rundir, "ticket") if contender.ticket else None,
                        stdout_path=os.path.join(rundir, "send.out"),
                        stderr_path=os.path.join(rundir, "send.err"))
            send.start()
            sampler.watch(send)
            killed_why = _wait_both(send, recv, contender.recv_ok_exits,
                                    time.monotonic() + bench.timeout_for(dataset))
    finally:
        for side in (send, recv):
            if side is not None:
                side.kill()
    result["wall_s"] = max(send.t_end, recv.t_end) - send.t_start
    result["send"], result["recv"] = send.figures(), recv.figures()
    result["wire"] = scenario.read_counters()
    if contender.ticket:
        result["xfer_send_json"] = _xfer_json(send.stdout_path)
        result["xfer_recv_json"] = _xfer_json(recv.stdout_path)
    if killed_why:
        return _fail(result, killed_why, rundir, recv, send)
    for side, ok in ((send, (0,)), (recv, contender.recv_ok_exits)):
        if side.exit_code() not in ok:
            return _fail(result, f"{side.role} exit {side.exit_code()}: "
                         + _last_line(side.stderr_path), rundir, recv, send)
    problem = bench.verify(dataset, os.path.join(dst, dataset.payload), contender.mtime)
    if problem:
        return _fail(result, "copy differs: " + problem, rundir, recv, send)
    shutil.rmtree(rundir)
    return result


def _fail(result, reason, rundir, recv, send):
    """Marks the run FAILED; keeps its logs (not the copied data) for a look."""
    result["status"], result["reason"] = "FAILED", reason
    if "send" not in result:
        result["send"] = send.figures() if send else None
        result["recv"] = recv.figures()
    result["logs"] = rundir
    shutil.rmtree(os.path.join(rundir, "dst"), ignore_errors=True)
    return result
