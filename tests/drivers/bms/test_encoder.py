"""The precompiled encoder gives cantools' own bytes for every message of the vendored DBCs."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import cantools
import pytest

from drivers.bms.decoder import MessageDecoder, UnsupportedSignal
from drivers.bms.encoder import _CALL, _DIVIDE, _MINUS, MessageEncoder, _slot

ROOT = Path(__file__).resolve().parents[3]
DBCS = sorted([*ROOT.glob("sequences/bms/*.dbc"), *ROOT.glob("tests/data/dbc/*/*.dbc")])


def physical(signal: Any, rng: random.Random) -> float:
    """A value in the signal's raw range, half of them between two raw steps."""
    if signal.is_signed:
        raw = rng.randrange(-(1 << (signal.length - 1)), 1 << (signal.length - 1))
    else:
        raw = rng.randrange(0, 1 << signal.length)
    value = float(signal.conversion.raw_to_scaled(raw, decode_choices=False))
    if rng.random() < 0.5:
        value += 0.37 * signal.scale  # not on a raw step: rounding must be cantools'
    return value


def cut_multiplexer_name(message: Any) -> bool:
    muxes = {s.name for s in message.signals if s.is_multiplexer}
    return any(s.multiplexer_signal not in (None, *muxes) for s in message.signals)


def raw(message: Any, name: str, value: float) -> int:
    """The raw integer cantools would pack for ``value``, as a signed or unsigned field."""
    signal = message.get_signal_by_name(name)
    number = int(signal.conversion.numeric_scaled_to_raw(value)) & ((1 << signal.length) - 1)
    if signal.is_signed and number >> (signal.length - 1):
        number -= 1 << signal.length
    return number


def pages(message: Any) -> list[int | None]:
    found = sorted({int(p) for s in message.signals for p in (s.multiplexer_ids or ())})
    return [*found] if found else [None]


def test_the_vendored_dbcs_are_all_checked() -> None:
    names = {path.name for path in DBCS}
    assert {"eol_reference.dbc", "foxbms.dbc", "Model3CAN.dbc"} <= names
    assert len(DBCS) == 5


@pytest.mark.parametrize("path", DBCS, ids=lambda p: p.name)
def test_every_message_and_page_encodes_to_cantools_bytes(path: Path) -> None:
    db = cantools.database.load_file(str(path), strict=False)
    rng = random.Random(path.name)
    checked = 0
    refused = []
    cut: set[str] = set()
    for message in db.messages:
        try:
            encoder = MessageEncoder(message)
        except UnsupportedSignal as err:
            # A DBC error (a signal past the frame's end) the decoder refuses as well.
            assert "does not fit" in str(err)
            refused.append(message.name)
            continue
        for page in pages(message):
            for _ in range(20):
                values = {
                    s.name: physical(s, rng)
                    for s in message.signals
                    if s.multiplexer_ids is None or page in s.multiplexer_ids
                }
                for mux in (s for s in message.signals if s.is_multiplexer):
                    values[mux.name] = page or 0  # cantools encodes only the pages it knows
                data = encoder.encode(values)
                # A row in any order the sender picks gives the same bytes.
                names = [n for n in values if n != encoder.multiplexer]
                rng.shuffle(names)
                paged = encoder.page(None if encoder.multiplexer is None else page or 0)
                row = [values[n] for n in names]
                assert paged.ordered(names).encode_row(row) == data
                if cut_multiplexer_name(message):
                    # cantools drops the pages of a multiplexer named with > 32 characters
                    # (it encodes zeros): check the raw values through the decoder instead.
                    decoded = MessageDecoder(message, values).decode(data)
                    assert decoded == {n: raw(message, n, v) for n, v in values.items()}
                    cut.add(message.name)
                else:
                    expected = message.encode(values, strict=False)
                    assert data == expected, (message.name, page, values)
                checked += 1
    tesla = ["ID5D5RearDItemps", "ID556FrontDItemps"]
    assert refused == (tesla if path.name == "Model3CAN.dbc" else [])
    assert checked >= 20 * (len(db.messages) - len(refused))
    assert bool(cut) == (path.name == "Model3CAN.dbc")


@pytest.mark.parametrize("path", DBCS, ids=lambda p: p.name)
def test_saturating_gives_cantools_bytes_of_the_clamped_values(path: Path) -> None:
    db = cantools.database.load_file(str(path), strict=False)
    rng = random.Random(f"saturate {path.name}")
    checked = 0
    for message in db.messages:
        if cut_multiplexer_name(message):
            continue  # cantools cannot give the bytes (see above)
        try:
            encoder = MessageEncoder(message)
        except UnsupportedSignal:
            continue
        for page in pages(message):
            for _ in range(5):
                # Over the whole raw range: many values lie outside the DBC's own range.
                carried = [
                    s
                    for s in message.signals
                    if not s.is_multiplexer
                    and (s.multiplexer_ids is None or page in s.multiplexer_ids)
                ]
                values = {s.name: physical(s, rng) for s in carried}
                clamped = {
                    s.name: min(
                        math.inf if s.maximum is None else s.maximum,
                        max(-math.inf if s.minimum is None else s.minimum, values[s.name]),
                    )
                    for s in carried
                }
                for mux in (s for s in message.signals if s.is_multiplexer):
                    values[mux.name] = clamped[mux.name] = page or 0
                expected = message.encode(clamped, strict=False)
                assert encoder.encode(values, saturate=True) == expected, (message.name, page)
                checked += 1
    assert checked >= 5 * len(db.messages) // 2


def test_a_missing_signal_and_an_unknown_page_are_refused() -> None:
    db = cantools.database.load_file(str(ROOT / "sequences/bms/eol_reference.dbc"))
    cells = MessageEncoder(db.get_message_by_name("BMS_CellVoltages"))
    assert cells.multiplexer == "CellPage"
    with pytest.raises(KeyError):
        cells.encode({"CellPage": 0})
    with pytest.raises(ValueError, match="no multiplexer page 999"):
        cells.encode({"CellPage": 999})


def test_a_float_signal_is_refused_when_compiled() -> None:
    db = cantools.database.load_string(
        'VERSION ""\nBU_: E\nBO_ 1 M: 8 E\n SG_ F : 0|32@1- (1,0) [0|0] "" E\n', "dbc"
    )
    db.messages[0].signals[0].is_float = True
    with pytest.raises(UnsupportedSignal, match="IEEE float"):
        MessageEncoder(db.messages[0])


REFERENCE = cantools.database.load_file(str(ROOT / "sequences/bms/eol_reference.dbc"))


def test_a_page_encoder_fixes_its_multiplexer_and_reads_the_other_signals() -> None:
    message = REFERENCE.get_message_by_name("BMS_CellVoltages")
    page = MessageEncoder(message).page(5)
    assert page.signals == ("CellInvalid", "AliveCounter", "Cell0", "Cell1", "Cell2")
    values = {"Cell0": 3.7012, "Cell1": 3.69987, "Cell2": 0.0, "CellInvalid": 4, "Counter": 9}
    values["AliveCounter"] = 7
    expected = message.encode({**values, "CellPage": 5}, strict=False)
    assert page.encode(values) == expected  # extra keys ("Counter") are not read
    with pytest.raises(KeyError):
        page.encode({"Cell0": 3.7})


def test_a_message_without_a_multiplexer_has_one_page_none() -> None:
    message = REFERENCE.get_message_by_name("BMS_PackStatus")
    encoder = MessageEncoder(message)
    values = {"PackVoltage": 355.5, "PackCurrent": -12.25, "BusVoltage": 0.0, "SOC": 50.0}
    values["AliveCounter"] = 3
    assert encoder.page().encode(values) == message.encode(values, strict=False)
    with pytest.raises(ValueError, match="BMS_PackStatus: no multiplexer page 0"):
        encoder.page(0)


def test_saturate_clamps_to_the_dbc_range_as_cantools_would_send_the_limit() -> None:
    message = REFERENCE.get_message_by_name("BMS_State")
    values: dict[str, float] = {s.name: 0 for s in message.signals}
    values |= {"InsulationResistance": 2.5e6, "MaxCellTemp": 300.0, "MinCellTemp": -80.0}
    values |= {"BmsState": math.nan, "AliveCounter": 21}
    clamped = {
        **values,
        "InsulationResistance": 655350,
        "MaxCellTemp": 205,
        "MinCellTemp": -50,
        "BmsState": 0,  # NaN goes to the minimum, as max(minimum, NaN) gives
        "AliveCounter": 15,
    }
    encoder = MessageEncoder(message)
    assert encoder.encode(values, saturate=True) == message.encode(clamped, strict=False)
    # Without saturation a value wider than its signal keeps its low bits.
    assert encoder.encode(clamped | {"AliveCounter": 21}) == message.encode(
        clamped | {"AliveCounter": 5}, strict=False
    )


@pytest.mark.parametrize("path", DBCS, ids=lambda p: p.name)
def test_an_inlined_conversion_rounds_as_cantools_does_at_every_half_step(path: Path) -> None:
    db = cantools.database.load_file(str(path), strict=False)
    ways: set[int] = set()
    for message in db.messages:
        for signal in message.signals:
            try:
                slot = _slot(signal, int(message.length))
            except UnsupportedSignal:
                continue
            ways.add(slot.way)
            if slot.way == _CALL:
                continue
            convert = signal.conversion.numeric_scaled_to_raw
            values: list[float] = [7, -3]  # ints stay ints where cantools keeps them
            for raw in (-3, -1, 0, 1, 2, 7, 1000):
                for fraction in (0.0, 0.5, -0.5, 0.49999, 0.37):
                    values.append((raw + fraction) * signal.scale + signal.offset)
            for value in values:
                if slot.way == _MINUS:
                    inline = round(value - slot.offset)
                else:
                    inline = round((value - slot.offset) / slot.scale)
                assert inline == convert(value), (signal.name, value)
                assert type(inline) is type(convert(value))
    assert _MINUS in ways
    assert _DIVIDE in ways or path.name != "eol_reference.dbc"


def test_ordered_needs_exactly_the_pages_signals() -> None:
    page = MessageEncoder(REFERENCE.get_message_by_name("BMS_Limits")).page()
    with pytest.raises(ValueError, match="not the page's signals"):
        page.ordered(["MaxChargeCurrent"])
    with pytest.raises(ValueError, match="not the page's signals"):
        page.ordered([*page.signals, "AliveCounter"])
    assert page.ordered(reversed(page.signals)).signals == tuple(reversed(page.signals))
