"""Benchmark: SCPI write-then-query round trip on loopback (not a test).

Starts a tiny SCPI server in a child process (so it does not share this process's GIL)
on 127.0.0.1 and times one ``VOLT <x>`` write followed by a ``VOLT?`` query, as a step
that sets and reads back does:

  (a) raw socket with TCP_NODELAY: the floor for this exchange in Python;
  (b) pyvisa-py with its default socket options (Nagle on);
  (c) drivers.scpi.visa.VisaTransport (pyvisa-py + TCP_NODELAY on the session socket,
      I/O straight on that socket);
  (d) the same with ``direct_socket_io=False``: every message through pyvisa-py.

Prints median and p95 per variant and the ratio (c)/(a); the goal is ≤ 1.3x.
Run: ``.venv/bin/python bench/scpi_roundtrip.py [--pairs N]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import socketserver
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyvisa

from drivers.scpi.visa import VisaTransport


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        volts = b"0"
        for raw in self.rfile:
            command = raw.strip()
            if command.startswith(b"VOLT "):
                volts = command[5:]
            elif command == b"VOLT?":
                self.wfile.write(volts + b"\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _serve(ready: multiprocessing.Queue[int]) -> None:
    with _Server(("127.0.0.1", 0), _Handler) as server:
        ready.put(server.server_address[1])
        server.serve_forever(poll_interval=0.05)


def _time(pair: Callable[[int], None], pairs: int) -> list[float]:
    pair(-1)  # warm-up
    durations = []
    for i in range(pairs):
        start = time.perf_counter()
        pair(i)
        durations.append(time.perf_counter() - start)
    return durations


def _summary(name: str, durations: list[float]) -> float:
    median = statistics.median(durations)
    p95 = statistics.quantiles(durations, n=20)[-1]
    print(
        f"{name:<44} median {median * 1e6:9.1f} µs   p95 {p95 * 1e6:9.1f} µs   n={len(durations)}"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000, help="pairs for (a) and (c)")
    parser.add_argument("--nagle-pairs", type=int, default=50, help="pairs for (b) (~44 ms each)")
    args = parser.parse_args()

    ready: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ready,), daemon=True)
    server.start()
    port = ready.get(timeout=10)
    resource = f"TCPIP0::127.0.0.1::{port}::SOCKET"
    try:
        # (b) pyvisa-py defaults: few pairs, each waits for a delayed ACK.
        rm = pyvisa.ResourceManager("@py")
        res: Any = rm.open_resource(resource, read_termination="\n", write_termination="\n")

        def pyvisa_pair(i: int) -> None:
            res.write(f"VOLT {i}")
            res.query("VOLT?")

        nagle = _time(pyvisa_pair, args.nagle_pairs)
        res.close()

        # (a) raw socket with TCP_NODELAY and (c) VisaTransport, measured in alternating
        # blocks so that both see the same background load on a shared machine.
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")
        transport = VisaTransport(resource)
        assert transport.nodelay_enabled() and transport.direct_socket_io
        through = VisaTransport(resource, direct_socket_io=False)
        assert through.nodelay_enabled() and not through.direct_socket_io

        def raw_pair(i: int) -> None:
            sock.sendall(f"VOLT {i}\n".encode())
            sock.sendall(b"VOLT?\n")
            reader.readline()

        def transport_pair(i: int) -> None:
            transport.write(f"VOLT {i}")
            transport.query("VOLT?")

        def through_pair(i: int) -> None:
            through.write(f"VOLT {i}")
            through.query("VOLT?")

        raw_times: list[float] = []
        our_times: list[float] = []
        through_times: list[float] = []
        block = 100
        for _ in range(max(1, args.pairs // block)):
            raw_times += _time(raw_pair, block)
            our_times += _time(transport_pair, block)
            through_times += _time(through_pair, block)
        reader.close()
        sock.close()
        transport.close()
        through.close()
        rm.close()
    finally:
        server.terminate()
        server.join(timeout=5)

    raw = _summary("(a) raw socket + TCP_NODELAY", raw_times)
    default = _summary("(b) pyvisa-py default (Nagle on)", nagle)
    ours = _summary("(c) VisaTransport (pyvisa-py + TCP_NODELAY)", our_times)
    _summary("(d) VisaTransport, direct_socket_io=False", through_times)
    print(f"ratio (b)/(c) = {default / ours:.0f}x (what TCP_NODELAY saves)")
    print(f"scpi_write_query: {ours * 1e6:.0f} µs ({ours / raw:.2f}x raw TCP_NODELAY socket)")


if __name__ == "__main__":
    main()
