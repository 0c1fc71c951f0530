"""Benchmark: SCPI write-then-query round trip on loopback (not a test).

Starts a tiny SCPI server in a child process (so it does not share this process's GIL)
on 127.0.0.1 and times one ``VOLT <x>`` write followed by a ``VOLT?`` query, as a step
that sets and reads back does:

  (a) raw socket with TCP_NODELAY: the floor for this exchange in Python;
  (b) pyvisa-py with its default socket options (Nagle on);
  (c) drivers.scpi.visa.VisaTransport (pyvisa-py + TCP_NODELAY on the session socket,
      I/O straight on that socket);
  (d) the same with ``direct_socket_io=False``: every message through pyvisa-py.

(a), (c) and (d) take turns in blocks of 100 pairs; the ratio (c)/(a) is the median of the
ratios of neighbouring blocks' medians, so a block slowed by the machine's other work moves
it little. Beside wall time, this process's CPU time per pair (the server runs in another)
is the work each client adds, whatever the scheduler does. Prints median and p95 per
variant and the ratio (c)/(a); the goal is ≤ 1.3x.

Then a power sample as the lockstep virtual bench takes it: ``VisaTransport`` to the
IT6000C twin (``drivers.sim``'s ``ScpiServer`` on a pack circuit) served inline, answering
on this thread when the transport pumps it (``drivers/loopback.py``), as in a run, output
on:

  (e) one query, ``MEAS:VOLT?``;
  (f) a sample as two queries, ``MEAS:VOLT?`` then ``MEAS:CURR?``;
  (g) a sample as one compound query, ``MEAS:VOLT?;:FETC:CURR?``;
  (h) (g) again, the twin served by a thread of its own (as ``station sim`` serves it),

in alternating blocks; CPU here is the whole process's (client and twin), per sample.
Run: ``.venv/bin/python bench/scpi_roundtrip.py [--pairs N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import socket
import socketserver
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyvisa

from drivers.scpi.visa import VisaTransport
from drivers.sim.clock import ManualTime
from drivers.sim.electrical import PackCircuit
from drivers.sim.instruments.it6000c import It6000cTwin
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec
from drivers.sim.scpi_server import ScpiServer


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


def _time(pair: Callable[[int], None], pairs: int, cpu: list[float] | None = None) -> list[float]:
    """Time ``pairs`` calls of ``pair``; append this process's CPU time per call to ``cpu``."""
    pair(-1)  # warm-up
    durations = []
    started = time.process_time()
    for i in range(pairs):
        start = time.perf_counter()
        pair(i)
        durations.append(time.perf_counter() - start)
    if cpu is not None:
        cpu.append((time.process_time() - started) / pairs)
    return durations


def _summary(name: str, durations: list[float], cpu: list[float] | None = None) -> float:
    median = statistics.median(durations)
    p95 = statistics.quantiles(durations, n=20)[-1]
    cpu_text = f"   CPU {statistics.median(cpu) * 1e6:6.1f} µs" if cpu else ""
    print(
        f"{name:<44} median {median * 1e6:9.1f} µs   p95 {p95 * 1e6:9.1f} µs"
        f"   n={len(durations)}{cpu_text}"
    )
    return median


def _twin_sample(pairs: int) -> tuple[float, float, float]:
    """Time (e)–(h) against IT6000C twins; return (f), (g) and (h) medians in s."""
    with _twin(inline=True) as transport, _twin(inline=False) as threaded:

        def one(i: int) -> None:
            transport.query("MEAS:VOLT?")

        def two(i: int) -> None:
            transport.query("MEAS:VOLT?")
            transport.query("MEAS:CURR?")

        def compound(i: int) -> None:
            transport.query("MEAS:VOLT?;:FETC:CURR?")

        def compound_threaded(i: int) -> None:
            threaded.query("MEAS:VOLT?;:FETC:CURR?")

        samples = {"e": one, "f": two, "g": compound, "h": compound_threaded}
        times: dict[str, list[float]] = {key: [] for key in samples}
        cpu: dict[str, list[float]] = {key: [] for key in samples}
        block = 100
        for _ in range(max(1, pairs // block)):
            for key, sample in samples.items():
                times[key] += _time(sample, block, cpu[key])
    _summary("(e) twin: one query MEAS:VOLT?", times["e"], cpu["e"])
    two_queries = _summary("(f) twin: sample as two queries", times["f"], cpu["f"])
    one_query = _summary("(g) twin: sample as one compound query", times["g"], cpu["g"])
    threaded_query = _summary("(h) (g), the twin on a thread of its own", times["h"], cpu["h"])
    return two_queries, one_query, threaded_query


@contextlib.contextmanager
def _twin(*, inline: bool) -> Iterator[VisaTransport]:
    """A transport to an IT6000C twin sinking 10 A from a pack circuit of its own, the twin
    served ``inline`` (pumped by the transport, as on the lockstep bench) or by a thread."""
    circuit = PackCircuit(Pack(get_pack_spec("nmc96s"), seed=1), ManualTime())
    circuit.close_contactors_settled()
    with ScpiServer(It6000cTwin(circuit)).start(inline=inline) as twin:
        transport = VisaTransport(twin.resource)
        try:
            transport.write("VOLT 300;:CURR:LIM:NEG -10;:OUTP ON")  # sinking 10 A
            assert transport.query("SYST:ERR?").startswith("0,"), "the twin refused the setup"
            yield transport
        finally:
            transport.close()


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
        raw_cpu: list[float] = []
        our_cpu: list[float] = []
        block_ratios: list[float] = []
        block = 100
        for _ in range(max(1, args.pairs // block)):
            raw_block = _time(raw_pair, block, raw_cpu)
            our_block = _time(transport_pair, block, our_cpu)
            through_times += _time(through_pair, block)
            block_ratios.append(statistics.median(our_block) / statistics.median(raw_block))
            raw_times += raw_block
            our_times += our_block
        reader.close()
        sock.close()
        transport.close()
        through.close()
        rm.close()
    finally:
        server.terminate()
        server.join(timeout=5)

    _summary("(a) raw socket + TCP_NODELAY", raw_times, raw_cpu)
    default = _summary("(b) pyvisa-py default (Nagle on)", nagle)
    ours = _summary("(c) VisaTransport (pyvisa-py + TCP_NODELAY)", our_times, our_cpu)
    _summary("(d) VisaTransport, direct_socket_io=False", through_times)
    print(f"ratio (b)/(c) = {default / ours:.0f}x (what TCP_NODELAY saves)")
    added = statistics.median(our_cpu) - statistics.median(raw_cpu)
    print(f"CPU per pair (c) − (a) = {added * 1e6:.1f} µs (the client's own work)")
    two_queries, one_query, threaded_query = _twin_sample(args.pairs)
    ratio = statistics.median(block_ratios)
    print(
        f"(g)/(h) = {one_query / threaded_query:.2f}x: the sample answered on this thread, "
        "against the twin's own thread"
    )
    # The summary lines last, together: bench/run_all.py collects the trailing ones.
    print(f"scpi_write_query: {ours * 1e6:.0f} µs ({ratio:.2f}x raw TCP_NODELAY socket)")
    print(
        f"scpi_twin_sample: {one_query * 1e6:.0f} µs "
        f"({one_query / two_queries:.2f}x the same sample as two queries)"
    )


if __name__ == "__main__":
    main()
