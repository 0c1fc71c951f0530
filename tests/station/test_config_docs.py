"""docs/station-config.md names every table and key the config accepts; its Windows example
is a valid config."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from station import config as config_module
from station.config import load_config
from station.nest_config import NEST_KEYS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "station-config.md"


def test_every_table_and_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for section in config_module._SECTIONS:
        assert f"## `[{section}" in text or f"## `[[{section}]]`" in text, section
    keys = (
        *config_module._STATION_KEYS,
        *config_module._INSTRUMENT_KEYS,
        *config_module._CAN_KEYS,
        *config_module._INTERLOCK_KEYS,
        *config_module._LOGGING_KEYS,
        *config_module._RETEST_KEYS,
        *config_module._MASTER_KEYS,
        *config_module._FAILURE_MASTER_KEYS,
        *config_module._CENTRAL_KEYS,
        *config_module._MES_KEYS,
        *config_module.ROLES,
        *NEST_KEYS,
    )
    missing = [key for key in keys if f"`{key}`" not in text]
    assert missing == []


def test_the_windows_example_loads(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"## A Windows station\n\n```toml\n(.*?)```", text, flags=re.S)
    assert example is not None
    shutil.copytree(ROOT / "sequences" / "bms", tmp_path / "bms")
    path = tmp_path / "station.toml"
    path.write_text(example.group(1), encoding="utf-8")
    config = load_config(path)
    assert config.instruments["insulation_tester"].resource == "COM3"
    assert config.instruments["dmm"].backend == "@ivi"
    assert config.can is not None and config.can.interface == "pcan"
    # absolute on Windows; on another system the same path joined to the config folder
    assert config.logging.file == tmp_path / "C:/EOL/logs/eol-03.log"


def test_the_nests_example_loads(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## `[[nests]]`", 1)[1]
    example = re.search(r"```toml\n(.*?)```", section, flags=re.S)
    assert example is not None
    shutil.copytree(ROOT / "sequences" / "bms", tmp_path / "bms")
    path = tmp_path / "station.toml"
    path.write_text(example.group(1), encoding="utf-8")
    config = load_config(path)
    assert [n.label for n in config.nests] == ["1 (left)", "2 (right)"]
    assert config.shared_roles == ("insulation_tester",)
