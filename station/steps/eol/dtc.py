"""DTC: read the BMS's trouble codes, clear them, and check that none comes back.

In the extended session: ReadDTCInformation 0x19 0x02 with ``mask``, record what was stored
(``dtc_count_before``, ``dtcs_before`` — informational: earlier steps provoke DTCs on purpose,
the HVIL test for one), ClearDiagnosticInformation 0x14 FF FF FF, let the BMS run its monitors
for ``settle_s`` and read again: ``dtc_count_after`` is what re-matured, the number to judge
(typically ``EQ 0``). Codes in ``allowed`` (hex, "D10001") are listed but not counted.

With ``clear = false`` the step is a read-only snapshot (no clear, no wait): it records
``dtc_count`` (judged) and ``dtcs``.

The session is returned to default on every way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.eol.uds_session import extended_session

_COUNT_DOC = "DTCs matching the mask, not counting the allowed ones"
_CLEARING = (
    MeasurementSpec(
        "dtc_count_before", "", requires_limit=False, doc=f"before the clear: {_COUNT_DOC}"
    ),
    MeasurementSpec(
        "dtcs_before", "", kind="text", requires_limit=False, doc="before the clear: CODE:STATUS"
    ),
    MeasurementSpec("dtc_count_after", "", doc=f"after clear and settle: {_COUNT_DOC}"),
    MeasurementSpec(
        "dtcs_after", "", kind="text", requires_limit=False, doc="after clear and settle"
    ),
)
_READ_ONLY = (
    MeasurementSpec("dtc_count", "", doc=_COUNT_DOC),
    MeasurementSpec("dtcs", "", kind="text", requires_limit=False, doc="stored DTCs, CODE:STATUS"),
)


def parse_dtc(text: str) -> int:
    """Parse a 3-byte DTC written in hex ("D10001" or "0xD10001")."""
    digits = text.strip()
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    if not 1 <= len(digits) <= 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"{text!r} is not a 3-byte DTC in hex such as 'D10001'")
    return int(digits, 16)


@register
class Dtc(StepType):
    """Read, record, clear and re-read the BMS's diagnostic trouble codes."""

    name = "dtc"
    roles = ("bms",)

    @dataclass(frozen=True)
    class Params:
        mask: int = 0xFF
        clear: bool = True
        settle_s: float = 5.0
        allowed: list[str] = field(default_factory=list)

        def __post_init__(self) -> None:
            if not 0x01 <= self.mask <= 0xFF:
                raise ValueError(f"params.mask must be a status mask 0x01 … 0xFF, got {self.mask}")
            if not 0 <= self.settle_s <= 600:
                raise ValueError(f"params.settle_s must be 0 … 600 s, got {self.settle_s}")
            for code in self.allowed:
                try:
                    parse_dtc(code)
                except ValueError as err:
                    raise ValueError(f"params.allowed: {err}") from None

    def declared(self, params: Any) -> tuple[MeasurementSpec, ...]:
        return _CLEARING if params.clear else _READ_ONLY

    def run(self, ctx: StepContext, params: Any) -> None:
        uds = ctx.instrument("bms").uds
        allowed = {parse_dtc(code) for code in params.allowed}

        def read(label: str) -> tuple[int, str]:
            dtcs = uds.read_dtcs(params.mask)
            text = ",".join(f"{d.code:06X}:{d.status:02X}" for d in dtcs)
            counted = [d for d in dtcs if d.code not in allowed]
            ctx.log(f"DTCs {label}: {text or 'none'}")
            return len(counted), text

        with extended_session(ctx, uds):
            count, text = read("stored" if not params.clear else "before clearing")
            if not params.clear:
                ctx.measure("dtc_count", count)
                ctx.measure("dtcs", text)
                return
            ctx.measure("dtc_count_before", count)
            ctx.measure("dtcs_before", text)
            uds.clear_dtcs()
            ctx.wait(params.settle_s)
            count, text = read(f"{params.settle_s:g} s after clearing")
            ctx.measure("dtc_count_after", count)
            ctx.measure("dtcs_after", text)
