"""The [central] and [mes] tables of the station config: read, defaulted, every mistake located."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config import CentralConfig, MesConfig, load_config
from station.errors import ConfigError

STATION = '[station]\nid = "EOL-01"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(STATION + text, encoding="utf-8")
    return path


def test_central_and_mes_tables_load_with_their_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[central]\ndsn = "host=db dbname=eol"\n\n'
            '[mes]\nplugin = "station.mes_postgres:PostgresMes"\noptions = { dsn = "x" }\n',
        )
    )
    assert config.central == CentralConfig("host=db dbname=eol", False, 30.0, 10, 5.0)
    assert config.mes == MesConfig("station.mes_postgres:PostgresMes", "refuse", 5.0, {"dsn": "x"})
    assert load_config(write(tmp_path, "")).central is None


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("[central]\nbackground = true\n", "central.dsn", "missing"),
        ('[central]\ndsn = "x"\nbackground = "yes"\n', "central.background", "true or false"),
        ('[central]\ndsn = "x"\ninterval_s = 0\n', "central.interval_s", "(0, 3600]"),
        ('[central]\ndsn = "x"\nmax_attempts = 0\n', "central.max_attempts", "≥ 1"),
        ('[central]\ndsn = "x"\nretries = 3\n', "central.retries", "unknown field"),
        ('[mes]\npolicy = "queue"\n', "mes.plugin", "missing"),
        ('[mes]\nplugin = "m:M"\npolicy = "ignore"\n', "mes.policy", "'refuse' | 'queue'"),
        ('[mes]\nplugin = "m:M"\ntimeout_s = -1\n', "mes.timeout_s", "(0, 3600]"),
        ('[mes]\nplugin = "m:M"\noptions = 3\n', "mes.options", "expected table, got 3"),
    ],
)
def test_each_mistake_names_its_key(tmp_path: Path, text: str, where: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert [(p.where, words in p.message) for p in info.value.problems] == [(where, True)]
