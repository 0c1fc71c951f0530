"""DTC: judge the BMS's stored trouble codes, clear them, and judge what comes back.

ISO 14229-1 in the extended session. ReadDTCInformation 0x19 0x02 with status ``mask``
(default 0x09 = testFailed | confirmedDTC: what is failing now or was confirmed); the
stored DTCs are judged FIRST: ``dtc_count_before`` counts those not in ``allowed`` (hex,
"D10001": the codes earlier steps provoke on purpose, such as the HVIL test's), and it is
judged (typically ``EQ 0``), so a stored fault whose monitor runs only under conditions
(contactor open/close, a start-up check) cannot hide behind the clear. Then
ClearDiagnosticInformation 0x14 FF FF FF, ``settle_s`` for the BMS's monitors to run again,
and a second read: ``dtc_count_after`` counts every DTC that re-matured, allowed or not (the
provocation is over).

After a clear a compliant server sets every DTC to 0x50 (test not completed since the clear
nor this operation cycle). A mask with bit 4 or 6 (0xFF for one) would list all of them, so
the step refuses a mask that contains 0x50's bits.

With ``clear = false`` the step is a read-only snapshot (no clear, no wait): it records
``dtc_count`` (judged, allowed codes not counted) and ``dtcs``.

The session is returned to default on every way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.uds_session import extended_session
from station.steps.params import Range, StepParams

_COUNT_DOC = "DTCs matching the mask, not counting the allowed ones"
_CLEARING = (
    MeasurementSpec("dtc_count_before", "", doc=f"stored, before the clear: {_COUNT_DOC}"),
    MeasurementSpec(
        "dtcs_before", "", kind="text", requires_limit=False, doc="before the clear: CODE:STATUS"
    ),
    MeasurementSpec(
        "dtc_count_after", "", doc="re-matured after clear and settle: every DTC matching the mask"
    ),
    MeasurementSpec(
        "dtcs_after", "", kind="text", requires_limit=False, doc="after clear and settle"
    ),
)
_READ_ONLY = (
    MeasurementSpec("dtc_count", "", doc=_COUNT_DOC),
    MeasurementSpec("dtcs", "", kind="text", requires_limit=False, doc="stored DTCs, CODE:STATUS"),
)


DEFAULT_MASK = 0x09
"""testFailed | confirmedDTC (ISO 14229-1 status bits 0 and 3)."""
NOT_COMPLETED_BITS = 0x50
"""testNotCompletedSinceLastClear | testNotCompletedThisOperationCycle: a cleared DTC's status."""


def parse_dtc(text: str) -> int:
    """Parse a 3-byte DTC written in hex ("D10001" or "0xD10001")."""
    digits = text.strip()
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    if not 1 <= len(digits) <= 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"{text!r} is not a 3-byte DTC in hex such as 'D10001'")
    return int(digits, 16)


@dataclass(frozen=True)
class DtcParams(StepParams):
    mask: Annotated[int, Range(0x01, 0xFF, note="a status mask 0x01 … 0xFF")] = DEFAULT_MASK
    clear: bool = True
    settle_s: Annotated[float, Range(0, 600)] = 5.0
    allowed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mask & NOT_COMPLETED_BITS:
            raise ValueError(
                f"params.mask 0x{self.mask:02X} contains a test-not-completed bit (0x10 or "
                "0x40): after a clear every DTC carries them, so the BMS would list all of "
                "its DTCs; use 0x09 (testFailed | confirmedDTC) or 0x08"
            )
        for code in self.allowed:
            try:
                parse_dtc(code)
            except ValueError as err:
                raise ValueError(f"params.allowed: {err}") from None


@register
class Dtc(StepType[DtcParams]):
    """Read, record, clear and re-read the BMS's diagnostic trouble codes."""

    name = "dtc"
    roles = ("bms",)

    def declared(self, params: DtcParams) -> tuple[MeasurementSpec, ...]:
        return _CLEARING if params.clear else _READ_ONLY

    def run(self, ctx: StepContext, params: DtcParams) -> None:
        uds = ctx.instrument("bms").uds
        allowed = {parse_dtc(code) for code in params.allowed}

        def read(label: str, exempt: set[int]) -> tuple[int, str]:
            dtcs = uds.read_dtcs(params.mask)
            text = ",".join(f"{d.code:06X}:{d.status:02X}" for d in dtcs)
            counted = [d for d in dtcs if d.code not in exempt and d.status & params.mask]
            ctx.log(f"DTCs {label} (mask 0x{params.mask:02X}): {text or 'none'}")
            return len(counted), text

        with extended_session(ctx, uds):
            label = "stored before the clear" if params.clear else "stored"
            count, text = read(label, allowed)
            if not params.clear:
                ctx.measure("dtc_count", count)
                ctx.measure("dtcs", text)
                return
            ctx.measure("dtc_count_before", count)
            ctx.measure("dtcs_before", text)
            uds.clear_dtcs()
            ctx.wait(params.settle_s)
            count, text = read(f"{params.settle_s:g} s after clearing", set())
            ctx.measure("dtc_count_after", count)
            ctx.measure("dtcs_after", text)
