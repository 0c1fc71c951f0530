"""Tests for ``station check``: every problem of every file at once, and the exit code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from station.cli import main

DATA = Path(__file__).parent.parent / "data"
BROKEN = sorted((DATA / "broken").glob("*.toml"))
GOOD = DATA / "good"


def check(capsys: pytest.CaptureFixture[str], *files: Path) -> tuple[int, list[str]]:
    code = main(["check", *map(str, files)])
    return code, capsys.readouterr().out.splitlines()


def test_a_good_sequence_passes(capsys: pytest.CaptureFixture[str]) -> None:
    path = GOOD / "sequence.toml"
    assert check(capsys, path) == (0, [f"ok      {path} (sequence)"])


def test_a_good_config_passes(capsys: pytest.CaptureFixture[str]) -> None:
    path = GOOD / "station.toml"
    assert check(capsys, path) == (0, [f"ok      {path} (config)"])


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_a_broken_sequence_fails_and_says_where(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    code, lines = check(capsys, path)
    assert code == 2
    assert lines[0].startswith(f"FAILED  {path} (sequence): ")
    assert len(lines) > 1
    assert all(line.startswith(f"  {DATA / 'broken'}/") for line in lines[1:])


def test_every_problem_is_printed_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "broken" / "several_errors.toml"
    code, lines = check(capsys, path)
    assert code == 2
    assert lines[0] == f"FAILED  {path} (sequence): 5 problem(s)"
    assert [line.split(": ")[1] for line in lines[1:]] == [
        "setup[0] 'Settle' params.second",
        "setup[0] 'Settle' params.seconds",
        "main[0] 'Pack OCV' limits.voltage.low",
        "main[1] 'Bus voltage' type",
        "main[2] 'Pack OCV' name",
    ]


def test_good_and_broken_files_are_all_reported(capsys: pytest.CaptureFixture[str]) -> None:
    broken = DATA / "broken" / "unknown_field.toml"
    code, lines = check(capsys, GOOD / "sequence.toml", broken, GOOD / "station.toml")
    assert code == 2
    assert [line.split()[0] for line in lines if not line.startswith("  ")] == [
        "ok",
        "FAILED",
        "ok",
    ]


def test_a_broken_config_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text('[station]\nid = "EOL-01"\n[instruments.suply]\n', encoding="utf-8")
    code, lines = check(capsys, path)
    assert code == 2
    assert lines[0] == f"FAILED  {path} (config): 1 problem(s)"
    assert "instruments.suply: unknown role (did you mean 'supply'?)" in lines[1]


def test_a_limit_table_alone_points_to_its_sequence(capsys: pytest.CaptureFixture[str]) -> None:
    path = GOOD / "limits_nm96b.toml"
    code, lines = check(capsys, path)
    assert code == 2
    assert lines == [
        f"FAILED  {path}: {path}: a limit table is checked together with its sequence; "
        "run `station check` on the sequence that names it"
    ]


def test_a_missing_file_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, lines = check(capsys, tmp_path / "nowhere.toml")
    assert code == 2
    assert lines[1] == f"  {tmp_path / 'nowhere.toml'}: file not found"


REFERENCE_BMS = Path(__file__).parents[2] / "sequences" / "bms" / "eol_reference.toml"


def _bms_copy(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = REFERENCE_BMS.read_text(encoding="utf-8").replace(
        'dbc = "eol_reference.dbc"', f'dbc = "{REFERENCE_BMS.with_suffix(".dbc").as_posix()}"'
    )
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "bms.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bms_description_is_checked_completely(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert check(capsys, REFERENCE_BMS) == (0, [f"ok      {REFERENCE_BMS} (bms)"])
    path = _bms_copy(
        tmp_path,
        ("pack_current = ", "pack_curent = "),
        ('soc = "BMS_PackStatus.SOC"', 'soc = "BMS_PackStatus.SoC"'),
        ('closed = ["CLOSED"], precharge', 'closed = ["CTR_CLOSED"], precharge'),
    )
    code, lines = check(capsys, path)
    assert code == 2
    assert lines == [
        f"FAILED  {path} (bms): 3 problem(s)",
        "  [signals].pack_curent: unknown role 'pack_curent' (did you mean 'pack_current'?); "
        "map other signals in [custom_signals]",
        "  [signals].soc: message BMS_PackStatus has no signal 'SoC' (did you mean 'SOC'?)",
        "  [states.contactor_state].closed: BMS_State.ContactorState has no VAL_ label "
        "'CTR_CLOSED' (did you mean 'CLOSED'?)",
    ]


def test_a_station_config_checks_its_bms_description_and_plugins(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bms = _bms_copy(tmp_path, ('hvil_state = "BMS_State.HvilState"', 'hvil_state = "X.Y"'))
    config = tmp_path / "station.toml"
    config.write_text(
        '[station]\nid = "EOL-01"\n[can]\ninterface = "virtual"\nchannel = "x"\nbms = "bms.toml"\n',
        encoding="utf-8",
    )
    code, lines = check(capsys, config)
    assert code == 2
    assert lines == [
        f"FAILED  {config} (config): 1 problem(s)",
        f"  in the BMS description {bms}:",
        "  [signals].hvil_state: no message 'X' in eol_reference.dbc",
    ]
    bms.write_text(REFERENCE_BMS.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "eol_reference.dbc").write_text(
        REFERENCE_BMS.with_suffix(".dbc").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code, lines = check(capsys, config)
    assert (code, lines) == (0, [f"ok      {config} (config)", f"  BMS description {bms}: ok"])
    config.write_text(
        '[station]\nid = "EOL-01"\nplugins = ["no_such_plugin_module"]\n', encoding="utf-8"
    )
    code, lines = check(capsys, config)
    assert code == 2
    assert lines[0].startswith(f"FAILED  {config}: step-type plugin module 'no_such_plugin_module'")


# -- with the station config: what the run would refuse, before anything is energised --------

EXAMPLE = Path(__file__).parents[2] / "sequences"


def config_like_the_example(tmp_path: Path, edit: str = "", extra: str = "") -> Path:
    text = (EXAMPLE / "station.example.toml").read_text(encoding="utf-8")
    text = text.replace(
        'bms = "bms/eol_reference.toml"', f'bms = "{EXAMPLE}/bms/eol_reference.toml"'
    )
    if edit:
        old, new = edit.split(" => ")
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "station.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def check_with(
    capsys: pytest.CaptureFixture[str], config: Path, *args: str
) -> tuple[int, list[str]]:
    code = main(["check", *args, "--config", str(config)])
    return code, capsys.readouterr().out.splitlines()


def test_the_reference_sequences_pass_with_the_example_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = config_like_the_example(tmp_path)
    sequences = [str(EXAMPLE / d / "eol.toml") for d in ("nmc96s", "nmc14s", "lfp16s")]
    code, lines = check_with(capsys, config, *sequences)
    assert code == 0, lines
    assert lines == [f"ok      {config} (config)", *(f"ok      {s} (sequence)" for s in sequences)]


def test_a_test_voltage_beyond_the_testers_rating_is_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = config_like_the_example(
        tmp_path,
        "options = { baudrate = 9600 } => options = { baudrate = 9600, max_voltage_v = 600 }",
    )
    sequence = EXAMPLE / "nmc96s" / "eol.toml"
    code, lines = check_with(capsys, config, str(sequence))
    assert code == 2
    assert lines[1].startswith(f"FAILED  {sequence} (sequence): ")
    assert (
        f"  {sequence}: main[1] 'IR HV+ to chassis' params.voltage_v: 1000 is beyond the "
        f"insulation_tester's max_voltage_v = 600 (chroma.1905x, {config}); lower the parameter "
        "or configure an instrument rated for it"
    ) in lines


def test_a_missing_instrument_and_an_expired_calibration_are_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = config_like_the_example(tmp_path, "cal_due = 2027-06-30 => cal_due = 2001-06-30")
    text = config.read_text(encoding="utf-8")
    start = text.index("[instruments.insulation_tester]")
    config.write_text(text[:start] + text[text.index("[instruments.interlocks]") :])
    code, lines = check_with(capsys, config, str(EXAMPLE / "nmc96s" / "eol.toml"))
    assert code == 2
    assert any("no instrument for 'insulation_tester'" in line for line in lines)
    assert any(
        "calibration of dmm (keysight.34465a, s/n MY59001234) expired" in line for line in lines
    )


def test_a_plugin_that_does_not_import_fails_the_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = config_like_the_example(tmp_path, "plugins = [] => plugins = ['no_such_steps_module']")
    code, lines = check_with(capsys, config, str(GOOD / "sequence.toml"))
    assert code == 2
    assert lines == [
        f"FAILED  {config}: step-type plugin module 'no_such_steps_module' (station.plugins in "
        "the config) cannot be imported: ModuleNotFoundError: No module named "
        "'no_such_steps_module'"
    ]


def test_a_variant_the_sequence_does_not_serve_is_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sequence = EXAMPLE / "nmc96s" / "eol.toml"
    code, lines = check(capsys, sequence, "--variant", "NM96-Z")  # type: ignore[arg-type]
    assert code == 2
    assert lines[1] == (
        f"  {sequence}: product 'NM96-Z' is not served by sequence 'EOL NMC 96S' (it serves NM96-A)"
    )


def test_cells_different_from_the_bms_descriptions_count_are_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bms = EXAMPLE / "bms"
    description = (bms / "eol_reference.toml").read_text(encoding="utf-8")
    description = description.replace(
        'dbc = "eol_reference.dbc"', f'dbc = "{bms}/eol_reference.dbc"'
    )
    description = description.replace("per_page = 3,", "per_page = 3, count = 96,")
    assert "count = 96" in description
    (tmp_path / "bms96.toml").write_text(description, encoding="utf-8")
    config = config_like_the_example(
        tmp_path, f'bms = "{bms}/eol_reference.toml" => bms = "{tmp_path}/bms96.toml"'
    )
    ninety_six, fourteen = EXAMPLE / "nmc96s" / "eol.toml", EXAMPLE / "nmc14s" / "eol.toml"
    code, lines = check_with(capsys, config, str(ninety_six), str(fourteen))
    assert code == 2
    assert lines[1] == f"ok      {ninety_six} (sequence)"
    from station.sequence import load_sequence

    index = [s.name for s in load_sequence(fourteen).groups["main"]].index("OCV and cells")
    assert lines[3] == (
        f"  {fourteen}: main[{index}] 'OCV and cells' params.cells: 14 cells, but the BMS "
        "description "
        f"{tmp_path / 'bms96.toml'} reports 96 (cell_voltages count); make them agree"
    )


def test_every_rated_parameter_is_a_parameter_of_its_step_type_on_a_role_it_uses() -> None:
    import dataclasses

    import station.steps  # noqa: F401  (registers the built-in step types)
    from station.steps.api import REGISTRY

    rated = [(cls, param, role) for cls in REGISTRY.values() for param, role, _ in cls.rated]
    assert rated, "no step type declares a rating: the ratings check checks nothing"
    for cls, param, role in rated:
        assert param in {f.name for f in dataclasses.fields(cls.Params)}, (cls.name, param)
        assert role in cls.roles, (cls.name, role)


def test_an_hv_step_that_proves_its_dmm_only_after_energising_is_warned_about(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = (EXAMPLE / "lfp16s" / "eol.toml").read_text(encoding="utf-8")
    anchor = 'name = "IR HV+ to chassis"\n'
    assert anchor in text
    shutil.copytree(EXAMPLE / "lfp16s" / "limits", tmp_path / "limits")
    path = tmp_path / "eol.toml"
    at = text.index(anchor) + len(anchor)
    end = text.index(" }\n", at)  # the end of that step's inline params table
    path.write_text(text[:end] + ', dmm_proof = "test_voltage"' + text[end:], encoding="utf-8")
    code, lines = check(capsys, path)
    assert code == 0, lines  # allowed: a fixture may have no proof relay …
    assert lines[0] == f"ok      {path} (sequence)"
    [warning] = lines[1:]  # … but said plainly, for that step only
    assert warning.startswith("  warning: main[") and "'IR HV+ to chassis'" in warning
    assert 'params.dmm_proof = "test_voltage": the DMM is proven only during the test' in warning
    assert "after the fixture is energised" in warning
