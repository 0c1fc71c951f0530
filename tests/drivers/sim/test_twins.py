"""The simulated instruments, reached through the real drivers over real pyvisa sockets."""

from __future__ import annotations

import math
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import pyvisa
from pyvisa.resources import MessageBasedResource

from drivers.errors import (
    InstrumentConnectionError,
    InstrumentProtocolError,
    InstrumentReportedError,
    InstrumentTimeout,
)
from drivers.generic.scpi_load import GenericScpiLoad
from drivers.generic.scpi_supply import GenericScpiSupply
from drivers.keysight.keysight34465a import Keysight34465a
from drivers.registry import open_instrument
from drivers.scpi.visa import VisaTransport
from drivers.sim.bench import TWINS, VirtualBench
from drivers.sim.clock import ManualTime
from drivers.sim.electrical import PackCircuit
from drivers.sim.faults import apply_fault
from drivers.sim.instruments.keysight34465a import Keysight34465aTwin
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec
from drivers.sim.scpi_server import ScpiServer

TIMEOUT_S = 2.0


class Rig:
    """A virtual bench on manual time, with the real drivers opened on it."""

    def __init__(self, bench: VirtualBench, time: ManualTime, stack: ExitStack) -> None:
        self.bench = bench
        self.time = time
        self._stack = stack

    def transport(self, role: str, timeout_s: float = TIMEOUT_S) -> VisaTransport:
        transport = VisaTransport(self.bench.resources[role][1], timeout_s=timeout_s)
        self._stack.callback(transport.close)
        return transport

    def supply(self, **ratings: float) -> GenericScpiSupply:
        options: dict[str, Any] = {**self.bench.driver_options["supply"], **ratings}
        return GenericScpiSupply(self.transport("supply"), **options)

    def load(self, **ratings: float) -> GenericScpiLoad:
        options: dict[str, Any] = {**self.bench.driver_options["load"], **ratings}
        return GenericScpiLoad(self.transport("load"), **options)

    def dmm(self, timeout_s: float = TIMEOUT_S) -> Keysight34465a:
        return Keysight34465a(self.transport("dmm", timeout_s))

    def thevenin(self) -> tuple[float, float]:
        """Return the pack's zero-current voltage E and resistance R right now."""
        with self.bench.circuit.locked() as pack:
            return pack.terminal_voltage(0.0), pack.internal_resistance_ohm


@pytest.fixture
def rig() -> Iterator[Rig]:
    time = ManualTime()
    with ExitStack() as stack:
        bench = stack.enter_context(VirtualBench("nmc96s", seed=1, now=time, twins=TWINS))
        yield Rig(bench, time, stack)  # drivers close before the bench (LIFO)


# --- DMM ---------------------------------------------------------------------------------


def test_dmm_reads_the_pack_open_circuit_voltage(rig: Rig) -> None:
    dmm = rig.dmm()
    assert dmm.identity().model == "34465A"
    volts = dmm.measure_dc_voltage(nplc=10)
    assert volts == pytest.approx(rig.bench.pack.open_circuit_voltage, abs=5e-3)
    dmm.raise_on_error()  # '+0,"No error"' parses as no error
    dmm.reset()
    dmm.wait_until_complete()
    assert dmm.dc_voltage == pytest.approx(volts, abs=5e-3)


def test_dmm_probe_reads_the_virtual_room(rig: Rig) -> None:
    dmm = rig.dmm()
    assert dmm.measure_temperature() == pytest.approx(25.0, abs=0.5)
    apply_fault(rig.bench, "ambient_c", "18")
    assert dmm.measure_temperature() == pytest.approx(18.0, abs=0.5)
    assert rig.bench.pack.cell_temperatures() == [18.0] * 96  # the pack soaked there
    transport = rig.transport("dmm")
    assert float(transport.query("MEAS:TEMP? FTH,10000")) == pytest.approx(18.0, abs=0.5)
    transport.write("UNIT:TEMP K")
    assert float(transport.query("MEAS:TEMP?")) == pytest.approx(291.15, abs=0.5)
    assert transport.query("CONF?") == '"TEMP FTH,10000"'
    transport.write("MEAS:TEMP? THER,100")  # no such thermistor type
    assert transport.query("SYST:ERR?").startswith("-224")


def test_the_default_bench_has_an_ambient_thermometer_of_its_own() -> None:
    with VirtualBench("lfp16s", seed=3) as bench:
        assert bench.resources["ambient"][0] == "keysight.34465a"
        assert bench.resources["ambient"][1] != bench.resources["dmm"][1]


def test_dmm_noise_shrinks_with_nplc_and_repeats_with_the_seed(rig: Rig) -> None:
    dmm = rig.dmm()
    fast = [dmm.measure_dc_voltage(nplc=0.02) for _ in range(20)]
    slow = [dmm.measure_dc_voltage(nplc=100) for _ in range(20)]
    assert max(fast) - min(fast) > 10 * (max(slow) - min(slow)) > 0
    time = ManualTime()
    with VirtualBench("nmc96s", seed=1, now=time, twins=TWINS) as twin_bench:
        twin = Keysight34465a(VisaTransport(twin_bench.resources["dmm"][1], timeout_s=TIMEOUT_S))
        try:
            assert [twin.measure_dc_voltage(nplc=0.02) for _ in range(20)] == fast
        finally:
            twin.close()


def test_dmm_reads_the_fixture_resistance_and_open_circuit(rig: Rig) -> None:
    dmm = rig.dmm()
    twin = rig.bench.instruments["dmm"]
    assert isinstance(twin, Keysight34465aTwin)
    twin.fixture_resistance_ohm = 12.5
    assert dmm.measure_resistance() == pytest.approx(12.5, abs=1e-3)
    assert dmm.measure_resistance(range_ohm=1000) == pytest.approx(12.5, abs=1e-2)
    twin.fixture_resistance_ohm = None
    assert dmm.measure_resistance() == math.inf


def test_dmm_overload_and_bad_range_are_reported(rig: Rig) -> None:
    dmm = rig.dmm()
    with pytest.raises(InstrumentReportedError, match="overload"):
        dmm.measure_dc_voltage(range_v=10)
    with pytest.raises(InstrumentReportedError) as caught:
        dmm.send("CONF:VOLT:DC 2000")
    assert caught.value.code == -222


def test_dmm_reads_a_small_pack_on_a_lower_range() -> None:
    with VirtualBench("lfp16s", now=ManualTime(), twins=TWINS) as bench:
        dmm = Keysight34465a(VisaTransport(bench.resources["dmm"][1], timeout_s=TIMEOUT_S))
        try:
            volts = dmm.measure_dc_voltage(nplc=1)
            assert volts == pytest.approx(bench.pack.open_circuit_voltage, abs=1e-3)
            assert 40 < volts < 60
        finally:
            dmm.close()


# --- supply ------------------------------------------------------------------------------


def test_supply_charging_raises_soc_and_the_charge_is_conserved(rig: Rig) -> None:
    supply = rig.supply()
    pack = rig.bench.pack
    socs_before = pack.block_socs()
    supply.set_voltage(450.0)
    supply.set_current(20.0)
    supply.set_output(True)
    assert supply.measure_current() == pytest.approx(20.0)
    rig.time.advance(900.0)
    assert supply.measure_current() == pytest.approx(20.0)
    supply.set_output(False)

    charged = rig.bench.circuit.totals("supply")
    assert charged.charge_ah == pytest.approx(5.0, rel=1e-12)
    for before, after, capacity in zip(
        socs_before, pack.block_socs(), pack.block_capacities_ah(), strict=True
    ):
        assert (after - before) * capacity == pytest.approx(charged.charge_ah, rel=1e-9)
    assert pack.ah_charged == pytest.approx(charged.charge_ah, rel=1e-12)
    assert charged.energy_wh == pytest.approx(pack.wh_charged, rel=1e-6)


def test_supply_in_cv_holds_its_setpoint_and_the_current_tapers(rig: Rig) -> None:
    supply = rig.supply()
    e, r = rig.thevenin()
    setpoint = round(e + 2.0, 3)
    supply.set_current(50.0)
    supply.set_voltage(setpoint)
    supply.set_output(True)
    first = supply.measure_current()
    assert first == pytest.approx((setpoint - e) / r, rel=1e-6)
    assert supply.measure_voltage() == pytest.approx(setpoint, abs=1e-5)
    for _ in range(10):
        rig.time.advance(60.0)
        assert supply.measure_voltage() == pytest.approx(setpoint, abs=1e-5)
    assert 0 < supply.measure_current() < 0.8 * first
    assert supply.measure_power() == pytest.approx(setpoint * supply.measure_current(), rel=1e-5)


def test_supply_refuses_setpoints_above_its_rating(rig: Rig) -> None:
    supply = rig.supply(max_voltage_v=1000.0, max_current_a=1000.0)  # looser than the twin
    supply.set_voltage(400.0)
    with pytest.raises(InstrumentReportedError) as caught:
        supply.set_voltage(700.0)
    assert caught.value.code == -222
    assert supply.voltage_setpoint == 400.0
    with pytest.raises(InstrumentReportedError):
        supply.set_current(150.0)


def test_unknown_command_is_undefined_header(rig: Rig) -> None:
    supply = rig.supply()
    with pytest.raises(InstrumentReportedError) as caught:
        supply.send("VOLT:FOO 1")
    assert caught.value.code == -113


def test_safe_state_switches_everything_off(rig: Rig) -> None:
    supply, load = rig.supply(), rig.load()
    supply.set_voltage(450.0)
    supply.set_current(5.0)
    supply.set_output(True)
    load.set_mode("CR", 100.0)
    load.set_input(True)
    supply.safe_state()
    load.safe_state()
    assert supply.is_safe() and load.is_safe()
    assert rig.bench.circuit.operating_point().cell_current_a == 0.0


# --- load --------------------------------------------------------------------------------


def test_load_in_cc_discharges_the_pack(rig: Rig) -> None:
    load = rig.load()
    pack = rig.bench.pack
    soc_before = pack.soc
    e, r = rig.thevenin()
    load.set_mode("CC", 30.0)
    load.set_input(True)
    assert load.measure_current() == pytest.approx(30.0)
    assert load.measure_voltage() == pytest.approx(e - 30.0 * r, rel=1e-9)
    rig.time.advance(600.0)
    assert load.measure_current() == pytest.approx(30.0)
    taken = rig.bench.circuit.totals("load")
    assert taken.charge_ah == pytest.approx(-5.0, rel=1e-12)
    assert pack.ah_discharged == pytest.approx(5.0, rel=1e-12)
    assert soc_before - pack.soc == pytest.approx(5.0 / 60.0, rel=0.02)


def test_load_in_cr_draws_v_over_r(rig: Rig) -> None:
    load = rig.load()
    load.set_mode("CR", 20.0)
    load.set_input(True)
    volts, amps = load.measure_voltage(), load.measure_current()
    assert amps == pytest.approx(volts / 20.0, rel=1e-6)
    assert load.function == "CR"


def test_load_refuses_levels_beyond_its_rating(rig: Rig) -> None:
    load = rig.load(max_current_a=1000.0)
    with pytest.raises(InstrumentReportedError) as caught:
        load.set_mode("CC", 250.0)
    assert caught.value.code == -222


def test_supply_in_cv_feeds_the_load(rig: Rig) -> None:
    supply, load = rig.supply(), rig.load()
    e, _ = rig.thevenin()
    supply.set_voltage(round(e, 3))
    supply.set_current(50.0)
    supply.set_output(True)
    load.set_mode("CC", 10.0)
    load.set_input(True)
    assert supply.measure_current() == pytest.approx(10.0, abs=0.05)
    assert abs(rig.bench.circuit.operating_point().cell_current_a) < 0.05


# --- contactors --------------------------------------------------------------------------


def test_with_contactors_open_nothing_reaches_the_cells() -> None:
    with (
        VirtualBench(now=ManualTime(), contactors_closed=False, twins=TWINS) as bench,
        ExitStack() as stack,
    ):
        supply = GenericScpiSupply(
            VisaTransport(bench.resources["supply"][1], timeout_s=TIMEOUT_S),
            **bench.driver_options["supply"],
        )
        stack.callback(supply.close)
        dmm = Keysight34465a(VisaTransport(bench.resources["dmm"][1], timeout_s=TIMEOUT_S))
        stack.callback(dmm.close)
        assert dmm.measure_dc_voltage() == pytest.approx(0.0, abs=1e-2)
        supply.set_voltage(100.0)
        supply.set_current(10.0)
        supply.set_output(True)
        assert dmm.measure_dc_voltage() == pytest.approx(100.0, abs=1e-2)
        assert bench.circuit.operating_point().cell_current_a == 0.0


def test_current_starts_when_the_precharge_completes() -> None:
    time = ManualTime()
    pack = Pack(get_pack_spec("nmc96s"), seed=3)
    circuit = PackCircuit(pack, time)
    circuit.connect("sink", lambda volts: -10.0)
    with circuit.locked():
        pack.close_contactors()
    time.advance(100.0)
    circuit.sync()
    assert pack.conducting
    assert pack.ah_discharged == pytest.approx(circuit.totals("sink").charge_ah * -1)
    assert 99.5 / 360 < pack.ah_discharged < 100.0 / 360  # ~0.2 s of precharge lost


# --- faults ------------------------------------------------------------------------------


def test_not_answering_times_out(rig: Rig) -> None:
    dmm = rig.dmm(timeout_s=0.2)
    rig.bench.inject("dmm", not_answering=True)
    with pytest.raises(InstrumentTimeout):
        dmm.identity()


def test_garbage_reply_is_a_protocol_error(rig: Rig) -> None:
    supply = rig.supply()
    rig.bench.inject("supply", garbage_reply=True)
    with pytest.raises(InstrumentProtocolError):
        supply.measure_voltage()


def test_a_dropped_link_leaves_the_output_on(rig: Rig) -> None:
    supply = rig.supply()
    supply.set_voltage(450.0)
    supply.set_current(10.0)
    supply.set_output(True)
    rig.bench.inject("supply", drop_connection=True)
    with pytest.raises(InstrumentConnectionError):
        supply.set_output(False)
    assert rig.bench.circuit.source_current("supply") == pytest.approx(10.0)


def test_faults_can_be_set_when_the_bench_is_built() -> None:
    faults = {"supply": {"error_queue": [(-222, "Data out of range")]}}
    with VirtualBench(now=ManualTime(), faults=faults, twins=TWINS) as bench:
        supply = GenericScpiSupply(
            VisaTransport(bench.resources["supply"][1], timeout_s=TIMEOUT_S),
            **bench.driver_options["supply"],
        )
        try:
            with pytest.raises(InstrumentReportedError) as caught:
                supply.set_output(False)
            assert caught.value.code == -222
        finally:
            supply.close()


def test_an_unknown_fault_is_refused_and_nothing_keeps_running() -> None:
    before = set(threading.enumerate())
    with pytest.raises(ValueError, match="unknown fault"):
        VirtualBench(now=ManualTime(), faults={"dmm": {"on_fire": True}})
    with pytest.raises(ValueError, match="no simulated instrument"):
        VirtualBench(now=ManualTime(), faults={"hipot": {"not_answering": True}})
    assert set(threading.enumerate()) <= before


# --- without project code ----------------------------------------------------------------


def test_a_plain_pyvisa_client_identifies_the_dmm(rig: Rig) -> None:
    # pyvisa keeps one ResourceManager per VISA library and hands the same object to every
    # caller (VisaTransport included), so only the resource is closed here, not the manager.
    manager = pyvisa.ResourceManager("@py")
    resource = manager.open_resource(
        rig.bench.resources["dmm"][1], read_termination="\n", write_termination="\n"
    )
    assert isinstance(resource, MessageBasedResource)
    try:
        assert resource.query("*IDN?").startswith("Keysight Technologies,34465A,")
    finally:
        resource.close()


def test_every_role_opens_through_the_registry(rig: Rig) -> None:
    assert set(rig.bench.resources) == {"supply", "load", "dmm"}
    for role, (model, resource) in rig.bench.resources.items():
        driver = open_instrument(
            model, resource, timeout_s=TIMEOUT_S, options=rig.bench.driver_options[role]
        )
        try:
            assert driver.identity().maker
        finally:
            driver.close()


def _voluntary_switches(thread: threading.Thread) -> int:
    with open(f"/proc/self/task/{thread.native_id}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches line")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_an_idle_twin_server_does_not_wake_and_closes_at_once() -> None:
    circuit = PackCircuit(Pack(get_pack_spec("nmc96s"), seed=1), now=ManualTime())
    with ScpiServer(Keysight34465aTwin(circuit)) as server:
        [accepting] = [t for t in threading.enumerate() if t.name.endswith(f"-{server.port}")]
        with socket.create_connection((server.host, server.port)) as client:
            client.sendall(b"*IDN?\n")
            assert b"34465A" in client.recv(200)
            before = _voluntary_switches(accepting)
            threading.Event().wait(0.3)  # idle: a polling accept loop would wake ~15 times
            assert _voluntary_switches(accepting) - before <= 1
    assert not accepting.is_alive()
