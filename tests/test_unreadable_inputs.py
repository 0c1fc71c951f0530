"""Every reader of a TOML file a person writes says why it cannot read it in the same words:
station.inputs.read_toml, and the two readers drivers/ keeps for itself because drivers may
not import station (the BMS description, the simulator's pack files)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.bms.description import BmsDescription, BmsDescriptionError
from drivers.sim.packs import PackFileError, load_pack_file
from station.inputs import Problems, read_toml

UNREADABLE = [
    ("missing.toml", None, "file not found"),
    ("syntax.toml", b"a = 1\nb = \n", "is not valid TOML: Invalid value (at line 2, column 5)"),
    ("latin1.toml", b"name = '\xe9'\n", "is not UTF-8 text (invalid continuation byte)"),
    ("deep.toml", b"a = " + b"[" * 3000 + b"]" * 3000 + b"\n", "too deep to read"),
    ("folder.toml", "dir", "is a directory, not a TOML file"),
]


def station_reader(path: Path) -> str:
    problems = Problems(path)
    assert read_toml(path, problems) is None
    [problem] = problems
    return str(problem)


def bms_reader(path: Path) -> str:
    with pytest.raises(BmsDescriptionError) as caught:
        BmsDescription.load(path)
    [problem] = caught.value.problems
    return f"{path}: {problem}"


def pack_reader(path: Path) -> str:
    with pytest.raises(PackFileError) as caught:
        load_pack_file(path)
    return str(caught.value).removeprefix("pack file ")


READERS = {"station": station_reader, "bms": bms_reader, "pack": pack_reader}


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
@pytest.mark.parametrize(("name", "content", "says"), UNREADABLE, ids=[n for n, _, _ in UNREADABLE])
def test_an_unreadable_file_is_one_sentence_naming_it_and_why(
    tmp_path: Path,
    reader: Callable[[Path], str],
    name: str,
    content: bytes | str | None,
    says: str,
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    sentence = reader(path)
    assert sentence.startswith(f"{path}: ")
    assert says in sentence
    assert "\n" not in sentence
