"""The MES route check in the start gate, and the reference plug-in on a real PostgreSQL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import psycopg
import pytest

from station import central, mes
from station.bench import Bench
from station.clock import VirtualClock
from station.config import MesConfig, default_config
from station.engine import Engine
from station.gate import StartBlocked
from station.mes import MesUnreachable
from station.mes_postgres import PostgresMes
from station.sequence import load_sequence
from station.store import ResultsStore
from tests.plant.stations import make_station

SCRIPTED = "tests.plant.scripted_mes:ScriptedMes"


def engine_with_mes(tmp_path: Path, store: ResultsStore, answer: str, policy: str) -> Engine:
    seq = tmp_path / "s.toml"
    seq.write_text(
        '[sequence]\nname = "s"\nversion = "1"\nproducts = ["NM96-A"]\nserial_pattern = ".*"\n'
        '[[main]]\ntype = "wait"\nname = "w"\nparams = { seconds = 1 }\n',
        encoding="utf-8",
    )
    scripted = MesConfig(SCRIPTED, policy, timeout_s=0.3, options={"answer": answer})
    config = dataclasses.replace(default_config(store.path), station_id="EOL-01", mes=scripted)
    return Engine(
        load_sequence(seq),
        bench=Bench({}),
        config=config,
        clock=VirtualClock(),
        listeners=[store],
        store=store,
        default_production=False,
    )


CASES = [
    # answer, policy, starts?, audit action, words of the refusal
    ("passed", "refuse", True, "mes.route_passed", ""),
    ("failed", "queue", False, "mes.route_refused", "refuses serial 'NM96A0000001' here: it fail"),
    ("timeout", "refuse", False, "mes.route_refused", "did not answer within 0.3 s"),
    ("timeout", "queue", True, "mes.route_unchecked", ""),
    ("unreachable", "refuse", False, "mes.route_refused", "cannot be reached (connection ref"),
    ("unreachable", "queue", True, "mes.route_unchecked", ""),
    ("malformed", "queue", False, "mes.route_refused", "malformed answer ({'Result'"),
    ("crash", "queue", False, "mes.route_refused", "route check failed (KeyError"),
]


@pytest.mark.parametrize(("answer", "policy", "starts", "action", "words"), CASES)
def test_only_an_allowed_route_starts_a_run_unless_the_policy_queues_an_unreachable_mes(
    tmp_path: Path, answer: str, policy: str, starts: bool, action: str, words: str
) -> None:
    with ResultsStore(tmp_path / "eol.db") as store:
        engine = engine_with_mes(tmp_path, store, answer, policy)
        if starts:
            assert engine.run("NM96A0000001").outcome == "PASSED"
        else:
            with pytest.raises(StartBlocked) as refused:
                engine.run("NM96A0000001")
            assert [b.kind for b in refused.value.blockers] == ["mes"]
            assert words in refused.value.blockers[0].message
            assert store.list_runs() == []
        audit = store.query("SELECT user, action, target, detail FROM audit")
    assert [(a["user"], a["action"], a["target"]) for a in audit] == [
        ("mes@EOL-01", action, "NM96A0000001")
    ]


def test_an_engineer_may_override_a_refused_route_and_the_refusal_stays_audited(
    tmp_path: Path,
) -> None:
    with ResultsStore(tmp_path / "eol.db") as store:
        engine = engine_with_mes(tmp_path, store, "failed", "refuse")
        result = engine.run("NM96A0000001", overrides={"mes": "rework signed off, J. Doe"})
        assert result.outcome == "PASSED"
        assert [a["action"] for a in store.query("SELECT action FROM audit")] == [
            "mes.route_refused"
        ]


def test_a_missing_plug_in_blocks_with_a_sentence(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "eol.db") as store:
        engine = engine_with_mes(tmp_path, store, "passed", "queue")
        engine.config = dataclasses.replace(
            engine.config, mes=MesConfig("no_such_mes_module:Mes", "queue")
        )
        verdict = engine.preflight("NM96A0000001", None)
    (blocker,) = verdict.blockers
    assert blocker.message.startswith("cannot load the MES plug-in 'no_such_mes_module:Mes'")
    assert blocker.message.endswith("fix [mes] in the station config")


def test_the_reference_mes_routes_by_earlier_results_uploaded_through_the_outbox(
    tmp_path: Path, central_dsn: str
) -> None:
    reference = PostgresMes({"dsn": central_dsn})
    reference.create_schema()
    with psycopg.connect(central_dsn) as pg:
        pg.execute("INSERT INTO mes.route VALUES ('NM96-A', 1, 'LEAK-01'), ('NM96-A', 2, 'EOL-01')")
    leak = tmp_path / "leak.db"
    make_station(leak, "LEAK-01", 7, fail_every=7)  # serial …0006 fails at LEAK-01
    report = central.sync(leak, central_dsn, mes=reference)
    assert (report.sent, report.mes_sent) == (7, 7)
    assert central.sync(leak, central_dsn, mes=reference).mes_sent == 0  # nothing due twice
    check = reference.route_check
    assert check("NM96A0000000", "NM96-A", "EOL-01").allowed
    refused = check("NM96A0000006", "NM96-A", "EOL-01")
    assert (refused.allowed, refused.reason) == (False, "its last result at LEAK-01 is FAILED")
    never = check("NM96A0000099", "NM96-A", "EOL-01")
    assert (never.allowed, never.reason) == (False, "it has not been tested at LEAK-01 yet")
    assert check("NM96A0000000", "NM96-A", "LEAK-01").allowed  # first on the route
    off_route = check("NM96A0000000", "NM96-A", "EOL-09")
    assert off_route.reason == "station EOL-09 is not on the route of part NM96-A"
    away = PostgresMes({"dsn": f"host={tmp_path} port=5432 dbname=x user=eol"})
    with pytest.raises(MesUnreachable):
        away.route_check("NM96A0000000", "NM96-A", "EOL-01")


def test_the_reference_plug_in_is_installed_under_its_name() -> None:
    plugin = mes.load("postgres", {"dsn": "host=db.plant dbname=eol"})
    assert isinstance(plugin, PostgresMes) and plugin.dsn == "host=db.plant dbname=eol"
    with pytest.raises(ValueError, match="no MES plug-in 'opcenter' is installed"):
        mes.load("opcenter", {})
    with pytest.raises(ValueError, match=r"could not start .*needs dsn"):
        mes.load("postgres", {})
