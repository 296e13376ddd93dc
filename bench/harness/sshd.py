"""A private sshd for the rsync contender.

The harness makes its own host key, client key, authorized_keys and known_hosts under
the work dir, and starts one sshd per run on a non-default port bound to the receiver's
namespace address only. `sshd -d` serves exactly one connection and then exits, which
makes it a side like any other: its wait4() rusage includes the rsync server it spawned.
(-d also logs at debug level 1 to stderr: a few dozen lines per connection, not per packet.)
"""

import os
import shlex
import subprocess

HOST_ALIAS = "xbench-sshd"


class SshSetup:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "ssh")
        self.host_key = os.path.join(self.dir, "host_ed25519")
        self.client_key = os.path.join(self.dir, "client_ed25519")
        self.authorized = os.path.join(self.dir, "authorized_keys")
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        self.config = os.path.join(self.dir, "sshd_config")

    def prepare(self):
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        for key in (self.host_key, self.client_key):
            if not os.path.exists(key):
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "xfer-bench",
                                "-f", key], check=True, timeout=60)
        with open(self.client_key + ".pub") as f:
            pub = f.read()
        with open(self.authorized, "w") as f:
            f.write(pub)
        with open(self.host_key + ".pub") as f:
            host_pub = f.read().split()
        with open(self.known_hosts, "w") as f:
            f.write(f"{HOST_ALIAS} {host_pub[0]} {host_pub[1]}\n")
        with open(self.config, "w") as f:
            f.write(f"""# xfer benchmark: throwaway sshd, one connection, namespace address only
HostKey {self.host_key}
AuthorizedKeysFile {self.authorized}
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
""")
        # The privilege-separation directory; a fresh install makes it only when its own
        # service starts, which the benchmark never does.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)

    def server_argv(self, addr, port):
        return ["/usr/sbin/sshd", "-d", "-e", "-f", self.config,
                "-o", f"ListenAddress={addr}:{port}"]

    def ssh_command(self, port):
        """The -e argument for rsync: batch mode, our key, our known_hosts, strict checking."""
        opts = ["ssh", "-F", "none", "-p", str(port), "-i", self.client_key,
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", f"HostKeyAlias={HOST_ALIAS}", "-o", "StrictHostKeyChecking=yes",
                "-o", "ConnectTimeout=30"]
        return " ".join(shlex.quote(o) for o in opts)
