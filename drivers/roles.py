"""Roles: what a step may ask of an instrument, independent of its maker.

Steps ask for roles; the station config decides which model plays each role. Every
output-capable role has ``safe_state()`` (switch off, discharge; callable from any thread,
fails fast on a dead link) and ``is_safe()`` (read back that it really is off), which the
engine calls after every run.

Sign conventions: instrument currents are the instrument's own (a supply's current is
positive when it sources, i.e. charges the pack); steps convert to the station convention
(pack current > 0 = discharge).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class Identity:
    """What an instrument says it is (from ``*IDN?``)."""

    maker: str
    model: str
    serial: str
    firmware: str

    def __str__(self) -> str:
        return f"{self.maker} {self.model} s/n {self.serial} fw {self.firmware}"


@runtime_checkable
class Instrument(Protocol):
    """Anything the station talks to."""

    @property
    def resource(self) -> str:
        """Where the instrument is (VISA resource string or equivalent)."""
        ...

    def connect(self) -> None:
        """Bring the instrument under remote control after the transport is open."""
        ...

    def identity(self) -> Identity:
        """Ask the instrument who it is."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


@runtime_checkable
class OutputCapable(Protocol):
    """An instrument that can put energy into (or take it out of) the pack."""

    def safe_state(self) -> None:
        """Switch every output off and zero the setpoints; discharge if applicable."""
        ...

    def is_safe(self) -> bool:
        """Read back from the instrument that its outputs are off (and HV discharged)."""
        ...


@runtime_checkable
class PowerSupply(Instrument, OutputCapable, Protocol):
    """Bidirectional DC supply: sources (charges the pack) and sinks (discharges it)."""

    def set_voltage(self, volts: float) -> None:
        """Set the CV setpoint in V (also the sink CV level)."""
        ...

    def set_current(self, amps: float) -> None:
        """Set the source (charge) current limit in A (≥ 0)."""
        ...

    def set_sink_current(self, amps: float) -> None:
        """Set the sink (discharge) current limit in A, as a positive number."""
        ...

    def set_output(self, on: bool) -> None:
        """Switch the output on or off."""
        ...

    def output_enabled(self) -> bool:
        """Return whether the output is on."""
        ...

    def measure_voltage(self) -> float:
        """Measure the output voltage in V."""
        ...

    def measure_current(self) -> float:
        """Measure the output current in A (> 0 sourcing, < 0 sinking)."""
        ...

    def measure_power(self) -> float:
        """Measure the output power in W (> 0 sourcing, < 0 sinking)."""
        ...


LoadMode = Literal["CC", "CV", "CR", "CP"]


@runtime_checkable
class ElectronicLoad(Instrument, OutputCapable, Protocol):
    """DC electronic load (sinks current from the pack)."""

    def set_mode(self, mode: LoadMode, level: float) -> None:
        """Select CC (A), CV (V), CR (Ω) or CP (W) with its level."""
        ...

    def set_input(self, on: bool) -> None:
        """Switch the load input on or off."""
        ...

    def input_enabled(self) -> bool:
        """Return whether the load input is on."""
        ...

    def measure_voltage(self) -> float:
        """Measure the input voltage in V."""
        ...

    def measure_current(self) -> float:
        """Measure the input current in A (≥ 0)."""
        ...

    def measure_power(self) -> float:
        """Measure the input power in W."""
        ...


HvTestKind = Literal["IR", "DCW", "ACW"]


@dataclass(frozen=True)
class HvTestResult:
    """The outcome of one insulation or withstand test as the instrument reports it.

    ``reading`` is Ω for IR and A (leakage) for DCW/ACW; ``verdict`` is the instrument's
    judgement mapped to PASS, HIGH, LOW, ARC, BREAKDOWN, ABORTED or OTHER; ``raw`` keeps
    the instrument's own text or code so nothing is lost in the mapping.
    """

    kind: HvTestKind
    voltage_v: float
    reading: float
    verdict: str
    raw: str


@runtime_checkable
class InsulationTester(Instrument, OutputCapable, Protocol):
    """Insulation-resistance and withstand (hipot) tester.

    Tests are started, polled and read separately so that a step can honour an abort
    while the instrument is at high voltage.
    """

    def start_insulation(
        self,
        voltage_v: float,
        *,
        ramp_s: float,
        dwell_s: float,
        low_limit_ohm: float,
        high_limit_ohm: float,
        judge_delay_s: float = 0.0,
    ) -> None:
        """Configure and start an insulation-resistance test.

        ``high_limit_ohm`` is the upper judgement that proves contact (an open lead reads
        over range and must fail, never pass).
        """
        ...

    def start_withstand(
        self,
        voltage_v: float,
        *,
        ac: bool,
        ramp_s: float,
        dwell_s: float,
        leakage_limit_a: float,
        low_limit_a: float,
        frequency_hz: float = 50.0,
    ) -> None:
        """Configure and start a withstand (hipot) test, DC or AC.

        ``low_limit_a`` is the lower current judgement that proves contact (an open lead
        draws no current and must fail, never pass).
        """
        ...

    def test_running(self) -> bool:
        """Return whether a test is still running (HV may be present)."""
        ...

    def result(self) -> HvTestResult:
        """Read the result of the last finished test."""
        ...

    def stop(self) -> None:
        """Stop any running test and switch HV off."""
        ...


@runtime_checkable
class Dmm(Instrument, Protocol):
    """Digital multimeter."""

    def measure_dc_voltage(self, *, range_v: float | None = None, nplc: float = 1.0) -> float:
        """Measure DC voltage in V (auto range when ``range_v`` is None)."""
        ...

    def measure_resistance(self, *, range_ohm: float | None = None) -> float:
        """Measure 2-wire resistance in Ω."""
        ...


@runtime_checkable
class AmbientThermometer(Instrument, Protocol):
    """The station's own room-temperature reference (a probe on a DMM, a transmitter)."""

    def measure_temperature(self) -> float:
        """Measure the ambient temperature in °C."""
        ...


@dataclass(frozen=True)
class InterlockState:
    """What the safety inputs read. The software is not the safety function; it only
    refuses to start hazardous actions while these read unsafe."""

    door_closed: bool
    estop_released: bool
    fixture_clamped: bool
    hv_present_lamp: bool = False

    @property
    def safe_for_hv(self) -> bool:
        """Whether HV may be switched on."""
        return self.door_closed and self.estop_released and self.fixture_clamped

    def reasons(self) -> list[str]:
        """Name every input that blocks HV."""
        out = []
        if not self.door_closed:
            out.append("door open")
        if not self.estop_released:
            out.append("e-stop pressed")
        if not self.fixture_clamped:
            out.append("fixture not clamped")
        return out


HvPole = Literal["plus", "minus", "both"]


@runtime_checkable
class Interlocks(Instrument, Protocol):
    """Safety inputs read from a digital-I/O device, the HV-present lamp, and the fixture
    relays on the same device (HV pole selection, HVIL break)."""

    def read(self) -> InterlockState:
        """Read every safety input."""
        ...

    def set_hv_lamp(self, on: bool) -> None:
        """Switch the red HV-present lamp."""
        ...

    def select_hv_pole(self, pole: HvPole) -> None:
        """Route the insulation tester to HV+, HV− or both poles (fixture relays)."""
        ...

    def set_hvil_break(self, open_loop: bool) -> None:
        """Open (True) or close the pack's HVIL loop with the fixture relay."""
        ...

    def set_imd_test_resistor(self, on: bool) -> None:
        """Switch the fixture's insulation-monitor test resistor onto the HV connector."""
        ...


@runtime_checkable
class DmmProofRelay(Protocol):
    """Interlocks whose fixture can prove the DMM on a known source before an HV test.

    The relay puts the fixture's reference voltage (``dmm_proof_v``, e.g. its 24 V
    auxiliary) on the DMM's leads at the fixture end, instead of the HV probe points; the
    DMM must read it within ``dmm_proof_tolerance_v``.
    """

    dmm_proof_v: float
    dmm_proof_tolerance_v: float

    def set_dmm_proof(self, on: bool) -> None:
        """Switch the DMM proof relay (on: the reference is on the DMM's leads)."""
        ...
