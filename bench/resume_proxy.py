#!/usr/bin/env python3
"""One-connection TCP proxy for bench/resume.sh: forwards 127.0.0.1:PORT <-> 127.0.0.1:UPSTREAM.

Prints "port N" once it listens, accepts one connection, connects it to UPSTREAM and forwards
both directions on two threads, each splice()ing up to 1 MiB at a time through a pipe (no copy
into Python, so a ~1 GB/s stream is not slowed much). With --cut-after N it forwards exactly
N client->upstream bytes and then cuts both directions: shutdown() and close() of both sockets,
as a network that dies mid-transfer would look to each end. Without it, it forwards until both
directions end (a half-close is passed on), to count a whole transfer. Last line on stdout, JSON:
{"to_upstream": bytes, "to_client": bytes, "cut": bool}. It never sees the ticket.
"""
import argparse
import fcntl
import json
import os
import socket
import sys
import threading

BUFFER = 1 << 20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", type=int, required=True, help="port to forward to")
    parser.add_argument("--cut-after", type=int, default=0,
                        help="client->upstream bytes after which to cut (0: never)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for a client")
    args = parser.parse_args()

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(args.timeout)
    print("port", listener.getsockname()[1], flush=True)
    client, _ = listener.accept()
    listener.close()
    client.settimeout(None)
    upstream = socket.create_connection(("127.0.0.1", args.upstream), timeout=10)
    upstream.settimeout(None)

    counts = {"to_upstream": 0, "to_client": 0, "cut": False}
    cut_lock = threading.Lock()

    def cut(planned=False):
        with cut_lock:
            counts["cut"] |= planned
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def pump(src, dst, key, limit):
        pipe_out, pipe_in = os.pipe()
        fcntl.fcntl(pipe_in, fcntl.F_SETPIPE_SZ, BUFFER)
        try:
            while True:
                want = BUFFER if not limit else min(BUFFER, limit - counts[key])
                n = os.splice(src.fileno(), pipe_in, want) if want > 0 else 0
                if n == 0:
                    break
                while n > 0:  # counted once in dst, so the cut falls on the exact byte
                    moved = os.splice(pipe_out, dst.fileno(), n)
                    n -= moved
                    counts[key] += moved
                if limit and counts[key] >= limit:
                    cut(planned=True)
                    return
            dst.shutdown(socket.SHUT_WR)  # pass the end of this direction on
        except OSError:
            cut()  # one end failed or the other thread cut: make sure both directions stop
        finally:
            os.close(pipe_out)
            os.close(pipe_in)

    threads = [
        threading.Thread(target=pump, args=(client, upstream, "to_upstream", args.cut_after)),
        threading.Thread(target=pump, args=(upstream, client, "to_client", 0)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    upstream.close()
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    sys.exit(main())
