"""BMS calibration at EOL: what both calibration steps share on the BMS side.

The steps (:mod:`~station.steps.eol.calibration_voltage`,
:mod:`~station.steps.eol.calibration_current`) follow one flow (domain spec §1 step 10):
check the contactor precondition, read the calibration in use, measure reference and BMS at
the fit points, fit on raw values (:mod:`~station.steps.eol.calibration_fit`), refuse to
write a value outside the calibratable range, else write it (extended session, security
access, WriteDataByIdentifier, commit routine) and read it back; then reset the ECU
(ECUReset 0x11 01), read the DID again and verify at a third point. A read-back before a
reset may come from RAM; only what survives the reset was committed to NVM, so the
verification measures with the calibration the pack will ship with.

Here: the precondition, averaged BMS readings of successive frames, and the write. Keys
never reach a log: the UDS client redacts the security exchange and nothing here sees them.
"""

from __future__ import annotations

from collections.abc import Callable

from drivers.roles import PackBms
from station.errors import StationError
from station.steps.api import MeasurementSpec, StepContext
from station.steps.eol.uds_session import extended_session

_FRAME_EPS_S = 1e-6
"""Ask for a frame strictly after the previous one (``after`` is inclusive)."""

COMMON_MEASUREMENTS = (
    MeasurementSpec(
        "written", "", kind="bool", doc="the new calibration was written and committed"
    ),
    MeasurementSpec(
        "readback_matches",
        "",
        kind="bool",
        doc="the DID read back equals the record written (None when nothing was written)",
    ),
    MeasurementSpec(
        "persisted",
        "",
        kind="bool",
        doc="the DID read after an ECU reset equals the record written (None: nothing written)",
    ),
)


def require_contactors(bms: PackBms, wanted: str, why: str) -> None:
    """Raise StationError unless the BMS reports the contactors ``wanted`` (OPEN/CLOSED)."""
    state = bms.contactor_state()
    if str(state) != wanted:
        raise StationError(
            f"the BMS reports the contactors {state}, but this step needs them {wanted} "
            f"({why}); run a contactors step before it"
        )


def bms_readings(
    ctx: StepContext,
    bms: PackBms,
    role: str,
    count: int,
    *,
    after: float,
    each: Callable[[float], None] | None = None,
) -> list[float]:
    """Read ``role`` from ``count`` successive BMS frames received at or after ``after``.

    ``each(value)`` runs after every frame (to read the reference alongside, record samples,
    check guards).
    """
    values: list[float] = []
    since = after
    for _ in range(count):
        got = bms.reading(role, after=since, abort=ctx.abort)
        ctx.check()
        value = got.number()  # a numeric role: reading() has refused "not available" already
        values.append(value)
        if each is not None:
            each(value)
        since = got.received_at + _FRAME_EPS_S
    return values


def mean(values: list[float]) -> float:
    """Average a non-empty list."""
    return sum(values) / len(values)


def read_record(bms: PackBms, did: str) -> bytes:
    """Read calibration DID ``did`` (any session allows reading)."""
    data: bytes = bms.uds.read_did(did)
    return data


def write_and_commit(
    ctx: StepContext, bms: PackBms, did: str, record: bytes, reset_wait_s: float
) -> tuple[bool, bool]:
    """Write ``record`` to ``did``, commit it, read it back, reset the ECU, read it again.

    Return (read-back matches, read-back after the reset matches). Extended session and
    security access for the write; the reset (or, if something failed before it, the
    context) returns the BMS to the default session, which relocks security. The reset
    opens the reference BMS's contactors.
    """
    with extended_session(ctx, bms.uds, unlock=True) as uds:
        uds.write_did(did, record)
        uds.routine("commit_calibration")
        back: bytes = uds.read_did(did)
        uds.ecu_reset()
    ctx.wait(reset_wait_s)
    after: bytes = bms.uds.read_did(did)
    matches, persisted = back == record, after == record
    ctx.log(
        f"{did}: wrote {record.hex(' ')}, committed, read back {back.hex(' ')}"
        + ("" if matches else " — MISMATCH")
        + f"; after an ECU reset {after.hex(' ')}"
        + ("" if persisted else " — NOT KEPT IN NVM"),
        "INFO" if matches and persisted else "WARNING",
    )
    return matches, persisted
