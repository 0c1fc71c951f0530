"""The pack's insulation to chassis, and what an IR tester or hipot sees (domain spec §6.5).

Each pole (HV+, HV−) is an insulation resistance ``R_iso`` in parallel with its Y-capacitance
``C_Y`` and a dielectric-absorption branch (a series ``R_a``–``C_a`` with ``C_a = k·C_Y`` and
time constant ``τ_a = R_a·C_a``)::

    tester U ──R_src──┬────────┬──────────┬──── chassis
                      R_iso    C_Y        R_a
                      │        │          C_a

**Two sides of the contactors.** ``r_plus``/``r_minus`` (with the Y-capacitors) are the
conductors outside the contactors: the HV connector, its harness and the fixture side. The
cell stack, its busbars and modules behind the contactors have their own insulation to
chassis, ``r_stack_plus``/``r_stack_minus``. With the contactors open (spec §1 step 5) a
terminal IR test sees only the outside: each pole is its own path to chassis and ``"both"``
is HV+ and HV− shorted together (R = R+ ∥ R−, C = C+ + C−), so a fault inside the stack is
**invisible**. With the contactors closed (:attr:`InsulationNetwork.stack_connected`) the
stack joins the terminals and, the pack being a low-impedance source between its poles,
every insulation path to chassis is in parallel whichever pole the tester drives.

**The BMS insulation monitor (IMD)** sits inside the contactors: :meth:`imd_ohm` always sees
the stack, the outside only with the contactors closed, and a fixture test resistor
(:attr:`test_resistor_ohm`, switched from HV− to chassis at the connector by a fixture relay)
only then as well. It reports the lower of its two poles, like the reference BMS.

**IR tester.** The tester drives its set voltage U through its source resistance R_src, and
measures the terminal voltage V(t) and its output current i(t) = (U − V)/R_src, which is
V/R_iso plus the Y-capacitor charging current plus the absorption current. It shows
R(t) = V(t)/i(t): ~0 at the start, rising, and settling to R_iso exactly (the terminal
voltage, not the set point, is divided, as real testers regulate/measure at their terminals).
The two-state network (V, V_a) is solved in closed form (2×2 matrix exponential), so the
answer at any ``elapsed_s`` is exact and deterministic. A voltage ramp of ``ramp_s`` is
modelled exactly too: the response to a linear ramp is the window-average of the step
response over the last ``ramp_s`` seconds. Judging early therefore reads low — the CI tests
use this to show that the judge delay matters.

**Hipot.** Steady-state leakage: DC U/R_iso (the absorption branch blocks DC); AC the
magnitude of U·Y with Y = 1/R_iso + jωC_Y + 1/(R_a + 1/(jωC_a)). Breakdown is a threshold on
the peak voltage (``breakdown_v``; ``None`` = never).

**Discharge.** After the test the terminals discharge through the tester's discharge
resistor: V(t) = V0·exp(−t/τ), τ = (R_dis ∥ R_iso)·C_Y. Recovery voltage from the absorption
branch after discharge is not modelled.
"""

from __future__ import annotations

import math
from typing import Literal

Pole = Literal["plus", "minus", "both"]


def _parallel(a: float, b: float) -> float:
    return a * b / (a + b)


def _check_positive(name: str, value: float) -> None:
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number, got {value}")


class InsulationNetwork:
    """Insulation of HV+ and HV− to chassis, with Y-capacitors and dielectric absorption.

    ``r_plus``/``r_minus`` are the insulation resistances in Ω, ``c_plus``/``c_minus`` the
    Y-capacitances in F. The absorption branch on each pole has ``absorption_c_factor`` × C_Y
    and time constant ``absorption_tau_s`` (factor 0 disables it). ``source_ohm`` is the IR
    tester's source resistance. ``breakdown_v`` is the peak voltage at which the insulation
    breaks down (``None`` = no breakdown).

    ``r_stack_plus``/``r_stack_minus`` are the stack's insulation behind the contactors
    (default: as healthy as the outside, 5 GΩ); :attr:`stack_connected` (the pack sets it
    from its contactors) decides whether a terminal test sees them. ``test_resistor_ohm``
    (None = relay open) is the fixture's IMD test resistor from HV− to chassis.

    Faults: set one pole's resistance low with :meth:`set_pole_resistance` (moisture,
    pinched cable: 0.1–10 MΩ) or one stack pole with :meth:`set_stack_resistance`, or set
    ``breakdown_v``. All may be changed at any time.
    """

    def __init__(
        self,
        r_plus: float,
        r_minus: float,
        c_plus: float,
        c_minus: float,
        absorption_c_factor: float = 10.0,
        absorption_tau_s: float = 30.0,
        source_ohm: float = 500e3,
        breakdown_v: float | None = None,
        r_stack_plus: float = 5e9,
        r_stack_minus: float = 5e9,
    ) -> None:
        for name, value in (
            ("r_stack_plus", r_stack_plus),
            ("r_stack_minus", r_stack_minus),
            ("r_plus", r_plus),
            ("r_minus", r_minus),
            ("c_plus", c_plus),
            ("c_minus", c_minus),
            ("absorption_tau_s", absorption_tau_s),
            ("source_ohm", source_ohm),
        ):
            _check_positive(name, value)
        if not (absorption_c_factor >= 0.0 and math.isfinite(absorption_c_factor)):
            raise ValueError(f"absorption_c_factor must be ≥ 0, got {absorption_c_factor}")
        self.r_plus = r_plus
        self.r_minus = r_minus
        self.c_plus = c_plus
        self.c_minus = c_minus
        self.absorption_c_factor = absorption_c_factor
        self.absorption_tau_s = absorption_tau_s
        self.source_ohm = source_ohm
        self.breakdown_v = breakdown_v
        self.r_stack_plus = r_stack_plus
        self.r_stack_minus = r_stack_minus
        self.stack_connected = False
        self.test_resistor_ohm: float | None = None

    def set_stack_resistance(self, pole: Literal["plus", "minus"], r_ohm: float) -> None:
        """Set one pole's insulation resistance inside the stack in Ω (a stack fault)."""
        _check_positive("r_ohm", r_ohm)
        if pole == "plus":
            self.r_stack_plus = r_ohm
        elif pole == "minus":
            self.r_stack_minus = r_ohm
        else:
            raise ValueError(f"pole must be 'plus' or 'minus', got {pole!r}")

    def imd_ohm(self) -> float:
        """Measure the insulation in Ω as the BMS's monitor inside the contactors sees it.

        The lower of the two poles: the stack always; the outside and the fixture test
        resistor only while :attr:`stack_connected` (contactors closed).
        """
        plus, minus = self.r_stack_plus, self.r_stack_minus
        if self.stack_connected:
            # _parallel and min written out: the BMS measures this at every clock move.
            r = self.r_plus
            plus = plus * r / (plus + r)
            r = self.r_minus
            minus = minus * r / (minus + r)
            r_test = self.test_resistor_ohm
            if r_test is not None:
                minus = minus * r_test / (minus + r_test)
        return minus if minus < plus else plus

    def set_pole_resistance(self, pole: Literal["plus", "minus"], r_ohm: float) -> None:
        """Set one pole's insulation resistance in Ω (inject a low-insulation fault)."""
        _check_positive("r_ohm", r_ohm)
        if pole == "plus":
            self.r_plus = r_ohm
        elif pole == "minus":
            self.r_minus = r_ohm
        else:
            raise ValueError(f"pole must be 'plus' or 'minus', got {pole!r}")

    def pole_rc(self, pole: Pole) -> tuple[float, float]:
        """Get (R_iso in Ω, C_Y in F) seen from ``pole`` to chassis at the terminals."""
        if self.stack_connected:
            if pole not in ("plus", "minus", "both"):
                raise ValueError(f"pole must be 'plus', 'minus' or 'both', got {pole!r}")
            r = _parallel(self.r_plus, self.r_minus)
            r = _parallel(r, _parallel(self.r_stack_plus, self.r_stack_minus))
            if self.test_resistor_ohm is not None:
                r = _parallel(r, self.test_resistor_ohm)
            return r, self.c_plus + self.c_minus
        if pole == "plus":
            return self.r_plus, self.c_plus
        if pole == "minus":
            return self.r_minus, self.c_minus
        if pole == "both":
            return _parallel(self.r_plus, self.r_minus), self.c_plus + self.c_minus
        raise ValueError(f"pole must be 'plus', 'minus' or 'both', got {pole!r}")

    # --- IR tester ------------------------------------------------------------------------

    def _modes(self, pole: Pole) -> tuple[list[float], list[float], float]:
        """Return (eigenvalues, their V-components of P_k·x_ss per volt, G/(G_s+G)).

        The step response per volt of set voltage is V(t) = w·g_s − Σ_k c_k·e^{λ_k t}, with
        g_s = G_s/(G_s+G) the steady-state divider; see :meth:`_response`.
        """
        r, c = self.pole_rc(pole)
        g, g_s = 1.0 / r, 1.0 / self.source_ohm
        v_ss = g_s / (g_s + g)
        c_a = self.absorption_c_factor * c
        if c_a == 0.0:
            return [-(g_s + g) / c], [v_ss], g / (g_s + g)
        g_a = c_a / self.absorption_tau_s
        # States x = (V, V_a); dx/dt = A·x + b·U. Steady state x_ss = (v_ss, v_ss).
        a11, a12 = -(g_s + g + g_a) / c, g_a / c
        a21, a22 = g_a / c_a, -g_a / c_a
        tr, det = a11 + a22, a11 * a22 - a12 * a21
        lam_fast = (tr - math.sqrt(tr * tr - 4.0 * det)) / 2.0
        lam_slow = det / lam_fast  # product of the roots; avoids cancellation
        coeffs = []
        # Sylvester: e^{At} = Σ_k e^{λ_k t}·(A − λ_j I)/(λ_k − λ_j); take row V of P_k·x_ss.
        for lam_k, lam_j in ((lam_fast, lam_slow), (lam_slow, lam_fast)):
            row_v = (a11 - lam_j) * v_ss + a12 * v_ss
            coeffs.append(row_v / (lam_k - lam_j))
        return [lam_fast, lam_slow], coeffs, g / (g_s + g)

    def settling_time_constant_s(self, pole: Pole) -> float:
        """Get the slowest time constant in s of the IR tester's reading on ``pole``."""
        lams, _, _ = self._modes(pole)
        return -1.0 / max(lams)

    def _response(
        self, pole: Pole, voltage_v: float, elapsed_s: float, ramp_s: float
    ) -> tuple[float, float]:
        """Return (terminal voltage in V, tester current in A) at ``elapsed_s``."""
        if elapsed_s < 0.0 or ramp_s < 0.0:
            raise ValueError("elapsed_s and ramp_s must be ≥ 0")
        lams, coeffs, drop = self._modes(pole)
        t = elapsed_s
        if ramp_s == 0.0:
            w = 1.0
            decays = [math.exp(lam * t) for lam in lams]
        else:
            # Ramp = window-average of the step response over [t − ramp_s, t] (clipped at 0).
            a = max(0.0, t - ramp_s)
            w = (t - a) / ramp_s
            decays = [(math.exp(lam * t) - math.exp(lam * a)) / (lam * ramp_s) for lam in lams]
        transient = sum(ck * dk for ck, dk in zip(coeffs, decays, strict=True))
        v_node = voltage_v * (w * (1.0 - drop) - transient)
        # U(t) − V written without subtracting two nearly equal numbers: U(t) = w·U.
        current = voltage_v * (w * drop + transient) / self.source_ohm
        return v_node, current

    def tester_current(
        self, pole: Pole, voltage_v: float, elapsed_s: float, ramp_s: float = 0.0
    ) -> float:
        """Measure the tester's output current in A at ``elapsed_s`` after the start."""
        return self._response(pole, voltage_v, elapsed_s, ramp_s)[1]

    def ir_test(self, pole: Pole, voltage_v: float, elapsed_s: float, ramp_s: float = 0.0) -> float:
        """Measure the apparent insulation resistance in Ω at ``elapsed_s`` after the start.

        The source steps from 0 V to ``voltage_v`` at 0 s, or ramps over ``ramp_s``.
        """
        v_node, current = self._response(pole, voltage_v, elapsed_s, ramp_s)
        if current <= 0.0:
            return math.inf
        return v_node / current

    # --- hipot ----------------------------------------------------------------------------

    def leakage_current(
        self, voltage_v: float, ac: bool = False, freq_hz: float = 50.0, pole: Pole = "both"
    ) -> float:
        """Measure the steady-state leakage current in A (rms for AC) at ``voltage_v``."""
        r, c = self.pole_rc(pole)
        if not ac:
            return abs(voltage_v) / r
        _check_positive("freq_hz", freq_hz)
        omega = 2.0 * math.pi * freq_hz
        admittance = complex(1.0 / r, omega * c)
        c_a = self.absorption_c_factor * c
        if c_a > 0.0:
            r_a = self.absorption_tau_s / c_a
            admittance += 1.0 / complex(r_a, -1.0 / (omega * c_a))
        return abs(voltage_v * admittance)

    def breakdown(self, voltage_v: float, ac: bool = False) -> bool:
        """Return whether the insulation breaks down at ``voltage_v`` (rms if ``ac``)."""
        if self.breakdown_v is None:
            return False
        peak = abs(voltage_v) * (math.sqrt(2.0) if ac else 1.0)
        return peak >= self.breakdown_v

    # --- discharge after the test ---------------------------------------------------------

    def discharge_time_constant_s(self, discharge_ohm: float, pole: Pole = "both") -> float:
        """Get τ in s of the terminals discharging through ``discharge_ohm``."""
        _check_positive("discharge_ohm", discharge_ohm)
        r, c = self.pole_rc(pole)
        return _parallel(discharge_ohm, r) * c

    def residual_voltage(
        self, v_start: float, t_since_off_s: float, discharge_ohm: float, pole: Pole = "both"
    ) -> float:
        """Measure the terminal voltage in V ``t_since_off_s`` after the tester stopped."""
        if t_since_off_s < 0.0:
            raise ValueError(f"t_since_off_s must be ≥ 0, got {t_since_off_s}")
        tau = self.discharge_time_constant_s(discharge_ohm, pole)
        return v_start * math.exp(-t_since_off_s / tau)

    def time_to_safe_voltage_s(
        self, v_start: float, discharge_ohm: float, safe_v: float = 60.0, pole: Pole = "both"
    ) -> float:
        """Get the time in s until the terminals fall below ``safe_v`` (0 if already there)."""
        _check_positive("safe_v", safe_v)
        if abs(v_start) <= safe_v:
            return 0.0
        tau = self.discharge_time_constant_s(discharge_ohm, pole)
        return tau * math.log(abs(v_start) / safe_v)
