"""Engineering notation with SI prefixes for every value and limit an operator reads."""

from __future__ import annotations

import math

import pytest

from ui.si import plain, si, si_limit_text


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (1.98486e6, "Ohm", "1.985 MΩ"),
        (0.11823, "Ohm", "118.2 mΩ"),
        (118.0, "mOhm", "118 mΩ"),
        (2.48905e-3, "A", "2.489 mA"),
        (349.10693, "V", "349.1 V"),
        (999.96, "V", "1 kV"),
        (0.0, "V", "0 V"),
        (-0.0123, "A", "-12.3 mA"),
        (4.5e-9, "F", "4.5 nF"),
        (36.25, "°C", "36.25 °C"),
        (12345.6, "s", "12346 s"),  # seconds are not prefixed
        (87.5, "%", "87.5 %"),
        (3.0, "", "3"),
        (math.inf, "Ohm", "∞ Ω"),
    ],
)
def test_values_read_in_engineering_notation(value: float, unit: str, shown: str) -> None:
    assert si(value, unit) == shown


def test_plain_never_uses_e_notation() -> None:
    assert "e" not in plain(1.23456e11)
    assert plain(1.23456e-5) == "0.00001235"


@pytest.mark.parametrize(
    ("text", "unit", "shown"),
    [
        ("≥ 1e+06 Ohm", "Ohm", "≥ 1 MΩ"),
        ("1800000 … 2200000 Ohm", "Ohm", "1.8 … 2.2 MΩ"),
        ("≤ 118 mOhm", "mOhm", "≤ 118 mΩ"),
        ("each 3.2 … 4.2 V, spread ≤ 0.05 V", "V", "each 3.2 … 4.2 V, spread ≤ 0.05 V"),
        ("~ ^NM96[0-9]{7}$", "", "~ ^NM96[0-9]{7}$"),
        ("= 'OPEN'", "", "= 'OPEN'"),
        ("≤ 0.13", "Ohm", "≤ 130 mΩ"),
        ("0.096 ± 15 %", "Ohm", "96 mΩ ± 15 %"),
        ("0.096 Ohm ± 15 %", "Ohm", "96 mΩ ± 15 %"),
        ("= 'OPEN'", "V", "= 'OPEN'"),
    ],
)
def test_limit_texts_use_one_prefix(text: str, unit: str, shown: str) -> None:
    assert si_limit_text(text, unit) == shown
