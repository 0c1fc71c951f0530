"""Keep SecurityAccess seeds and keys out of logs, UDS transcripts and CAN traces.

A key unlocks writes to the pack's calibration, so it is treated like a password: the UDS
transcript shows ``27 02 <4 bytes redacted>`` and a CAN trace keeps the frame (same ID,
length and time) with the seed or key bytes set to zero.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import can

_SECURITY_ACCESS = 0x27
_SECURITY_ACCESS_POSITIVE = 0x67


def is_secret(payload: bytes) -> bool:
    """Return whether a UDS payload carries a seed (positive response) or a key (sendKey)."""
    if len(payload) < 3:
        return False
    sid, sub = payload[0], payload[1] & 0x7F
    if sid == _SECURITY_ACCESS:
        return sub != 0 and sub % 2 == 0
    if sid == _SECURITY_ACCESS_POSITIVE:
        return sub % 2 == 1
    return False


def describe(payload: bytes) -> str:
    """Format a UDS payload as hex, with any seed or key replaced by its length."""
    if is_secret(payload):
        return f"{payload[:2].hex(' ').upper()} <{len(payload) - 2} bytes redacted>"
    return payload.hex(" ").upper()


class FrameRedactor:
    """Blank seed and key bytes in the ISO-TP frames of the given arbitration IDs.

    ``ids`` are the UDS request and response IDs. Multi-frame transfers are followed per ID:
    after a first frame that starts a secret payload, its consecutive frames are blanked too.
    """

    def __init__(self, ids: Iterable[int]) -> None:
        self.ids = frozenset(ids)
        """The IDs whose frames it looks at: it returns any other frame as it is."""
        self._secret_transfer: dict[int, bool] = {}

    def __call__(self, msg: can.Message) -> can.Message:
        if msg.arbitration_id not in self.ids or msg.is_error_frame or msg.is_remote_frame:
            return msg
        data = bytearray(msg.data)
        if not data:
            return msg
        kind = data[0] >> 4
        blank_from = blank_to = 0
        if kind == 0:  # single frame
            start, length = 1, data[0] & 0x0F
            if length == 0 and len(data) > 2:  # CAN FD escape: length in the next byte
                start, length = 2, data[1]
            self._secret_transfer[msg.arbitration_id] = False
            if is_secret(bytes(data[start : start + length])):
                blank_from, blank_to = start + 2, start + length
        elif kind == 1:  # first frame
            secret = is_secret(bytes(data[2:]))
            self._secret_transfer[msg.arbitration_id] = secret
            if secret:
                blank_from, blank_to = 4, len(data)
        elif kind == 2 and self._secret_transfer.get(msg.arbitration_id, False):
            blank_from, blank_to = 1, len(data)
        if blank_to <= blank_from:
            return msg
        data[blank_from:blank_to] = bytes(min(blank_to, len(data)) - blank_from)
        redacted = copy.copy(msg)
        redacted.data = data
        return redacted
