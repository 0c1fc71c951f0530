"""``station examples DIR`` and ``python -m station``: the shipped data, copied out for editing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from station.cli import main
from station.config import load_config
from station.sequence import load_sequence


def test_examples_copies_sequences_limits_configs_and_bms_descriptions(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    assert main(["examples", str(target)]) == 0
    for name in (
        "nmc96s/eol.toml",
        "nmc96s/limits/nm96-a.toml",
        "lfp16s/eol.toml",
        "station.example.toml",
        "bms/eol_reference.toml",
        "bms/eol_reference.dbc",
        "bms/foxbms.dbc",
        "bms/foxbms.LICENSE.txt",
        "packs/nmc96s.toml",
        "packs/nmc14s.toml",
    ):
        assert (target / name).is_file(), name
    load_sequence(target / "nmc96s" / "eol.toml")  # the copy is self-contained and valid
    load_config(target / "station.example.toml")


def test_examples_refuses_to_overwrite_and_copies_nothing(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    (target / "nmc96s").mkdir(parents=True)
    (target / "nmc96s" / "eol.toml").write_text("# my edits\n", encoding="utf-8")
    assert main(["examples", str(target)]) == 2
    assert (target / "nmc96s" / "eol.toml").read_text(encoding="utf-8") == "# my edits\n"
    assert not (target / "bms").exists()


def test_python_dash_m_station_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "station", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "examples" in done.stdout
