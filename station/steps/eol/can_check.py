"""CAN check: listen to the BMS for a while and judge its cyclic traffic.

Every message the BMS description maps is watched for ``window_s`` on the run's clock. Then:

- ``missing_messages`` — cyclic messages with no frame in the window, or stale at its end
  (no frame for more than 3 × their DBC cycle time);
- ``max_period_error_pct`` — the worst |mean period − DBC cycle| / cycle × 100 over the
  messages seen at least twice (NaN when none was: nothing to judge, so its limit fails);
- ``decode_errors`` — frames of mapped messages that did not decode in the window;
- ``alive_counter_errors`` — alive-counter steps other than +1 in the window.

The BMS is the unit under test: a silent BMS is a FAIL (every message missing), not a station
ERROR. The names of missing or off-period messages go to the run's log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from drivers.bms.readings import BmsNotAvailable, BmsWaitAborted
from drivers.errors import BmsError, BmsTimeout
from drivers.roles import PackBms
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.params import Range, StepParams

_POLL_S = 0.5
"""Longest wait for one frame (wall time; the lockstep clock's time under virtual time)."""


@dataclass(frozen=True)
class CanCheckParams(StepParams):
    window_s: Annotated[float, Range(0.1, 30)] = 2.0


@register
class CanCheck(StepType[CanCheckParams]):
    """Cyclic BMS messages present, on period, decodable and with valid alive counters."""

    name = "can_check"
    roles = ("bms",)
    measurements = (
        MeasurementSpec("missing_messages", "", doc="cyclic messages missing or stale"),
        MeasurementSpec(
            "max_period_error_pct", "%", doc="worst deviation of a mean period from its cycle"
        ),
        MeasurementSpec("decode_errors", "", doc="frames that did not decode"),
        MeasurementSpec("alive_counter_errors", "", doc="alive-counter steps other than +1"),
    )

    def run(self, ctx: StepContext, params: CanCheckParams) -> None:
        bms = ctx.instrument("bms")
        before = bms.status()
        cycles = [s.cycle_s for s in before.values() if s.cycle_s is not None]
        start = ctx.now()
        _listen(ctx, bms, start + params.window_s)
        after = bms.status()
        # Periods are taken after a lead-in: the first frames after the step starts may be
        # off the BMS's grid (a frame queued before a long wait is stamped after it).
        lead_in = min(params.window_s / 4, 2 * max(cycles, default=0.0))
        periods = bms.periods(since=start + lead_in)
        seen = bms.periods(since=start)

        cyclic = [name for name, s in after.items() if s.cycle_s is not None]
        missing = sorted(n for n in cyclic if seen[n].frames == 0 or after[n].stale)
        if missing:
            ctx.log(f"missing or stale BMS messages: {', '.join(missing)}", "WARNING")

        worst = math.nan
        for name in cyclic:
            p = periods[name]
            if p.frames < 2 or p.mean_s is None or not p.expected_s:
                continue
            error_pct = abs(p.mean_s - p.expected_s) / p.expected_s * 100.0
            ctx.log(
                f"{name}: {p.frames} frames, mean period {p.mean_s * 1000:.1f} ms "
                f"(cycle {p.expected_s * 1000:g} ms, {error_pct:.1f} % off)"
            )
            worst = error_pct if math.isnan(worst) else max(worst, error_pct)

        def grown(field: str) -> int:
            return sum(
                getattr(s, field) - (getattr(before[n], field) if n in before else 0)
                for n, s in after.items()
            )

        ctx.measure("missing_messages", len(missing))
        ctx.measure("max_period_error_pct", worst)
        ctx.measure("decode_errors", grown("decode_errors"))
        ctx.measure("alive_counter_errors", grown("alive_violations"))


def _listen(ctx: StepContext, bms: PackBms, end: float) -> None:
    """Let the run's clock reach ``end`` while frames come in.

    Waiting for a frame stamped at or after ``end`` is what lets a lockstep virtual clock
    move from one BMS frame to the next while the simulated BMS sends (the BMS client steps
    it); a plain ``ctx.wait`` would jump over the whole window in one go. With a real clock
    it is simply a wait.
    """
    role = _pacing_role(bms)
    message = bms.description.signals[role].message
    while ctx.now() < end:
        ctx.check()
        last = bms.status()[message].last_received
        try:
            bms.reading(role, after=end, timeout_s=_POLL_S, abort=ctx.abort)
            return
        except BmsNotAvailable:
            return  # the frame came (only its value is "not available"): that is the pace
        except BmsWaitAborted:
            ctx.check()
            raise
        except BmsTimeout:
            if bms.status()[message].last_received == last:
                # The message we pace on stopped coming (others may still): wait the rest.
                ctx.wait(max(0.0, end - ctx.now()))


def _pacing_role(bms: PackBms) -> str:
    signals = bms.description.signals
    if not signals:
        raise BmsError(f"{bms.description.path} maps no single signal to listen for")
    return "pack_voltage" if "pack_voltage" in signals else next(iter(signals))
