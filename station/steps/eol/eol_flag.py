"""EOL flag: mark the pack as passed in its BMS — last, and only if everything passed.

If any earlier step of the run did not pass (outcome other than PASSED or SKIPPED), nothing
is written: ``written`` is recorded False and the sequence's ``BOOL true`` limit fails the
step. The flag is still read back (``eol_flag_readback``) so the record shows what the BMS
carries — a reworked pack may hold the flag of an earlier pass.

Otherwise, in the extended session with security access: write the EOL record DID
(``"<station_text> <YYYYMMDD>"``, UTC date, padded to its 24 bytes), write the EOL flag 0x01,
reset the ECU (which also opens the contactors and relocks security), wait ``reset_wait_s``
and read both back in the default session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.errors import BmsError
from station.steps.api import MeasurementSpec, StepContext, StepType, register

EOL_RECORD_LENGTH = 24
"""Length of the EOL record DID in bytes (reference BMS spec, DID 0xFD11)."""
_DATE_LENGTH = len(" YYYYMMDD")
_OK = frozenset({"PASSED", "SKIPPED"})


@register
class EolFlag(StepType):
    """Write the EOL record and flag to the BMS, reset it and read the flag back."""

    name = "eol_flag"
    roles = ("bms",)
    measurements = (
        MeasurementSpec("written", "", kind="bool", doc="the record and flag were written"),
        MeasurementSpec("eol_flag_readback", "", doc="EOL flag read back after the reset"),
        MeasurementSpec(
            "eol_record", "", kind="text", requires_limit=False, doc="EOL record read back"
        ),
    )

    @dataclass(frozen=True)
    class Params:
        station_text: str = "EOL"
        reset_wait_s: float = 1.0

        def __post_init__(self) -> None:
            longest = EOL_RECORD_LENGTH - _DATE_LENGTH
            text = self.station_text
            if not text or len(text) > longest or not all(" " <= c <= "~" for c in text):
                raise ValueError(
                    f"params.station_text must be 1 … {longest} printable ASCII characters, "
                    f"got {text!r}"
                )
            if not 0 <= self.reset_wait_s <= 60:
                raise ValueError(f"params.reset_wait_s must be 0 … 60 s, got {self.reset_wait_s}")

    def run(self, ctx: StepContext, params: Any) -> None:
        uds = ctx.instrument("bms").uds
        not_passed = [
            f"{r.name} ({r.outcome})" for r in ctx.earlier.values() if r.outcome not in _OK
        ]
        if not_passed:
            ctx.log(
                f"EOL flag NOT written: earlier step(s) did not pass: {', '.join(not_passed)}",
                "WARNING",
            )
            ctx.measure("written", False)
            flag, record = _read_back(ctx, uds, tolerate=True)
            ctx.measure("eol_flag_readback", flag)
            ctx.measure("eol_record", record)
            return

        date = ctx.clock.utcnow().strftime("%Y%m%d")
        text = f"{params.station_text} {date}"
        uds.change_session("extended")
        uds.unlock()
        uds.write_did("eol_record", text.encode("ascii").ljust(EOL_RECORD_LENGTH))
        uds.write_did("eol_flag", b"\x01")
        ctx.log(f"EOL record {text!r} and flag 0x01 written; resetting the BMS")
        uds.ecu_reset()
        ctx.wait(params.reset_wait_s)
        ctx.measure("written", True)
        flag, record = _read_back(ctx, uds, tolerate=False)
        ctx.measure("eol_flag_readback", flag)
        ctx.measure("eol_record", record)


def _read_back(ctx: StepContext, uds: Any, *, tolerate: bool) -> tuple[float, str]:
    """Read the flag (a number) and the record; with ``tolerate``, NaN and "" if unreadable."""
    try:
        raw = uds.read_did("eol_flag")
        record = uds.read_did_text("eol_record")
    except BmsError as err:
        if not tolerate:
            raise
        ctx.log(f"EOL flag not readable: {err}", "WARNING")
        return float("nan"), ""
    if len(raw) != 1:
        raise BmsError(f"the EOL flag DID read back {len(raw)} bytes, expected 1")
    return float(raw[0]), record
