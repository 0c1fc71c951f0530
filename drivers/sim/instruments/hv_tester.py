"""What both hipot / IR tester twins share: an HV output, and no changes while it tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.sim.scpi_server import DATA_OUT_OF_RANGE, EXECUTION_ERROR, Call, ScpiDevice, ScpiError

if TYPE_CHECKING:
    from drivers.sim.instruments.hv_twins import HvOutput

TESTING_PHASES = ("RISE", "TEST", "FALL")
"""The output phases in which the tester drives HV (a discharge is not one)."""


class HvTesterTwin(ScpiDevice):
    """Base of a safety-tester twin whose HI terminal is ``output``.

    Like the real testers, it refuses a setting while a test drives the output
    (:meth:`_require_idle`, ``-200,"Execution error;test running"``).
    """

    def __init__(self, output: HvOutput) -> None:
        self.output = output

    def terminal_voltage(self) -> float:
        """Measure the HI-to-chassis voltage in V, as a magnitude (DMM / fixture monitor)."""
        return self.output.terminal_voltage()

    def _testing(self) -> bool:
        return self.output.phase() in TESTING_PHASES

    def _require_idle(self) -> None:
        if self._testing():
            raise ScpiError(EXECUTION_ERROR, "test running")

    def _ac_frequency(self, call: Call) -> float:
        """Parse a new AC output frequency: 50 or 60 Hz, set only while idle."""
        call.expect(1)
        value = call.number(low=50.0, high=60.0)
        if value not in (50.0, 60.0):
            raise ScpiError(DATA_OUT_OF_RANGE)
        self._require_idle()
        return value
