"""UDS negative response codes (ISO 14229-1 annex A.1): names and what an operator can do."""

from __future__ import annotations

NRC_NAMES: dict[int, str] = {
    0x10: "generalReject",
    0x11: "serviceNotSupported",
    0x12: "subFunctionNotSupported",
    0x13: "incorrectMessageLengthOrInvalidFormat",
    0x14: "responseTooLong",
    0x21: "busyRepeatRequest",
    0x22: "conditionsNotCorrect",
    0x24: "requestSequenceError",
    0x25: "noResponseFromSubnetComponent",
    0x26: "failurePreventsExecutionOfRequestedAction",
    0x31: "requestOutOfRange",
    0x33: "securityAccessDenied",
    0x34: "authenticationRequired",
    0x35: "invalidKey",
    0x36: "exceedNumberOfAttempts",
    0x37: "requiredTimeDelayNotExpired",
    0x70: "uploadDownloadNotAccepted",
    0x71: "transferDataSuspended",
    0x72: "generalProgrammingFailure",
    0x73: "wrongBlockSequenceCounter",
    0x78: "requestCorrectlyReceived-ResponsePending",
    0x7E: "subFunctionNotSupportedInActiveSession",
    0x7F: "serviceNotSupportedInActiveSession",
    0x81: "rpmTooHigh",
    0x82: "rpmTooLow",
    0x83: "engineIsRunning",
    0x84: "engineIsNotRunning",
    0x85: "engineRunTimeTooLow",
    0x86: "temperatureTooHigh",
    0x87: "temperatureTooLow",
    0x88: "vehicleSpeedTooHigh",
    0x89: "vehicleSpeedTooLow",
    0x8A: "throttle/PedalTooHigh",
    0x8B: "throttle/PedalTooLow",
    0x8C: "transmissionRangeNotInNeutral",
    0x8D: "transmissionRangeNotInGear",
    0x8F: "brakeSwitch(es)NotClosed",
    0x90: "shifterLeverNotInPark",
    0x91: "torqueConverterClutchLocked",
    0x92: "voltageTooHigh",
    0x93: "voltageTooLow",
    0x94: "resourceTemporarilyNotAvailable",
}
"""Every negative response code ISO 14229-1 names, by value."""

_HINTS: dict[int, str] = {
    0x13: "the request's length or format is wrong for this BMS",
    0x22: "the BMS's conditions do not allow it now (HVIL, contactors, state)",
    0x24: "the steps came in the wrong order (e.g. sendKey without requestSeed)",
    0x31: "the identifier or a value is outside what this BMS accepts",
    0x33: "unlock security access first",
    0x35: "the key is wrong; check the description's security_algorithm",
    0x36: "too many wrong keys; the BMS now locks access for a delay",
    0x37: "wait for the BMS's security delay to expire, then retry",
    0x7E: "switch to the right diagnostic session first",
    0x7F: "switch to the extended session first",
}


def nrc_name(nrc: int) -> str:
    """Name ``nrc`` as ISO 14229 does, or say which range an unnamed code falls in."""
    if nrc in NRC_NAMES:
        return NRC_NAMES[nrc]
    if 0x38 <= nrc <= 0x4F:
        return "reservedByExtendedDataLinkSecurityDocument"
    if 0xF0 <= nrc <= 0xFE:
        return "vehicleManufacturerSpecificConditionsNotCorrect"
    return "ISOSAEReserved"


def describe_nrc(nrc: int) -> str:
    """Return ``"NRC 0x31 requestOutOfRange (hint)"`` for a message to the operator."""
    hint = _HINTS.get(nrc)
    return f"NRC 0x{nrc:02X} {nrc_name(nrc)}" + (f" — {hint}" if hint else "")
