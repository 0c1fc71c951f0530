"""The rotating application log: configured from the station config, libraries included."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest

from station.app_log import application_log, log_path
from station.cli import main
from station.config import LoggingConfig, load_config
from station.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
NMC = ROOT / "sequences" / "nmc96s" / "eol.toml"


def test_library_warnings_and_python_warnings_reach_the_file(tmp_path: Path) -> None:
    config = LoggingConfig(file=tmp_path / "logs" / "station.log")
    root_handlers = list(logging.getLogger().handlers)
    with application_log(config, tmp_path / "r.db") as path:
        logging.getLogger("udsoncan").warning("NRC 0x22 from the BMS")
        logging.getLogger("UdsClient").info("a request (below the library level)")
        logging.getLogger("can.interfaces.udp_multicast").warning("frame dropped")
        logging.getLogger("station.engine").info("run started")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("pyvisa resource left open", ResourceWarning, stacklevel=1)
    text = path.read_text(encoding="utf-8")
    assert path == tmp_path / "logs" / "station.log"
    assert "WARNING udsoncan: NRC 0x22 from the BMS" in text
    assert "can.interfaces.udp_multicast: frame dropped" in text
    assert "INFO    station.engine: run started" in text
    assert "py.warnings" in text and "pyvisa resource left open" in text
    assert "a request" not in text
    assert "Z " in text.splitlines()[0]  # UTC timestamps, as in the results database
    assert logging.getLogger().handlers == root_handlers  # logging is as it was


def test_the_log_rotates(tmp_path: Path) -> None:
    config = LoggingConfig(file=tmp_path / "s.log", max_bytes=2048, backups=2)
    with application_log(config, tmp_path / "r.db"):
        for i in range(200):
            logging.getLogger("station").warning("line %d of a long shift", i)
    assert sorted(p.name for p in tmp_path.glob("s.log*")) == ["s.log", "s.log.1", "s.log.2"]
    assert (tmp_path / "s.log").stat().st_size <= 2048


def test_default_log_is_beside_the_results_database(tmp_path: Path) -> None:
    assert log_path(LoggingConfig(), tmp_path / "results" / "eol.db") == (
        tmp_path / "results" / "station.log"
    )


def test_logging_table_in_the_station_config(tmp_path: Path) -> None:
    cfg = tmp_path / "station.toml"
    cfg.write_text(
        '[station]\nid = "EOL-01"\n[logging]\nfile = "logs/eol.log"\nlevel = "debug"\n'
        "max_bytes = 100000\nbackups = 3\n",
        encoding="utf-8",
    )
    log = load_config(cfg).logging
    assert (log.file, log.level, log.library_level, log.max_bytes, log.backups) == (
        tmp_path / "logs" / "eol.log",
        "DEBUG",
        "WARNING",
        100000,
        3,
    )
    cfg.write_text(
        '[station]\nid = "EOL-01"\n[logging]\nlevel = "LOUD"\nbackup = 3\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    text = str(err.value)
    assert "logging.level" in text and "LOUD" in text
    assert "logging.backup" in text and "did you mean 'backups'" in text


def test_station_run_writes_the_log_beside_its_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "results" / "r.db"
    seq = tmp_path / "seq.toml"
    seq.write_text(
        '[sequence]\nname = "Wait"\nversion = "1"\nproducts = ["P"]\n'
        'serial_pattern = "^SN[0-9]+$"\n[[main]]\ntype = "wait"\nname = "Rest"\n'
        "params = { seconds = 0.01 }\n",
        encoding="utf-8",
    )
    assert main(["run", str(seq), "--serial", "SN1", "--db", str(db), "--yes"]) == 0
    text = (db.parent / "station.log").read_text(encoding="utf-8")
    assert "run Wait for SN1" in text and "of SN1: PASSED" in text
