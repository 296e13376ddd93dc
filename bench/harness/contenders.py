"""The contenders, each as its users run it.

transferpy's commands are copied from its Transferer.py (tar, pigz, openssl chacha20 with
its -bufsize 8 and -iter 310000, nc -4 -q 0 -w 300; a fresh base64 password of 24 random
bytes per transfer on the command line, as it does). Two adaptations to Debian 12, said in
bench/README.md: the listener is `nc -4 -l -w 300 ADDR PORT` (netcat-openbsd also takes
transferpy's `-l -p PORT`, but that binds every address; we bind the namespace address),
and pipelines run under `bash -o pipefail` so a failing stage fails the side.

To add a contender (say an xfer parallel-stream setting) append to CONTENDERS.
"""

import base64
import os
import shlex

NC_SEND = "/bin/nc -4 -q 0 -w 300 {addr} {port}"
NC_LISTEN = "/bin/nc -4 -l -w 300 {addr} {port}"
OPENSSL = "/usr/bin/openssl enc {d}-chacha20 -pass pass:{pw} -bufsize 8 -iter 310000"


class RunContext:
    """Everything one run's commands need."""

    def __init__(self, src_parent, src_name, dst_dir, addr, port, xfer_bin, xfer_threads, ssh):
        self.src_parent = src_parent
        self.src_name = src_name
        self.dst_dir = dst_dir
        self.addr = addr
        self.port = port
        self.xfer_bin = xfer_bin
        self.xfer_threads = xfer_threads
        self.ssh = ssh
        # transferpy: base64.b64encode(os.urandom(24)); throwaway, per transfer.
        self.password = base64.b64encode(os.urandom(24)).decode()


def _bash(script):
    return ["/bin/bash", "-o", "pipefail", "-c", script]


class Pipeline:
    """A tar pipeline into nc, and its mirror image out of nc."""

    ticket = False
    recv_ok_exits = (0,)
    mtime = "s"  # GNU tar's default format keeps whole seconds

    def __init__(self, name, label, send_mid, recv_mid):
        self.name, self.label = name, label
        self.send_mid, self.recv_mid = send_mid, recv_mid  # stages between tar and nc

    def _fmt(self, stage, rc, decrypt):
        return stage.format(pw=rc.password, d="-d " if decrypt else "")

    def send_argv(self, rc):
        stages = [f"/bin/tar cf - {shlex.quote(rc.src_name)}"]
        stages += [self._fmt(s, rc, False) for s in self.send_mid]
        stages.append(NC_SEND.format(addr=rc.addr, port=rc.port))
        return _bash(f"cd {shlex.quote(rc.src_parent)} && " + " | ".join(stages))

    def recv_argv(self, rc):
        stages = [NC_LISTEN.format(addr=rc.addr, port=rc.port)]
        stages += [self._fmt(s, rc, True) for s in self.recv_mid]
        stages.append("/bin/tar xf -")
        return _bash(f"cd {shlex.quote(rc.dst_dir)} && " + " | ".join(stages))

    def settings(self, rc):
        return {}


class Rsync:
    """rsync -a over ssh into a private, single-connection sshd (see sshd.py)."""

    name, label = "rsync-ssh", "rsync -a over ssh"
    ticket = False
    mtime = "ns"
    # sshd -d ends with status 255 after any connection, even a clean one; whether the
    # copy worked is rsync's exit status on the sending side (and the tree check).
    recv_ok_exits = (0, 255)

    def send_argv(self, rc):
        src = os.path.join(rc.src_parent, rc.src_name)
        return ["rsync", "-a", "-e", rc.ssh.ssh_command(rc.port), src,
                f"root@{rc.addr}:{rc.dst_dir}/"]

    def recv_argv(self, rc):
        return rc.ssh.server_argv(rc.addr, rc.port)

    def settings(self, rc):
        return {}


class Xfer:
    """xfer-recv prints the ticket; xfer-send reads it on stdin."""

    ticket = True
    mtime = "ns"
    recv_ok_exits = (0,)

    def __init__(self, name, label, send_flags=(), recv_flags=()):
        self.name, self.label = name, label
        self.send_flags, self.recv_flags = list(send_flags), list(recv_flags)

    def _threads(self, rc):
        return [] if rc.xfer_threads is None else ["--threads", str(rc.xfer_threads)]

    def send_argv(self, rc):
        return ([os.path.join(rc.xfer_bin, "xfer-send"), "--to", rc.addr] + self.send_flags
                + self._threads(rc) + [os.path.join(rc.src_parent, rc.src_name)])

    def recv_argv(self, rc):
        return ([os.path.join(rc.xfer_bin, "xfer-recv"), "--listen", rc.addr] + self.recv_flags
                + self._threads(rc) + [rc.dst_dir])

    def settings(self, rc):
        return {"threads": "default" if rc.xfer_threads is None else rc.xfer_threads,
                "send_flags": self.send_flags, "recv_flags": self.recv_flags}


CONTENDERS = [
    Pipeline("transferpy", "transferpy: tar | pigz | openssl | nc",
             ["/usr/bin/pigz -c", OPENSSL], [OPENSSL, "/usr/bin/pigz -c -d"]),
    Pipeline("transferpy-backup", "transferpy backup: tar | pigz | nc",
             ["/usr/bin/pigz -c"], ["/usr/bin/pigz -c -d"]),
    Pipeline("tar-nc", "tar | nc", [], []),
    Pipeline("tar-zstd-nc", "tar | zstd -T0 -1 | nc",
             ["/usr/bin/zstd -q -T0 -1 -c"], ["/usr/bin/zstd -q -d -c"]),
    Rsync(),
    Xfer("xfer", "xfer (default)"),
    Xfer("xfer-no-compress", "xfer --no-compress", send_flags=["--no-compress"]),
    Xfer("xfer-no-encrypt", "xfer, receiver --no-encrypt", recv_flags=["--no-encrypt"]),
]

BY_NAME = {c.name: c for c in CONTENDERS}
# The two references every ratio is taken against.
REFERENCES = ("transferpy", "tar-nc")
