"""Print the pack's label on a ZPL network printer, and keep the label with the run.

Put it in ``cleanup``, after the steps that make the pack safe: cleanup runs whatever
happened before, so the step sees every earlier step and prints

* a **pass label** — serial, part number, date (UTC), "PASS", the shipping SOC and a
  DataMatrix (``^BX``, ECC 200) of the serial — when every earlier step PASSED or was
  SKIPPED;
* a **reject label** — serial, part number, date, "REJECT" and the steps that failed, with
  **no DataMatrix**, so a rejected pack cannot be scanned into shipping — when any earlier
  step FAILED (unless ``reject_label = false``: then nothing);
* **nothing** when the run did not judge the pack (a step ended ERROR, ABORTED or
  TERMINATED and none FAILED): it is tested again, and labelled then.

The label's ZPL is recorded as the text measurement ``label_zpl``, so it is stored,
chained and exported with the run; ``label`` records which label was printed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from station.outcomes import Outcome
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.params import StepParams


def _field(text: str) -> str:
    """``text`` as a ZPL field for ``^FH_``: ^, ~ and _ hex-escaped, ASCII only."""
    out: list[str] = []
    for char in text:
        if char in "^~_" or not " " <= char <= "~":
            out.extend(f"_{b:02X}" for b in char.encode("utf-8"))
        else:
            out.append(char)
    return "".join(out)


def pass_label(serial: str, part: str, date: dt.date, soc_pct: float | None) -> str:
    """The ZPL of a pass label (4 × 2 in at 203 dpi) with a DataMatrix of the serial."""
    soc = "SOC n/a" if soc_pct is None else f"SOC {soc_pct:.1f} %"
    return "".join(
        (
            "^XA^PW812^LL406",
            f"^FO30,30^A0N,44,44^FH_^FDS/N {_field(serial)}^FS",
            f"^FO30,95^A0N,32,32^FH_^FDP/N {_field(part)}^FS",
            f"^FO30,140^A0N,32,32^FDDATE {date.isoformat()}^FS",
            f"^FO30,185^A0N,32,32^FH_^FD{_field(soc)}^FS",
            "^FO30,250^A0N,90,90^FDPASS^FS",
            f"^FO560,40^BXN,10,200^FH_^FD{_field(serial)}^FS",
            "^XZ",
        )
    )


def reject_label(serial: str, part: str, date: dt.date, failed: list[str]) -> str:
    """The ZPL of a reject label: no DataMatrix, the failed steps named."""
    steps = ", ".join(failed[:3]) + (" …" if len(failed) > 3 else "")
    return "".join(
        (
            "^XA^PW812^LL406",
            f"^FO30,30^A0N,44,44^FH_^FDS/N {_field(serial)}^FS",
            f"^FO30,95^A0N,32,32^FH_^FDP/N {_field(part)}^FS",
            f"^FO30,140^A0N,32,32^FDDATE {date.isoformat()}^FS",
            "^FO30,190^A0N,110,110^FDREJECT^FS",
            f"^FO30,320^A0N,28,28^FB750,2,0,L^FH_^FDFAILED: {_field(steps)}^FS",
            "^XZ",
        )
    )


@dataclass(frozen=True)
class PrintLabelParams(StepParams):
    soc_step: str = ""
    soc_measurement: str = "soc_pct"
    reject_label: bool = True


@register
class PrintLabel(StepType[PrintLabelParams]):
    """Print the pass or reject label of the pack and record its ZPL."""

    name = "print_label"
    roles = ("label_printer",)
    measurements = (
        MeasurementSpec("label", "", kind="text", requires_limit=False, doc="PASS, REJECT or none"),
        MeasurementSpec(
            "label_zpl", "", kind="text", requires_limit=False, doc="the ZPL sent (if any)"
        ),
    )

    def run(self, ctx: StepContext, params: PrintLabelParams) -> None:
        printer = ctx.instrument("label_printer")
        failed = [r.name for r in ctx.earlier.values() if r.outcome == Outcome.FAILED]
        unjudged = [r.name for r in ctx.earlier.values() if r.outcome.failing]
        date = ctx.clock.utcnow().date()
        if failed:
            if not params.reject_label:
                ctx.log("no label: the pack FAILED and reject labels are off")
                ctx.measure("label", "none")
                ctx.measure("label_zpl", "")
                return
            kind, zpl = "REJECT", reject_label(ctx.serial, ctx.part_number, date, failed)
        elif unjudged:
            ctx.log(f"no label: the pack was not judged ({', '.join(unjudged)})", "WARNING")
            ctx.measure("label", "none")
            ctx.measure("label_zpl", "")
            return
        else:
            kind, zpl = "PASS", pass_label(ctx.serial, ctx.part_number, date, _soc(ctx, params))
        printer.print_label(zpl)
        ctx.log(f"{kind} label printed for {ctx.serial}")
        ctx.measure("label", kind)
        ctx.measure("label_zpl", zpl)


def _soc(ctx: StepContext, params: PrintLabelParams) -> float | None:
    if not params.soc_step:
        return None
    record = ctx.earlier.get(params.soc_step)
    value = None if record is None else record.values.get(params.soc_measurement)
    if value is None:
        ctx.log(
            f"label: no {params.soc_measurement!r} from step {params.soc_step!r}; "
            "the label says SOC n/a",
            "WARNING",
        )
        return None
    return float(value)
