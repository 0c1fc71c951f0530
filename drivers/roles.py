"""Roles: what a step may ask of an instrument, independent of its maker.

Steps ask for roles; the station config decides which model plays each role. Every
output-capable role has ``safe_state()`` (switch off, discharge; callable from any thread,
fails fast on a dead link) and ``is_safe()`` (read back that it really is off), which the
engine calls after every run.

Sign conventions: instrument currents are the instrument's own (a supply's current is
positive when it sources, i.e. charges the pack); steps convert to the station convention
(pack current > 0 = discharge).

:data:`ROLES` is the one table from a role's name (the ``[instruments.<role>]`` table of the
station config, the names steps declare) to the Protocol its instrument must satisfy;
:func:`conformance_problems` checks a driver against it, when the bench opens and in the
suite-wide registry test.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, get_args, runtime_checkable

if TYPE_CHECKING:
    from drivers.bms.bms import State
    from drivers.bms.description import BmsDescription
    from drivers.bms.readings import MessageStatus, PeriodStats, Reading
    from drivers.bms.signals import SignalMonitor
    from drivers.bms.uds import UdsClient


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

    def measure_voltage_and_current(self) -> tuple[float, float]:
        """Measure the output voltage in V and current in A together, as one sample.

        The same readings as ``measure_voltage`` and ``measure_current``, in one exchange
        and from one instant as far as the model allows.
        """
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

    def measure_voltage_and_current(self) -> tuple[float, float]:
        """Measure the input voltage in V and current in A together, as one sample.

        The same readings as ``measure_voltage`` and ``measure_current``, in one exchange
        and from one instant as far as the model allows.
        """
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
class LiveHvReadout(Protocol):
    """An insulation tester that reports its output while a test runs (not every one does:
    a step that needs it checks ``isinstance(tester, LiveHvReadout)``)."""

    def live_reading(self) -> tuple[float, float]:
        """Measure the running test's output in V and its meter value (Ω for IR, A else)."""
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


@runtime_checkable
class LabelPrinter(Instrument, Protocol):
    """A label printer that takes a whole label format (ZPL ``^XA … ^XZ``)."""

    def print_label(self, zpl: str) -> None:
        """Check the printer can print, then print one label."""
        ...


@runtime_checkable
class BarcodeScanner(Protocol):
    """A barcode scanner on its own port: it only talks, so it has no identity to ask."""

    @property
    def resource(self) -> str:
        """Where the scanner is (its serial port)."""
        ...

    def connect(self) -> None:
        """Get ready to read (a scanner has no remote mode to take)."""
        ...

    def read_code(self, timeout_s: float | None = None) -> str | None:
        """Wait up to ``timeout_s`` for one code; None when nothing was scanned."""
        ...

    def close(self) -> None:
        """Release the port."""
        ...


@runtime_checkable
class PackBms(OutputCapable, Protocol):
    """The pack's BMS on the CAN bus, as steps use it: cyclic values by signal role,
    diagnostics (``uds``) and bus health. Its safe state opens the contactors.

    Not configured under ``[instruments]``: the ``[can]`` table of the station config opens it
    (:class:`drivers.bms.bms.Bms` is the implementation).
    """

    description: BmsDescription
    monitor: SignalMonitor
    read_timeout_s: float

    @property
    def uds(self) -> UdsClient:
        """The diagnostic client; BmsError when the description has no [uds] table."""
        ...

    def reading(
        self,
        role: str,
        *,
        after: float | None = None,
        timeout_s: float | None = None,
        abort: threading.Event | None = None,
    ) -> Reading:
        """Get a signal role's latest reading (value, raw, label, time)."""
        ...

    def value(
        self, role: str, *, after: float | None = None, timeout_s: float | None = None
    ) -> float:
        """Get a signal role's latest value in SI units."""
        ...

    def values(
        self, roles: Sequence[str], *, after: float | None = None, timeout_s: float | None = None
    ) -> list[float]:
        """Get several signal roles' latest values in SI units, in order (as ``value`` each)."""
        ...

    def pack_voltage(self, *, after: float | None = None, timeout_s: float | None = None) -> float:
        """Get the pack voltage the BMS reports, in V."""
        ...

    def pack_current(self, *, after: float | None = None, timeout_s: float | None = None) -> float:
        """Get the pack current the BMS reports, in A (> 0 discharge, < 0 charge)."""
        ...

    def bus_voltage(self, *, after: float | None = None, timeout_s: float | None = None) -> float:
        """Get the HV bus voltage (behind the contactors) the BMS reports, in V."""
        ...

    def soc(self, *, after: float | None = None, timeout_s: float | None = None) -> float:
        """Get the state of charge the BMS reports, in % (0–100)."""
        ...

    def contactor_state(
        self, *, after: float | None = None, timeout_s: float | None = None
    ) -> State:
        """Get the contactor state: raw value, DBC label and meaning."""
        ...

    def hvil_closed(self, *, after: float | None = None, timeout_s: float | None = None) -> bool:
        """Return whether the BMS reports the HV interlock loop closed."""
        ...

    def insulation_ohm(
        self, *, after: float | None = None, timeout_s: float | None = None
    ) -> float:
        """Get the BMS's insulation resistance in Ω (``math.inf`` above its range)."""
        ...

    def cell_voltages(
        self,
        after: float,
        timeout_s: float = 5.0,
        abort: threading.Event | None = None,
        *,
        count: int | None = None,
    ) -> list[float | None]:
        """Get every cell voltage in V from pages received at/after ``after``; None = invalid."""
        ...

    def cell_temperatures(
        self,
        after: float,
        timeout_s: float = 5.0,
        abort: threading.Event | None = None,
        *,
        count: int | None = None,
    ) -> list[float | None]:
        """Get every cell temperature in °C from pages received at/after ``after``."""
        ...

    def fault_flags(self, *, timeout_s: float | None = None) -> dict[str, bool]:
        """Get every fault flag the description names (True = fault active)."""
        ...

    def alive(self) -> bool:
        """Return whether every mapped message arrives and none is stale."""
        ...

    def status(self) -> dict[str, MessageStatus]:
        """Report frames, staleness, decode errors and alive-counter violations per message."""
        ...

    def periods(self, since: float | None = None) -> dict[str, PeriodStats]:
        """Measure each message's observed period and jitter since ``since``."""
        ...

    def close(self) -> None:
        """Stop every thread the client started and release the bus."""
        ...


Role = Literal[
    "supply",
    "load",
    "dmm",
    "ambient",
    "insulation_tester",
    "interlocks",
    "scanner",
    "label_printer",
    "bms",
]
"""A role's name, as steps declare it and the station config names it."""

ROLES: Final[dict[Role, type[Any]]] = {
    "supply": PowerSupply,
    "load": ElectronicLoad,
    "dmm": Dmm,
    "ambient": AmbientThermometer,
    "insulation_tester": InsulationTester,
    "interlocks": Interlocks,
    "scanner": BarcodeScanner,
    "label_printer": LabelPrinter,
    "bms": PackBms,
}
"""Every role → the Protocol its instrument must satisfy."""

CONFIGURED_BY_CAN: Final = "bms"
"""The one role the ``[can]`` table opens; every other role is an ``[instruments.<role>]``."""

INSTRUMENT_ROLES: Final[tuple[Role, ...]] = tuple(r for r in ROLES if r != CONFIGURED_BY_CAN)
"""The roles a station config names under ``[instruments]``."""

assert set(get_args(Role)) == set(ROLES), "Role and ROLES name the same roles"


def _members(protocol: type[Any]) -> dict[str, Any]:
    """The methods a Protocol asks for (its own and its bases'), by name."""
    found: dict[str, Any] = {}
    for base in reversed(protocol.__mro__):
        if base is object or base is Protocol or not getattr(base, "_is_protocol", False):
            continue
        for name, member in vars(base).items():
            if name.startswith("_"):
                continue
            if callable(member) or isinstance(member, property):
                found[name] = member
    return found


def _shape(fn: Any) -> list[tuple[str, Any, bool]]:
    """A callable's parameters after ``self``: name, kind, whether it has a default."""
    params = list(inspect.signature(fn).parameters.values())[1:]
    return [(p.name, p.kind, p.default is not inspect.Parameter.empty) for p in params]


def conformance_problems(cls: type[Any], role: str) -> list[str]:
    """What ``cls`` lacks to play ``role``: missing methods, or methods whose parameters
    (names, kinds, defaults) differ from the role's Protocol. Empty when it conforms.

    A method may take more than the Protocol asks, as long as the extra parameters have
    defaults (a driver's own options); data attributes set in ``__init__`` are for
    ``isinstance`` on an instance to check.
    """
    protocol = ROLES.get(role)  # type: ignore[call-overload]
    if protocol is None:
        return [f"{role!r} is not a role (roles: {', '.join(ROLES)})"]
    problems = []
    for name, wanted in _members(protocol).items():
        if isinstance(wanted, property):
            continue  # a property or an attribute set in __init__: isinstance checks it
        got = inspect.getattr_static(cls, name, None)
        if got is None:
            problems.append(f"has no {name}()")
            continue
        if isinstance(got, property) or not callable(got):
            problems.append(f"{name} is not a method")
            continue
        want, have = _shape(wanted), _shape(got)
        extra = have[len(want) :]
        if [(n, k) for n, k, _ in have[: len(want)]] != [(n, k) for n, k, _ in want] or any(
            not default for _, _, default in extra
        ):
            problems.append(
                f"{name}{inspect.signature(got)} does not match the role's "
                f"{name}{inspect.signature(wanted)}"
            )
            continue
        lost = [n for (n, _, d), (_, _, w) in zip(have, want, strict=False) if w and not d]
        if lost:
            problems.append(f"{name}() makes {', '.join(lost)} required (the role has defaults)")
    return problems
