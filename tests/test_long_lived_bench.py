"""A long-lived virtual bench (the UI's) tests many packs: each serial gets its own pack."""

from __future__ import annotations

from pathlib import Path

from station.console import TerminalPrompter
from station.runner import RunOptions, prepare_run

ROOT = Path(__file__).resolve().parent.parent
NMC = ROOT / "sequences" / "nmc96s" / "eol.toml"
SERIALS = [f"NM96A000010{i}" for i in range(1, 6)]


def test_five_serials_on_one_bench_all_pass_and_a_retest_gets_its_pack_back(
    tmp_path: Path,
) -> None:
    prepared = prepare_run(RunOptions(sequence=NMC, db=tmp_path / "r.db", sim=True))
    prepared.engine.prompter = TerminalPrompter(assume_default=True)
    virtual = prepared.bench.simulator
    try:
        packs, bms_serials = {}, {}
        for serial in SERIALS:
            result = prepared.engine.run(serial)
            assert result.outcome == "PASSED", (
                serial,
                [(s.name, s.outcome, s.error) for s in result.steps if s.outcome != "PASSED"],
            )
            packs[serial] = virtual.pack
            bms_serials[serial] = virtual.bms.diagnostics.identity["serial"]
        assert len({id(p) for p in packs.values()}) == 5
        assert len(set(bms_serials.values())) == 5  # five BMSs, five BMS serial numbers
        shipped_soc = packs[SERIALS[0]].soc  # left at the shipping SOC by its first run
        assert 0.25 < shipped_soc < 0.35
        prepared.bench.present(SERIALS[0])  # the retest: the same pack, as it was left
        assert virtual.pack is packs[SERIALS[0]]
        assert virtual.pack.soc == shipped_soc
        assert virtual.bms.nvm.eol_flag == 1
        assert virtual.bms.diagnostics.identity["serial"] == bms_serials[SERIALS[0]]
        prepared.bench.present("NM96A0000199")  # a new pack arrives as delivered
        assert virtual.pack not in packs.values()
        assert 0.45 < virtual.pack.soc < 0.55
        assert virtual.bms.nvm.eol_flag == 0
    finally:
        prepared.close()
