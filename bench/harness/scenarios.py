"""Where the two sides run, and how the bytes between them are counted.

Every scenario lives in network namespaces the harness creates (bench/netns.sh), so the
only traffic in them is ours and no address outside this machine is ever involved:

  loopback  both sides in namespace xb-lo, 127.0.0.1, tmpfs to tmpfs; both ends share
            the 2 cores, so this measures CPU cost.
  1g, 10g   sender in xb-snd (10.77.0.1), receiver in xb-rcv (10.77.0.2), a veth pair
            shaped by tbf to 1 or 10 Gbit/s in each direction: the link is the bottleneck.

Bytes on the wire are counted by nftables in each namespace's output hook: packets to the
receiver's listening port (data, sender to receiver) and from it (ACKs and answers). The
counters see whole IP packets, headers included, exactly once each, and nothing of any
other process on the machine.
"""

import json
import os
import subprocess

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETNS_SH = os.path.join(BENCH_DIR, "netns.sh")


class Scenario:
    def __init__(self, name, description, send_ns, recv_ns, recv_addr, rate=None):
        self.name = name
        self.description = description
        self.send_ns = send_ns
        self.recv_ns = recv_ns
        self.recv_addr = recv_addr
        self.rate = rate

    @property
    def namespaces(self):
        return sorted({self.send_ns, self.recv_ns})

    def up(self):
        args = ["loopback"] if self.rate is None else ["link", self.rate]
        subprocess.run([NETNS_SH] + args, check=True, timeout=60)

    def down(self):
        subprocess.run([NETNS_SH, "down"], check=False, timeout=60)

    def arm_counters(self, port):
        """(Re)creates the counters for this run's listening port, at zero."""
        rules = f"""
table inet xbench {{
  counter to_recv {{}}
  counter from_recv {{}}
  chain out {{
    type filter hook output priority 0; policy accept;
    tcp dport {port} counter name to_recv
    tcp sport {port} counter name from_recv
  }}
}}
"""
        for ns in self.namespaces:
            # "add" then "delete" makes the delete safe when the table does not exist yet.
            script = "add table inet xbench\ndelete table inet xbench\n" + rules
            subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=script.encode(),
                           check=True, timeout=30)

    def read_counters(self):
        total = {"to_recv": 0, "from_recv": 0}
        for ns in self.namespaces:
            out = subprocess.run(["ip", "netns", "exec", ns, "nft", "-j", "list", "counters"],
                                 check=True, timeout=30, capture_output=True).stdout
            for item in json.loads(out)["nftables"]:
                c = item.get("counter")
                if c and c["table"] == "xbench" and c["name"] in total:
                    total[c["name"]] += c["bytes"]
        return total

    def is_listening(self, port):
        out = subprocess.run(["ip", "netns", "exec", self.recv_ns, "ss", "-ltnH",
                              f"sport = :{port}"], capture_output=True, timeout=10).stdout
        return bool(out.strip())


SCENARIOS = {
    "loopback": Scenario("loopback", "loopback (one namespace, 127.0.0.1), tmpfs to tmpfs",
                         "xb-lo", "xb-lo", "127.0.0.1"),
    "1g": Scenario("1g", "veth between two namespaces, tbf 1 Gbit/s, tmpfs to tmpfs",
                   "xb-snd", "xb-rcv", "10.77.0.2", rate="1gbit"),
    "10g": Scenario("10g", "veth between two namespaces, tbf 10 Gbit/s, tmpfs to tmpfs",
                    "xb-snd", "xb-rcv", "10.77.0.2", rate="10gbit"),
}
