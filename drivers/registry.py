"""Model names → driver classes, imported only when a model is asked for.

The station config names instruments by model (``"itech.it6000c"``); this module maps
the name to ``"module:Class"`` and imports that module on first use, so importing the
registry (or listing the models) loads no vendor code, no pyvisa and no pyserial.

Two kinds of driver are opened differently by :func:`open_instrument`:

* a SCPI driver is constructed as ``Class(transport, **options)`` on the transport that
  :func:`drivers.scpi.open.open_transport` picks for the resource;
* a device that owns its link (Modbus RTU, a barcode scanner) has a classmethod
  ``from_resource(resource, *, timeout_s, tracer, **options)``, which is used instead.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from drivers.scpi.transport import Tracer

MODELS: dict[str, str] = {
    "itech.it6000c": "drivers.itech.it6000c:It6000c",
    "ea.psb10000": "drivers.ea.psb10000:Psb10000",
    "chroma.63200a": "drivers.chroma.chroma63200a:Chroma63200a",
    "chroma.1905x": "drivers.chroma.chroma1905x:Chroma1905x",
    "kikusui.tos9300": "drivers.kikusui.tos9300:Tos9300",
    "keysight.34465a": "drivers.keysight.keysight34465a:Keysight34465a",
    "generic.scpi_supply": "drivers.generic.scpi_supply:GenericScpiSupply",
    "generic.scpi_load": "drivers.generic.scpi_load:GenericScpiLoad",
    "modbus.rtu_io": "drivers.modbus.rtu_io:ModbusRtuInterlocks",
    "serial_devices.scanner": "drivers.serial_devices.scanner:SerialScanner",
    "zebra.zpl": "drivers.labels.zpl_printer:ZplPrinter",
}
"""Every model the station can drive, as ``name → "module:Class"``."""


def known_models() -> list[str]:
    """Return the model names, sorted."""
    return sorted(MODELS)


def _unknown(model: str) -> LookupError:
    names = known_models()
    guesses = difflib.get_close_matches(model, names, n=3, cutoff=0.5)
    # "it6000c" or "IT6000C" should find "itech.it6000c" too.
    short = model.strip().lower()
    guesses += [n for n in names if n.split(".", 1)[-1] == short and n not in guesses]
    hint = f"; did you mean {' or '.join(map(repr, guesses))}?" if guesses else ""
    return LookupError(f"unknown instrument model {model!r}{hint} (known: {', '.join(names)})")


def driver_class(model: str) -> type:
    """Import and return the driver class registered for ``model``.

    An unknown name raises LookupError with close matches; a registered name whose
    module or class cannot be imported raises ImportError naming the model.
    """
    try:
        target = MODELS[model]
    except (KeyError, TypeError):
        raise _unknown(str(model)) from None
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ImportError(
            f"model {model!r} is registered as {target!r} but {module_name} cannot be "
            f"imported: {err}"
        ) from err
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise ImportError(f"model {model!r} is registered as {target!r} but has no such class")
    return cls


def open_instrument(
    model: str,
    resource: str,
    *,
    timeout_s: float = 2.0,
    backend: str = "@py",
    tracer: Tracer | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    """Open ``resource`` and return the ``model`` driver on it.

    ``options`` holds the driver's own options (ratings, input mapping, ``check_errors``)
    and, for SCPI drivers, the transport options ``baudrate``, ``bytesize``, ``parity``,
    ``stopbits``, ``read_termination`` and ``write_termination``, which are split off and
    given to the transport. If the driver refuses its options, the transport is closed
    again before the error propagates.

    Nothing is sent to the instrument: ``connect()`` is not called here. The caller (the
    station runner) calls it once, before ``identity()`` and any other command.
    """
    cls = driver_class(model)
    opts = dict(options or {})
    from_resource = getattr(cls, "from_resource", None)
    if callable(from_resource):
        return from_resource(resource, timeout_s=timeout_s, tracer=tracer, **opts)

    from drivers.scpi.open import TRANSPORT_OPTIONS, open_transport

    transport_opts = {k: opts.pop(k) for k in list(opts) if k in TRANSPORT_OPTIONS}
    transport = open_transport(
        resource, timeout_s=timeout_s, backend=backend, tracer=tracer, **transport_opts
    )
    try:
        return cls(transport, **opts)
    except BaseException:
        transport.close()
        raise
