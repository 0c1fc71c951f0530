"""The bench: which instrument plays which role for this station, and safe state.

Steps ask the bench for roles (``"supply"``, ``"dmm"`` …); the station config decides
the models. After every run the engine calls ``safe_state_all``: every output-capable
instrument is switched off in parallel and then asked to confirm, each within a bound,
so one hung instrument cannot delay the others.

On a station with parallel nests each nest has its own bench; an instrument the nests share
(:class:`~station.leases.SharedInstrument`) is reached only under its lease
(:meth:`Bench.leased`), and it is made safe by whoever holds it when the lease ends — never
by another nest's end-of-run safe state, which would cut a test under way on its pack.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.roles import ROLES, OutputCapable, conformance_problems
from station.errors import ConfigError, Problem, StationError
from station.events import InstrumentInfo
from station.leases import SharedInstrument
from station.recording import Recorder

MATRIX_SWITCH = "connect_shared"
"""The fixture I/O method that closes (True) or opens this nest's relay-matrix relay."""


@dataclass(frozen=True)
class SafeStateReport:
    ok: bool
    detail: str


def check_role(role: str, instrument: object, model: str, config: Path | None) -> None:
    """Refuse ``instrument`` (of ``model``) for ``role`` unless it satisfies the role's
    Protocol (``drivers.roles.ROLES``): every method, with the role's parameters."""
    problems = conformance_problems(type(instrument), role)
    protocol = ROLES.get(role)  # type: ignore[call-overload]
    if not problems and protocol is not None and isinstance(instrument, protocol):
        return
    table = "can" if role == "bms" else f"instruments.{role}"
    why = "; ".join(problems) or f"it is not a {getattr(protocol, '__name__', role)}"
    message = f"model {model!r} cannot play the {role!r} role ({why}); choose a model made for it"
    raise ConfigError([Problem(str(config or "station config"), message, table)])


class Bench:
    """Instruments by role. ``closers`` run on ``close()`` (e.g. stop a simulator)."""

    def __init__(
        self,
        instruments: dict[str, Any],
        info: dict[str, InstrumentInfo] | None = None,
        closers: list[Callable[[], None]] | None = None,
        simulator: Any = None,
        recorder: Recorder | None = None,
        on_unit: Callable[[str], None] | None = None,
        shared: dict[str, SharedInstrument] | None = None,
        nest: int = 1,
    ) -> None:
        self.instruments = dict(instruments)
        # Instruments this nest shares with others, by role, and the nest's number in the
        # line; the bench does not own (close) them.
        self.shared = dict(shared or {})
        self.nest = nest
        self._held: set[str] = set()
        self.recorder = recorder or Recorder(None)
        # The virtual bench behind a --sim run (None on real hardware): tests and the
        # fault-injection CLI reach the simulated pack through it, steps never do.
        self.simulator = simulator
        # Called with each run's serial before it starts: the virtual bench puts that pack on
        # its fixture (a real bench has the operator do it).
        self._on_unit = on_unit
        self.info = dict(info or {})
        self._closers = list(closers or [])

    def get(self, role: str) -> Any:
        """The instrument for ``role``; a clear error when the station has none."""
        if role in self.shared:
            if role not in self._held:
                raise StationError(
                    f"{role!r} is shared by the nests and this step does not hold it: declare "
                    f"{role!r} in the step type's roles, so that the engine leases it"
                )
            return self.shared[role].instrument
        try:
            return self.instruments[role]
        except KeyError:
            raise StationError(
                f"this step needs a {role!r} instrument but the station config has none; "
                f"add [instruments.{role}] to the config"
            ) from None

    def present(self, serial: str) -> None:
        """The pack ``serial`` is on the fixture now (a virtual bench swaps its pack)."""
        if self._on_unit is not None:
            self._on_unit(serial)

    def has(self, role: str) -> bool:
        return role in self.instruments or role in self.shared

    def output_capable(self) -> list[tuple[str, OutputCapable]]:
        """This nest's own sources (a shared one is made safe by its holder, see leased)."""
        return [(r, i) for r, i in self.instruments.items() if isinstance(i, OutputCapable)]

    @contextlib.contextmanager
    def leased(
        self, roles: tuple[str, ...], abort: threading.Event, on_wait: Callable[[str], None]
    ) -> Iterator[list[str]]:
        """Hold the shared instruments among ``roles`` for the block (in role order, so two
        nests cannot each hold one and wait for the other); yield problems met when giving
        them back (appended after the block: a shared source not confirmed safe).

        The relay matrix is part of the lease: this nest's fixture I/O closes its matrix
        relay once the instrument is granted, and on the way out the instrument is made
        safe, then the relay opens, then the next nest gets it.
        """
        wanted = sorted(role for role in set(roles) if role in self.shared)
        problems: list[str] = []
        taken: list[str] = []
        try:
            for role in wanted:
                self.shared[role].acquire(self.nest, abort, on_wait)
                taken.append(role)
                self._held.add(role)
            if taken:
                self._switch_matrix(True)
            yield problems
        finally:
            if taken:
                for role in taken:
                    problems.extend(self._make_shared_safe(role))
                try:
                    self._switch_matrix(False)
                except Exception as err:
                    problems.append(f"relay matrix not opened: {err}")
            for role in reversed(taken):
                self._held.discard(role)
                self.shared[role].release(self.nest)

    def _switch_matrix(self, on: bool) -> None:
        switch = getattr(self.instruments.get("interlocks"), MATRIX_SWITCH, None)
        if callable(switch):
            switch(on)

    def _make_shared_safe(self, role: str) -> list[str]:
        instrument = self.shared[role].instrument
        if not isinstance(instrument, OutputCapable):
            return []
        try:
            instrument.safe_state()
            if instrument.is_safe():
                return []
            return [f"shared {role}: NOT SAFE (read-back says on)"]
        except Exception as err:  # reported, never swallowed
            return [f"shared {role}: NOT CONFIRMED ({err})"]

    def safe_state_all(self, timeout_s: float = 5.0) -> SafeStateReport:
        """Switch every source off in parallel, then verify each reads back safe."""
        results: dict[str, str] = {}
        lock = threading.Lock()

        def make_safe(role: str, instrument: OutputCapable) -> None:
            try:
                instrument.safe_state()
                verdict = "off" if instrument.is_safe() else "NOT SAFE (read-back says on)"
            except Exception as err:  # any failure must be reported, never swallowed
                verdict = f"NOT CONFIRMED ({err})"
            with lock:
                results[role] = verdict

        threads = [
            threading.Thread(target=make_safe, args=(role, inst), name=f"safe-{role}", daemon=True)
            for role, inst in self.output_capable()
        ]
        for t in threads:
            t.start()
        # One deadline for all: joining each with the full timeout would let N hung
        # instruments delay the verdict N times over.
        deadline = time.monotonic() + timeout_s
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        with lock:
            for role, _ in self.output_capable():
                results.setdefault(role, f"NOT CONFIRMED (no answer within {timeout_s:g} s)")
            ok = all(v == "off" for v in results.values())
            detail = ", ".join(f"{r}: {v}" for r, v in sorted(results.items()))
        return SafeStateReport(ok, detail or "no output-capable instruments")

    def start_recording(self, run_id: str) -> None:
        """Start the run's CAN trace and instrument transcript (if recording is set up)."""
        self.recorder.start(run_id, self.instruments)

    def recording_failure(self) -> str | None:
        """Why the run's recordings could not be written (a full disk), or None."""
        return self.recorder.failure(self.instruments)

    def stop_recording(self) -> list[tuple[str, str, Path]]:
        """Finish the run's recordings; return (name, media type, path) per file."""
        return self.recorder.stop(self.instruments)

    def close(self) -> None:
        for instrument in self.instruments.values():
            close = getattr(instrument, "close", None)
            if callable(close):
                # Closing must not hide the run's own outcome.
                with contextlib.suppress(Exception):
                    close()
        for closer in self._closers:
            closer()
        self._closers.clear()
