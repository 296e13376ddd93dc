"""One side of a transfer as a measured process tree.

A side is one command (a shell pipeline, an sshd, an xfer binary) started in its own
session inside a network namespace. Its CPU time comes from wait4()'s rusage, which adds
in every descendant the side reaped (the pipeline's stages, sshd's session children).
Its memory comes from sampling /proc: the sum of the resident sets of its live processes,
because a pipeline's stages hold their memory at the same time (ru_maxrss would only give
the largest single process; that is recorded too). Nothing here waits without a deadline.
"""

import os
import signal
import subprocess
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


class Side:
    def __init__(self, role, netns, argv, *, stdin_path=None, stdout_path, stderr_path):
        self.role = role
        self.argv = ["ip", "netns", "exec", netns] + list(argv)
        self.stdin_path = stdin_path
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path
        self.pid = None
        self.t_start = self.t_end = None
        self.status = None      # raw wait status
        self.rusage = None
        self.killed = False
        self.done = threading.Event()
        self.seen_pids = set()  # every pid the sampler found in this tree (for kill)
        self.peak_rss = 0       # bytes, sum over the tree, sampled
        self.peak_threads = 0   # threads, sum over the tree, sampled

    def start(self):
        stdin = open(self.stdin_path, "rb") if self.stdin_path else subprocess.DEVNULL
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            # ip netns exec execs the command: the pid stays the side's root process.
            self.t_start = time.monotonic()
            proc = subprocess.Popen(self.argv, stdin=stdin, stdout=out, stderr=err,
                                    start_new_session=True, close_fds=True)
        if stdin is not subprocess.DEVNULL:
            stdin.close()
        self.pid = proc.pid
        self._proc = proc
        threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self):
        _, status, ru = os.wait4(self.pid, 0)
        self.t_end = time.monotonic()
        self.status, self.rusage = status, ru
        self._proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not reap it again
        self.done.set()

    def wait(self, timeout):
        return self.done.wait(max(0.0, timeout))

    @property
    def running(self):
        return self.pid is not None and not self.done.is_set()

    def kill(self):
        """SIGKILL the whole tree: the session's group and strays that left it (sshd's
        session child calls setsid)."""
        if not self.running:
            return
        self.killed = True
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in self.seen_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.done.wait(10)

    def exit_code(self):
        return None if self.status is None else os.waitstatus_to_exitcode(self.status)

    def figures(self):
        ru = self.rusage
        return {
            "exit": self.exit_code(),
            "killed": self.killed,
            "seconds": None if self.t_end is None else self.t_end - self.t_start,
            "cpu_user_s": ru.ru_utime if ru else None,
            "cpu_sys_s": ru.ru_stime if ru else None,
            "cpu_s": ru.ru_utime + ru.ru_stime if ru else None,
            "max_single_rss_bytes": ru.ru_maxrss * 1024 if ru else None,
            "peak_rss_bytes": self.peak_rss,
            "peak_threads": self.peak_threads,
        }


def _children(pid):
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(x) for x in f.read().split())
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        pass
    return kids


def _rss_and_threads(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0
    # After "(comm)": field 3 is index 0, so num_threads (20) is 17 and rss (24) is 21.
    return int(fields[21]) * PAGE, int(fields[17])


def sample_tree(side):
    if not side.running:
        return
    rss = threads = 0
    todo = [side.pid]
    while todo:
        pid = todo.pop()
        side.seen_pids.add(pid)
        r, t = _rss_and_threads(pid)
        rss += r
        threads += t
        todo.extend(_children(pid))
    side.peak_rss = max(side.peak_rss, rss)
    side.peak_threads = max(side.peak_threads, threads)


class Sampler:
    """Samples the trees of the sides it watches every `interval` seconds until stopped.
    100 ms costs well under 1% of a core here and catches any buffer held for longer."""

    def __init__(self, interval=0.1):
        self.interval = interval
        self.sides = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def watch(self, side):
        self.sides.append(side)
        sample_tree(side)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    def _loop(self):
        while not self._stop.wait(self.interval):
            for side in list(self.sides):
                sample_tree(side)


def run_bounded(argv, timeout, **kw):
    """subprocess.run for the harness's own helper commands, always with a deadline."""
    return subprocess.run(argv, timeout=timeout, check=True, **kw)
