"""Open the right transport for a resource string.

Serial resources (``ASRL…::INSTR``, ``/dev/…``, ``COMn`` and pyserial URLs such as
``loop://`` or ``socket://host:port``) always go through :class:`SerialTransport`, i.e.
pyserial directly, whatever the VISA backend: pyvisa-py itself uses pyserial for them, a
vendor VISA adds nothing for a COM port, and this way the baud rate, framing and
terminators are stated in the station config instead of hiding in VISA defaults.
Everything else (``TCPIP…``, ``USB…``, ``GPIB…``) goes through :class:`VisaTransport`
with the chosen backend (``"@py"`` = pyvisa-py, ``"@ivi"`` or a library path = vendor
VISA).
"""

from __future__ import annotations

from typing import Any

from drivers.scpi.transport import Tracer, Transport

SERIAL_OPTIONS = frozenset({"baudrate", "bytesize", "parity", "stopbits"})
"""Options that only a serial resource accepts."""

TERMINATION_OPTIONS = frozenset({"read_termination", "write_termination"})
"""Options that every transport accepts."""

TRANSPORT_OPTIONS = SERIAL_OPTIONS | TERMINATION_OPTIONS


def open_transport(
    resource: str,
    *,
    timeout_s: float = 2.0,
    backend: str = "@py",
    tracer: Tracer | None = None,
    **options: Any,
) -> Transport:
    """Open ``resource`` and return its transport.

    ``options`` are ``read_termination``/``write_termination`` for any resource and
    ``baudrate``/``bytesize``/``parity``/``stopbits`` for serial ones; a serial option on
    a non-serial resource, or an unknown option, raises TypeError before anything opens.
    """
    # Imported here so that choosing a transport costs nothing until one is opened.
    from drivers.scpi.serial import SerialTransport, is_serial_resource

    unknown = sorted(set(options) - TRANSPORT_OPTIONS)
    if unknown:
        raise TypeError(
            f"unknown transport option(s) {', '.join(unknown)} for {resource!r}; "
            f"known: {', '.join(sorted(TRANSPORT_OPTIONS))}"
        )
    if is_serial_resource(resource):
        return SerialTransport(resource, timeout_s=timeout_s, tracer=tracer, **options)
    misplaced = sorted(set(options) & SERIAL_OPTIONS)
    if misplaced:
        raise TypeError(
            f"serial option(s) {', '.join(misplaced)} given for {resource!r}, "
            "which is not a serial resource"
        )
    from drivers.scpi.visa import VisaTransport

    return VisaTransport(resource, timeout_s=timeout_s, backend=backend, tracer=tracer, **options)
