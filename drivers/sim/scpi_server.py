"""A small threaded SCPI socket server for simulated instruments (domain spec §6.7).

A simulated instrument is a :class:`ScpiDevice`: its ``*IDN?`` text, its error format and a
command table of ``(pattern, function)``. Patterns use SCPI notation — upper case is the
short form, ``[ ]`` marks optional nodes, ``#`` a numeric suffix, ``?`` a query::

    ("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]", set_voltage)
    ("MEASure[:SCALar]:VOLTage[:DC]?", measure_voltage)

so ``VOLT 5``, ``:sour:voltage:lev 5`` and ``VOLTAGE 5`` all reach ``set_voltage`` (only the
short or the long form of a node matches, in any case, as on real instruments). A function
gets a :class:`Call` and returns the reply text of a query. It rejects bad input by raising
:class:`ScpiError`, which lands in the instrument's error queue, like the real ones.

:class:`ScpiServer` serves one device on a TCP port: newline-terminated messages, several
``;``-separated commands per line (their replies joined by ``;`` into one line), a header
after ``;`` without a leading ``:`` is first tried relative to the previous one (SCPI-99
§6.2.4). As on real instruments, a query that fails gives no reply (the client times out and
finds the reason with ``SYST:ERR?``). ``*IDN?``, ``*RST``, ``*CLS``, ``*OPC?``, ``*OPC``,
``*WAI`` and ``SYST:ERR?`` are built in.

Fault hooks: :attr:`ScpiServer.not_answering` (reads, never replies nor executes),
:attr:`ScpiServer.garbage_reply` (executes, but answers queries with nonsense),
:attr:`ScpiServer.drop_connection` (closes a connection when it next sends anything),
:meth:`ScpiServer.drop_connections` (closes every connection now) and
:meth:`ScpiServer.push_error` (queue an error, e.g. ``-222,"Data out of range"``).
"""

from __future__ import annotations

import math
import re
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from drivers.sim.tcp_server import TwinServer

UNDEFINED_HEADER = (-113, "Undefined header")
HEADER_SUFFIX_OUT_OF_RANGE = (-114, "Header suffix out of range")
PARAMETER_NOT_ALLOWED = (-108, "Parameter not allowed")
MISSING_PARAMETER = (-109, "Missing parameter")
EXECUTION_ERROR = (-200, "Execution error")
SETTINGS_CONFLICT = (-221, "Settings conflict")
DATA_OUT_OF_RANGE = (-222, "Data out of range")
ILLEGAL_PARAMETER_VALUE = (-224, "Illegal parameter value")
DATA_STALE = (-230, "Data corrupt or stale")
DEVICE_SPECIFIC_ERROR = (-300, "Device-specific error")
QUEUE_OVERFLOW = (-350, "Queue overflow")
ERROR_QUEUE_SIZE = 20
LOOKUPS_KEPT = 4096
"""Header lookups, and parsed lines, a server remembers (it forgets them all when full: a
client sending ever new headers or lines cannot grow them without bound)."""
OVERFLOW = 9.9e37
"""SCPI's over-range reading (an overloaded or saturated meter)."""
GARBAGE = "?#GARBAGE#?"


class ScpiError(Exception):
    """An error the simulated instrument puts in its queue (``code``, ``message``)."""

    def __init__(self, error: tuple[int, str], detail: str = "") -> None:
        self.code, message = error
        self.message = f"{message};{detail}" if detail else message
        super().__init__(f"{self.code},{self.message!r}")


@dataclass(frozen=True)
class Call:
    """One received command: its ``header``, ``params`` and numeric header ``suffixes``."""

    header: str
    params: tuple[str, ...] = ()
    suffixes: tuple[int, ...] = ()

    def expect(self, low: int, high: int | None = None) -> None:
        """Require between ``low`` and ``high`` (default ``low``) parameters."""
        if len(self.params) < low:
            raise ScpiError(MISSING_PARAMETER)
        if len(self.params) > (low if high is None else high):
            raise ScpiError(PARAMETER_NOT_ALLOWED)

    def number(
        self, index: int = 0, *, low: float, high: float, default: float | None = None
    ) -> float:
        """Parse parameter ``index`` as a number in [low, high] (``MIN``/``MAX``/``DEF`` too)."""
        if index >= len(self.params) or not self.params[index]:
            if default is None:
                raise ScpiError(MISSING_PARAMETER)
            return default
        text = self.params[index].strip().upper()
        keywords = {"MIN": low, "MINIMUM": low, "MAX": high, "MAXIMUM": high}
        if default is not None:
            keywords.update(DEF=default, DEFAULT=default)
        if text in keywords:
            return keywords[text]
        try:
            value = float(text)
        except ValueError:
            raise ScpiError(ILLEGAL_PARAMETER_VALUE) from None
        if not math.isfinite(value):
            raise ScpiError(ILLEGAL_PARAMETER_VALUE)
        if not low <= value <= high:
            raise ScpiError(DATA_OUT_OF_RANGE)
        return value

    def boolean(self, index: int = 0) -> bool:
        """Parse parameter ``index`` as ``ON|OFF|1|0``."""
        self.expect(index + 1, len(self.params))
        text = self.params[index].strip().upper()
        if text in ("ON", "1"):
            return True
        if text in ("OFF", "0"):
            return False
        raise ScpiError(ILLEGAL_PARAMETER_VALUE)

    def choice(self, choices: Sequence[str], index: int = 0) -> str:
        """Match parameter ``index`` against SCPI-style ``choices``; return the short form."""
        self.expect(index + 1, len(self.params))
        for pattern in choices:
            node = _node(pattern)
            if node.accepts(self.params[index].strip()) is not None:
                return node.short
        raise ScpiError(ILLEGAL_PARAMETER_VALUE)


CommandFn = Callable[[Call], str | None]


class ScpiDevice:
    """Base of a simulated instrument: identity, error format, command table, reset."""

    idn = "EOL-Station,SimDevice,0,0"
    no_error = '0,"No error"'

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        """Return the command table as ``(pattern, function)`` pairs; first match wins."""
        return ()

    def reset(self) -> None:
        """Return to the power-on settings (``*RST``)."""

    def format_error(self, code: int, message: str) -> str:
        """Format one ``SYST:ERR?`` entry as the model does."""
        return f'{code},"{message}"'

    def driver_options(self) -> dict[str, Any]:
        """Return the options the station gives this model's driver (its ratings)."""
        return {}


class _Node(NamedTuple):
    short: str
    long: str
    optional: bool
    suffix: bool

    def accepts(self, part: str) -> tuple[int, ...] | None:
        text = part.upper()
        if self.suffix:
            match = re.fullmatch(r"([A-Z]+)(\d*)", text)
            if match is None or match.group(1) not in (self.short, self.long):
                return None
            return (int(match.group(2)) if match.group(2) else 1,)
        return () if text in (self.short, self.long) else None


def _node(text: str, optional: bool = False) -> _Node:
    suffix = text.endswith("#")
    name = text.rstrip("#")
    short = "".join(ch for ch in name if ch.isupper() or ch.isdigit() or ch == "*")
    return _Node(short or name.upper(), name.upper(), optional, suffix)


class _Entry(NamedTuple):
    nodes: tuple[_Node, ...]
    query: bool
    function: CommandFn


class _Unit(NamedTuple):
    """One unit of a line as parsed: its table entry (None: an undefined header) and call."""

    entry: _Entry | None
    call: Call


class _Found(NamedTuple):
    """A header's place in the table: its entry, numeric suffixes and full path."""

    entry: _Entry
    suffixes: tuple[int, ...]
    path: tuple[str, ...]


def compile_pattern(pattern: str) -> tuple[tuple[_Node, ...], bool]:
    """Split a pattern such as ``[SOURce:]VOLTage[:LEVel]?`` into nodes and a query flag."""
    query = pattern.endswith("?")
    body = pattern[:-1] if query else pattern
    nodes = []
    for optional, required in re.findall(r"\[([^\]]+)\]|([^:\[\]]+)", body):
        nodes.append(_node((optional or required).strip(":"), optional=bool(optional)))
    if not nodes:
        raise ValueError(f"empty SCPI pattern {pattern!r}")
    return tuple(nodes), query


def _match(nodes: tuple[_Node, ...], parts: Sequence[str]) -> tuple[int, ...] | None:
    def walk(i: int, j: int, found: tuple[int, ...]) -> tuple[int, ...] | None:
        if i == len(nodes):
            return found if j == len(parts) else None
        if j < len(parts):
            hit = nodes[i].accepts(parts[j])
            if hit is not None:
                result = walk(i + 1, j + 1, found + hit)
                if result is not None:
                    return result
        return walk(i + 1, j, found) if nodes[i].optional else None

    return walk(0, 0, ())


def _split(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside double-quoted strings."""
    if '"' not in text:
        return text.split(separator)  # the usual line: no string to walk through
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


class ScpiServer(TwinServer):
    """Serve ``handler`` (a :class:`ScpiDevice`) over TCP on ``host``:``port`` (0 = any free).

    :meth:`start` binds and starts serving; :meth:`close` stops every thread and closes
    every socket. Lines are executed one at a time (one lock per server).
    """

    def __init__(self, handler: ScpiDevice, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port, name=f"scpi-{type(handler).__name__}")
        self.handler = handler
        self.garbage_reply = False
        self._errors: deque[tuple[int, str]] = deque()
        self._table = [
            _Entry(*compile_pattern(pattern), function)
            for pattern, function in (*handler.commands(), *self._builtins())
        ]
        # A header's match depends only on its text and the path before it, and a client
        # repeats the same few headers: matching one walks the whole table (~70 µs, more
        # than the rest of a query on the twin), looking it up again is one dict access.
        self._found: dict[tuple[str, tuple[str, ...]], _Found | None] = {}
        self._parsed: dict[str, tuple[_Unit, ...]] = {}  # whole lines (see _parse)
        self._lock = threading.RLock()  # re-entrant: a command may push_error itself

    @property
    def resource(self) -> str:
        """Get the VISA resource string, ``TCPIP0::<host>::<port>::SOCKET``."""
        return f"TCPIP0::{self.host}::{self.port}::SOCKET"

    # --- faults and error queue ----------------------------------------------------------------

    def push_error(self, code: int, message: str) -> None:
        """Queue an error as the instrument would (overflow → -350 replaces the last)."""
        with self._lock:
            self._push(code, message)

    @property
    def errors(self) -> tuple[tuple[int, str], ...]:
        """Get the queued errors, oldest first (without removing them)."""
        with self._lock:
            return tuple(self._errors)

    # --- execution -----------------------------------------------------------------------------

    def process(self, line: str) -> str | None:
        """Execute one message line; return the reply line, or None when nothing is due."""
        with self._lock:
            units = self._parsed.get(line)
            if units is None:
                units = self._parse(line)
                if len(self._parsed) >= LOOKUPS_KEPT:
                    self._parsed.clear()
                self._parsed[line] = units
            replies: list[str] = []
            for entry, call in units:
                if entry is None:
                    self._push(*UNDEFINED_HEADER)
                    continue
                try:
                    reply = entry.function(call)
                except ScpiError as err:
                    self._push(err.code, err.message)
                    continue
                except Exception as err:  # a twin bug must not kill the connection thread
                    self.internal_errors.append(err)
                    self._push(*DEVICE_SPECIFIC_ERROR)
                    continue
                if entry.query:
                    replies.append(GARBAGE if self.garbage_reply else (reply or ""))
            return ";".join(replies) if replies else None

    def _parse(self, line: str) -> tuple[_Unit, ...]:
        """Split ``line`` into its units, each with its table entry (None: -113) and call.

        What a unit means depends only on the line's text (a header after ``;`` on the one
        before it), and a client sends the same few lines again and again (a power sample's
        compound query, thousands of times a run): parsed once, a line is looked up again
        in one dict access, and only its functions run.
        """
        units: list[_Unit] = []
        previous: tuple[str, ...] = ()
        for unit in _split(line, ";"):
            unit = unit.strip(" \t\r")
            if not unit:
                continue
            header, _, rest = unit.replace("\t", " ").partition(" ")
            params = tuple(p.strip() for p in _split(rest, ",")) if rest.strip() else ()
            found = self._lookup(header, previous)
            if found is None:
                units.append(_Unit(None, Call(header, params)))
                continue
            previous = found.path
            units.append(_Unit(found.entry, Call(header, params, found.suffixes)))
        return tuple(units)

    def _lookup(self, header: str, previous: tuple[str, ...]) -> _Found | None:
        """Find ``header`` (after a unit whose full path was ``previous``); None if none."""
        base = previous[:-1] if not header.startswith((":", "*")) else ()
        key = (header, base)
        if key in self._found:
            return self._found[key]
        found = self._match_header(header, base)
        if len(self._found) >= LOOKUPS_KEPT:
            self._found.clear()
        self._found[key] = found
        return found

    def _match_header(self, header: str, base: tuple[str, ...]) -> _Found | None:
        """Walk the table for ``header``, first relative to the path ``base`` (if any)."""
        query = header.endswith("?")
        parts = tuple(header.rstrip("?").lstrip(":").split(":"))
        candidates = [base + parts, parts] if base else [parts]
        for candidate in candidates:
            for entry in self._table:
                if entry.query != query:
                    continue
                suffixes = _match(entry.nodes, candidate)
                if suffixes is not None:
                    return _Found(entry, suffixes, candidate)
        return None

    def _push(self, code: int, message: str) -> None:
        if len(self._errors) >= ERROR_QUEUE_SIZE:
            self._errors[-1] = QUEUE_OVERFLOW
        else:
            self._errors.append((code, message))

    def _builtins(self) -> list[tuple[str, CommandFn]]:
        def no_params(function: Callable[[], str | None]) -> CommandFn:
            def call(c: Call) -> str | None:
                c.expect(0)
                return function()

            return call

        return [
            ("*IDN?", no_params(lambda: self.handler.idn)),
            ("*RST", no_params(self.handler.reset)),
            ("*CLS", no_params(self._errors.clear)),
            ("*OPC?", no_params(lambda: "1")),
            ("*OPC", no_params(lambda: None)),
            ("*WAI", no_params(lambda: None)),
            ("SYSTem:ERRor[:NEXT]?", no_params(self._pop_error)),
        ]

    def _pop_error(self) -> str:
        if not self._errors:
            return self.handler.no_error
        return self.handler.format_error(*self._errors.popleft())

    # --- connections ----------------------------------------------------------------------------

    def _session(self) -> _LineSession:
        return _LineSession(self)


class _LineSession:
    """One connection to a SCPI twin: lines in, one reply line per query out."""

    __slots__ = ("_buffer", "_server")

    def __init__(self, server: ScpiServer) -> None:
        self._server = server
        self._buffer = b""

    def feed(self, data: bytes) -> bytes | None:
        server = self._server
        buffer = self._buffer + data
        replies = b""
        # find(), not ``b"\n" in buffer``: bytes' ``in`` first tries its operand as an
        # integer and builds (then drops) a TypeError, ~2k instructions per test.
        end = buffer.find(b"\n")
        while end >= 0:
            raw, buffer = buffer[:end], buffer[end + 1 :]
            if server.drop_connection:
                return None
            reply = None if server.not_answering else server.process(raw.decode("latin-1"))
            if reply is not None:
                replies += reply.encode("ascii", "replace") + b"\n"
            end = buffer.find(b"\n")
        self._buffer = buffer
        return replies

    def quiet(self) -> bytes:
        return b""  # a line ends in its terminator, never in silence
