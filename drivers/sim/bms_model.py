"""What the simulated BMS measures and concludes, without CAN: domain spec §6.6 and the BMS spec.

**Front end (§6.6).** Every channel reads ``raw = (1+g)·true + o + n`` with a seeded gain g and
offset o per channel (:class:`~drivers.sim.bms_calibration.FrontEndError`) and Gaussian noise
n; cell voltages are then quantised to the AFE's 0.1 mV. The HV bus voltage and the pack
current are corrected with ``reported = k·raw + d``
(:class:`~drivers.sim.bms_calibration.Calibration`); the current has one gain per direction,
chosen by the sign of the raw reading. The pack voltage (battery side of the
contactors) is factory-trimmed (small error, no EOL calibration); cell voltages and
temperatures are only verified at EOL.

**Sensors.** The AFE reads :meth:`Pack.afe_cell_voltages`; a channel below 0.5 V or above 5 V
is invalid (open sense wire). The pack has one NTC per block; the BMS has one temperature
sensor per 8 cells and at least 4 (:func:`temperature_groups`): a sensor reads the mean of its
group, or the group's implausible reading (outside −35…125 °C) if there is one. Insulation is
the lower of the two poles.

**Monitors.** Fault flags (:class:`FaultFlags`) are updated on every measurement. Each
fault-driven DTC (:class:`Dtc`) has a monitor that sets its ISO 14229-1 status byte
(:func:`dtc_status_after_test`): the continuous monitors (HVIL, insulation, sense wires, NTCs,
cell over/under-voltage, a stuck DTC) run on every measurement; the contactor-welded monitor
runs only when the contactors are commanded open and the precharge monitor only when they
close. A failing test sets testFailed, testFailedThisOperationCycle, pending, confirmed (one
failed test confirms) and testFailedSinceLastClear; a passing one clears testFailed. Both
clear the two test-not-completed bits. ClearDiagnosticInformation sets every DTC of the group
to 0x50 (test not completed since the clear nor this cycle), and an ECU reset starts a new
operation cycle. DTCs and the committed calibration live in
:class:`~drivers.sim.bms_calibration.BmsNvm`, which survives an ECU reset.
"""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from drivers.sim.bms_calibration import BmsNvm, FrontEndError
from drivers.sim.pack import Pack

if TYPE_CHECKING:
    from drivers.sim.electrical import PackCircuit

#: Cell voltage thresholds (over, under) in V by chemistry.
CELL_LIMITS_V: dict[str, tuple[float, float]] = {"NMC": (4.25, 2.80), "LFP": (3.65, 2.50)}
SENSE_WIRE_VALID_V = (0.5, 5.0)
NTC_PLAUSIBLE_C = (-35.0, 125.0)
OVER_TEMP_C = 60.0
OVER_CURRENT_C_RATE = 3.0
INSULATION_OHM_PER_V = 500.0
PRECHARGE_TIMEOUT_S = 2.0
AFE_LSB_V = 0.0001

# DTC status bits, ISO 14229-1 annex D.2.
STATUS_FAILED = 0x01
STATUS_FAILED_THIS_CYCLE = 0x02
STATUS_PENDING = 0x04
STATUS_CONFIRMED = 0x08
STATUS_NOT_COMPLETED_SINCE_CLEAR = 0x10
STATUS_FAILED_SINCE_CLEAR = 0x20
STATUS_NOT_COMPLETED_THIS_CYCLE = 0x40
STATUS_AFTER_CLEAR = STATUS_NOT_COMPLETED_SINCE_CLEAR | STATUS_NOT_COMPLETED_THIS_CYCLE  # 0x50
STATUS_AVAILABILITY_MASK = 0x7F
"""The status bits the BMS supports (no warning indicator)."""
_NOT_COMPLETED = STATUS_NOT_COMPLETED_SINCE_CLEAR | STATUS_NOT_COMPLETED_THIS_CYCLE
_FAILED_BITS = (
    STATUS_FAILED
    | STATUS_FAILED_THIS_CYCLE
    | STATUS_PENDING
    | STATUS_CONFIRMED
    | STATUS_FAILED_SINCE_CLEAR
)
"""What a failed test sets."""


def dtc_status_after_test(status: int, failed: bool) -> int:
    """Get a DTC's status byte after its monitor completed a test (failed or passed)."""
    status &= ~_NOT_COMPLETED
    return status | _FAILED_BITS if failed else status & ~STATUS_FAILED


def dtc_status_new_cycle(status: int) -> int:
    """Get a DTC's status byte when a new operation cycle starts (ECU reset).

    Pending stays only if the test failed in the cycle that ended.
    """
    pending = STATUS_PENDING if status & STATUS_FAILED_THIS_CYCLE else 0
    kept = status & ~(STATUS_FAILED_THIS_CYCLE | STATUS_PENDING)
    return kept | pending | STATUS_NOT_COMPLETED_THIS_CYCLE


class Dtc(IntEnum):
    """Fault-driven DTCs of the reference BMS (3-byte codes)."""

    HVIL_OPEN = 0xD10001
    INSULATION_LOW = 0xD10002
    SENSE_WIRE_OPEN = 0xD10003
    NTC_FAULT = 0xD10004
    CONTACTOR_WELDED = 0xD10005
    PRECHARGE_TIMEOUT = 0xD10006
    CELL_OVER_VOLTAGE = 0xD10007
    CELL_UNDER_VOLTAGE = 0xD10008


class ContactorCode(IntEnum):
    """ContactorState as the BMS reports it."""

    OPEN = 0
    PRECHARGE = 1
    CLOSED = 2
    WELDED = 3


class BmsStateCode(IntEnum):
    """BmsState as the BMS reports it."""

    INIT = 0
    STANDBY = 1
    PRECHARGE = 2
    NORMAL = 3
    ERROR = 4


@dataclass
class BmsFaults:
    """Switchable BMS faults; set the attributes directly.

    ``silent``: no CAN frames and no UDS answers. ``wrong_sw_version``: DID 0xF189 reads a
    stale version. ``stuck_dtc``: the monitor of this DTC code fails every time it runs, so
    the code comes back right after a clear. ``calibration_out_of_range``: the front-end error
    is so large that the correction needed lies outside the calibratable range.
    ``nvm_not_committed``: the commit routine answers positively but nothing reaches NVM, so
    an ECU reset restores the old calibration. ``soc_bias_pct``: the SOC estimate reads that
    many points low (a wrong initial SOC or OCV table in the firmware).
    ``balancing_fet_open``: the bleed FETs of these cells (0-based) never conduct, though the
    BMS reports balancing active. ``imd_blind``: the insulation monitor never reports a fault
    (it reads saturated whatever the insulation). ``reports_contactors_open``: the BMS
    reports its contactors OPEN while they are closed (a stuck auxiliary contact). Contactor,
    HVIL,
    sensing and insulation faults are the pack's (:class:`~drivers.sim.pack.PackFaults`,
    :attr:`Pack.insulation`).
    """

    silent: bool = False
    imd_blind: bool = False
    reports_contactors_open: bool = False
    wrong_sw_version: bool = False
    stuck_dtc: int | None = None
    calibration_out_of_range: bool = False
    nvm_not_committed: bool = False
    soc_bias_pct: float = 0.0
    balancing_fet_open: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class FaultFlags:
    """The fault bits of BMS_State."""

    cell_ov: bool = False
    cell_uv: bool = False
    over_temp: bool = False
    over_current: bool = False
    insulation: bool = False
    sense_wire: bool = False
    ntc: bool = False
    precharge: bool = False

    def any(self) -> bool:
        """Return whether any flag is set."""
        return any(vars(self).values())


@dataclass(frozen=True)
class BmsReading:
    """One measurement of everything the BMS reports, in SI units (°C, %, Ω)."""

    pack_voltage_v: float
    pack_current_a: float
    bus_voltage_v: float
    soc_pct: float
    cell_voltages_v: tuple[float, ...]
    cell_invalid: tuple[bool, ...]
    min_cell_v: float
    """The lowest valid cell voltage (of all cells when none is valid); likewise the next two."""
    max_cell_v: float
    min_cell_index: int
    temperatures_c: tuple[float, ...]
    temperature_invalid: tuple[bool, ...]
    max_temperature_c: float
    """The highest valid sensor's temperature (of all sensors when none is valid); likewise
    the next."""
    min_temperature_c: float
    insulation_ohm: float
    hvil_open: bool
    contactor: ContactorCode
    state: BmsStateCode
    balancing: bool
    flags: FaultFlags
    max_charge_current_a: float
    max_discharge_current_a: float


def _new_reading(fields: dict[str, Any]) -> BmsReading:
    """Make the reading of ``fields`` (every field, by name, in order) as :class:`BmsReading`
    would.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, which
    for a reading's 21 fields costs a tenth of a measurement; ``fields`` becomes the
    instance's dict instead (a dict display, cheaper than a call's keyword dict;
    tests/drivers/sim/test_bms_model.py checks that it holds every field and that the
    reading equals the one ``__init__`` makes).
    """
    reading = object.__new__(BmsReading)
    object.__setattr__(reading, "__dict__", fields)
    return reading


_FLAGS_BY_BITS: dict[tuple[bool, ...], FaultFlags] = {}


def _fault_flags(bits: tuple[bool, ...]) -> FaultFlags:
    """Get the (immutable, so shareable) flags of ``bits`` (in field order), made once each."""
    flags = _FLAGS_BY_BITS.get(bits)
    if flags is None:
        flags = _FLAGS_BY_BITS[bits] = FaultFlags(*bits)
    return flags


# The members measure() uses, as module constants: an enum class's attribute lookup costs as
# much as a dozen lines of measure().
_OPEN, _PRECHARGE = ContactorCode.OPEN, ContactorCode.PRECHARGE
_CLOSED, _WELDED = ContactorCode.CLOSED, ContactorCode.WELDED
_ERROR = BmsStateCode.ERROR

_STATE_OF_CONTACTOR = {
    ContactorCode.OPEN: BmsStateCode.STANDBY,
    ContactorCode.PRECHARGE: BmsStateCode.PRECHARGE,
    ContactorCode.CLOSED: BmsStateCode.NORMAL,
    ContactorCode.WELDED: BmsStateCode.NORMAL,
}
"""The BMS state without a fault, by reported contactor state."""

_NOISE_ROWS = 256
"""Measurements whose noise a BMS draws in one call (see :meth:`BmsModel._next_noise`)."""

# numpy converts a Python float operand on every operation (as costly as the operation on 96
# cells); a 0-d array it takes as it is, with the same result.
_AFE_LSB = np.array(AFE_LSB_V)
_ADD, _MULTIPLY, _DIVIDE, _RINT, _SUM_AT = np.add, np.multiply, np.divide, np.rint, np.add.reduceat

_CONTINUOUS_DTCS = tuple(
    int(code)
    for code in (
        Dtc.HVIL_OPEN,
        Dtc.INSULATION_LOW,
        Dtc.SENSE_WIRE_OPEN,
        Dtc.NTC_FAULT,
        Dtc.CELL_OVER_VOLTAGE,
        Dtc.CELL_UNDER_VOLTAGE,
    )
)
"""The DTCs whose monitors run on every measurement (see :meth:`BmsModel._update_dtcs`)."""
_continuous_statuses = operator.itemgetter(*_CONTINUOUS_DTCS)
"""Get the statuses of :data:`_CONTINUOUS_DTCS` from a DTC dict (KeyError if one is absent)."""
_FAILED_STATUS = tuple(dtc_status_after_test(status, True) for status in range(256))
_PASSED_STATUS = tuple(dtc_status_after_test(status, False) for status in range(256))
"""A status byte's successor after a failed and a passed test, by status."""


_CellReading = tuple[tuple[float, ...], tuple[bool, ...], float, float, int, bool, bool, bool]
"""The AFE's reading of every cell channel: volts, invalid, the lowest and highest and the
index of the lowest (of the valid cells; of all if none), any invalid, over- and
under-voltage."""


def temperature_groups(series: int, sensors: int = 0) -> list[range]:
    """Get the blocks each BMS temperature sensor covers (``sensors`` equal groups of
    consecutive blocks; 0: one sensor per 8 cells, at least 4)."""
    sensors = sensors or min(series, max(4, math.ceil(series / 8)))
    return [range(j * series // sensors, (j + 1) * series // sensors) for j in range(sensors)]


class BmsModel:
    """The BMS firmware's view of ``pack``: measurements, monitors, calibration RAM, NVM.

    With ``circuit`` (the bench's :class:`~drivers.sim.electrical.PackCircuit` of ``pack``) the
    BMS syncs it before reading, measures the HV bus at the circuit's terminals (so a supply
    on the open bus is seen) and switches the contactors inside ``circuit.locked()``. Without
    it, ``sync`` (if any) is called before reading and the bus is the pack's fixture bus.
    Hold :attr:`lock` around any sequence of calls that must be consistent.
    """

    def __init__(
        self,
        pack: Pack,
        *,
        seed: int,
        sync: Callable[[], None] | None = None,
        circuit: PackCircuit | None = None,
        error: FrontEndError | None = None,
        faults: BmsFaults | None = None,
        nvm: BmsNvm | None = None,
    ) -> None:
        self.pack = pack
        self.lock = threading.RLock()
        self.groups = temperature_groups(pack.spec.series, pack.spec.temperature_sensors)
        self.error = error or FrontEndError.draw(seed, pack.spec.series, len(self.groups))
        self.faults = faults or BmsFaults()
        self.nvm = nvm or BmsNvm()
        self.calibration = self.nvm.calibration
        self.balancing_mask = 0
        self.precharge_failed = False
        self.welded = False
        for code in self.supported_dtcs():
            self.nvm.dtcs.setdefault(code, STATUS_AFTER_CLEAR)
        if circuit is not None and circuit.pack is not pack:
            raise ValueError("circuit must be the circuit of the BMS's pack")
        self._circuit = circuit
        self._sync = sync or (lambda: None)
        self._bus_v = pack.bus_voltage
        # One seeded generator for every channel's noise; a measurement takes all of it at
        # once (cells, sensors, then bus, pack and current), whatever the channels read.
        self._noise = np.random.default_rng(seed ^ 0x5EED)
        self._noise_block = np.empty((0, pack.spec.series + len(self.groups) + 3))
        self._noise_row = 0
        # The block times each channel's sigma, split by kind (see _next_noise).
        self._noise_of: FrontEndError | None = None
        self._channel_noise: list[npt.NDArray[np.float64]] = []
        self._scalar_noise: list[list[float]] = []
        self._series = series = pack.spec.series  # a PackSpec is frozen
        self._group_starts = np.array([group.start for group in self.groups])
        self._group_sizes = np.array([len(group) for group in self.groups], dtype=float)
        self._gains = np.empty(series)
        # The cell channels and then the temperature sensors, worked in one array where their
        # formulas agree (see _read_channels): the channels' offsets, and one measurement's
        # readings (rewritten by the next).
        self._channel_offsets = np.empty(series + len(self.groups))
        self._channels = np.empty(series + len(self.groups))
        self._cell_channels = self._channels[:series]
        self._sensor_channels = self._channels[series:]
        self._error_of_arrays: FrontEndError | None = None
        self._out_of_range: tuple[FrontEndError, FrontEndError] | None = None
        self._all_valid = (False,) * series
        self._all_sensors_valid = (False,) * len(self.groups)
        self._ov_v, self._uv_v = CELL_LIMITS_V[pack.spec.chemistry]
        self._capacity_ah = pack.spec.nominal_capacity_ah  # a PackSpec is frozen
        self._over_current_a = OVER_CURRENT_C_RATE * self._capacity_ah
        # The continuous monitors' last results and the statuses they left (see _update_dtcs).
        self._dtcs_written: tuple[tuple[bool, ...], tuple[int, ...]] | None = None
        max_pack_v = pack.spec.series * self._ov_v
        self.insulation_limit_ohm = INSULATION_OHM_PER_V * max_pack_v

    @property
    def cells(self) -> int:
        """Get the number of cell channels (series blocks)."""
        return self.pack.spec.series

    def sync(self) -> None:
        """Bring the pack to the present time."""
        if self._circuit is not None:
            self._bus_v = self._circuit.operating_point().voltage_v
        else:
            self._sync()
            self._bus_v = self.pack.bus_voltage

    def _switch(self, command: Callable[[Pack], None]) -> None:
        if self._circuit is not None:
            with self._circuit.locked() as pack:
                command(pack)
        else:
            command(self.pack)
        self.sync()

    def _next_noise(self, err: FrontEndError) -> tuple[npt.NDArray[np.float64], list[float]]:
        """Get the next measurement's noise with ``err``'s sigmas: the cells and sensors (one
        array, as :attr:`_channels`), and the bus, pack and current channels.

        The standard-normal draws (one per channel, in that order) are drawn for
        :data:`_NOISE_ROWS` measurements at a time: the generator gives the same stream in
        one call as in many, and a call costs as much as the draws of a 96S pack. They are
        scaled for all those measurements at once too, again when the sigmas change.
        """
        if self._noise_row == len(self._noise_block):
            width = self._noise_block.shape[1]
            self._noise_block = self._noise.standard_normal((_NOISE_ROWS, width))
            self._noise_row = 0
            self._noise_of = None
        if self._noise_of is not err:
            cells, sensors = self.cells, len(self.groups)
            # The cells' noise in AFE steps (see _cells).
            sigmas = [err.cell_noise_v / AFE_LSB_V] * cells + [err.temperature_noise_c] * sensors
            sigmas += [err.bus_noise_v, err.pack_noise_v, err.current_noise_a]
            scaled = self._noise_block * np.array(sigmas)
            # One view per measurement, made at once (indexing at each costs as much).
            self._channel_noise = list(scaled[:, : cells + sensors])
            self._scalar_noise = scaled[:, cells + sensors :].tolist()
            self._noise_of = err
        row = self._noise_row
        self._noise_row = row + 1
        return self._channel_noise[row], self._scalar_noise[row]

    def _current(self, i: float, err: FrontEndError, noise: float) -> float:
        """Read the pack current ``i``: the raw reading's gain by the true direction, the
        calibration's by the raw one."""
        gain = err.current_gain_discharge if i >= 0.0 else err.current_gain_charge
        raw = (1.0 + gain) * i + err.current_offset_a + noise
        cal = self.calibration
        k = cal.current_gain_discharge if raw >= 0.0 else cal.current_gain_charge
        return k * raw + cal.current_offset_a

    def _error(self) -> FrontEndError:
        """Get the front end's error now, its per-channel tuples held as arrays."""
        err = self.error
        if self.faults.calibration_out_of_range:
            # Made once per error, so the arrays below are too.
            if self._out_of_range is None or self._out_of_range[0] is not err:
                self._out_of_range = err, err.out_of_calibratable_range()
            err = self._out_of_range[1]
        if self._error_of_arrays is not err:  # made again only when the error changes
            # In AFE steps (see _cells).
            self._gains[:] = err.cell_gains
            self._gains += 1.0
            self._gains /= _AFE_LSB
            cell_offsets = self._channel_offsets[: self._series]
            cell_offsets[:] = err.cell_offsets_v
            cell_offsets /= _AFE_LSB
            self._channel_offsets[self._series :] = err.temperature_offsets_c
            self._error_of_arrays = err
        return err

    def _read_channels(
        self, noise: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], list[float]]:
        """Read every cell channel and temperature sensor into :attr:`_channels` with ``noise``
        (one value per channel, cells in AFE steps); return the NTCs' readings and the
        channels' (cells in V, then sensors in °C) as floats.

        A cell reads (1+g)·true + o + n, quantised; a sensor the mean of its group's NTCs
        + o + n (its group's rail if an NTC is railed: see :meth:`_temperatures`). The offsets
        and the noise are added to both at once, as one array (an operation on a few more
        values costs as much as one on fewer).
        """
        cells, sensors, pack = self._cell_channels, self._sensor_channels, self.pack
        # (1+g)·true + o + n, worked in AFE steps: the gains, offsets and noise are held
        # divided by the step, so the reading needs no division before it is rounded. (Each
        # operation a ufunc call with its output: an in-place operator is a tenth dearer.)
        _MULTIPLY(self._gains, pack.afe_cell_voltage_array(), cells)
        ntc = pack.ntc_temperature_array()
        # Summed into a new array, divided into the channels (reduceat's out costs more).
        _DIVIDE(_SUM_AT(ntc, self._group_starts), self._group_sizes, sensors)
        channels = self._channels
        _ADD(channels, self._channel_offsets, channels)
        _ADD(channels, noise, channels)
        # np.round with 0 decimals is rint (half to even) behind a wrapper.
        _RINT(cells, cells)
        _MULTIPLY(cells, _AFE_LSB, cells)
        return ntc, channels.tolist()

    def _cells(self, channels: list[float]) -> _CellReading:
        """Judge the cell channels just read (:meth:`_read_channels`), ``channels`` as floats."""
        raw = self._cell_channels
        volts = tuple(channels[: self._series])
        low, high = SENSE_WIRE_VALID_V
        # The first lowest (as flatnonzero below) and the highest, by ndarray's argmin/argmax
        # (no Python wrapper, unlike min/max); their values from the floats.
        index = int(raw.argmin())
        lowest, highest = volts[index], volts[raw.argmax()]
        if low <= lowest and highest <= high:
            # Every channel valid (nearly always): the extremes are of all cells, and no
            # per-cell mask is needed.
            over, under = highest > self._ov_v, lowest < self._uv_v
            return volts, self._all_valid, lowest, highest, index, False, over, under
        bad = (raw < low) | (raw > high)
        valid = raw[~bad]
        # The extremes the BMS reports are of its valid cells (of all, when none is).
        ranked = valid if valid.size else raw
        lowest, highest = float(ranked.min()), float(ranked.max())
        index = int(np.flatnonzero(raw == lowest)[0])
        # Over/under-voltage are judged on valid cells only (none valid: neither).
        over = bool(valid.size) and highest > self._ov_v
        under = bool(valid.size) and lowest < self._uv_v
        return volts, tuple(bad.tolist()), lowest, highest, index, True, over, under

    def _temperatures(
        self, ntc: npt.NDArray[np.float64], channels: list[float]
    ) -> tuple[tuple[float, ...], tuple[bool, ...]]:
        """Judge the sensors just read (:meth:`_read_channels`, ``channels`` as floats) from
        their NTCs' readings ``ntc``: °C, invalid."""
        low, high = NTC_PLAUSIBLE_C
        temps = channels[self._series :]  # the group means + offset + noise
        if low <= ntc.item(ntc.argmin()) and ntc.item(ntc.argmax()) <= high:
            return tuple(temps), self._all_sensors_valid
        invalid = [False] * len(temps)
        bad = (ntc < low) | (ntc > high)
        for j, group in enumerate(self.groups):
            railed = [k for k in group if bad[k]]
            if railed:  # an open or shorted NTC rails the ADC: the group reads the rail
                temps[j], invalid[j] = float(ntc[railed[0]]), True
        return tuple(temps), tuple(invalid)

    def contactor_code(self) -> ContactorCode:
        """Get the contactor state as the BMS reports it (WELDED: told to open, still closed)."""
        with self.lock:
            return self._contactor_code()

    def _contactor_code(self) -> ContactorCode:
        """:meth:`contactor_code`, with :attr:`lock` held."""
        state = self.pack.contactor_state
        if state != "closed":
            self.welded = False
        if state == "precharge":
            return _PRECHARGE
        if state == "closed":
            if self.faults.reports_contactors_open:
                return _OPEN
            return _WELDED if self.welded else _CLOSED
        return _OPEN

    # The circuit's lock is never taken while holding ours: whoever holds circuit.locked()
    # may call into the BMS without a deadlock.

    def close_contactors(self) -> None:
        """Command the contactors closed (the pack precharges first)."""
        self._switch(Pack.close_contactors)

    def open_contactors(self) -> ContactorCode:
        """Command the contactors open and return the resulting state."""
        self._switch(Pack.open_contactors)
        with self.lock:
            self.welded = self.pack.contactor_state == "closed"
            self.report_test(Dtc.CONTACTOR_WELDED, self.welded)
        return self.contactor_code()

    def set_balancing(self, mask: int) -> None:
        """Balance the cells of ``mask`` (bit i = cell i; 0 stops): their bleed FETs conduct."""
        with self.lock:
            self.balancing_mask = mask
            bled = {k for k in range(self.cells) if mask >> k & 1}
            bled -= self.faults.balancing_fet_open
        self._switch(lambda pack: pack.set_bleeding(bled))

    def report_precharge(self, failed: bool) -> None:
        """Record the result of a precharge (the precharge DTC's monitor ran)."""
        with self.lock:
            self.precharge_failed = failed
            self.report_test(Dtc.PRECHARGE_TIMEOUT, failed)

    def measure(self) -> BmsReading:
        """Sync the pack, measure everything, update flags and DTCs."""
        self.sync()
        with self.lock:
            err = self._error()
            pack, faults = self.pack, self.faults
            current = pack.current_a
            channel_noise, (bus_noise, pack_noise, current_noise) = self._next_noise(err)
            ntc, channels = self._read_channels(channel_noise)
            cells = self._cells(channels)
            volts, cell_invalid, min_v, max_v, min_index, sense_wire, over_v, under_v = cells
            temps, temp_invalid = self._temperatures(ntc, channels)
            insulation = math.inf if faults.imd_blind else pack.insulation.imd_ohm()
            ntc_fault = True in temp_invalid
            valid_temps = (
                [t for t, bad in zip(temps, temp_invalid, strict=True) if not bad]
                if ntc_fault
                else temps
            )
            # The extremes of the valid sensors: reported (of all sensors when none is valid),
            # and judged (the room's temperature when none is valid).
            if valid_temps:
                hottest = t_max = max(valid_temps)
                coldest = t_min = min(valid_temps)
            else:
                t_max = t_min = pack.ambient_c
                hottest, coldest = max(temps), min(temps)
            insulation_low = insulation < self.insulation_limit_ohm
            bits = (  # FaultFlags' fields, in order
                over_v,
                under_v,
                bool(valid_temps) and t_max > OVER_TEMP_C,
                abs(current) > self._over_current_a,
                insulation_low,
                sense_wire,
                ntc_fault,
                self.precharge_failed,
            )
            contactor = self._contactor_code()
            hvil_open = not pack.hvil_closed
            welded = contactor == _WELDED
            state = _ERROR if any(bits) or hvil_open or welded else _STATE_OF_CONTACTOR[contactor]
            estimate = 100.0 * pack.soc + err.soc_offset_pct - faults.soc_bias_pct
            # min(100, max(0, estimate)), written out: a tenth of the builtins' cost.
            soc = estimate if estimate > 0.0 else 0.0
            soc = soc if soc < 100.0 else 100.0
            charge_a, discharge_a = self._limits(soc, state, t_min, t_max)
            cal = self.calibration
            # raw = (1+g)·true + o + n; the bus is then corrected with (k, d).
            bus_raw = (1.0 + err.bus_gain) * self._bus_v + err.bus_offset_v + bus_noise
            pack_v = pack.terminal_voltage()
            reading = _new_reading(
                {
                    "pack_voltage_v": (1.0 + err.pack_gain) * pack_v
                    + err.pack_offset_v
                    + pack_noise,
                    "pack_current_a": self._current(current, err, current_noise),
                    "bus_voltage_v": cal.voltage_gain * bus_raw + cal.voltage_offset_v,
                    "soc_pct": soc,
                    "cell_voltages_v": volts,
                    "cell_invalid": cell_invalid,
                    "min_cell_v": min_v,
                    "max_cell_v": max_v,
                    "min_cell_index": min_index,
                    "temperatures_c": temps,
                    "temperature_invalid": temp_invalid,
                    "max_temperature_c": hottest,
                    "min_temperature_c": coldest,
                    "insulation_ohm": insulation,
                    "hvil_open": hvil_open,
                    "contactor": contactor,
                    "state": state,
                    "balancing": self.balancing_mask != 0,
                    "flags": _fault_flags(bits),
                    "max_charge_current_a": charge_a,
                    "max_discharge_current_a": discharge_a,
                }
            )
            # The continuous monitors (the contactor monitors run on their commands).
            failing = (hvil_open, insulation_low, sense_wire, ntc_fault, over_v, under_v)
            self._update_dtcs(failing, welded)
            return reading

    def _limits(
        self, soc: float, state: BmsStateCode, t_min: float, t_max: float
    ) -> tuple[float, float]:
        """Get the allowed (charge, discharge) current in A at ``soc`` and between the
        sensors' extremes ``t_min`` and ``t_max``.

        1C and 2C, derated linearly over the last 10 % of SOC towards full / empty; 0 in ERROR
        or outside 0…45 °C (charge) / −20…55 °C (discharge).
        """
        if state == _ERROR:
            return 0.0, 0.0
        capacity = self._capacity_ah
        # The derating factors min(1, max(0, x)), written out as in measure().
        to_full, to_empty = (100.0 - soc) / 10.0, soc / 10.0
        to_full = to_full if to_full > 0.0 else 0.0
        to_empty = to_empty if to_empty > 0.0 else 0.0
        charge = capacity * (to_full if to_full < 1.0 else 1.0)
        discharge = 2.0 * capacity * (to_empty if to_empty < 1.0 else 1.0)
        charge_ok = t_min >= 0.0 and t_max <= 45.0
        discharge_ok = t_min >= -20.0 and t_max <= 55.0
        return (charge if charge_ok else 0.0), (discharge if discharge_ok else 0.0)

    def supported_dtcs(self) -> list[int]:
        """Get the DTC codes this BMS has a monitor for (a stuck DTC included)."""
        codes = [int(d) for d in Dtc]
        stuck = self.faults.stuck_dtc
        return codes if stuck is None or stuck in codes else [*codes, stuck]

    def report_test(self, code: int, failed: bool) -> None:
        """Record that the monitor of DTC ``code`` completed a test (hold :attr:`lock`)."""
        status = self.nvm.dtcs.get(code, STATUS_AFTER_CLEAR)
        self.nvm.dtcs[code] = dtc_status_after_test(status, failed)

    def _update_dtcs(self, failing: tuple[bool, ...], welded: bool) -> None:
        """Report the tests of the continuous monitors: ``failing`` in the order of
        :data:`_CONTINUOUS_DTCS`, and the welded contactor's if it reads WELDED."""
        dtcs = self.nvm.dtcs
        # A test's result applied twice is applied once (dtc_status_after_test is idempotent):
        # while the results and the statuses are those of the last update, the update would
        # write every status again as it is. The statuses are read back (not trusted), so a
        # clear, a reset, a test reported elsewhere or a shared or replaced NVM is seen.
        try:
            now = failing, _continuous_statuses(dtcs)
        except KeyError:  # a status absent (never set, or removed): update
            now = None
        if now is None or now != self._dtcs_written:
            get = dtcs.get
            for code, failed in zip(_CONTINUOUS_DTCS, failing, strict=True):
                # dtc_status_after_test, by table (the statuses are bytes).
                dtcs[code] = (_FAILED_STATUS if failed else _PASSED_STATUS)[
                    get(code, STATUS_AFTER_CLEAR)
                ]
            self._dtcs_written = failing, _continuous_statuses(dtcs)
        if welded:
            self.report_test(Dtc.CONTACTOR_WELDED, True)
        if self.faults.stuck_dtc is not None:
            self.report_test(self.faults.stuck_dtc, True)

    def read_dtcs(self) -> list[tuple[int, int]]:
        """Measure (so the continuous monitors are current), then get every DTC's status."""
        self.measure()
        with self.lock:
            return sorted(self.nvm.dtcs.items())

    def clear_dtcs(self, group: int) -> None:
        """Clear all DTCs (0xFFFFFF) or one to status 0x50; KeyError if ``group`` is neither."""
        with self.lock:
            supported = self.supported_dtcs()
            if group == 0xFFFFFF:
                cleared = set(supported) | set(self.nvm.dtcs)
            elif group in supported or group in self.nvm.dtcs:
                cleared = {group}
            else:
                raise KeyError(group)
            for code in cleared:
                self.nvm.dtcs[code] = STATUS_AFTER_CLEAR

    def reset(self) -> None:
        """ECU reset: calibration RAM from NVM, balancing off, contactors opened."""
        with self.lock:
            self.calibration = self.nvm.calibration
            self.precharge_failed = False
            for code, status in self.nvm.dtcs.items():
                self.nvm.dtcs[code] = dtc_status_new_cycle(status)
        self.set_balancing(0)
        self.open_contactors()
