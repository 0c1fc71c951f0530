"""Identify: read the BMS's identity over UDS and record the pack ↔ BMS pairing.

Each DID named in ``dids`` (names from the BMS description: ``part_number``, ``sw_version``,
``serial``, ``hw_number`` …) is read with ReadDataByIdentifier (0x22) in the default session
and recorded as a text measurement of the same name; the sequence judges it (``STREQ`` for a
software version, ``REGEX`` for a serial format). ``bms_serial`` and ``pack_serial`` record
which BMS went into which pack, for traceability; they need no limit.
``bms_serial_unique`` is false when another pack whose latest run passed carries the same
BMS serial (``station.genealogy``): give it ``BOOL true`` to FAIL such a pack.

A BMS that does not answer is a station ERROR (nothing was measured), not a FAIL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from drivers.errors import BmsTimeout
from station.steps.api import MeasurementSpec, StepContext, StepType, register
from station.steps.params import NonEmpty, StepParams

_PAIRING = (
    MeasurementSpec(
        "bms_serial",
        "",
        kind="text",
        requires_limit=False,
        doc="the BMS's serial number (DID serial), paired with the pack",
    ),
    MeasurementSpec(
        "pack_serial",
        "",
        kind="text",
        requires_limit=False,
        doc="the pack serial this run tests (scanned at the start)",
    ),
    MeasurementSpec(
        "bms_serial_unique",
        "",
        kind="bool",
        requires_limit=False,
        doc="no other pack that passed carries this BMS (limit it: BOOL true)",
    ),
)
_RESERVED = frozenset(spec.name for spec in _PAIRING)


@dataclass(frozen=True)
class IdentifyParams(StepParams):
    dids: Annotated[list[str], NonEmpty.noting("at least one DID")] = field(
        default_factory=lambda: ["part_number", "sw_version", "serial", "hw_number"]
    )
    serial_did: str = "serial"

    def __post_init__(self) -> None:
        super().__post_init__()
        doubled = sorted({d for d in self.dids if self.dids.count(d) > 1})
        if doubled:
            raise ValueError(f"params.dids names {', '.join(doubled)} more than once")
        clash = sorted(_RESERVED & set(self.dids))
        if clash:
            raise ValueError(
                f"params.dids may not contain {', '.join(clash)}: the step records the "
                "pairing under that name"
            )
        bad = [d for d in self.dids if not d.isidentifier()]
        if bad:
            raise ValueError(
                f"params.dids entries must be DID names from the BMS description, "
                f"not {', '.join(map(repr, bad))}"
            )


@register
class Identify(StepType[IdentifyParams]):
    """Read identity DIDs from the BMS and record the pack ↔ BMS serial pairing."""

    name = "identify"
    roles = ("bms",)

    def declared(self, params: IdentifyParams) -> tuple[MeasurementSpec, ...]:
        read = tuple(
            MeasurementSpec(did, "", kind="text", doc=f"DID {did} read from the BMS")
            for did in params.dids
        )
        return read + _PAIRING

    def run(self, ctx: StepContext, params: IdentifyParams) -> None:
        bms = ctx.instrument("bms")
        texts: dict[str, str] = {}
        names = [*params.dids]
        if params.serial_did not in names:
            names.append(params.serial_did)
        for did in names:
            ctx.check()
            try:
                texts[did] = bms.uds.read_did_text(did).strip()
            except BmsTimeout as err:
                raise BmsTimeout(
                    f"the BMS is silent: no UDS answer when reading {did}; check its LV supply "
                    "and wake-up, then the CAN wiring, bitrate and IDs"
                ) from err
            ctx.log(f"BMS {did}: {texts[did]!r}")
        for did in params.dids:
            ctx.measure(did, texts[did])
        bms_serial = texts[params.serial_did]
        ctx.measure("bms_serial", bms_serial)
        ctx.measure("pack_serial", ctx.serial)
        others = ctx.paired_packs(bms_serial)
        if others is None:
            ctx.log("BMS pairing not checked against other packs: no results database")
        elif others:
            ctx.log(
                f"BMS {bms_serial} is already paired with pack(s) {', '.join(others)}, "
                "which passed: a BMS belongs to one pack",
                "ERROR",
            )
        ctx.measure("bms_serial_unique", not others)
        ctx.log(f"pack {ctx.serial} carries BMS {texts[params.serial_did]}")
