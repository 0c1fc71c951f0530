"""Tests for station.units and for units being checked when a sequence loads (issue #9)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import station.steps  # noqa: F401  (registers the built-in step types)
from station.errors import SequenceError
from station.judge import judge
from station.limits import evaluate, in_unit, parse_limit
from station.sequence import load_sequence
from station.steps.api import REGISTRY
from station.units import UnitError, conversion_factor, known_units, parse_unit

HEADER = """
[sequence]
name = "units"
version = "1"
products = ["NM96-A"]
serial_pattern = "^NM96"
"""
IR_STEP = """
[[main]]
type = "insulation_resistance"
name = "IR HV+ to chassis"
params = {{ pole = "plus", voltage_v = 1000, ramp_s = 1, dwell_s = 5 }}
limits.riso_ohm = {{ comparator = "GE", low = {low}, unit = "{unit}" }}
limits.test_voltage_v = {{ comparator = "NOMTOL", nominal = 1000, tolerance_pct = 5 }}
limits.residual_voltage_v = {{ comparator = "LT", high = 60 }}
"""


def write(tmp_path: Path, text: str, name: str = "seq.toml") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("spelling", "symbol"),
    [
        ("Ohm", "Ohm"),
        ("ohm", "Ohm"),
        ("OHM", "Ohm"),
        ("Ω", "Ohm"),
        ("ohms", "Ohm"),
        ("MΩ", "MOhm"),
        ("MOhm", "MOhm"),
        ("Mohm", "MOhm"),
        ("mΩ", "mOhm"),
        ("kOhm", "kOhm"),
        ("mV", "mV"),
        ("kV", "kV"),
        ("mA", "mA"),
        ("µA", "uA"),
        ("degC", "degC"),
        ("°C", "degC"),
        ("%", "%"),
        ("Ah", "Ah"),
        ("mAh", "mAh"),
        ("Wh", "Wh"),
        ("kWh", "kWh"),
        ("s", "s"),
        ("ms", "ms"),
        ("W", "W"),
        ("", ""),
    ],
)
def test_spellings_normalise_to_one_symbol(spelling: str, symbol: str) -> None:
    assert parse_unit(spelling).symbol == symbol


@pytest.mark.parametrize(
    ("spelling", "hint"),
    [("mv", "'mV'"), ("volts!", "units are"), ("K", "units are"), ("kdegC", "'degC'")],
)
def test_an_unknown_unit_is_refused_with_a_hint(spelling: str, hint: str) -> None:
    with pytest.raises(UnitError, match=f"unknown unit {spelling!r}") as info:
        parse_unit(spelling)
    assert hint in str(info.value)


def test_prefix_case_matters_milli_is_not_mega() -> None:
    milli, mega, base = parse_unit("mOhm"), parse_unit("MOhm"), parse_unit("Ohm")
    assert conversion_factor(milli, base) == Decimal("0.001")
    assert conversion_factor(mega, base) == Decimal("1e6")
    assert conversion_factor(base, parse_unit("kOhm")) == Decimal("0.001")


def test_different_dimensions_do_not_convert() -> None:
    with pytest.raises(UnitError, match="'A' is a current, 'Ohm' is a resistance"):
        conversion_factor(parse_unit("A"), parse_unit("ohm"))
    with pytest.raises(UnitError, match="'%' is a percentage, no unit is a plain number"):
        conversion_factor(parse_unit("%"), parse_unit(""))


def test_every_unit_a_step_type_declares_is_in_the_registry() -> None:
    declared = {
        spec.unit
        for cls in REGISTRY.values()
        for spec in cls.measurements
        if not cls.name.startswith("test_")
    }
    assert declared  # the registry holds the step library
    for unit in declared:
        assert parse_unit(unit).symbol == unit, unit
    assert {"V", "A", "Ohm", "MOhm", "degC", "%", "Ah", "Wh", "s"} <= set(known_units())


def test_ohm_as_the_docs_spelled_it_checks_and_judges_without_error(tmp_path: Path) -> None:
    # Issue #9: `unit = "ohm"` passed `station check` and then ERRORed the IR step after
    # 1000 V had been applied ("measurement 'riso_ohm' is in 'Ohm' but its limit is in 'ohm'").
    sequence = load_sequence(write(tmp_path, IR_STEP.format(low="100e6", unit="ohm")))
    [step] = sequence.all_steps()
    limit = step.limits["riso_ohm"]
    assert limit.unit == "Ohm"
    m = judge("run", "step", step, "riso_ohm", 250e6, None, sequence.limits_for("NM96-A"))
    assert (m.outcome, m.unit, m.limit_text) == ("PASSED", "Ohm", "≥ 1e+08 Ohm")


def test_a_compatible_prefix_scales_the_limit_to_the_measurement_unit(tmp_path: Path) -> None:
    sequence = load_sequence(write(tmp_path, IR_STEP.format(low="100", unit="MΩ")))
    limit = sequence.all_steps()[0].limits["riso_ohm"]
    assert (limit.low, limit.unit) == (100e6, "Ohm")
    assert not evaluate(limit, 99.9e6).passed and evaluate(limit, 100e6).passed


def test_a_millivolt_table_limit_judges_a_volt_measurement_exactly(tmp_path: Path) -> None:
    seq = write(
        tmp_path,
        """
limits = "limits.toml"
[[main]]
type = "dmm_voltage"
name = "Pack OCV"
""",
    )
    (tmp_path / "limits.toml").write_text(
        '[limits."Pack OCV".voltage]\n'
        'comparator = "NOMTOL"\nnominal = 3300\ntolerance = 100\nunit = "mV"\n',
        encoding="utf-8",
    )
    limit = load_sequence(seq).limits_for("NM96-A")[("Pack OCV", "voltage")]
    assert (limit.nominal, limit.tolerance, limit.unit) == (3.3, 0.1, "V")
    assert evaluate(limit, 3.4).passed and not evaluate(limit, 3.4001).passed


def test_an_incompatible_unit_is_a_check_error_naming_file_step_and_field(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, IR_STEP.format(low="100e6", unit="A"))
    with pytest.raises(SequenceError) as info:
        load_sequence(path)
    [problem] = info.value.problems
    assert problem.file == str(path)
    assert problem.where == "main[0] 'IR HV+ to chassis' limits.riso_ohm.unit"
    assert problem.message == (
        "measurement 'riso_ohm' is in 'Ohm', which a limit in 'A' cannot judge: "
        "'A' is a current, 'Ohm' is a resistance"
    )


def test_an_unknown_unit_in_a_limit_table_names_the_table(tmp_path: Path) -> None:
    seq = write(tmp_path, 'limits = "limits.toml"\n[[main]]\ntype = "dmm_voltage"\nname = "OCV"\n')
    table = tmp_path / "limits.toml"
    table.write_text(
        '[limits.OCV.voltage]\ncomparator = "GE"\nlow = 1\nunit = "mv"\n', encoding="utf-8"
    )
    with pytest.raises(SequenceError) as info:
        load_sequence(seq)
    problem = info.value.problems[0]
    assert (problem.file, problem.where) == (str(table), "limits.'OCV'.voltage.unit")
    assert problem.message == "unknown unit 'mv'; did you mean 'mV' or 'MV'?"


def test_station_check_rejects_a_unit_mismatch_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from station.cli import main

    good = write(tmp_path, IR_STEP.format(low="100", unit="MOhm"), "good.toml")
    bad = write(tmp_path, IR_STEP.format(low="100e6", unit="mV"), "bad.toml")
    assert main(["check", str(good)]) == 0
    assert main(["check", str(bad)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        f"FAILED  {bad} (sequence): 1 problem(s)",
        f"  {bad}: main[0] 'IR HV+ to chassis' limits.riso_ohm.unit: measurement 'riso_ohm' "
        "is in 'Ohm', which a limit in 'mV' cannot judge: 'mV' is a voltage, 'Ohm' is a "
        "resistance",
    ]


@given(
    counts=st.integers(-(10**9), 10**9),
    digits=st.integers(0, 6),
    prefix=st.sampled_from(["m", "k", "M", "u"]),
)
def test_a_converted_limit_judges_the_value_at_the_limit_as_at_the_limit(
    counts: int, digits: int, prefix: str
) -> None:
    unit = parse_unit(prefix + "V")
    bound = float(Decimal(counts).scaleb(-digits))  # the limit as written, in the prefixed unit
    at_limit = float(Decimal(counts).scaleb(-digits) * unit.scale)  # the same, in V
    step = float(Decimal(1).scaleb(-digits) * unit.scale)
    le = in_unit(
        parse_limit({"comparator": "LE", "high": bound, "unit": unit.symbol}, file="f", where="w"),
        "V",
    )
    ge = in_unit(
        parse_limit({"comparator": "GE", "low": bound, "unit": unit.symbol}, file="f", where="w"),
        "V",
    )
    assert le.unit == ge.unit == "V"
    assert evaluate(le, at_limit).passed and evaluate(ge, at_limit).passed
    assert not evaluate(le, at_limit + step).passed
    assert not evaluate(ge, at_limit - step).passed
