"""iperf3's throughput on the same path, one TCP stream: the ceiling for every contender.

It runs interleaved with the contenders (once per repetition, its turn rotating like
theirs), so it sees the same neighbours' load as they do.
"""

import json
import os
import shutil
import time

from procs import Side


def measure(bench, scenario, dataset, rep, seconds):
    rundir = bench.new_run_dir(f"{scenario.name}-{dataset.name}-iperf3-{rep}")
    port = bench.next_port()
    addr = scenario.recv_addr
    server = Side("recv", scenario.recv_ns, ["iperf3", "-s", "-1", "-B", addr, "-p", str(port)],
                  stdout_path=os.path.join(rundir, "recv.out"),
                  stderr_path=os.path.join(rundir, "recv.err"))
    client = None
    result = {"scenario": scenario.name, "dataset": dataset.name, "rep": rep,
              "seconds": seconds, "bits_per_second": None}
    try:
        server.start()
        deadline = time.monotonic() + 30
        while not scenario.is_listening(port) and server.running:
            if time.monotonic() > deadline:
                result["error"] = "iperf3 server never listened"
                return result
            time.sleep(0.02)
        client = Side("send", scenario.send_ns,
                      ["iperf3", "-c", addr, "-p", str(port), "-t", str(seconds), "-J"],
                      stdout_path=os.path.join(rundir, "send.out"),
                      stderr_path=os.path.join(rundir, "send.err"))
        client.start()
        client.wait(seconds + 30)
        server.wait(10)
    finally:
        for side in (client, server):
            if side is not None:
                side.kill()
    try:
        with open(client.stdout_path) as f:
            report = json.load(f)
        result["bits_per_second"] = report["end"]["sum_received"]["bits_per_second"]
        shutil.rmtree(rundir)
    except (ValueError, KeyError, FileNotFoundError) as e:
        result["error"] = f"no iperf3 result ({e}); logs in {rundir}"
    return result
