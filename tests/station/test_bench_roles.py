"""The bench refuses a model configured for a role it cannot play, when it opens.

Real parts: the virtual bench serves its instruments over TCP and ``open_bench`` opens them
through the registry and pyvisa exactly as on a real station; only the config is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.sim.bench import VirtualBench
from station.bench import check_role
from station.clock import RealClock
from station.config import load_config
from station.errors import ConfigError
from station.runner import open_bench


def _config(tmp_path: Path, role: str, model: str, resource: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(
        f'[station]\nid = "T"\n[instruments.{role}]\nmodel = "{model}"\n'
        f'resource = "{resource}"\nserial = "SIM"\ncal_due = 2099-01-01\n',
        encoding="utf-8",
    )
    return path


def test_a_supply_configured_as_the_dmm_is_refused_naming_file_role_and_model(
    tmp_path: Path,
) -> None:
    with VirtualBench("nmc96s") as virtual:
        _, resource = virtual.resources["supply"]
        path = _config(tmp_path, "dmm", "itech.it6000c", resource)
        sent: list[str] = []
        with pytest.raises(ConfigError) as caught:
            open_bench(load_config(path), RealClock(), lambda res, way, text: sent.append(text))
        [problem] = caught.value.problems
        assert (problem.file, problem.where) == (str(path), "instruments.dmm")
        assert problem.message.startswith("model 'itech.it6000c' cannot play the 'dmm' role (")
        assert "has no measure_dc_voltage()" in problem.message
        assert sent == []  # refused before connect(): not one command went to the instrument


def test_a_model_made_for_its_role_opens(tmp_path: Path) -> None:
    with VirtualBench("nmc96s") as virtual:
        _, resource = virtual.resources["dmm"]
        path = _config(tmp_path, "dmm", "keysight.34465a", resource)
        sent: list[str] = []
        bench = open_bench(load_config(path), RealClock(), lambda res, way, text: sent.append(text))
        try:
            assert bench.info["dmm"].model == "keysight.34465a"
            assert "*IDN?" in sent  # the same path, now through connect() and identity()
        finally:
            bench.close()


def test_check_role_refuses_an_object_that_is_no_instrument() -> None:
    with pytest.raises(ConfigError, match="'ambient' role"):
        check_role("ambient", object(), "x.y", None)
