"""Seed-to-key algorithms for UDS SecurityAccess (0x27), looked up by name.

The BMS description names the algorithm (``security_algorithm = "eol-demo-v1"``). A real
pack's algorithm is the OEM's secret: register it at start-up under its own name
(``SECURITY_ALGORITHMS["oem-x"] = fn``) from code that is not committed here. Keys and seeds
are secrets too: nothing in this package logs or reports them.
"""

from __future__ import annotations

from collections.abc import Callable

SecurityAlgorithm = Callable[[bytes], bytes]
"""Compute the key from the seed (both raw bytes as on the wire)."""

_MASK32 = 0xFFFF_FFFF


def eol_demo_v1(seed: bytes) -> bytes:
    """Compute the 4-byte key for a 4-byte seed with the project's demo algorithm.

    key = (rotl32(seed XOR 0x5A5AA5A5, 7) + 0x01234567) mod 2³², seed and key big-endian.
    Not secure: it only exercises the unlock sequence against the reference BMS.
    """
    if len(seed) != 4:
        raise ValueError(f"eol-demo-v1 needs a 4-byte seed, got {len(seed)} bytes")
    x = int.from_bytes(seed, "big") ^ 0x5A5A_A5A5
    rotated = ((x << 7) | (x >> 25)) & _MASK32
    return ((rotated + 0x0123_4567) & _MASK32).to_bytes(4, "big")


SECURITY_ALGORITHMS: dict[str, SecurityAlgorithm] = {"eol-demo-v1": eol_demo_v1}
"""Every algorithm a BMS description may name, by name."""
