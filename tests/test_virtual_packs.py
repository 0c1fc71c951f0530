"""Virtual packs as data: the shipped pack files, --sim choosing the pack by part number, a
pack written from the docs, and a long-lived bench giving each serial its own pack."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from drivers.sim.packs import (
    PACK_NAMES,
    PackFileError,
    PackSpec,
    get_pack_spec,
    load_pack_file,
    pack_serving,
)
from station.console import TerminalPrompter
from station.errors import StationError
from station.runner import RunOptions, prepare_run

ROOT = Path(__file__).resolve().parent.parent
SEQUENCES = ROOT / "sequences"
NMC14 = SEQUENCES / "nmc14s" / "eol.toml"

DOCS = ROOT / "docs" / "virtual-bench.md"


def docs_pack() -> str:
    """The pack file docs/virtual-bench.md shows (the first TOML block after its heading)."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Adding a pack") :]
    return section.split("```toml\n", 1)[1].split("```", 1)[0]


DOCS_PACK = docs_pack()


def test_every_pack_file_key_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Adding a pack") : text.index("## One pack per serial")]
    missing = [f.name for f in dataclasses.fields(PackSpec) if f"`{f.name}`" not in section]
    assert missing == []


def test_three_shipped_packs_each_serve_a_shipped_sequence() -> None:
    from station.sequence import load_sequence

    assert set(PACK_NAMES) == {"nmc96s", "lfp16s", "nmc14s"}
    for name in PACK_NAMES:
        spec = get_pack_spec(name)
        assert spec.name == name
        served = [
            path
            for path in SEQUENCES.glob("*/eol.toml")
            if spec.product in load_sequence(path).products
        ]
        assert served, f"no shipped sequence for pack {name} ({spec.product})"


def test_pack_file_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(DOCS_PACK.replace("r0_ohm", "r0_ohms"), encoding="utf-8")
    with pytest.raises(
        PackFileError, match=r"unknown key 'r0_ohms' in \[cells\]; did you mean 'r0_ohm'"
    ):
        load_pack_file(path)
    path.write_text(DOCS_PACK.replace("series = 14\n", ""), encoding="utf-8")
    with pytest.raises(PackFileError, match=r"missing key 'series'"):
        load_pack_file(path)
    path.write_text(DOCS_PACK.replace("series = 14", 'series = "14"'), encoding="utf-8")
    with pytest.raises(PackFileError, match=r"series must be a whole number"):
        load_pack_file(path)
    path.write_text(DOCS_PACK.replace("[cells]", "[cels]"), encoding="utf-8")
    with pytest.raises(PackFileError, match=r"unknown table \[cels\]; did you mean 'cells'"):
        load_pack_file(path)
    path.write_text(DOCS_PACK + "ocv_table = [[0.0, 3.0], [0.5, 2.9], [1.0, 4.1]]\n", "utf-8")
    with pytest.raises(PackFileError, match=r"ocv_table: .*not strictly increasing"):
        load_pack_file(path)
    with pytest.raises(PackFileError, match=r"unknown pack 'nmc69s'; did you mean 'nmc96s'"):
        get_pack_spec("nmc69s")


def test_every_packspec_field_is_a_pack_file_key(tmp_path: Path) -> None:
    """The dataclass is the schema: a file holding every field reads back the same spec."""
    spec = get_pack_spec("nmc14s")
    lines = ["[pack]"]
    for field in dataclasses.fields(PackSpec):
        value = getattr(spec, field.name)
        if isinstance(value, bool):
            lines.append(f"{field.name} = {str(value).lower()}")
        elif isinstance(value, str):
            lines.append(f'{field.name} = "{value}"')
        elif isinstance(value, tuple):
            lines.append(f"{field.name} = {[list(row) for row in value]}")
        else:
            lines.append(f"{field.name} = {value!r}")
    path = tmp_path / "all.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert load_pack_file(path) == spec


def test_sim_picks_the_pack_built_as_the_sequences_product(tmp_path: Path) -> None:
    assert pack_serving(["LF16-A"]) == "lfp16s"
    assert pack_serving(["NM96-A", "NM96-B"]) == "nmc96s"
    assert pack_serving(["XX-1"]) is None
    sequence = tmp_path / "seq.toml"
    sequence.write_text(
        (SEQUENCES / "lfp16s" / "eol.toml")
        .read_text(encoding="utf-8")
        .replace('products = ["LF16-A"]', 'products = ["XX-1"]')
        .replace('"LF16-A" = "LF16A', '"XX-1" = "LF16A')
        .replace(
            '"limits/lf16-a.toml"', f'"{(SEQUENCES / "lfp16s/limits/lf16-a.toml").as_posix()}"'
        ),
        encoding="utf-8",
    )
    with pytest.raises(StationError, match=r"no virtual pack is built as XX-1 .* give --pack"):
        prepare_run(RunOptions(sequence=sequence, db=tmp_path / "r.db", sim=True))


def run_passes(options: RunOptions, serial: str) -> None:
    prepared = prepare_run(options)
    prepared.engine.prompter = TerminalPrompter(assume_default=True)
    try:
        result = prepared.engine.run(serial)
    finally:
        prepared.close()
    assert result.outcome == "PASSED", [(s.name, s.outcome, s.error) for s in result.steps]


def test_the_14s_pack_defined_only_as_data_passes_its_sequence(tmp_path: Path) -> None:
    run_passes(RunOptions(sequence=NMC14, db=tmp_path / "r.db", sim=True), "NM14A0000001")


def test_a_pack_file_written_from_the_docs_simulates_and_passes(tmp_path: Path) -> None:
    pack = tmp_path / "mine.toml"
    pack.write_text(DOCS_PACK, encoding="utf-8")
    limits = tmp_path / "limits" / "nm14-a.toml"
    limits.parent.mkdir()
    # 14 × 1.6 mΩ / 2 in parallel + 13 busbars × 0.1 mΩ ≈ 12.5 mΩ: NM14-A's limits hold.
    limits.write_text(
        (SEQUENCES / "nmc14s" / "limits" / "nm14-a.toml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    sequence = tmp_path / "eol.toml"
    sequence.write_text(NMC14.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_pack_file(pack).nominal_capacity_ah == 60.0
    run_passes(
        RunOptions(sequence=sequence, db=tmp_path / "r.db", sim=True, pack=str(pack)),
        "NM14A0000002",
    )


def test_the_pack_file_sets_the_bms_sensor_count_and_identity(tmp_path: Path) -> None:
    from drivers.sim.bms_diag import pack_identity
    from drivers.sim.bms_model import BmsModel
    from drivers.sim.pack import Pack

    path = tmp_path / "p.toml"
    path.write_text(
        DOCS_PACK
        + '[bms]\ntemperature_sensors = 7\nbms_sw_version = "3.0.0"\nbms_serial_prefix = "X9"\n',
        encoding="utf-8",
    )
    spec = load_pack_file(path)
    assert len(BmsModel(Pack(spec), seed=1).groups) == 7
    assert pack_identity(spec, 42) == {
        "part_number": "NM14-A",
        "sw_version": "3.0.0",
        "serial": "X90000042",
        "hw_number": "HW-C3",
        "supplier_sw_version": "SUP-2.4.1-b17",
    }
