"""The worked examples of docs/bms-signal-map.md load and decode exactly.

Every ```toml block of the guide that starts with ``[bms]`` and names a DBC in this
repository is loaded as a description; one frame per page of every mapped message, encoded
by cantools from that DBC, is fed to the signal monitor, and every role must read what
cantools decodes (× the SI factor), arrays included.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import can
import pytest

from drivers.bms.description import BmsDescription
from drivers.bms.signal_map import ArrayRef, SignalRef, SourcesRef
from drivers.bms.signals import SignalMonitor

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "bms-signal-map.md"


def examples() -> list[str]:
    blocks = re.findall(r"```toml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    repository = ('dbc = "tests/', 'dbc = "sequences/')
    return [b for b in blocks if b.startswith("[bms]") and any(d in b for d in repository)]


def test_the_guide_has_a_worked_example_per_layout() -> None:
    found = examples()
    assert len(found) == 3
    joined = "\n".join(found)
    for layout in ("template = ", "sources = ", 'signals = "Cell{index}"', 'signals = ["Cell0"'):
        assert layout in joined


class Clock:
    def __call__(self) -> float:
        return 0.0


def frame(monitor: SignalMonitor, message: Any, page: int | None, rng: random.Random) -> dict:
    raw: dict[str, int] = {}
    for s in message.signals:
        if s.multiplexer_ids is not None and (page is None or page not in s.multiplexer_ids):
            continue
        if s.is_multiplexer:
            raw[s.name] = page if page is not None else 0
        elif "invalid" in s.name.lower():
            raw[s.name] = 0
        elif s.is_signed:
            raw[s.name] = rng.randrange(-(1 << (s.length - 1)), 1 << (s.length - 1))
        else:
            raw[s.name] = rng.randrange(0, 1 << s.length)
    data = message.encode(raw, scaling=False, strict=False)
    monitor.on_message_received(
        can.Message(arbitration_id=message.frame_id, is_extended_id=False, data=data)
    )
    return {"raw": raw, "phys": message.decode(data, decode_choices=False)}


@pytest.mark.parametrize("text", examples(), ids=lambda t: t.split('"')[1])
def test_a_worked_example_decodes_exactly(text: str, tmp_path: Path) -> None:
    dbc = re.search(r'dbc = "([^"]+)"', text)
    assert dbc is not None
    path = tmp_path / "example.toml"
    path.write_text(text.replace(dbc.group(1), (ROOT / dbc.group(1)).as_posix()), "utf-8")
    desc = BmsDescription.load(path)
    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=Clock())
    rng = random.Random(5)
    seen: dict[str, dict] = {}
    for ref in desc.signal_map().values():
        names = ref.messages if isinstance(ref, SourcesRef) else (ref.message,)
        for name in names:
            message = desc.db.get_message_by_name(name)
            pages = sorted({int(i) for s in message.signals for i in (s.multiplexer_ids or ())})
            for page in pages or [None]:
                seen[f"{name}/{page}"] = frame(monitor, message, page, rng)
    for role, ref in desc.signal_map().items():
        if isinstance(ref, SignalRef):
            got = monitor.reading(role, timeout_s=0.1)
            last = next(v for k, v in reversed(seen.items()) if k.startswith(ref.message + "/"))
            raw = last["raw"][ref.signal]
            want = None if raw in ref.not_available else last["phys"][ref.signal] * ref.factor
            assert got.raw == raw and got.value == pytest.approx(want, rel=1e-12), role
        elif isinstance(ref, SourcesRef):
            want_list = [
                next(
                    v["phys"][e.signal] * e.factor
                    for k, v in seen.items()
                    if k.startswith(e.message + "/") and e.signal in v["phys"]
                )
                for e in ref.elements
            ]
            assert monitor.snapshot(role, after=0.0, timeout_s=0.1) == pytest.approx(want_list)
        else:
            assert isinstance(ref, ArrayRef) and ref.pages is not None
            want_list = [
                seen[f"{ref.message}/{page}"]["phys"][slot.value] * ref.factor
                for page in range(ref.pages)
                for slot in ref.slots(page)
            ]
            assert monitor.snapshot(role, after=0.0, timeout_s=0.1) == pytest.approx(want_list)
