"""A small base for SCPI instruments with declarative properties.

``control`` (read + write), ``measurement`` (read only) and ``setting`` (write only) turn
SCPI commands into attributes. Validators (``in_range``, ``one_of``, ``positive``,
``check_bool``, ``rating``) run before any I/O and raise ``TypeError`` for a value of the
wrong type and ``ValueError`` for one out of range; they never clip, because a clipped HV
setpoint is a safety bug. After every write the instrument's error queue is checked (when
``check_errors`` is on) so a refused command surfaces as ``InstrumentReportedError`` at the
line that caused it.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar, overload

from drivers.errors import InstrumentProtocolError, InstrumentReportedError
from drivers.roles import Identity
from drivers.scpi.transport import Transport

T = TypeVar("T")
Check = Callable[[Any], None]

OVERFLOW = 9.9e37
"""SCPI's over-range value: a reading of ±9.9E+37 or beyond is not a measurement."""

NUMBER_TEXT = r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z%Ω]*)\s*"
"""A number with an optional trailing unit, around spaces: what :func:`parse_float` accepts."""
_NUMBER = re.compile(f"^{NUMBER_TEXT}$")


def parse_float(reply: str) -> float:
    """Parse a number, tolerating a trailing unit (EA sends ``"500.0 V"``)."""
    match = _NUMBER.match(reply)
    if match is None:
        raise ValueError(f"not a number: {reply!r}")
    value = float(match.group(1))
    if math.isnan(value):
        raise ValueError(f"not a number: {reply!r}")
    return value


def parse_int(reply: str) -> int:
    """Parse an integer reply (``"+1"``, ``"0"``)."""
    try:
        return int(reply.strip())
    except ValueError:
        raise ValueError(f"not an integer: {reply!r}") from None


def parse_bool(reply: str) -> bool:
    """Parse ``1/0/ON/OFF`` replies."""
    text = reply.strip().upper()
    if text in ("1", "ON", "+1"):
        return True
    if text in ("0", "OFF", "+0"):
        return False
    raise ValueError(f"not a boolean: {reply!r}")


def format_number(value: float) -> str:
    """Format a number for a command without losing meaningful digits (``1E-09``, ``500``)."""
    return f"{value:.9G}"


def _check_number(value: Any, what: str = "expected a number") -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what}, got {value!r}")


def in_range(low: float, high: float) -> Check:
    """Return a validator accepting finite numbers in [low, high]."""

    def check(value: Any) -> None:
        _check_number(value)
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"{value!r} is outside {low:g} … {high:g}")

    return check


def positive(value: Any) -> None:
    """Accept a finite number above zero (a limit or time for which 0 would mean "off")."""
    _check_number(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{value!r} must be a finite number above zero")


def check_bool(value: Any) -> None:
    """Accept only ``True`` or ``False`` (not 1, 0 or ``"ON"``)."""
    if not isinstance(value, bool):
        raise TypeError(f"expected True or False, got {value!r}")


def rating(name: str, value: Any) -> float:
    """Check the model rating ``name`` given as a constructor option; return it as a float.

    A rating is a finite number above zero: a non-number raises TypeError, anything else
    ValueError, both naming the option.
    """
    _check_number(value, f"{name} must be a number")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number above zero, got {value!r}")
    return float(value)


def one_of(*allowed: Any) -> Check:
    """Return a validator accepting only the given values."""

    def check(value: Any) -> None:
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(map(repr, allowed))}")

    return check


class _Property(Generic[T]):
    def __init__(
        self,
        get_command: str | None,
        set_command: str | None,
        parse: Callable[[str], T] | None,
        check: Check | None,
        doc: str,
    ) -> None:
        self.get_command = get_command
        self.set_command = set_command
        self.parse = parse
        self.check = check
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _Property[T]: ...
    @overload
    def __get__(self, instance: ScpiInstrument, owner: type) -> T: ...
    def __get__(self, instance: ScpiInstrument | None, owner: type) -> T | _Property[T]:
        if instance is None:
            return self
        if self.get_command is None or self.parse is None:
            raise AttributeError(f"{self.name} is write-only")
        return instance.ask(self.get_command, self.parse)

    def __set__(self, instance: ScpiInstrument, value: Any) -> None:
        if self.set_command is None:
            raise AttributeError(f"{self.name} is read-only")
        if self.check is not None:
            self.check(value)
        instance.send(self.set_command.format(value))


def control(
    get_command: str,
    set_command: str,
    parse: Callable[[str], T],
    *,
    check: Check | None = None,
    doc: str,
) -> _Property[T]:
    """Declare a readable and writable instrument property."""
    return _Property(get_command, set_command, parse, check, doc)


def measurement(get_command: str, parse: Callable[[str], T], *, doc: str) -> _Property[T]:
    """Declare a read-only instrument property."""
    return _Property(get_command, None, parse, None, doc)


def setting(set_command: str, *, check: Check | None = None, doc: str) -> _Property[Any]:
    """Declare a write-only instrument property."""
    return _Property(None, set_command, None, check, doc)


class ScpiInstrument:
    """Base of every SCPI driver.

    ``transport`` is given (never opened here). ``check_errors`` makes every write
    followed by an error-queue query, so refusals surface where they happen.

    Conventions every subclass keeps: the constructor only checks its options and sends
    nothing; :meth:`connect` takes remote control (remote mode, lock, error-queue clear);
    ``safe_state()`` switches outputs off first (see :meth:`send_batch`).
    """

    error_query = "SYST:ERR?"

    def __init__(self, transport: Transport, *, check_errors: bool = True) -> None:
        self.transport = transport
        self.check_errors = check_errors
        # One exchange at a time: safe_state() may be called from another thread while a
        # step is mid-query, and interleaved messages would pair replies with wrong queries.
        self.lock = threading.RLock()

    @property
    def resource(self) -> str:
        """The VISA resource string (or equivalent) of the instrument."""
        return self.transport.resource

    def ask(self, command: str, parse: Callable[[str], T]) -> T:
        """Query and parse; an unparsable reply raises InstrumentProtocolError."""
        with self.lock:
            reply = self.transport.query(command)
        try:
            return parse(reply)
        except (ValueError, TypeError) as err:
            raise self.bad_reply(command, reply, str(err)) from err

    def bad_reply(self, command: str, reply: str, why: str) -> InstrumentProtocolError:
        """Return (not raise) the error for an unexpected ``reply`` to ``command``."""
        return InstrumentProtocolError(
            f"unexpected reply {reply!r} to {command!r} ({why})", resource=self.resource
        )

    def send(self, command: str) -> None:
        """Write a command, then check the error queue if enabled."""
        with self.lock:
            self.transport.write(command)
            if self.check_errors:
                self.raise_on_error(command)

    def send_batch(self, commands: Iterable[str], *, label: str) -> None:
        """Write ``commands`` back to back, then check the error queue once.

        Made for ``safe_state()``: an error already queued cannot stop the sequence half-way,
        every command is attempted, and a dead link fails on the first write or on the final
        query. The lock is held throughout, so no other exchange slips in between. ``label``
        names the batch in an InstrumentReportedError.
        """
        with self.lock:
            for command in commands:
                self.transport.write(command)
            if self.check_errors:
                self.raise_on_error(label)

    def raise_on_error(self, after: str = "") -> None:
        """Query the error queue once; raise InstrumentReportedError on a non-zero code."""
        with self.lock:
            reply = self.transport.query(self.error_query)
        code, text = parse_error(reply, resource=self.resource)
        if code != 0:
            where = f" after {after!r}" if after else ""
            raise InstrumentReportedError(
                f"instrument reported error {code}, {text!r}{where}",
                code=code,
                resource=self.resource,
            )

    def connect(self) -> None:
        """Bring the instrument under remote control; models override (lock, SYST:REM).

        Called once by whoever opened the instrument, before any other command: the
        constructor sends nothing.
        """

    def identity(self) -> Identity:
        """Ask ``*IDN?`` and split it into maker, model, serial, firmware."""
        return parse_identity(self.transport.query("*IDN?"), resource=self.resource)

    def close(self) -> None:
        """Release the transport."""
        self.transport.close()


def parse_error(reply: str, *, resource: str = "") -> tuple[int, str]:
    """Split a ``SYST:ERR?`` reply such as ``-113,"Undefined header"``."""
    head, sep, tail = reply.partition(",")
    try:
        code = int(head.strip())
    except ValueError:
        raise InstrumentProtocolError(
            f"unexpected error-queue reply {reply!r}", resource=resource or None
        ) from None
    return code, tail.strip().strip('"') if sep else ""


def parse_identity(reply: str, *, resource: str = "") -> Identity:
    """Split an ``*IDN?`` reply; at least maker and model are required."""
    fields = [f.strip() for f in reply.split(",")]
    if len(fields) < 4 or not fields[0] or not fields[1]:
        raise InstrumentProtocolError(
            f"unexpected *IDN? reply {reply!r} (expected maker,model,serial,firmware)",
            resource=resource or None,
        )
    return Identity(fields[0], fields[1], fields[2], ",".join(fields[3:]))
