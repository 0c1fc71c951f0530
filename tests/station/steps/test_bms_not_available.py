"""A BMS reading that is "not available" makes the step that judges it ERROR, never PASS.

The virtual bench's BMS sends pack voltage raw 0xFFFF, and the BMS description (a copy of
the reference one) declares that raw value "not available": the contactors step, which
judges the bus against the pack voltage, must end in ERROR with a sentence saying so.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import drivers.sim.bms as sim_bms
from station.engine import ERROR
from station.runner import RunOptions, prepare_run
from tests.station.steps.simrun import HEADER

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "sequences" / "bms" / "eol_reference.toml"

CLOSE = """
[[setup]]
type = "contactors_precharge"
name = "Close contactors"
limits.closed = { comparator = "BOOL", expected = true }
limits.precharge_time_s = { comparator = "LE", high = 0.5 }
limits.bus_voltage_v = { comparator = "LOG" }
limits.bus_to_pack_ratio = { comparator = "GE", low = 0.95 }
"""


def test_a_not_available_pack_voltage_is_an_error_not_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sim_bms._PACK_STATUS
    assert real.signals[0] == "PackVoltage"

    def sna_pack_voltage(reading: Any, page: int) -> tuple[float, ...]:
        return (655.35, *real.values(reading, page)[1:])  # raw 0xFFFF

    monkeypatch.setattr(sim_bms, "_PACK_STATUS", dataclasses.replace(real, values=sna_pack_voltage))
    description = tmp_path / "bms.toml"
    description.write_text(
        REFERENCE.read_text(encoding="utf-8").replace(
            'dbc = "eol_reference.dbc"', f'dbc = "{REFERENCE.with_suffix(".dbc").as_posix()}"'
        )
        + "\n[not_available]\npack_voltage = [0xFFFF]\n",
        encoding="utf-8",
    )
    sequence = tmp_path / "seq.toml"
    sequence.write_text(HEADER + CLOSE, encoding="utf-8")
    config = tmp_path / "station.toml"
    config.write_text(
        '[station]\nid = "TEST"\n[interlocks]\nrequired_for_hv = false\n'
        f'[can]\ninterface = "virtual"\nchannel = "unused"\nbms = "{description.as_posix()}"\n',
        encoding="utf-8",
    )
    prepared = prepare_run(
        RunOptions(sequence=sequence, config=config, db=tmp_path / "r.db", sim=True, pack="nmc96s")
    )
    try:
        result = prepared.engine.run("SN1")
    finally:
        prepared.close()
    step = result.steps[0]
    assert (result.outcome, step.outcome) == (ERROR, ERROR)
    assert "the BMS reports pack_voltage as not available (raw 65535)" in (step.error or "")
    assert all(m.name != "bus_to_pack_ratio" for m in step.measurements)
