"""A small line for the nest tests: N nests on the virtual bench, one shared IR tester."""

from __future__ import annotations

from pathlib import Path

from station.line import PreparedLine, prepare_line
from station.runner import RunOptions

BMS = Path(__file__).resolve().parents[2] / "sequences" / "bms" / "eol_reference.toml"

SEQUENCE = """
[sequence]
name = "Nests"
version = "1"
products = ["NM14-A"]
serial_pattern = "^NM14[A-Z][0-9]{7}$"

[[main]]
type = "insulation_resistance"
name = "IR HV+"
params = { pole = "plus", voltage_v = 500, dwell_s = 5 }
limits.riso_ohm = { comparator = "GE", low = 1e8 }
limits.test_voltage_v = { comparator = "LOG" }
limits.residual_voltage_v = { comparator = "LT", high = 60 }

[[main]]
type = "wait"
name = "Soak"
params = { seconds = 10 }

[[main]]
type = "insulation_resistance"
name = "IR HV-"
params = { pole = "minus", voltage_v = 500, dwell_s = 5 }
limits.riso_ohm = { comparator = "GE", low = 1e8 }
limits.test_voltage_v = { comparator = "LOG" }
limits.residual_voltage_v = { comparator = "LT", high = 60 }
"""

TESTER = """
[instruments.insulation_tester]
model = "chroma.1905x"
resource = "TCPIP0::10.0.0.9::5025::SOCKET"
serial = "190550001234"
cal_due = 2099-12-31
"""


def line_config(tmp_path: Path, nests: int) -> Path:
    """A station of ``nests`` nests (default twins each) sharing one insulation tester."""
    text = '[station]\nid = "EOL-LINE"\nshared_roles = ["insulation_tester"]\n' + TESTER
    # With a BMS on the bench the packs arrive with their contactors open, as on the line.
    text += f'[can]\ninterface = "virtual"\nchannel = "c1"\nbms = "{BMS.as_posix()}"\n'
    text += "".join(
        f'[[nests]]\nname = "n{n}"\ncan_channel = "c{n}"\n' for n in range(1, nests + 1)
    )
    path = tmp_path / "line.toml"
    path.write_text(text, encoding="utf-8")
    return path


def sim_line(
    tmp_path: Path, nests: int, *, sequence: str = SEQUENCE, faults: tuple[str, ...] = ()
) -> PreparedLine:
    seq = tmp_path / "seq.toml"
    seq.write_text(sequence, encoding="utf-8")
    options = RunOptions(
        sequence=seq,
        config=line_config(tmp_path, nests),
        db=tmp_path / "results.db",
        sim=True,
        pack="nmc14s",
        faults=faults,
    )
    return prepare_line(options)


def serials(line: PreparedLine) -> dict[int, str]:
    return {p.nest.index: f"NM14A000000{p.nest.index}" for p in line.nests}
