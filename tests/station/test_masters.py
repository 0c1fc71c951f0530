"""Golden and failure masters: production waits until the station proved itself today."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from station import masters
from station.cli import main
from station.config import load_config
from station.errors import ConfigError
from station.masters import FailureMaster, MasterPolicy
from station.store import ResultsStore
from tests.station.recorded_runs import record
from tests.station.test_cli_run import HEADER

GOLDEN, BAD = "NM96A9000001", "NM96A9000002"
CONFIG = f"""
[station]
id = "EOL-M"
results_db = "r.db"

[masters]
golden = ["{GOLDEN}"]
failure = [{{ serial = "{BAD}", expect = "BMS identity", fault = "wrong_sw_version" }}]

[retest]
max_attempts = 2
"""
IDENTIFY = """
[[main]]
type = "identify"
name = "BMS identity"
params = { dids = ["sw_version"] }
limits.sw_version = { comparator = "STREQ", expected = "2.4.1" }
"""


def test_production_waits_for_todays_masters_on_the_virtual_bench(tmp_path: Path, capsys):
    seq = tmp_path / "seq.toml"
    seq.write_text(HEADER + IDENTIFY, encoding="utf-8")
    config = tmp_path / "station.toml"
    config.write_text(CONFIG, encoding="utf-8")

    def run(serial: str) -> int:
        return main(["run", str(seq), "--serial", serial, "--sim", "--config", str(config)])

    assert run("NM96A0000001") == 2
    err = capsys.readouterr().err
    assert f"error: golden pack {GOLDEN}: not run today; production packs wait for it" in err
    assert f"error: failure master {BAD}: not run today (must FAIL 'BMS identity')" in err
    assert run(GOLDEN) == 0
    assert run(BAD) == 1  # the virtual master carries its fault: a stale BMS software
    capsys.readouterr()
    assert run("NM96A0000001") == 0
    assert run(GOLDEN) == 0 and run(GOLDEN) == 0  # masters run daily: no retest limit
    with ResultsStore(tmp_path / "r.db", read_only=True) as store:
        states = masters.verification(
            store, load_config(config).masters, "EOL-M", dt.datetime.now(dt.UTC)
        )
    assert [s.ok for s in states] == [True, True]
    assert "FAILED 'BMS identity' as expected" in states[1].text


def test_a_master_that_does_not_behave_is_named(tmp_path: Path) -> None:
    policy = MasterPolicy(
        (GOLDEN,), (FailureMaster(BAD, "Pack OCV"), FailureMaster("NM96A9000003", "IR"))
    )
    now = dt.datetime.now(dt.UTC)
    today = now.replace(hour=0, minute=5).isoformat()
    with ResultsStore(tmp_path / "r.db") as store:
        record(store, "g-1", GOLDEN, voltage=420.0, at=today)  # the good pack FAILED
        record(store, "f-1", BAD, voltage=350.0, at=today)  # the bad pack PASSED
        record(store, "f-2", "NM96A9000003", voltage=420.0, at=today)  # failed elsewhere
        yesterday = (now - dt.timedelta(days=1)).isoformat()
        record(store, "old", "NM96A9000004", voltage=350.0, at=yesterday)
        states = masters.verification(store, policy, "EOL-1", now)
        elsewhere = masters.verification(store, policy, "EOL-2", now)
    texts = [s.text for s in states]
    assert not any(s.ok for s in states)
    assert texts[0].startswith(f"golden pack {GOLDEN}: FAILED at 00:05 UTC (run g-1)")
    assert "the station does not pass a good pack" in texts[0]
    assert texts[1].startswith(f"failure master {BAD}: PASSED — the station passes a bad pack")
    assert "FAILED on Pack OCV, not on 'IR'" in texts[2]
    assert all("not run today" in s.text for s in elsewhere)  # another station's runs


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('golden = "NM96A9000001"', "masters.golden: expected list of string, got 'NM96A9000001'"),
        ('failure = [{ serial = "X" }]', "masters.failure[0].expect: missing"),
        ('failure = [{ serial = "X", expect = "IR", faut = "a" }]', "did you mean 'fault'"),
        ('golden = ["X"]\nfailure = [{ serial = "X", expect = "IR" }]', "X named more than once"),
    ],
)
def test_a_bad_masters_section_is_named(tmp_path: Path, body: str, message: str) -> None:
    config = tmp_path / "station.toml"
    config.write_text(f'[station]\nid = "E"\n\n[masters]\n{body}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(config)
