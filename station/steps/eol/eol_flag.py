"""EOL flag: clear it at the start of every run, write it last and only if everything passed.

The flag in the BMS is what tells the vehicle plant that the pack passed, so only the latest
verdict may set it. ``action`` chooses what the step does:

* ``clear`` (in setup, before anything is judged): write the flag 0x00 in the extended
  session with security access and read it back. ``eol_flag_before`` records what the pack
  arrived with (a retest of a pack that passed once reads 1); ``eol_flag_readback`` is judged
  (``EQ 0``). A pack that then fails, or whose run stops anywhere, keeps 0.
* ``write`` (at the end of main): if any earlier step of the run did not pass (outcome other
  than PASSED or SKIPPED) the flag is written 0x00 again and ``written`` is recorded False, so
  the sequence's ``BOOL true`` limit fails the step. Otherwise the EOL record DID is written
  (``"<pack serial> <run id> <YYYYMMDD> <station_text>"``, UTC date, padded to its 96 bytes:
  it links the ECU to its run in the results database), then the flag 0x01; the ECU is reset
  (which opens the contactors and relocks security) and both are read back after
  ``reset_wait_s`` in the default session. ``station check`` refuses a judged step after a
  ``write`` step outside cleanup: its FAIL would come after the flag was set.
* ``read`` (in cleanup): read the flag as it is at the end of the run
  (``eol_flag_readback``) and judge ``matches_verdict``: 1 if and only if every step before
  cleanup passed. An unreadable BMS records NaN and False.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

from drivers.bms.uds import UdsClient
from drivers.errors import BmsError
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.params import Range, StepParams

EOL_RECORD_LENGTH = 96
"""Length of the EOL record DID in bytes (reference BMS spec, DID 0xFD11)."""
STATION_TEXT_MAX = 24

_READBACK = MeasurementSpec("eol_flag_readback", "", doc="EOL flag read back (1 = passed)")
_MEASURED: dict[str, tuple[MeasurementSpec, ...]] = {
    "clear": (
        MeasurementSpec(
            "eol_flag_before", "", requires_limit=False, doc="EOL flag the pack arrived with"
        ),
        _READBACK,
    ),
    "write": (
        MeasurementSpec("written", "", kind="bool", doc="the record and flag were written"),
        _READBACK,
        MeasurementSpec(
            "eol_record", "", kind="text", requires_limit=False, doc="EOL record read back"
        ),
    ),
    "read": (
        MeasurementSpec(
            "eol_flag_readback", "", requires_limit=False, doc="EOL flag at the end of the run"
        ),
        MeasurementSpec(
            "matches_verdict",
            "",
            kind="bool",
            doc="the flag is 1 exactly when every step before cleanup passed",
        ),
    ),
}


@dataclass(frozen=True)
class EolFlagParams(StepParams):
    action: Literal["clear", "write", "read"] = "write"
    station_text: str = "EOL"
    reset_wait_s: Annotated[float, Range(0, 60)] = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        text = self.station_text
        if not text or len(text) > STATION_TEXT_MAX or not all(" " <= c <= "~" for c in text):
            raise ValueError(
                f"params.station_text must be 1 … {STATION_TEXT_MAX} printable ASCII "
                f"characters, got {text!r}"
            )


@register
class EolFlag(StepType[EolFlagParams]):
    """Clear the EOL flag at the start, write record and flag at the end, read it in cleanup."""

    name = "eol_flag"
    roles = ("bms",)

    def declared(self, params: EolFlagParams) -> tuple[MeasurementSpec, ...]:
        return _MEASURED[params.action]

    def seals_verdict(self, params: EolFlagParams) -> bool:
        return bool(params.action == "write")

    def run(self, ctx: StepContext, params: EolFlagParams) -> None:
        uds = ctx.instrument("bms").uds
        if params.action == "clear":
            before, _ = _read_back(ctx, uds, tolerate=True)
            ctx.measure("eol_flag_before", before)
            _write_flag(uds, 0x00)
            ctx.log(f"EOL flag cleared (it read {before:g} before)")
            flag, _ = _read_back(ctx, uds, tolerate=False)
            ctx.measure("eol_flag_readback", flag)
            return
        not_passed = [
            f"{r.name} ({r.outcome})"
            for r in ctx.earlier.values()
            if r.outcome.failing and r.group != "cleanup"
        ]
        if params.action == "read":
            flag, _ = _read_back(ctx, uds, tolerate=True)
            ctx.measure("eol_flag_readback", flag)
            expected = 0.0 if not_passed else 1.0
            ctx.measure("matches_verdict", flag == expected)
            return
        if not_passed:
            ctx.log(
                f"EOL flag NOT written (set to 0): earlier step(s) did not pass: "
                f"{', '.join(not_passed)}",
                "WARNING",
            )
            try:
                _write_flag(uds, 0x00)
            except BmsError as err:
                ctx.log(f"could not write the EOL flag 0: {err}", "WARNING")
            ctx.measure("written", False)
            flag, record = _read_back(ctx, uds, tolerate=True)
            ctx.measure("eol_flag_readback", flag)
            ctx.measure("eol_record", record)
            return

        record_text = eol_record(ctx, params.station_text)
        uds.change_session("extended")
        uds.unlock()
        uds.write_did("eol_record", record_text.encode("ascii").ljust(EOL_RECORD_LENGTH))
        uds.write_did("eol_flag", b"\x01")
        ctx.log(f"EOL record {record_text!r} and flag 0x01 written; resetting the BMS")
        uds.ecu_reset()
        ctx.wait(params.reset_wait_s)
        ctx.measure("written", True)
        flag, record = _read_back(ctx, uds, tolerate=False)
        ctx.measure("eol_flag_readback", flag)
        ctx.measure("eol_record", record)


def eol_record(ctx: StepContext, station_text: str) -> str:
    """The EOL record: pack serial, run id, UTC date, station text (StationError if too long)."""
    date = ctx.clock.utcnow().strftime("%Y%m%d")
    text = f"{ctx.serial} {ctx.run_id} {date} {station_text}"
    if len(text) > EOL_RECORD_LENGTH or not all(" " <= c <= "~" for c in text):
        raise StationError(
            f"the EOL record {text!r} does not fit the BMS's {EOL_RECORD_LENGTH} printable "
            "ASCII bytes: shorten params.station_text"
        )
    return text


def _write_flag(uds: UdsClient, value: int) -> None:
    """Write the EOL flag in the extended session with security access, then leave it."""
    uds.change_session("extended")
    try:
        uds.unlock()
        uds.write_did("eol_flag", bytes([value]))
    finally:
        uds.change_session("default")


def _read_back(ctx: StepContext, uds: UdsClient, *, tolerate: bool) -> tuple[float, str]:
    """Read the flag (a number) and the record; with ``tolerate``, NaN and "" if unreadable."""
    try:
        raw = uds.read_did("eol_flag")
        record = uds.read_did_text("eol_record")
    except BmsError as err:
        if not tolerate:
            raise
        ctx.log(f"EOL flag not readable: {err}", "WARNING")
        return math.nan, ""
    if len(raw) != 1:
        raise BmsError(f"the EOL flag DID read back {len(raw)} bytes, expected 1")
    return float(raw[0]), record
