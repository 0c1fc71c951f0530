"""One pack per serial on a long-lived virtual bench: fresh, remembered, forgotten."""

from __future__ import annotations

from drivers.sim.bench import UNITS_KEPT, VirtualBench, unit_seed
from drivers.sim.clock import ManualTime


def test_each_serial_gets_its_own_pack_and_keeps_it() -> None:
    with VirtualBench("lfp16s", now=ManualTime(), bms=True, twins=()) as bench:
        first = bench.pack
        bench.present("LF16A0000001")
        assert bench.pack is first  # the bench's own pack goes to the first serial
        first.faults.contactor_welded = True  # something only this pack has
        bench.present("LF16A0000002")
        second = bench.pack
        assert second is not first and not second.faults.contactor_welded
        assert bench.circuit.pack is second and bench.bms is not None
        assert bench.bms.pack is second and bench.bms.model.pack is second
        assert second.seed == unit_seed(1, "LF16A0000002")
        bench.present("LF16A0000001")
        assert bench.pack is first and first.faults.contactor_welded
        assert bench.bms.diagnostics.identity["serial"] == f"BMS24A{1:07d}"


def test_a_new_pack_is_fresh_even_after_the_previous_one_was_used() -> None:
    time = ManualTime()
    with VirtualBench("lfp16s", now=time, bms=False, twins=()) as bench:
        bench.present("A1")
        with bench.circuit.locked() as pack:
            pack.advance(3600.0, 50.0)  # an hour at 50 A: half the charge gone
        used_soc = bench.pack.soc
        bench.present("A2")
        assert abs(bench.pack.soc - 0.5) < 0.02 < abs(used_soc - 0.5)


def test_the_bench_forgets_the_oldest_packs_beyond_its_memory() -> None:
    with VirtualBench("lfp16s", now=ManualTime(), bms=False, twins=()) as bench:
        bench.present("OLD")
        old = bench.pack
        bench.present("KEPT")
        kept = bench.pack
        for i in range(UNITS_KEPT):
            bench.present(f"N{i}")
        bench.present("KEPT")
        assert bench.pack is kept  # within memory: its own pack back
        bench.present("OLD")
        assert bench.pack is not old  # shipped long ago: a pack with that serial is new


def test_a_new_pack_arrives_like_the_first_one() -> None:
    # Without a BMS the bench's pack has its contactors closed; every later pack must too,
    # or a sequence that measures at the terminals reads 0 V on the second serial.
    with VirtualBench("nmc96s", now=ManualTime(), bms=False, twins=()) as bench:
        bench.present("NM96A0000001")
        assert bench.pack.contactor_state == "closed"
        bench.present("NM96B0000002")
        assert bench.pack.contactor_state == "closed"
    with VirtualBench("lfp16s", now=ManualTime(), bms=True, twins=()) as bench:
        bench.present("LF16A0000001")
        bench.present("LF16A0000002")
        assert bench.pack.contactor_state == "open"  # the sequence closes them via the BMS
