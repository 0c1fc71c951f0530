"""A seeded, physics-based battery pack for the virtual bench (domain spec §6.2–§6.4).

**Cells (§6.2).** Each of the ``series`` blocks is its ``parallel`` cells merged into one
equivalent cell (Q = ΣQ, R = R/Np) with a 2RC Thevenin model::

    V_i = OCV(SOC_i) + h·s_i − I·R0_i(T_i) − U1_i − U2_i
    SOC_i ← SOC_i − I·Δt/(3600·Q_i)                       (coulomb-exact, never clamped)
    U_k  ← exp(−Δt/τ_k)·U_k + R_k·(1 − exp(−Δt/τ_k))·I     (exact for constant I)
    R0(T) = R0,25 · exp(2500 K · (1/T − 1/298.15 K))        (Arrhenius; R1, R2 fixed)

``s_i`` is the LFP hysteresis state (:mod:`drivers.sim.ocv`). Current I > 0 is discharge.
:meth:`Pack.advance` splits Δt into equal sub-steps of at most 1 s; every update above is
exact for constant current, so long Δt stays exact and stable.

**Spread (§6.3).** Per block, seeded Gaussian: capacity ×(1 + σ_Q·z), R0 ×(1 + σ_R·z),
initial SOC + σ_SOC·z, drawn in that order, block by block, from ``random.Random(seed)``.
Busbars: ``series − 1`` of ``interconnect_ohm`` each, in the terminal voltage but not in the
cell voltages (sense wires tap the cell terminals).

**Thermal (§6.4).** One lumped node per block (so :meth:`Pack.cell_temperatures` and
:meth:`Pack.ntc_temperatures` have one value per series block):
m·c_p·dT/dt = I²·R0(T) + ΣU_k²/R_k − h·A·(T − T_amb), with T_amb = :attr:`Pack.ambient_c`,
integrated exactly per sub-step with the heat held at its start-of-step value. (§6.4 writes
the RC heat as U_k·I, which equals the dissipation U_k²/R_k in steady state; U²/R never goes
negative after a current reversal.)

**Contactors and precharge (§1 step 7).** ``open`` → :meth:`Pack.close_contactors` →
``precharge``: the bus side (fixture capacitance C_bus) charges through R_pre towards the pack
voltage; at 95 % the main contactor closes (``closed``) and the bus equals the terminal
voltage. When open, the bus bleeds down through ``bus_bleed_ohm``. The pack does not time out
a stuck precharge — the BMS model does, using :attr:`Pack.precharge_elapsed_s`. Callers pass
the current that flows through the cells; it should be 0 unless :attr:`Pack.conducting`
(the precharge current itself, C_bus·V, is below 1e-4 Ah and is ignored).

**Passive balancing.** While block k's bleed FET conducts (:meth:`Pack.set_bleeding`), a
current ``I_k = V_k / (R_bleed + 2·R_wire)`` leaves it through its two sense wires and the
balancing resistor: it drains the block's SOC, and it drops ``R_wire·I`` on each wire, so the
AFE reads block k lower by ``R_wire·(2·I_k − I_{k−1} − I_{k+1})``: a bled cell reads about
2·R_wire·I low and each neighbour R_wire·I high (tens of mV in all; the I·R0 drop inside the
cell, ~0.1 mV, is left out).

**Arrays.** Every per-block quantity is a numpy array of ``series`` floats (the two RC
branches the two rows of one array) and every update above is a few array operations: a
96S pack costs what a 1S pack costs in Python overhead, and that overhead (numpy's per call,
its conversion of Python scalars) is what a sub-step costs, so the updates are worked in
place (the temperatures and both RC branches as the rows of one array, which every update of
the form x ← target + (x − target)·decay moves at once), with their scalars as 0-d arrays,
and with as few operations as the algebra allows:
constant factors are folded in once (R0,25·exp(−Ea/R / T_ref), R·h·A, I²/(h·A)), and a
cell's voltage is its no-current voltage OCV − U1 − U2, already summed for E, less I·R0.
The public readers return plain lists of floats; the BMS model reads the arrays
(:meth:`Pack.afe_cell_voltage_array`, :meth:`Pack.ntc_temperature_array`).

**Truth vs. what the BMS reads.** :meth:`Pack.cell_voltages` and
:meth:`Pack.cell_temperatures` are the truth; :meth:`Pack.afe_cell_voltages` and
:meth:`Pack.ntc_temperatures` apply sense-wire and NTC faults. Measurement error (§6.6) belongs
to the BMS model, not here.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

# np.interp is this C function behind a Python wrapper (array-function dispatch, checks of
# fp's type and of a period) that costs as much as the interpolation of a 96S pack's blocks.
# The module is numpy's private one: any numpy without it gets the public function, whose
# positional arguments are the same (tests/drivers/sim/test_pack.py checks the bits).
try:
    from numpy._core.multiarray import interp as _interp
except ImportError:  # numpy < 2, or a numpy that moved it
    _interp = np.interp

from drivers.sim.insulation import InsulationNetwork
from drivers.sim.ocv import HYSTERESIS_SOC_WIDTH
from drivers.sim.packs import PackSpec as PackSpec  # re-exported: the model's input

ContactorState = Literal["open", "precharge", "closed"]

MAX_SUBSTEP_S = 1.0
ARRHENIUS_EA_OVER_R_K = 2500.0
PRECHARGE_DONE_FRACTION = 0.95
NTC_OPEN_C = -40.0
NTC_SHORT_C = 150.0
_DECAYS_KEPT = 64
"""Sub-step lengths whose decay factors a pack remembers (a run uses a handful)."""
_DRIVES_KEPT = 64
"""Sub-step drives a pack remembers; a stretch whose current changes every sub-step (a
supply in CV) fills them, and they are then forgotten for the next stretch at constant
current."""
_T_REF_K = 298.15
_INF = math.inf
_KELVIN = 273.15

Floats = npt.NDArray[np.float64]

# ndarray.sum() is this reduction behind a Python wrapper that costs as much as summing the
# blocks of a 96S pack; the hot path sums the Thevenin rows and the SOCs in one call.
_SUM = np.add.reduce

# The ufuncs of the hot path, called with their output array: an in-place operator
# (``a *= b``) reaches the same ufunc through the number protocol and an ``out`` keyword, a
# tenth dearer, and a module constant spares the ``np.`` lookup.
_ADD, _SUBTRACT, _MULTIPLY, _DIVIDE = np.add, np.subtract, np.multiply, np.divide


_scalar: Callable[[float], Floats] = np.array
"""``_scalar(value)``: ``value`` as a 0-d array, the cheap way to hand numpy a scalar operand.

numpy converts a Python float operand on every operation, which costs about as much as the
operation on a 96S pack's blocks; a 0-d array it takes as it is, with the very same result.
The hot path's constants are made once, its per-step scalars once per use.
"""


_KELVIN_0D = _scalar(_KELVIN)
_EA_OVER_R = _scalar(ARRHENIUS_EA_OVER_R_K)
_AT_T_REF = math.exp(-ARRHENIUS_EA_OVER_R_K / _T_REF_K)
"""exp(−Ea/R / T_ref): R0(T) = R0,25 · exp(Ea/R / T) · this."""
_MINUS_HYSTERESIS_WIDTH = _scalar(-HYSTERESIS_SOC_WIDTH)


@dataclass(slots=True, eq=False)  # (arrays: no field-wise ==)
class _StateValues:
    """What one state of the pack gives (see :meth:`Pack._values`); do not modify it or its
    arrays. (A slotted dataclass: built once a clock move, at half a NamedTuple's cost.)"""

    ocv: Floats
    """Every block's OCV, hysteresis included."""
    zero_current: Floats
    """Every block's voltage at no current: OCV − U1 − U2."""
    r0: Floats
    """Every block's R0 at its temperature."""
    e_v: float
    """The pack's zero-current voltage ΣOCV − U1 − U2."""
    r_ohm: float
    """The pack's instantaneous resistance ΣR0(T) + busbars."""
    soc: float
    """The mean block SOC (summed with the Thevenin rows, in the same reduction)."""


class _Hysteresis(NamedTuple):
    """What a step of every block's SOC gives the hysteresis states (see
    :meth:`Pack._hysteresis_terms`): s ← target + (s − target)·relax where the SOC moved."""

    target: Floats
    """±1 by the direction of each block's SOC change (0 where it did not move)."""
    relax: Floats
    """exp(−|ΔSOC|/w) of each block."""
    all_moved: bool
    """Every block's SOC moved (so every state relaxes)."""


class _Drive(NamedTuple):
    """What a sub-step's length, current and room give, the same for every sub-step of a
    stretch at constant current (see :meth:`Pack._drive`)."""

    heat_per_r0: Floats
    """I²/(h·A): the Joule heat per ohm of R0, over the heat exchange, 0-d."""
    ambient: Floats
    """The room's temperature, 0-d."""
    decay: Floats
    """What the thermal and RC rows of the state (see :attr:`Pack._state`) decay by in the
    sub-step, a row each (the thermal factor repeated along its row)."""
    pull: Floats
    """What the decayed state rows are then pulled by: T_final (rewritten by each sub-step,
    see ``t_final``), and R·((1 − decay)·I) of both RC branches."""
    t_final: Floats
    """The first row of ``pull``: the sub-step's scratch for T_final."""
    d_soc: Floats
    """Every block's SOC change without bleeding."""
    hysteresis: _Hysteresis | None
    """The hysteresis terms of ``d_soc`` (None: no hysteresis, or no current)."""


class _Decays(NamedTuple):
    """The factors a state decays by in one sub-step length (see :meth:`Pack._decays`)."""

    state: Floats
    """The thermal factor and the two RC branches' factors, a row each (one value per
    block), as the rows of :attr:`Pack._state`."""
    rc_complement: Floats
    """1 − each RC factor, a row each."""


@dataclass
class PackFaults:
    """Switchable faults; set the attributes directly. Block-indexed sets hold 0-based indices.

    ``sense_wire_open``: the AFE channel reads 0 V and its upper neighbour (the lower one for
    the top channel) reads the sum of both cells. ``ntc_open``/``ntc_short``: that block's NTC
    reads −40 °C / 150 °C. ``contactor_welded``: stays closed when opened.
    ``contactor_wont_close``: stays open when closed. ``precharge_timeout``: the precharge
    resistor is open, so the bus never charges. ``hvil_open``: the interlock loop is broken.
    """

    sense_wire_open: set[int] = field(default_factory=set)
    ntc_open: set[int] = field(default_factory=set)
    ntc_short: set[int] = field(default_factory=set)
    contactor_welded: bool = False
    contactor_wont_close: bool = False
    precharge_timeout: bool = False
    hvil_open: bool = False


class Pack:
    """A simulated pack built from ``spec``, with spread drawn from ``seed`` (default spec.seed).

    Physical faults change the blocks: :meth:`weak_cell`, :meth:`high_resistance_cell`,
    :meth:`missing_parallel_cell`, :meth:`loose_busbar`, :meth:`capacity_fade`,
    :meth:`scale_resistance`. :attr:`ambient_c` is the room the pack exchanges heat with
    (``spec.ambient_c`` at first; :meth:`set_ambient` moves it and soaks the pack).
    Sensing, contactor and HVIL faults are flags on :attr:`faults` (:class:`PackFaults`);
    :meth:`sense_wire_open`, :meth:`ntc_open` and :meth:`ntc_short` are shortcuts.
    Insulation faults are on :attr:`insulation`
    (:class:`~drivers.sim.insulation.InsulationNetwork`).

    Counters since construction, all ≥ 0: ``time_s``, ``ah_discharged``, ``ah_charged``,
    ``wh_discharged``, ``wh_charged`` (Wh from terminal voltage × current).
    """

    def __init__(self, spec: PackSpec, seed: int | None = None) -> None:
        self.spec = spec
        self.seed = spec.seed if seed is None else seed
        self._curve = spec.ocv()
        rng = random.Random(self.seed)
        n, np_ = spec.series, spec.parallel
        q_ah: list[float] = []
        r0: list[float] = []
        soc: list[float] = []
        for _ in range(n):  # block by block, in this order: a seed keeps its pack
            q_ah.append(spec.cell_capacity_ah * np_ * (1.0 + rng.gauss(0.0, spec.capacity_sigma)))
            r0.append(spec.r0_ohm / np_ * (1.0 + rng.gauss(0.0, spec.r0_sigma)))
            soc.append(spec.initial_soc + rng.gauss(0.0, spec.soc_sigma))
        self._q_ah: Floats = np.array(q_ah)
        self._r0: Floats = np.array(r0)
        self._soc: Floats = np.array(soc)
        # The two RC branches as the rows of one array each (one numpy call for both).
        self._rc_ohm: Floats = np.array(
            [np.full(n, spec.r1_ohm / np_), np.full(n, spec.r2_ohm / np_)]
        )
        self._rc_ohm_ha: Floats = self._rc_ohm * spec.block_ha_w_per_k  # R·h·A, for the heat
        # The state that decays towards a target in a sub-step, updated in place in one
        # array (one numpy call for all): every block's temperature, then U1 and U2.
        self._state: Floats = np.zeros((3, n))
        self._temp_c: Floats = self._state[0]
        self._u: Floats = self._state[1:]
        self._u_rows = self._state[1], self._state[2]
        self._temp_c[:] = spec.ambient_c
        self._both_rc_resist = spec.r1_ohm > 0.0 and spec.r2_ohm > 0.0
        # Scratch for a sub-step's RC heat, and its rows: worked in place, never kept.
        self._rc_heat: Floats = np.empty((2, n))
        self._rc_heat_rows = tuple(self._rc_heat)
        self._hyst: Floats = np.zeros(n)
        self.ambient_c = spec.ambient_c
        self._busbar_ohm: Floats = np.full(max(0, n - 1), spec.interconnect_ohm)
        self._current_a = 0.0
        self._minus_i_of, self._minus_i = 0.0, _scalar(-0.0)  # see _cell_voltages
        self.time_s = 0.0
        self.ah_discharged = 0.0
        self.ah_charged = 0.0
        self.wh_discharged = 0.0
        self.wh_charged = 0.0
        self.faults = PackFaults(hvil_open=not spec.hvil_closed)
        self.insulation = InsulationNetwork(
            spec.r_iso_plus_ohm,
            spec.r_iso_minus_ohm,
            spec.c_y_plus_f,
            spec.c_y_minus_f,
            absorption_c_factor=spec.absorption_c_factor,
            absorption_tau_s=spec.absorption_tau_s,
            r_stack_plus=spec.r_iso_stack_plus_ohm,
            r_stack_minus=spec.r_iso_stack_minus_ohm,
        )
        self._contactor: ContactorState = "open"
        self._bus_v = 0.0
        self.precharge_elapsed_s = 0.0
        self._bleeding: frozenset[int] = frozenset()
        self._bleed_mask: npt.NDArray[np.bool_] = np.zeros(n, dtype=bool)
        socs, volts = zip(*self._curve.points, strict=True)
        self._ocv_socs: Floats = np.array(socs)
        self._ocv_volts: Floats = np.array(volts)
        # Every block's OCV and R0(T), and the pack's Thevenin sums, for the present state,
        # computed once per state: one clock move reads them up to six times (the sub-step,
        # the operating point, the BMS's cells and terminal voltage).
        self._now: _StateValues | None = None
        self._r0_scaled: Floats | None = None  # R0,25 · exp(−Ea/R / T_ref), see _compute_values
        self._capacity_now: float | None = None  # the smallest block's Ah (not a state)
        self._busbar_sum_now: float | None = None  # changes only with a busbar fault
        self._decays_by_step: dict[float, _Decays] = {}
        self._drives: dict[tuple[float, float, float], _Drive] = {}
        self._hysteresis_0d = _scalar(self._curve.hysteresis_v)

    def _state_changed(self) -> None:
        """Forget what was computed for the present state (a block or a resistance changed)."""
        self._now = None
        self._r0_scaled = None

    # --- physical faults ------------------------------------------------------------------

    def _check_block(self, index: int) -> None:
        if not 0 <= index < self.spec.series:
            raise IndexError(f"block index {index} outside 0..{self.spec.series - 1}")

    def weak_cell(self, index: int, capacity_factor: float) -> None:
        """Scale block ``index``'s capacity by ``capacity_factor`` (0–1), keeping its SOC."""
        self._check_block(index)
        if not 0.0 < capacity_factor <= 1.0:
            raise ValueError(f"capacity_factor must be in (0, 1], got {capacity_factor}")
        self._q_ah[index] *= capacity_factor
        self._capacity_now = None
        self._drives.clear()

    def high_resistance_cell(self, index: int, r_factor: float) -> None:
        """Scale block ``index``'s R0 by ``r_factor`` (≥ 1), e.g. a bad weld inside the block."""
        self._check_block(index)
        if not r_factor >= 1.0:
            raise ValueError(f"r_factor must be ≥ 1, got {r_factor}")
        self._r0[index] *= r_factor
        self._state_changed()

    def missing_parallel_cell(self, index: int) -> None:
        """Remove one parallel cell from block ``index`` (Q × (Np−1)/Np, R × Np/(Np−1))."""
        self._check_block(index)
        np_ = self.spec.parallel
        if np_ < 2:
            raise ValueError("a 1P pack has no parallel cell to remove")
        keep = (np_ - 1) / np_
        self._q_ah[index] *= keep
        self._capacity_now = None
        self._r0[index] /= keep
        self._rc_ohm[:, index] /= keep
        self._rc_ohm_ha = self._rc_ohm * self.spec.block_ha_w_per_k
        self._drives.clear()
        self._state_changed()

    def loose_busbar(self, index: int, added_ohm: float) -> None:
        """Add ``added_ohm`` (1–10 mΩ typical) to busbar ``index`` (between blocks i and i+1)."""
        if not 0 <= index < len(self._busbar_ohm):
            raise IndexError(f"busbar index {index} outside 0..{len(self._busbar_ohm) - 1}")
        self._busbar_ohm[index] += added_ohm
        self._busbar_sum_now = None
        self._state_changed()

    def capacity_fade(self, fraction: float) -> None:
        """Scale every block's capacity by ``fraction`` (0–1], keeping each block's SOC."""
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        self._q_ah = self._q_ah * fraction
        self._capacity_now = None
        self._drives.clear()

    def scale_resistance(self, factor: float) -> None:
        """Scale every block's R0 and every busbar by ``factor`` (> 0), e.g. a wrong cell grade."""
        if not factor > 0.0:
            raise ValueError(f"factor must be > 0, got {factor}")
        self._r0 = self._r0 * factor
        self._busbar_ohm = self._busbar_ohm * factor
        self._busbar_sum_now = None
        self._state_changed()

    def set_ambient(self, ambient_c: float) -> None:
        """Move the room to ``ambient_c`` and soak the pack there (every block at ``ambient_c``)."""
        if not -40.0 <= ambient_c <= 80.0:
            raise ValueError(f"ambient_c must be in -40 … 80 °C, got {ambient_c}")
        self.ambient_c = ambient_c
        self._temp_c[:] = ambient_c
        self._state_changed()

    def sense_wire_open(self, index: int) -> None:
        """Open the sense wire of AFE channel ``index`` (see :class:`PackFaults`)."""
        self._check_block(index)
        self.faults.sense_wire_open.add(index)

    def ntc_open(self, index: int) -> None:
        """Open the NTC of block ``index``: it reads −40 °C."""
        self._check_block(index)
        self.faults.ntc_open.add(index)

    def ntc_short(self, index: int) -> None:
        """Short the NTC of block ``index``: it reads the 150 °C rail."""
        self._check_block(index)
        self.faults.ntc_short.add(index)

    # --- balancing ------------------------------------------------------------------------

    def set_bleeding(self, blocks: set[int] | frozenset[int]) -> None:
        """Switch the bleed FETs: those of ``blocks`` conduct, the others are off."""
        for k in blocks:
            self._check_block(k)
        self._bleeding = frozenset(blocks)
        self._bleed_mask = np.zeros(self.spec.series, dtype=bool)
        self._bleed_mask[list(self._bleeding)] = True

    @property
    def bleeding(self) -> frozenset[int]:
        """Get the blocks whose bleed FET conducts."""
        return self._bleeding

    def bleed_currents(self) -> list[float]:
        """Get each block's balancing current in A (0 where its FET is off)."""
        return self._bleed_currents().tolist()  # type: ignore[no-any-return]

    def _bleed_currents(self) -> Floats:
        path_ohm = self.spec.balance_bleed_ohm + 2.0 * self.spec.sense_wire_ohm
        volts = np.maximum(self._cell_voltages(), 0.0)
        return np.where(self._bleed_mask, volts / path_ohm, 0.0)

    # --- time -----------------------------------------------------------------------------

    def advance(self, dt_s: float, current_a: float) -> None:
        """Advance time by ``dt_s`` with constant ``current_a`` (A, > 0 = discharge)."""
        # Finite: between the infinities (NaN compares false), a test with no call.
        if dt_s == 0.0 and -_INF < current_a < _INF:  # the circuit's, at every re-solve
            self._current_a = current_a
            return
        if not 0.0 <= dt_s < _INF:
            raise ValueError(f"dt_s must be finite and ≥ 0, got {dt_s}")
        if not -_INF < current_a < _INF:
            raise ValueError(f"current_a must be finite, got {current_a}")
        self._current_a = current_a
        steps = math.ceil(dt_s / MAX_SUBSTEP_S)
        h = dt_s / steps
        # Each sub-step starts where the previous one ended (same state, same current), so
        # its start voltage and R0(T) are handed on instead of computed twice.
        now = self._values()
        r0, v = now.r0, now.e_v - current_a * now.r_ohm
        for _ in range(steps):
            v, r0 = self._substep(h, current_a, v, r0)
        charge_ah = current_a * dt_s / 3600.0
        if current_a >= 0.0:
            self.ah_discharged += charge_ah
        else:
            self.ah_charged -= charge_ah
        self.time_s += dt_s

    def _substep(
        self, h: float, i: float, v_start: float, r0_start: Floats
    ) -> tuple[float, Floats]:
        """Advance by ``h`` from the terminal voltage and R0(T) of now; return those at the end."""
        spec = self.spec
        drive = self._drives.get((h, i, self.ambient_c))
        if drive is None:
            drive = self._drive(h, i)
        u = self._u
        # The expressions of the module docstring, worked in place (see "Arrays" there; the
        # RC heat, used only here, in the pack's scratch array). Heat held at its
        # start-of-step value; an RC branch without resistance heats nothing.
        # T_final = (I²·R0 + ΣU²/R) / (h·A) + T_amb, the division folded into the terms.
        t_final = _MULTIPLY(r0_start, drive.heat_per_r0, drive.t_final)
        if self._both_rc_resist:
            rc_heat = _MULTIPLY(u, u, self._rc_heat)  # U²/(R·h·A) of both branches at once
            _DIVIDE(rc_heat, self._rc_ohm_ha, rc_heat)
            heat1, heat2 = self._rc_heat_rows
            _ADD(t_final, heat1, t_final)
            _ADD(t_final, heat2, t_final)
        else:
            for k, r_ohm in enumerate((spec.r1_ohm, spec.r2_ohm)):
                if r_ohm > 0.0:
                    rc_heat = u[k] * u[k]
                    rc_heat /= self._rc_ohm_ha[k]
                    t_final += rc_heat
        _ADD(t_final, drive.ambient, t_final)
        # T ← T_final + (T − T_final)·decay and U ← decay·U + R·((1 − decay)·I): once T holds
        # T − T_final, the state's three rows decay and are pulled in one operation each.
        temp_c, state = self._temp_c, self._state
        _SUBTRACT(temp_c, t_final, temp_c)
        _MULTIPLY(state, drive.decay, state)
        _ADD(state, drive.pull, state)
        hysteresis = drive.hysteresis
        if self._bleeding:
            d_soc = (-h / 3600.0) * (i + self._bleed_currents()) / self._q_ah
            if self._curve.hysteresis_v > 0.0:
                hysteresis = self._hysteresis_terms(d_soc)
        else:
            d_soc = drive.d_soc
        # The new SOCs go straight into the row _compute_values sums with E and R.
        values = np.empty((3, spec.series))
        soc = values[2]
        _ADD(self._soc, d_soc, soc)
        self._soc = soc
        if hysteresis is not None:
            # drivers.sim.ocv.hysteresis_step for every block at once (no current, no bleed:
            # no block's SOC moved, so none's state does).
            target = hysteresis.target
            relaxed = self._hyst - target
            _MULTIPLY(relaxed, hysteresis.relax, relaxed)
            _ADD(relaxed, target, relaxed)
            if hysteresis.all_moved:
                self._hyst = relaxed
            else:
                self._hyst = np.where(d_soc == 0.0, self._hyst, relaxed)
        now = self._now = self._compute_values(values)
        v_end = now.e_v - i * now.r_ohm
        if self._contactor == "closed":
            self._bus_v = v_end  # what _advance_bus does, without the call
        else:
            self._advance_bus(h, v_end)
        # Trapezoid over the sub-step; every state moves smoothly within ≤ 1 s.
        energy_wh = 0.5 * (v_start + v_end) * i * h / 3600.0
        if i >= 0.0:
            self.wh_discharged += energy_wh
        else:
            self.wh_charged -= energy_wh
        return v_end, now.r0

    def _drive(self, h: float, i: float) -> _Drive:
        """The terms of a sub-step of ``h`` at ``i`` that no state enters, computed as
        :meth:`_substep` wrote them (the same bits); kept for the next sub-steps alike: a
        stretch at constant current, nearly all of a run, computes them once."""
        decays = self._decays(h)
        pull = np.empty((3, self.spec.series))
        rc_charge = _MULTIPLY(decays.rc_complement, _scalar(i), pull[1:])
        _MULTIPLY(rc_charge, self._rc_ohm, rc_charge)
        d_soc = _scalar((-h / 3600.0) * i) / self._q_ah
        hysteresis = None
        if self._curve.hysteresis_v > 0.0 and i != 0.0:
            hysteresis = self._hysteresis_terms(d_soc)
        drive = _Drive(
            _scalar(i * i / self.spec.block_ha_w_per_k),
            _scalar(self.ambient_c),
            decays.state,
            pull,
            pull[0],
            d_soc,
            hysteresis,
        )
        if len(self._drives) == _DRIVES_KEPT:
            self._drives.clear()
        self._drives[(h, i, self.ambient_c)] = drive
        return drive

    @staticmethod
    def _hysteresis_terms(d_soc: Floats) -> _Hysteresis:
        """The terms of :func:`drivers.sim.ocv.hysteresis_step` for every block's ``d_soc``;
        −|ΔSOC|/w written as |ΔSOC|/(−w)."""
        return _Hysteresis(
            np.sign(d_soc),
            np.exp(np.abs(d_soc) / _MINUS_HYSTERESIS_WIDTH),
            np.count_nonzero(d_soc) == d_soc.size,
        )

    def _decays(self, h: float) -> _Decays:
        """The factors (thermal, RC1, RC2) a state decays by in ``h``; made once per ``h``."""
        known = self._decays_by_step.get(h)
        if known is None:
            spec = self.spec
            rc1 = math.exp(-h / spec.tau1_s) if spec.tau1_s > 0.0 else 0.0
            rc2 = math.exp(-h / spec.tau2_s) if spec.tau2_s > 0.0 else 0.0
            thermal = math.exp(
                -h * spec.block_ha_w_per_k / (spec.block_mass_kg * spec.cp_j_per_kg_k)
            )
            rows = np.array([np.full(spec.series, factor) for factor in (thermal, rc1, rc2)])
            complements = np.array(
                [np.full(spec.series, 1.0 - rc1), np.full(spec.series, 1.0 - rc2)]
            )
            known = _Decays(rows, complements)
            if len(self._decays_by_step) < _DECAYS_KEPT:
                self._decays_by_step[h] = known
        return known

    def _advance_bus(self, h: float, terminal_v: float) -> None:
        """Move the bus by ``h``; ``terminal_v`` is the pack's terminal voltage now."""
        spec, state = self.spec, self._contactor
        if state == "closed":
            self._bus_v = terminal_v
            return
        if state == "precharge":
            self.precharge_elapsed_s += h
            if self.faults.precharge_timeout:
                r_path, target = spec.bus_bleed_ohm, 0.0  # precharge resistor open
            else:
                # Thevenin of the pack through R_pre with the bleeder across the bus.
                divider = spec.bus_bleed_ohm / (spec.precharge_ohm + spec.bus_bleed_ohm)
                r_path = spec.precharge_ohm * divider
                target = terminal_v * divider
        else:
            r_path, target = spec.bus_bleed_ohm, 0.0
        decay = math.exp(-h / (r_path * spec.bus_capacitance_f))
        self._bus_v = target + (self._bus_v - target) * decay
        if state == "precharge" and self._bus_v >= PRECHARGE_DONE_FRACTION * terminal_v:
            self._set_contactor("closed")
            self._bus_v = terminal_v

    # --- contactors and HVIL --------------------------------------------------------------

    def close_contactors(self) -> None:
        """Command the contactors closed: start precharge (unless the contactor won't close)."""
        if self._contactor != "open" or self.faults.contactor_wont_close:
            return
        self._set_contactor("precharge")
        self.precharge_elapsed_s = 0.0

    def open_contactors(self) -> None:
        """Command the contactors open (a welded contactor stays closed)."""
        if self._contactor == "closed" and self.faults.contactor_welded:
            return
        self._set_contactor("open")

    def _set_contactor(self, state: ContactorState) -> None:
        self._contactor = state
        # The stack's insulation joins the terminals through the closed (or precharge) path.
        self.insulation.stack_connected = state != "open"

    @property
    def contactor_state(self) -> ContactorState:
        """Get the contactor state: ``"open"``, ``"precharge"`` or ``"closed"``."""
        return self._contactor

    @property
    def conducting(self) -> bool:
        """Get whether load current can flow (main contactor closed)."""
        return self._contactor == "closed"

    @property
    def bus_voltage(self) -> float:
        """Measure the bus-side (fixture) voltage in V behind the contactors."""
        return self._bus_v

    @property
    def hvil_closed(self) -> bool:
        """Get whether the HV interlock loop is closed."""
        return not self.faults.hvil_open

    # --- truth ----------------------------------------------------------------------------

    def _values(self) -> _StateValues:
        """What the present state gives: OCV and R0(T) of every block, the Thevenin sums."""
        now = self._now
        if now is None:
            now = self._now = self._compute_values()
        return now

    def _compute_values(self, rows: Floats | None = None) -> _StateValues:
        """Compute :meth:`_values` into ``rows`` (3 × series, its last row the SOCs; None: a
        new array, the SOCs copied in)."""
        series = self.spec.series
        if rows is None:
            rows = np.empty((3, series))
            rows[2] = self._soc
        # np.interp holds the end values outside the table: the SOC clamp of OcvCurve.
        ocv = _interp(self._soc, self._ocv_socs, self._ocv_volts, None, None)
        if self._curve.hysteresis_v > 0.0:
            _ADD(ocv, _MULTIPLY(self._hyst, self._hysteresis_0d), ocv)
        # The three sums (E, ΣR0, ΣSOC) in one reduction over the rows (each row summed as on
        # its own: the bits of ``_SUM(row)``).
        zero_current, r0 = rows[0], rows[1]  # (indexed: unpacking iterates, ~4× the cost)
        u1, u2 = self._u_rows
        _SUBTRACT(ocv, u1, zero_current)  # OCV − U1 − U2
        _SUBTRACT(zero_current, u2, zero_current)
        # R0(T) = R0,25 · exp(Ea/R · (1/T − 1/T_ref)) = R0,25 · exp(−Ea/R / T_ref) · exp(Ea/R / T)
        if self._r0_scaled is None:
            self._r0_scaled = self._r0 * _AT_T_REF
        _ADD(self._temp_c, _KELVIN_0D, r0)
        _DIVIDE(_EA_OVER_R, r0, r0)
        np.exp(r0, r0)
        _MULTIPLY(r0, self._r0_scaled, r0)
        if self._busbar_sum_now is None:
            self._busbar_sum_now = float(_SUM(self._busbar_ohm))
        e, r_blocks, soc_sum = _SUM(rows, 1).tolist()
        return _StateValues(
            ocv, zero_current, r0, e, r_blocks + self._busbar_sum_now, soc_sum / series
        )

    @property
    def current_a(self) -> float:
        """Get the last applied current in A (> 0 = discharge)."""
        return self._current_a

    @property
    def open_circuit_voltage(self) -> float:
        """Get the sum of block OCVs in V (including LFP hysteresis)."""
        return float(self._values().ocv.sum())

    @property
    def interconnect_ohm(self) -> float:
        """Get the total busbar resistance in Ω."""
        return float(self._busbar_ohm.sum())

    @property
    def internal_resistance_ohm(self) -> float:
        """Get the instantaneous (R0) pack resistance in Ω: ΣR0(T) + busbars."""
        return self._values().r_ohm

    def thevenin(self) -> tuple[float, float]:
        """Get the pack now as its zero-current voltage E in V behind its instantaneous
        resistance R in Ω (ΣR0(T) + busbars): the terminal voltage at I is E − I·R."""
        now = self._values()
        return now.e_v, now.r_ohm

    def terminal_voltage(self, current_a: float | None = None) -> float:
        """Get the pack terminal voltage in V at ``current_a`` (default: the present current)."""
        i = self._current_a if current_a is None else current_a
        now = self._values()
        return now.e_v - i * now.r_ohm

    def _cell_voltages(self) -> Floats:
        now = self._values()
        i = self._current_a
        # −I as a 0-d array, made again only when the current changes (and at 0 A, where
        # == cannot tell 0.0 from −0.0, whose products differ in the sign of a zero).
        if i != self._minus_i_of or i == 0.0:
            self._minus_i_of, self._minus_i = i, _scalar(-i)
        volts = _MULTIPLY(now.r0, self._minus_i)  # OCV − U1 − U2 − I·R0
        _ADD(volts, now.zero_current, volts)
        return volts

    def cell_voltages(self) -> list[float]:
        """Get each series block's true voltage in V at the present current."""
        return self._cell_voltages().tolist()  # type: ignore[no-any-return]

    def afe_cell_voltage_array(self) -> Floats:
        """Get the cell voltages in V as the AFE reads them: bleed drops and open sense wires."""
        volts = self._cell_voltages()
        if self._bleeding:
            bleed = np.concatenate(([0.0], self._bleed_currents(), [0.0]))  # no cell 0−1 or n
            volts = volts - self.spec.sense_wire_ohm * (2.0 * bleed[1:-1] - bleed[:-2] - bleed[2:])
        if self.faults.sense_wire_open:
            volts = volts.copy()
            last = self.spec.series - 1
            for k in sorted(self.faults.sense_wire_open):
                neighbour = k + 1 if k < last else k - 1
                if neighbour >= 0:
                    volts[neighbour] += volts[k]
                volts[k] = 0.0
        return volts

    def afe_cell_voltages(self) -> list[float]:
        """Get the cell voltages in V as the AFE reads them (see :meth:`afe_cell_voltage_array`)."""
        return self.afe_cell_voltage_array().tolist()  # type: ignore[no-any-return]

    def rc_voltages(self) -> list[tuple[float, float]]:
        """Get each block's polarisation voltages (U1, U2) in V."""
        u1, u2 = self._u.tolist()
        return list(zip(u1, u2, strict=True))

    def cell_temperatures(self) -> list[float]:
        """Get each series block's true temperature in °C."""
        return self._temp_c.tolist()  # type: ignore[no-any-return]

    def ntc_temperature_array(self) -> Floats:
        """Get each block's NTC reading in °C: the truth, or −40 / 150 for open / short.

        Without an NTC fault this is the pack's own temperature array, which the next step
        updates in place: read it before the pack advances, and never write to it."""
        temps = self._temp_c
        if self.faults.ntc_open or self.faults.ntc_short:
            temps = temps.copy()
            temps[list(self.faults.ntc_open)] = NTC_OPEN_C
            temps[list(self.faults.ntc_short)] = NTC_SHORT_C
        return temps

    def ntc_temperatures(self) -> list[float]:
        """Get each block's NTC reading in °C (see :meth:`ntc_temperature_array`)."""
        return self.ntc_temperature_array().tolist()  # type: ignore[no-any-return]

    @property
    def soc(self) -> float:
        """Get the mean block SOC (fraction)."""
        return self._values().soc

    def block_socs(self) -> list[float]:
        """Get each series block's SOC (fraction; may leave 0–1 when over-driven)."""
        return self._soc.tolist()  # type: ignore[no-any-return]

    def block_capacities_ah(self) -> list[float]:
        """Get each series block's capacity in Ah."""
        return self._q_ah.tolist()  # type: ignore[no-any-return]

    @property
    def capacity_ah(self) -> float:
        """Get the pack capacity in Ah: the smallest block limits the series string."""
        if self._capacity_now is None:
            self._capacity_now = float(self._q_ah.min())
        return self._capacity_now
