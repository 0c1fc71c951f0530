"""BMS pack-current calibration: offset at zero, a gain per direction, write, verify.

With the contactors CLOSED the bidirectional supply carries known currents through the pack:
none (output off: the BMS's zero offset; the reference is exactly 0 A), ``current_a``
discharging (the supply sinks) and ``current_a`` charging (the supply sources). After
``settle_s`` the reference is the supply's own measured current (station convention: > 0
discharge) and the BMS's ``pack_current``, each averaged over ``samples`` readings. BMS
readings are turned back into raw ones with the calibration in use; ``gain_discharge``,
``gain_charge`` and ``offset`` are fitted on them (one gain per sign of the raw reading),
with the zero point in the fit. A value outside the calibratable window is
recorded and NOT written; otherwise the record is written and committed (with no current
flowing) and read back; the BMS is reset (ECUReset, which opens the contactors), the DID is
read again (``persisted``), the contactors are closed again through the BMS (with
precharge), and the error at ``verify_a`` is measured with the calibration the BMS runs after
the reset. The step leaves the contactors closed, as it found them.
``as_found_error_a`` is that error before anything was written.

With ``guard_cell_*`` the cells and the BMS are guarded while current flows
(:mod:`~station.steps.eol.guards`): a cell out of its window stops the current and the step
records ``cell_guard`` naming it (and nothing it could not measure).

The supply's readback is the reference here; a station with a reference shunt (and a DMM
across it) is more accurate and should use it. Software guards (pack voltage window,
current) stop the step with ERROR; the supply is off on every way out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from drivers.roles import PackBms
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.calibration import (
    COMMON_MEASUREMENTS,
    bms_readings,
    mean,
    read_record,
    require_contactors,
    write_and_commit,
)
from station.steps.eol.calibration_fit import CurrentCalibration, FitError, Window, fit_current
from station.steps.eol.contactors import command, is_state, state_now, unlock
from station.steps.eol.guards import (
    GUARD_MEASUREMENT,
    GUARD_OK,
    CellGuard,
    GuardParams,
    GuardTripped,
    guarded_wait,
    make_guard,
)
from station.steps.eol.power import PowerPath, check_guards, record_sample
from station.steps.params import Above, AtLeast, NonNegative, Positive, Range

_DID = "current_calibration"
_ZERO_TOLERANCE_A = 0.2
"""With the output off the supply must read (almost) nothing, else something else is connected."""


@dataclass(frozen=True)
class BmsCurrentCalibrationParams(GuardParams):
    current_a: Annotated[float, Positive.noting("used in both directions")]
    verify_a: float
    settle_s: Annotated[float, NonNegative] = 2.0
    samples: Annotated[int, AtLeast(1)] = 10
    reach_tolerance_a: float = 2.0
    gain_min: Annotated[float, Range(0, 1, low_open=True, high_open=True)] = 0.95
    gain_max: Annotated[float, Above(1)] = 1.05
    offset_max_a: Annotated[float, Positive] = 2.0
    reset_wait_s: Annotated[float, Range(0, 60)] = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.verify_a == 0 or abs(self.verify_a) == self.current_a:
            raise ValueError(
                "params.verify_a must be a third current: not 0 and not ±current_a "
                "(> 0 discharge, < 0 charge)"
            )


@register
class BmsCurrentCalibration(StepType[BmsCurrentCalibrationParams]):
    """Calibrate the BMS's pack-current channel (both directions) against the supply."""

    name = "bms_current_calibration"
    roles = ("supply", "bms")
    rated = (
        ("current_a", "supply", "max_current_a"),
        ("guard_max_v", "supply", "max_voltage_v"),
    )
    energises = True
    measurements = (
        MeasurementSpec("gain_discharge", "", doc="fitted gain for discharge (raw > 0)"),
        MeasurementSpec("gain_charge", "", doc="fitted gain for charge (raw < 0)"),
        MeasurementSpec("offset", "A", doc="fitted offset d"),
        MeasurementSpec(
            "as_found_error_a",
            "A",
            requires_limit=False,
            doc="BMS − reference at verify_a before calibration",
        ),
        *COMMON_MEASUREMENTS,
        MeasurementSpec(
            "verify_error_a",
            "A",
            doc="BMS − reference at verify_a after calibration (None when nothing was written)",
        ),
    )

    def declared(self, params: BmsCurrentCalibrationParams) -> tuple[MeasurementSpec, ...]:
        guarded = params.guard_cell_min_v is not None
        return self.measurements + ((GUARD_MEASUREMENT,) if guarded else ())

    def run(self, ctx: StepContext, params: BmsCurrentCalibrationParams) -> None:
        bms = ctx.instrument("bms")
        require_contactors(bms, "CLOSED", "the current must flow through the pack")
        in_use = CurrentCalibration.from_record(read_record(bms, _DID))
        ctx.log(
            f"calibration in use: gains {in_use.gain_discharge:.6f} (discharge), "
            f"{in_use.gain_charge:.6f} (charge), offset {in_use.offset_a:+.4f} A"
        )
        path = PowerPath(ctx, "supply")
        guard = make_guard(ctx, params, path.off)
        recorded: set[str] = set()

        def measure(name: str, value: Any) -> None:
            recorded.add(name)
            ctx.measure(name, value)

        try:
            self._calibrate(ctx, params, bms, in_use, path, guard, measure)
            if guard is not None:
                measure("cell_guard", GUARD_OK)
        except GuardTripped as trip:
            path.off()
            ctx.log(f"guard tripped, current off: {trip}", "WARNING")
            for spec in self.declared(params):
                if spec.name not in recorded:
                    ctx.measure(spec.name, str(trip) if spec.name == "cell_guard" else None)
        finally:
            path.off()

    def _calibrate(
        self,
        ctx: StepContext,
        params: BmsCurrentCalibrationParams,
        bms: PackBms,
        in_use: CurrentCalibration,
        path: PowerPath,
        guard: CellGuard | None,
        measure: Callable[[str, Any], None],
    ) -> None:
        """Fit, write, reset, verify; record every measurement but ``cell_guard``."""
        refs, raws = [], []
        for n, amps in enumerate((0.0, params.current_a, -params.current_a)):
            ref, reported = self._point(ctx, params, bms, path, amps, guard)
            refs.append(ref)
            raws.append(mean([in_use.raw(i) for i in reported]))
            ctx.progress((n + 1) / 5, text=f"fit point {amps:g} A")
        ref, reported = self._point(ctx, params, bms, path, params.verify_a, guard)
        as_found = mean(reported) - ref
        path.off()  # no current while the BMS's calibration changes
        try:
            new = fit_current(refs, raws)
        except FitError as err:
            raise StationError(
                f"cannot fit the current calibration: {err} (reference {refs} A, raw BMS "
                f"{[round(r, 3) for r in raws]} A): does the BMS see the current?"
            ) from None
        measure("gain_discharge", new.gain_discharge)
        measure("gain_charge", new.gain_charge)
        measure("offset", new.offset_a)
        measure("as_found_error_a", as_found)
        window = Window(params.gain_min, params.gain_max, params.offset_max_a)
        gains = {"gain_discharge": new.gain_discharge, "gain_charge": new.gain_charge}
        problems = window.problems(gains, new.offset_a, "A")
        if problems:
            ctx.log(f"not written, outside the calibratable range: {'; '.join(problems)}")
            measure("written", False)
            measure("readback_matches", None)
            measure("persisted", None)
            measure("verify_error_a", None)
            return
        matches, persisted = write_and_commit(ctx, bms, _DID, new.record(), params.reset_wait_s)
        measure("written", True)
        measure("readback_matches", matches)
        measure("persisted", persisted)
        _close_again(ctx, bms)
        ref, reported = self._point(ctx, params, bms, path, params.verify_a, guard)
        measure("verify_error_a", mean(reported) - ref)
        ctx.progress(1.0, text="verified")

    def _point(
        self,
        ctx: StepContext,
        params: BmsCurrentCalibrationParams,
        bms: PackBms,
        path: PowerPath,
        amps: float,
        guard: CellGuard | None,
    ) -> tuple[float, list[float]]:
        """Run ``amps`` (> 0 discharge, 0 off); return the mean reference and BMS readings."""
        if amps > 0:
            path.discharge(amps, params.guard_min_v)
        elif amps < 0:
            path.charge(-amps, params.guard_max_v)
        else:
            path.off()
        guarded_wait(ctx, params.settle_s, guard if amps else None)
        refs: list[float] = []
        limit_a = 1.2 * max(params.current_a, abs(params.verify_a))

        def reference(bms_a: float) -> None:
            r = path.read()
            record_sample(ctx, r)
            ctx.sample("bms_current_A", bms_a)
            check_guards(r, min_v=params.guard_min_v, max_v=params.guard_max_v, max_abs_a=limit_a)
            if guard is not None and amps:
                guard.check()
            refs.append(r.current_a)

        reported = bms_readings(
            ctx, bms, "pack_current", params.samples, after=ctx.now(), each=reference
        )
        ref = mean(refs)
        if amps == 0:
            if abs(ref) > _ZERO_TOLERANCE_A:
                raise StationError(
                    f"the supply reads {ref:.3f} A with its output off: is another source or "
                    "load connected to the pack?"
                )
            return 0.0, reported  # nothing flows: exact, free of the supply's zero error
        if abs(ref - amps) > params.reach_tolerance_a:
            raise StationError(
                f"the supply carries {ref:.3f} A instead of {amps:g} A: check the power path "
                "(contactors, fuse, supply limits, pack voltage inside the guard window)"
            )
        return ref, reported


def _close_again(ctx: StepContext, bms: PackBms) -> None:
    """Close the contactors the ECU reset opened (precharge first), or raise StationError."""
    ctx.require_interlocks_safe()
    unlock(bms)
    try:
        closed = command(ctx, bms, "close_contactors") and is_state(state_now(ctx, bms), "CLOSED")
    finally:
        bms.uds.change_session("default")
    if not closed:
        raise StationError(
            "the contactors did not close again after the BMS reset, so the current "
            "calibration cannot be verified; check the precharge and the BMS's DTCs"
        )
