"""station.judge passes a measurement's declared resolution to the limit (issue #9)."""

from __future__ import annotations

from pathlib import Path

import station.steps  # noqa: F401  (registers the built-in step types)
from station.judge import judge
from station.sequence import load_sequence

SEQUENCE = """
[sequence]
name = "judge"
version = "1"
products = ["NM96-A"]
serial_pattern = "^NM96"

[[main]]
type = "ocv_and_cells"
name = "Cells"
params = { cells = 2 }
limits.dmm_voltage_v = { comparator = "LOG" }
limits.bms_voltage_v = { comparator = "LOG" }
limits.voltage_delta_v = { comparator = "LE", high = 2.0 }
limits.cell_voltages = { comparator = "ARRAY", low = 2.5, high = 4.2, max_spread = 0.0135 }
limits.cell_spread_v = { comparator = "LE", high = 13.5, unit = "mV" }
limits.sum_vs_pack_v = { comparator = "GELE", low = -0.0001, high = -0.0001 }
"""


def test_derived_cell_values_are_judged_at_their_resolution(tmp_path: Path) -> None:
    path = tmp_path / "seq.toml"
    path.write_text(SEQUENCE, encoding="utf-8")
    sequence = load_sequence(path)
    [step] = sequence.all_steps()
    limits = sequence.limits_for("NM96-A")

    def outcome(name: str, value: object) -> str:
        return judge("run", "step", step, name, value, None, limits).outcome

    cells = [3.0, 2.9865]  # AFE readings, 0.1 mV apart 135 times
    assert outcome("cell_voltages", cells) == "PASSED"
    assert outcome("cell_spread_v", cells[0] - cells[1]) == "PASSED"  # 0.013500000000000068
    assert outcome("cell_spread_v", 3.0 - 2.9864) == "FAILED"
    # Σcells − pack with cancellation: −9.999999999976694e-05 is −0.1 mV at 1 µV
    assert outcome("sum_vs_pack_v", (2.5 + 2.5) - 5.0001) == "PASSED"
    assert outcome("sum_vs_pack_v", (2.5 + 2.5) - 5.0002) == "FAILED"


def test_a_value_never_measured_fails_and_is_stored_as_nothing(tmp_path: Path) -> None:
    """A step stopped early (a cell guard) records None: FAILED, with no text "None"."""
    path = tmp_path / "seq.toml"
    path.write_text(SEQUENCE, encoding="utf-8")
    sequence = load_sequence(path)
    [step] = sequence.all_steps()
    m = judge("run", "step", step, "voltage_delta_v", None, None, sequence.limits_for("NM96-A"))
    assert m.outcome == "FAILED"
    assert (m.value, m.value_text, m.values) == (None, None, None)
