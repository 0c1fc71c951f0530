"""Exact-string protocol testing for drivers (the only place mocks belong).

``expected_protocol(Driver, [(command, reply), ...])`` gives a driver whose transport
accepts exactly those messages in that order; a pair with reply ``None`` is a write.
Leaving the ``with`` block with pairs unused fails the test, so a protocol test proves
both what is sent and that nothing else is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from drivers.errors import InstrumentTimeout

Pair = tuple[str | None, str | None]
T = TypeVar("T")

TIMEOUT = "<timeout>"
"""Use as a reply to make the transport raise InstrumentTimeout for that query."""


class ProtocolMismatch(AssertionError):
    """The driver sent something other than what the test expected."""


class ProtocolTransport:
    """A transport that checks every message against an ordered script."""

    def __init__(self, pairs: Sequence[Pair], resource: str = "TEST::INSTR") -> None:
        self.resource = resource
        self.timeout_s = 1.0
        self._pairs = list(pairs)
        self._index = 0
        self.closed = False

    def _next(self, message: str | None) -> str | None:
        if self._index >= len(self._pairs):
            raise ProtocolMismatch(f"unexpected message {message!r}: script exhausted")
        expected, reply = self._pairs[self._index]
        if expected != message:
            raise ProtocolMismatch(f"message {self._index}: expected {expected!r}, got {message!r}")
        self._index += 1
        return reply

    def write(self, message: str) -> None:
        reply = self._next(message)
        if reply is not None:
            raise ProtocolMismatch(f"{message!r} was written but the script has a reply")

    def read(self) -> str:
        reply = self._next(None)
        return self._reply(reply, "<read>")

    def query(self, message: str) -> str:
        reply = self._next(message)
        return self._reply(reply, message)

    def _reply(self, reply: str | None, message: str) -> str:
        if reply is None:
            raise ProtocolMismatch(f"{message!r} was queried but the script has no reply")
        if reply == TIMEOUT:
            raise InstrumentTimeout(f"no reply to {message!r}", resource=self.resource)
        return reply

    def close(self) -> None:
        self.closed = True

    @property
    def unused(self) -> list[Pair]:
        """Pairs the driver has not consumed yet."""
        return self._pairs[self._index :]


@contextmanager
def expected_protocol(
    factory: Callable[..., T], pairs: Sequence[Pair], **kwargs: Any
) -> Iterator[T]:
    """Yield ``factory(ProtocolTransport(pairs), **kwargs)``; fail if pairs are left."""
    transport = ProtocolTransport(pairs)
    instrument = factory(transport, **kwargs)
    yield instrument
    if transport.unused:
        raise ProtocolMismatch(f"unused protocol pairs: {transport.unused!r}")
