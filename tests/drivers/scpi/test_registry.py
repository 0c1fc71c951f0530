"""The model registry: every name resolves, nothing is imported early, open_instrument."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drivers import registry
from drivers.generic.scpi_supply import GenericScpiSupply
from drivers.modbus.rtu_io import ModbusRtuInterlocks
from drivers.scpi.serial import SerialTransport
from drivers.serial_devices.scanner import SerialScanner
from drivers.testing import ProtocolTransport

ROOT = Path(__file__).resolve().parents[3]

COMMON_BRIEF_MODELS = {
    "itech.it6000c": "drivers.itech.it6000c:It6000c",
    "ea.psb10000": "drivers.ea.psb10000:Psb10000",
    "chroma.63200a": "drivers.chroma.chroma63200a:Chroma63200a",
    "chroma.1905x": "drivers.chroma.chroma1905x:Chroma1905x",
    "kikusui.tos9300": "drivers.kikusui.tos9300:Tos9300",
    "keysight.34465a": "drivers.keysight.keysight34465a:Keysight34465a",
    "generic.scpi_supply": "drivers.generic.scpi_supply:GenericScpiSupply",
    "generic.scpi_load": "drivers.generic.scpi_load:GenericScpiLoad",
}


def test_registry_holds_the_agreed_names() -> None:
    assert COMMON_BRIEF_MODELS.items() <= registry.MODELS.items()
    assert set(registry.MODELS) - set(COMMON_BRIEF_MODELS) == {
        "modbus.rtu_io",
        "serial_devices.scanner",
        "zebra.zpl",
    }


def test_known_models_is_sorted() -> None:
    assert registry.known_models() == sorted(registry.MODELS)


@pytest.mark.parametrize("model", sorted(registry.MODELS))
def test_every_model_resolves_to_its_class(model: str) -> None:
    module_name, _, class_name = registry.MODELS[model].partition(":")
    cls = registry.driver_class(model)
    assert isinstance(cls, type)
    assert cls.__name__ == class_name
    assert cls.__module__ == module_name


@pytest.mark.parametrize("model", sorted(registry.MODELS))
def test_every_model_has_a_row_in_the_driver_docs(model: str) -> None:
    table = (ROOT / "docs" / "drivers.md").read_text(encoding="utf-8")
    assert f"(`{model}`) |" in table


def test_importing_the_registry_imports_no_vendor_code() -> None:
    # A fresh interpreter: this test process has imported drivers already.
    code = (
        "import json, sys, drivers.registry as r; r.known_models(); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout))
    for target in registry.MODELS.values():
        assert target.partition(":")[0] not in loaded
    assert {"pyvisa", "pyvisa_py", "serial", "drivers.scpi.visa", "drivers.scpi.serial"}.isdisjoint(
        loaded
    )


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("itech.it6000", "'itech.it6000c'"),
        ("it6000c", "'itech.it6000c'"),
        ("chroma.63200", "'chroma.63200a'"),
        ("generic.scpi_suply", "'generic.scpi_supply'"),
    ],
)
def test_unknown_model_suggests_close_names(name: str, suggestion: str) -> None:
    with pytest.raises(LookupError) as info:
        registry.driver_class(name)
    assert not isinstance(info.value, KeyError)
    assert f"unknown instrument model {name!r}" in str(info.value)
    assert f"did you mean {suggestion}" in str(info.value)


def test_unknown_model_without_close_match_lists_known_models() -> None:
    with pytest.raises(LookupError) as info:
        registry.driver_class("zzz")
    assert "did you mean" not in str(info.value)
    assert "keysight.34465a" in str(info.value)


def test_broken_registration_raises_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.MODELS, "acme.missing", "drivers.acme.nothing:Nothing")
    monkeypatch.setitem(registry.MODELS, "acme.noclass", "drivers.errors:Nothing")
    with pytest.raises(ImportError, match=r"'acme\.missing'"):
        registry.driver_class("acme.missing")
    with pytest.raises(ImportError, match="no such class"):
        registry.driver_class("acme.noclass")


def test_open_instrument_builds_a_scpi_driver_on_its_transport() -> None:
    options = {"max_voltage_v": 60, "max_current_a": 5, "baudrate": 115200}
    psu = registry.open_instrument("generic.scpi_supply", "loop://", timeout_s=0.2, options=options)
    try:
        assert isinstance(psu, GenericScpiSupply)
        assert isinstance(psu.transport, SerialTransport)
        assert psu.max_voltage_v == 60.0
        assert psu.transport.timeout_s == 0.2
    finally:
        psu.close()


def test_open_instrument_closes_the_transport_when_options_are_bad(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[ProtocolTransport] = []

    def fake_open(resource: str, **kwargs: object) -> ProtocolTransport:
        opened.append(ProtocolTransport([], resource=resource))
        return opened[-1]

    monkeypatch.setattr("drivers.scpi.open.open_transport", fake_open)
    with pytest.raises(TypeError):
        registry.open_instrument("generic.scpi_supply", "TCPIP0::10.0.0.9::5025::SOCKET")
    assert opened and opened[0].closed


def test_open_instrument_uses_from_resource_for_modbus() -> None:
    io = registry.open_instrument(
        "modbus.rtu_io", "loop://", timeout_s=0.2, options={"unit_id": 7, "baudrate": 115200}
    )
    try:
        assert isinstance(io, ModbusRtuInterlocks)
        assert io.unit_id == 7
        io.set_hv_lamp(False)  # loop:// echoes the request: a valid reply
    finally:
        io.close()


def test_open_instrument_uses_from_resource_for_the_scanner() -> None:
    scanner = registry.open_instrument("serial_devices.scanner", "loop://", timeout_s=0.05)
    try:
        assert isinstance(scanner, SerialScanner)
        assert scanner.read_code() is None
    finally:
        scanner.close()


def test_open_instrument_unknown_model_opens_nothing() -> None:
    with pytest.raises(LookupError):
        registry.open_instrument("acme.psu", "loop://")
