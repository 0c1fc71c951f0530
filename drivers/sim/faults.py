"""Named faults of the virtual bench: every failure a sequence must catch.

``station sim --list-faults`` prints this table; ``station run --sim --fault NAME[=VALUE]``
and ``station sim --fault ...`` apply entries to a fresh :class:`VirtualBench`. Each fault
acts where the real one would: in the pack (insulation, cells, sensors, contactors, HVIL),
in the BMS (silence, software version, DTCs, front-end error), in an instrument (no answer,
garbage, error queue, over-current trip) or in the safety chain (door, e-stop).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from drivers.sim.bench import VirtualBench


@dataclass(frozen=True)
class Fault:
    """A named fault: ``apply(bench, value)`` switches it on; ``value`` is text ("" = default)."""

    name: str
    value: str  # what VALUE means, "" for a plain switch
    default: str
    help: str
    apply: Callable[[VirtualBench, str], None]


def _pack(bench: VirtualBench) -> Any:
    return bench.pack


def _bms(bench: VirtualBench) -> Any:
    if bench.bms is None:
        raise ValueError("this virtual bench runs without a BMS")
    return bench.bms


def _io(bench: VirtualBench) -> Any:
    io = bench._io()
    if io is None:
        raise ValueError("this virtual bench has no interlock I/O module")
    return io


def _index(value: str) -> int:
    try:
        index = int(value)
    except ValueError:
        raise ValueError(f"INDEX must be a whole number, got {value!r}") from None
    if index < 0:
        raise ValueError(f"a cell or sensor index is 0 or more, got {index}")
    return index


def _positive(value: str, what: str) -> float:
    """``value`` as a positive finite number; ValueError naming ``what`` otherwise."""
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{what} must be a positive finite number, got {value!r}")
    return number


def _set_pack_flag(flag: str) -> Callable[[VirtualBench, str], None]:
    def apply(bench: VirtualBench, value: str) -> None:
        with bench.circuit.locked():
            setattr(bench.pack.faults, flag, True)

    return apply


def _door_opens_during_hv_test(bench: VirtualBench, value: str) -> None:
    io = _io(bench)
    testers = [d for d in bench.instruments.values() if hasattr(d, "output")]
    if not testers:
        raise ValueError("this virtual bench has no HV tester")
    for tester in testers:
        output = tester.output
        start = output.start

        def opened_after_start(*args: Any, _start: Any = start, **kwargs: Any) -> Any:
            result = _start(*args, **kwargs)
            io.open_door()
            return result

        output.start = opened_after_start


def _overcurrent_trip(bench: VirtualBench, value: str) -> None:
    supply = bench.instruments.get("supply")
    ocp = getattr(supply, "ocp", None)
    if ocp is None:
        raise ValueError("the simulated supply has no over-current protection to trip")
    ocp.level = _positive(value, "AMPS")
    ocp.armed = True


def _instrument(fault: str) -> Callable[[VirtualBench, str], None]:
    def apply(bench: VirtualBench, value: str) -> None:
        if fault == "error_queue":
            bench.inject(value, error_queue=[(-350, "Queue overflow")])
        else:
            bench.inject(value, **{fault: True})

    return apply


def _stuck_dtc(bench: VirtualBench, value: str) -> None:
    try:
        code = int(value, 0)
    except ValueError:
        raise ValueError(f"CODE must be an integer such as 0xD10004, got {value!r}") from None
    if not 0 <= code <= 0xFFFFFF:
        raise ValueError(f"CODE must fit in 3 bytes (0…0xFFFFFF), got {value!r}")
    _bms(bench).faults.stuck_dtc = code


def _soc_bias(bench: VirtualBench, value: str) -> None:
    points = float(value)
    if not 0 < points <= 50:
        raise ValueError("the SOC bias is 0 … 50 points")
    _bms(bench).faults.soc_bias_pct = points


def _balancing_fet_open(bench: VirtualBench, value: str) -> None:
    bms = _bms(bench)
    index = _index(value)
    if index >= bms.model.cells:
        raise ValueError(f"cell index {index} outside 0..{bms.model.cells - 1}")
    bms.faults.balancing_fet_open.add(index)


def _bms_flag(flag: str) -> Callable[[VirtualBench, str], None]:
    def apply(bench: VirtualBench, value: str) -> None:
        setattr(_bms(bench).faults, flag, True)

    return apply


def _pole(pole: Literal["plus", "minus"]) -> Callable[[VirtualBench, str], None]:
    def apply(bench: VirtualBench, value: str) -> None:
        with bench.circuit.locked():
            bench.pack.insulation.set_pole_resistance(pole, _positive(value, "OHMS"))

    return apply


def _stack(pole: Literal["plus", "minus"]) -> Callable[[VirtualBench, str], None]:
    def apply(bench: VirtualBench, value: str) -> None:
        with bench.circuit.locked():
            bench.pack.insulation.set_stack_resistance(pole, float(value))

    return apply


def _hv_return_open(bench: VirtualBench, value: str) -> None:
    testers = [d for d in bench.instruments.values() if hasattr(d, "output")]
    if not testers:
        raise ValueError("this virtual bench has no HV tester")
    for tester in testers:
        tester.output.return_open = True


def _dmm_lead_open(bench: VirtualBench, value: str) -> None:
    dmm = bench.instruments.get("dmm")
    if dmm is None or not hasattr(dmm, "lead_open"):
        raise ValueError("this virtual bench has no simulated DMM")
    dmm.lead_open = True


def _bms_reports_contactors_open(bench: VirtualBench, value: str) -> None:
    _bms(bench).faults.reports_contactors_open = True
    bench.circuit.close_contactors_settled()


def _breakdown(bench: VirtualBench, value: str) -> None:
    with bench.circuit.locked():
        bench.pack.insulation.breakdown_v = _positive(value, "VOLTS")


def _scaled_cell(method: str, default_factor: float) -> Callable[[VirtualBench, str], None]:
    """``INDEX`` or ``INDEX:FACTOR``: scale one cell by FACTOR (default ``default_factor``),
    so ``station coverage`` can also try a cell that is a little off and must pass."""

    def apply(bench: VirtualBench, value: str) -> None:
        index, _, factor = value.partition(":")
        with bench.circuit.locked():
            getattr(bench.pack, method)(_index(index), float(factor or default_factor))

    return apply


def _cell(method: str, *args: float) -> Callable[[VirtualBench, str], None]:
    def apply(bench: VirtualBench, value: str) -> None:
        with bench.circuit.locked():
            getattr(bench.pack, method)(_index(value), *args)

    return apply


_TABLE: tuple[Fault, ...] = (
    Fault(
        "low_insulation_plus",
        "OHMS",
        "2e6",
        "HV+ to chassis insulation drops to OHMS",
        _pole("plus"),
    ),
    Fault(
        "low_insulation_minus",
        "OHMS",
        "2e6",
        "HV− to chassis insulation drops to OHMS",
        _pole("minus"),
    ),
    Fault(
        "low_insulation_stack",
        "OHMS",
        "2e6",
        "insulation inside the stack (behind the contactors) drops to OHMS, HV+ side",
        _stack("plus"),
    ),
    Fault("breakdown", "VOLTS", "1200", "the insulation breaks down at VOLTS (peak)", _breakdown),
    Fault(
        "ir_lead_open",
        "",
        "",
        "the HV tester's return (chassis) lead is open: no current can flow",
        _hv_return_open,
    ),
    Fault(
        "dmm_lead_open",
        "",
        "",
        "a DMM lead is open: it reads ~0 V whatever is on the fixture",
        _dmm_lead_open,
    ),
    Fault(
        "weak_cell",
        "INDEX[:FACTOR]",
        "10",
        "cell INDEX has FACTOR (default 0.7) of its capacity",
        _scaled_cell("weak_cell", 0.7),
    ),
    Fault(
        "high_resistance_cell",
        "INDEX[:FACTOR]",
        "10",
        "cell INDEX has FACTOR× (default 20×) its internal resistance",
        _scaled_cell("high_resistance_cell", 20.0),
    ),
    Fault(
        "sense_wire_open",
        "INDEX",
        "20",
        "the voltage sense wire of cell INDEX is open",
        _cell("sense_wire_open"),
    ),
    Fault("ntc_open", "INDEX", "3", "temperature sensor of block INDEX is open", _cell("ntc_open")),
    Fault(
        "ntc_short",
        "INDEX",
        "3",
        "temperature sensor of block INDEX is shorted",
        _cell("ntc_short"),
    ),
    Fault(
        "hvil_open", "", "", "the pack's HVIL loop is broken", lambda b, v: b.set_hvil_fault(True)
    ),
    Fault(
        "contactor_welded",
        "",
        "",
        "a main contactor is welded (stays closed)",
        _set_pack_flag("contactor_welded"),
    ),
    Fault(
        "contactor_wont_close",
        "",
        "",
        "the main contactors do not close",
        _set_pack_flag("contactor_wont_close"),
    ),
    Fault(
        "precharge_timeout",
        "",
        "",
        "the precharge resistor is open: the bus never charges",
        _set_pack_flag("precharge_timeout"),
    ),
    Fault(
        "bms_out_of_calibration_range",
        "",
        "",
        "the BMS front end is so far off that its correction is outside the calibratable range",
        _bms_flag("calibration_out_of_range"),
    ),
    Fault(
        "bms_silent",
        "",
        "",
        "the BMS sends no CAN frames and answers no UDS request",
        _bms_flag("silent"),
    ),
    Fault(
        "wrong_sw_version",
        "",
        "",
        "the BMS reports a stale software version (F189)",
        _bms_flag("wrong_sw_version"),
    ),
    Fault(
        "bms_reports_contactors_open",
        "",
        "",
        "the contactors are closed but the BMS reports them OPEN",
        _bms_reports_contactors_open,
    ),
    Fault(
        "imd_blind",
        "",
        "",
        "the BMS insulation monitor never reports a fault (reads saturated)",
        _bms_flag("imd_blind"),
    ),
    Fault(
        "stuck_dtc",
        "CODE",
        "0xD10004",
        "DTC CODE is stored and comes back after a clear",
        _stuck_dtc,
    ),
    Fault(
        "not_answering",
        "ROLE",
        "dmm",
        "the instrument playing ROLE never answers",
        _instrument("not_answering"),
    ),
    Fault(
        "garbage_reply",
        "ROLE",
        "dmm",
        "the instrument playing ROLE answers nonsense",
        _instrument("garbage_reply"),
    ),
    Fault(
        "error_queue",
        "ROLE",
        "supply",
        "the instrument playing ROLE reports an error through its error queue",
        _instrument("error_queue"),
    ),
    Fault(
        "supply_overcurrent_trip",
        "AMPS",
        "5",
        "the supply's over-current protection trips above AMPS",
        _overcurrent_trip,
    ),
    Fault(
        "door_opened_mid_test",
        "",
        "",
        "the cell door opens as soon as an HV test starts",
        _door_opens_during_hv_test,
    ),
    Fault(
        "estop_pressed", "", "", "the emergency stop is pressed", lambda b, v: _io(b).press_estop()
    ),
    Fault(
        "nvm_not_committed",
        "",
        "",
        "the BMS acknowledges the calibration commit but keeps nothing: a reset restores the old",
        _bms_flag("nvm_not_committed"),
    ),
    Fault(
        "soc_bias",
        "POINTS",
        "5",
        "the BMS reports its SOC POINTS percentage points low",
        _soc_bias,
    ),
    Fault(
        "balancing_fet_open",
        "INDEX",
        "7",
        "the balancing FET of cell INDEX never conducts (the BMS still reports balancing)",
        _balancing_fet_open,
    ),
)


def _capacity_fade(bench: VirtualBench, value: str) -> None:
    with bench.circuit.locked():
        bench.pack.capacity_fade(float(value))


def _pack_resistance(bench: VirtualBench, value: str) -> None:
    with bench.circuit.locked():
        bench.pack.scale_resistance(float(value))


def _ambient(bench: VirtualBench, value: str) -> None:
    with bench.circuit.locked():
        bench.pack.set_ambient(float(value))


_TABLE += (
    Fault(
        "capacity_fade",
        "FRACTION",
        "0.7",
        "every cell has FRACTION of its capacity (the pack's true capacity × FRACTION)",
        _capacity_fade,
    ),
    Fault(
        "pack_resistance",
        "FACTOR",
        "1.25",
        "every cell's R0 and every busbar is FACTOR × nominal (e.g. a wrong cell grade)",
        _pack_resistance,
    ),
    Fault(
        "ambient_c",
        "DEGC",
        "18",
        "the virtual room is at DEGC: pack, cell temperatures at rest and ambient sensor "
        "(a condition, not a defect: a good pack must still pass)",
        _ambient,
    ),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _TABLE}
"""Every fault by name."""


def apply_fault(bench: VirtualBench, name: str, value: str = "") -> None:
    """Switch fault ``name`` on (``value`` "" takes its default); ValueError says what's wrong."""
    fault = FAULTS.get(name)
    if fault is None:
        close = difflib.get_close_matches(name, FAULTS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"fault {name!r} is unknown{hint}; `station sim --list-faults` lists them")
    if value and not fault.value:
        raise ValueError(f"fault {name!r} takes no value")
    try:
        fault.apply(bench, value or fault.default)
    # IndexError: an index beyond this pack's cells or sensors (the pack says its range).
    except (TypeError, ValueError, IndexError) as err:
        raise ValueError(f"fault {name}={value or fault.default}: {err}") from err


def describe_faults() -> list[str]:
    """One line per fault, for ``--list-faults``."""
    lines = []
    for fault in _TABLE:
        usage = f"{fault.name}={fault.value}" if fault.value else fault.name
        default = f" (default {fault.default})" if fault.value else ""
        lines.append(f"{usage:<34} {fault.help}{default}")
    return lines
