"""The precompiled encoder gives cantools' own bytes for every message of the vendored DBCs."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cantools
import pytest

from drivers.bms.decoder import MessageDecoder, UnsupportedSignal
from drivers.bms.encoder import (
    _CALL,
    _DIVIDE,
    _DIVMOD,
    _MINUS,
    MessageEncoder,
    _comment,
    _slot,
    _Writer,
)

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


def encodable_pages(db: Any) -> Iterator[tuple[Any, MessageEncoder, int | None, list[Any]]]:
    """Every page cantools can give the bytes of and the encoder takes: its message, the
    message's encoder, the page and the signals it carries (the multiplexer's aside)."""
    for message in db.messages:
        if cut_multiplexer_name(message):
            continue  # cantools cannot give the bytes (see above)
        try:
            encoder = MessageEncoder(message)
        except UnsupportedSignal:
            continue
        for page in pages(message):
            carried = [
                s
                for s in message.signals
                if not s.is_multiplexer and (s.multiplexer_ids is None or page in s.multiplexer_ids)
            ]
            yield message, encoder, page, carried


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
                # As compiled for a sender that passes its last values apart from the row.
                tail = rng.randrange(len(row) + 1)
                split = len(row) - tail
                function = paged.ordered(names).compiled(tail=tail)
                assert function(tuple(row[:split]), *row[split:]) == data
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


def clamp(signal: Any, value: float) -> float:
    """``value`` clamped to ``signal``'s DBC range as max() and min() would (NaN: minimum)."""
    if signal.minimum is not None:
        value = max(signal.minimum, value)
    if signal.maximum is not None:
        value = min(signal.maximum, value)
    return value


def saturated(
    message: Any, carried: Any, values: dict[str, float], page: int | None
) -> dict[str, float]:
    """The values cantools is given for a saturating encode of ``values``: each clamped to
    its DBC range, and the multiplexer (in ``values`` too) set to ``page``."""
    clamped = {s.name: clamp(s, values[s.name]) for s in carried}
    for mux in (s for s in message.signals if s.is_multiplexer):
        values[mux.name] = clamped[mux.name] = page or 0
    return clamped


@pytest.mark.parametrize("path", DBCS, ids=lambda p: p.name)
def test_saturating_gives_cantools_bytes_of_the_clamped_values(path: Path) -> None:
    db = cantools.database.load_file(str(path), strict=False)
    rng = random.Random(f"saturate {path.name}")
    checked = 0
    for message, encoder, page, carried in encodable_pages(db):
        for _ in range(5):
            # Over the whole raw range: many values lie outside the DBC's own range.
            values = {s.name: physical(s, rng) for s in carried}
            clamped = saturated(message, carried, values, page)
            expected = message.encode(clamped, strict=False)
            assert encoder.encode(values, saturate=True) == expected, (message.name, page)
            paged = encoder.page(None if encoder.multiplexer is None else page or 0)
            row = [values[n] for n in paged.signals]
            tail = min(1, len(row))
            function = paged.compiled(saturate=True, tail=tail)
            assert function(row[: len(row) - tail], *row[len(row) - tail :]) == expected
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
                elif slot.way == _DIVMOD:
                    quotient, remainder = divmod(value - slot.offset, slot.scale)
                    exact = remainder == 0
                    inline = round(quotient if exact else (value - slot.offset) / slot.scale)
                else:
                    inline = round((value - slot.offset) / slot.scale)
                assert inline == convert(value), (signal.name, value)
                assert type(inline) is type(convert(value))
    assert _MINUS in ways
    assert {_DIVIDE, _DIVMOD} <= ways or path.name != "eol_reference.dbc"


def test_ordered_needs_exactly_the_pages_signals() -> None:
    page = MessageEncoder(REFERENCE.get_message_by_name("BMS_Limits")).page()
    with pytest.raises(ValueError, match="not the page's signals"):
        page.ordered(["MaxChargeCurrent"])
    with pytest.raises(ValueError, match="not the page's signals"):
        page.ordered([*page.signals, "AliveCounter"])
    assert page.ordered(reversed(page.signals)).signals == tuple(reversed(page.signals))


def edges(signal: Any) -> list[float]:
    """Values where saturating can go wrong: the bounds, just past them, NaN, the infinities,
    around a flag's 0.5, bools and ints (where the generated code compares with int literals).
    Only the values cantools can encode once clamped (no NaN or infinity where a bound is
    missing)."""
    values: list[float] = [0, 1, -1, 7, True, False, 0.5, 0.49999, 0.50001, 1.5, -0.25]
    for bound in (signal.minimum, signal.maximum):
        if bound is not None:
            values += [bound, math.nextafter(bound, -math.inf), math.nextafter(bound, math.inf)]
            values += [bound - signal.scale / 2, bound + signal.scale / 2, round(bound)]
    if signal.minimum is not None:
        values += [math.nan, -math.inf]
    if signal.maximum is not None:
        values += [math.inf]
    return values


@pytest.mark.parametrize("path", DBCS, ids=lambda p: p.name)
def test_saturating_at_the_edges_gives_cantools_bytes_of_the_clamped_values(path: Path) -> None:
    db = cantools.database.load_file(str(path), strict=False)
    rng = random.Random(f"edges {path.name}")
    checked = 0
    for message, encoder, page, carried in encodable_pages(db):
        choices = {s.name: edges(s) for s in carried}
        for _ in range(10):
            values = {name: rng.choice(choice) for name, choice in choices.items()}
            clamped = saturated(message, carried, values, page)
            data = encoder.encode(values, saturate=True)
            try:
                expected = message.encode(clamped, strict=False)
            except OverflowError:
                # A DBC range wider than its field: cantools refuses to pack the bound,
                # the encoder keeps its low bits. Compare the raw values instead.
                decoded = MessageDecoder(message, clamped).decode(data)
                assert decoded == {n: raw(message, n, v) for n, v in clamped.items()}
            else:
                assert data == expected, (message.name, values)
            checked += 1
    assert checked >= 10 * len(db.messages) // 2


def test_a_flag_is_encoded_by_one_compare_and_a_field_that_fits_needs_no_mask() -> None:
    message = REFERENCE.get_message_by_name("BMS_State")
    page = MessageEncoder(message).page()
    source = page.source(saturate=True)
    assert "(v2 > 0.5) << 6" in source  # HvilState [0|1]: no clamp, no round()
    assert "if not 0 <= v2" not in source
    assert "| v15.__round__() << 48" in source  # MinCellIndex [0|255] fits its 8 bits unmasked
    assert "(v15.__round__() & 0xff) << 48" in page.source(saturate=False)
    for flag in (-1, 0, 0.25, 0.5, 0.5000001, 1, 1.5, math.nan, math.inf, -math.inf, True):
        values: dict[str, float] = {s.name: 0 for s in message.signals} | {"HvilState": flag}
        clamped = values | {"HvilState": min(1, max(0, flag))}
        assert page.encode(values, saturate=True) == message.encode(clamped, strict=False)
    status = MessageEncoder(REFERENCE.get_message_by_name("BMS_PackStatus")).page()
    source = status.source(saturate=True)
    assert (
        "((v1 / 0.05).__round__() & 0xffff) << 16" in source
    )  # signed: the mask makes it unsigned
    assert "(v0 / 0.01).__round__()  " in source  # PackVoltage [0|655.35] fits 16 bits
    assert "if not 0.0 <= v0 <= 655.35: v0 = _clamp(v0, 0.0, 655.35)" in source


def test_a_one_sided_or_missing_range_clamps_only_where_it_has_a_bound() -> None:
    db = cantools.database.load_string(
        'VERSION ""\nBU_: E\nBO_ 1 M: 8 E\n'
        ' SG_ Low : 0|16@1- (0.5,1) [0|0] "" E\n'
        ' SG_ High : 16|16@1- (0.5,1) [0|0] "" E\n'
        ' SG_ Free : 32|16@1- (0.5,1) [0|0] "" E\n',
        "dbc",
    )
    message = db.messages[0]
    low, high, _ = message.signals
    low.minimum, high.maximum = -20.0, 30.0
    page = MessageEncoder(message).page()
    source = page.source(saturate=True)
    assert "if not v0 >= (-20.0): v0 = (-20.0)" in source
    assert "if v1 > 30.0: v1 = 30.0" in source
    assert "v2 =" not in source.split("= row", 1)[1]  # no bound: no clamp
    for values in ([-1e3, 1e3, 7.25], [math.nan, 1e3, -1e3], [3.0, math.inf, 0.0]):
        clamped = [max(-20.0, values[0]), min(30.0, values[1]), values[2]]
        expected = message.encode(dict(zip(("Low", "High", "Free"), clamped, strict=True)))
        assert page.encode_row(values, saturate=True) == expected
    with pytest.raises(ValueError):
        page.encode_row([math.nan, 0.0, math.nan], saturate=True)  # round(NaN), as cantools


def test_generated_source_holds_only_numbers_and_names_made_by_the_encoder() -> None:
    writer = _Writer()
    assert [writer.constant(x) for x in (3, -50, 0.01, -1638.4, 1e-05)] == [
        "3",
        "(-50)",
        "0.01",
        "(-1638.4)",
        "1e-05",
    ]
    # Anything else, even a number that is no literal, is passed in by name.
    odd = [math.nan, math.inf, True, 2**0.5 * 1j, "0 or __import__('os')"]
    assert [writer.constant(x) for x in odd] == ["_k0", "_k1", "_k2", "_k3", "_k4"]
    assert writer.names["_k4"] == odd[4]
    assert [_comment(n) for n in ("Cell0", "a\nimport os", "Zelle_\u00e4", "1st")] == [
        "Cell0",
        "?",
        "?",
        "?",
    ]


def test_a_row_of_the_wrong_length_and_a_tail_longer_than_the_page_are_refused() -> None:
    page = MessageEncoder(REFERENCE.get_message_by_name("BMS_Limits")).page()
    with pytest.raises(ValueError):
        page.encode_row([1.0, 2.0])
    with pytest.raises(ValueError, match="tail 6: the page has 5 signals"):
        page.compiled(tail=6)
    function = page.compiled(saturate=True, tail=5)
    assert function((), 1.0, 2.0, 3.7, 3.6, 4) == page.encode_row(
        [1.0, 2.0, 3.7, 3.6, 4], saturate=True
    )


def test_the_pages_of_a_message_share_one_compiled_code_and_keep_their_own_bits() -> None:
    message = REFERENCE.get_message_by_name("BMS_CellTemperatures")
    encoder = MessageEncoder(message)
    functions = [encoder.page(page).compiled(saturate=True) for page in (0, 1, 31)]
    assert functions[0].__code__ is functions[1].__code__ is functions[2].__code__
    row = [15, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0]
    for page, function in zip((0, 1, 31), functions, strict=True):
        values = dict(zip(encoder.page(page).signals, row, strict=True)) | {"TempPage": page}
        assert function(row) == message.encode(values, strict=False)


def test_a_raw_tail_writes_the_counter_as_the_clamping_encoder_does() -> None:
    for name in ("BMS_PackStatus", "BMS_State", "BMS_CellVoltages"):
        message = REFERENCE.get_message_by_name(name)
        encoder = MessageEncoder(message)
        page = encoder.page() if encoder.multiplexer is None else encoder.page(1)
        others = [n for n in page.signals if n != "AliveCounter"]
        ordered = page.ordered([*others, "AliveCounter"])
        raw = ordered.compiled(saturate=True, tail=1, raw_tail=True)
        clamped = ordered.compiled(saturate=True, tail=1)
        assert f"v{len(others)}.__round__()" not in ordered.source(
            saturate=True, tail=1, raw_tail=True
        )
        rng = random.Random(name)
        for counter in range(16):
            row = [physical(message.get_signal_by_name(n), rng) for n in others]
            assert raw(row, counter) == clamped(row, counter)


def test_a_raw_tail_of_a_scaled_signal_is_refused() -> None:
    page = MessageEncoder(REFERENCE.get_message_by_name("BMS_Limits")).page()
    names = [n for n in page.signals if n != "MinCellVoltage"]
    with pytest.raises(ValueError, match="scale 1 and offset 0"):
        page.ordered([*names, "MinCellVoltage"]).compiled(tail=1, raw_tail=True)
    row = [1.0, 2.0, 3.7, 3.6, 4]
    assert page.compiled(tail=0, raw_tail=True)(row) == page.encode_row(row)
