"""The bench: which instrument plays which role for this station, and safe state.

Steps ask the bench for roles (``"supply"``, ``"dmm"`` …); the station config decides
the models. After every run the engine calls ``safe_state_all``: every output-capable
instrument is switched off in parallel and then asked to confirm, each within a bound,
so one hung instrument cannot delay the others.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.roles import ROLES, OutputCapable, conformance_problems
from station.errors import ConfigError, Problem, StationError
from station.events import InstrumentInfo
from station.recording import Recorder


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
    ) -> None:
        self.instruments = dict(instruments)
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
        return role in self.instruments

    def output_capable(self) -> list[tuple[str, OutputCapable]]:
        return [(r, i) for r, i in self.instruments.items() if isinstance(i, OutputCapable)]

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
