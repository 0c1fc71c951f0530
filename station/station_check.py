"""``station check SEQ --config FILE``: what the run would refuse, found before anything runs.

Loading the sequence already checks the file and the step types' cross-checks
(``station.sequence.cross_check``). With the station config this adds what only the
station shows, reusing the start gate's own checks (``station.gate``) so that the two
never disagree:

- every role a step needs has an instrument in the config (the BMS comes with ``[can]``);
- no instrument's calibration has expired (as the gate judges it today);
- the variant, when given, is one the sequence serves;
- every parameter a step type declares ``rated`` is within the configured instrument's
  rating (``options.max_voltage_v`` …), for every variant the step can run for (the gate
  checks it too, for the variant being tested);
- the cell count the sequence states is the one the BMS description gives, when it gives
  one (``cell_voltages = { …, count = N }``).

Without the config it warns (:func:`dmm_proof_warnings`) about every HV step that proves
its DMM only after energising the fixture (``dmm_proof = "test_voltage"``).

Plugins are imported by the caller from the config before the sequence is loaded, as the
run does; a module that does not import is a problem of the config.
"""

from __future__ import annotations

import datetime as dt

from drivers.bms.description import BmsDescription
from drivers.bms.signal_map import SourcesRef
from drivers.errors import BmsError
from station.config import StationConfig
from station.gate import (
    calibration_blockers,
    missing_instruments,
    rating_blockers,
    variant_problem,
)
from station.sequence import Sequence, stated_cells
from station.steps.eol.insulation import TEST_VOLTAGE_PROOF


def configured_roles(config: StationConfig) -> set[str]:
    """The roles a bench opened from ``config`` plays."""
    return set(config.instruments) | ({"bms"} if config.can is not None else set())


def check_against_config(
    sequence: Sequence, config: StationConfig, variant: str | None, today: dt.date
) -> list[str]:
    """Every reason the run of ``sequence`` on this station would be refused or would
    drive an instrument beyond its rating, one sentence each."""
    roles = configured_roles(config)
    found = [b.message for b in missing_instruments(sequence, roles.__contains__)]
    found += [b.message for b in calibration_blockers(config, today)]
    variants = list(sequence.products)
    if variant is not None:
        _, problem = variant_problem(sequence, variant)
        if problem:
            return [*found, problem]
        variants = [variant]
    found += [b.message for b in rating_blockers(sequence, config, variants)]
    found += _bms_cells(sequence, config)
    return found


def _bms_cells(sequence: Sequence, config: StationConfig) -> list[str]:
    """The BMS description's cell count (``cell_voltages = { …, count = N }``) must be the
    one the sequence states: the BMS step would wait for cells that never come, or judge
    too few."""
    if config.can is None:
        return []
    try:
        description = BmsDescription.load(config.can.bms)
    except BmsError as err:
        return [f"{config.path}: can.bms: {err}"]
    array = description.arrays.get("cell_voltages")
    # a paged array may state its count; an array of separate signals has one per element
    count = (
        None
        if array is None
        else len(array.elements)
        if isinstance(array, SourcesRef)
        else array.count
    )
    cells = stated_cells(sequence)
    if count is None or cells is None or count == cells:
        return []
    where = next(s.where for s in sequence.all_steps() if getattr(s.params, "cells", None) == cells)
    return [
        f"{sequence.path}: {where} params.cells: {cells} cells, but the BMS description "
        f"{config.can.bms} reports {count} (cell_voltages count); make them agree"
    ]


def dmm_proof_warnings(sequence: Sequence) -> list[str]:
    """One warning per HV step whose DMM is proven only after the fixture is energised."""
    found: dict[str, None] = {}  # ordered, once per step whatever the variants
    for part in sequence.products:
        for steps in sequence.groups_for(part).values():
            for step in steps:
                if getattr(step.params, "dmm_proof", None) == "test_voltage":
                    found[f"warning: {step.where} params.{TEST_VOLTAGE_PROOF}"] = None
    return list(found)
