"""ITECH IT6000C bidirectional DC supply (source and regenerative sink)."""

from __future__ import annotations

from drivers.scpi.instrument import in_range, measurement, parse_float, rating
from drivers.scpi.power import ScpiSupply
from drivers.scpi.transport import Transport


def _parse_sink_limit(reply: str) -> float:
    """Turn the instrument's negative sink limit (``"-50.000"``) into positive amps."""
    value = parse_float(reply)
    if value > 0:
        raise ValueError(f"expected a sink limit ≤ 0, got {reply!r}")
    return 0.0 - value  # 0.0 - x turns -0.0 into 0.0


class It6000c(ScpiSupply):
    """ITECH IT6000C bidirectional DC supply: sources (charges) and sinks regeneratively.

    Plays the ``PowerSupply`` role. The supply runs in voltage priority: ``VOLT`` is the CV
    setpoint, ``CURR:LIM`` caps the source (charge) current and ``CURR:LIM:NEG`` caps the
    sink (regenerative discharge) current. ``CURR:LIM:NEG`` takes a negative number; the
    role method :meth:`set_sink_current` takes positive amps and sends the negative.

    Constructed as ``It6000c(transport, *, check_errors=True, max_voltage_v=1500.0,
    max_current_a=90.0, max_power_w=18000.0)``. The ratings default to the
    IT6018C-1500-90 (1500 V, ±90 A, 18 kW); give the ratings of the model on the bench.
    Setpoints outside ``0 … rating`` raise ``ValueError`` before anything is sent.
    ``max_power_w`` is informational (steps check a V × I plan against it): no public
    source gives the IT6000C power-limit command, so the driver sends none.

    The constructor sends nothing; call :meth:`connect` once after construction (remote
    mode, voltage priority).

    Command sources (see ``battery_eol.md`` §3.2): a community IT6000C driver
    (``*IDN?``, ``VOLT``, ``CURR:LIM``, ``CURR:LIM:NEG``, ``OUTP``, ``FETC:POW?``,
    ``SOUR:CURR:OVER:PROT:STAT``/``:LEV``), other ITECH 6000 drivers (``MEAS:VOLT?``,
    ``MEAS:CURR?``, ``MEAS:POW?``, ``SOURce:FUNCtion VOLTage``) and the ITECH M3905D
    driver documentation (``SYST:REM``, documented for the M3905D, assumed for the
    IT6000C). ITECH programming guides document compound messages (units joined by ``;``,
    a leading ``:`` restarting from the root; one reply line, its parts joined by ``;``):
    :meth:`measure_voltage_and_current` sends ``MEAS:VOLT?;:FETC:CURR?``, the current
    fetched from the acquisition that measured the voltage.

    No public source found, verify on hardware:

    * ``SOUR:VOLT:OVER:PROT:LEV`` / ``SOUR:VOLT:OVER:PROT:STAT`` (OVP) are inferred from
      the sourced OCP form ``SOUR:CURR:OVER:PROT:…``.
    * The sign of ``MEAS:CURR?`` / ``MEAS:POW?`` while sinking (assumed negative, as the
      role expects).
    * ``FETC:CURR?`` is inferred from the sourced ``FETC:POW?``.
    * ``*CLS`` (IEEE 488.2 common command, assumed supported).
    """

    # The current limits go to zero before the voltage: should the output have stayed on, a
    # zero CV setpoint with a live sink limit would discharge the pack.
    safe_commands = ("OUTP OFF", "CURR:LIM 0", "CURR:LIM:NEG 0", "VOLT 0")
    # FETCh reads back the acquisition MEASure just made, so the pair is one instant.
    voltage_and_current_query = "MEAS:VOLT?;:FETC:CURR?"

    voltage_setpoint = measurement("VOLT?", parse_float, doc="Get the CV setpoint in V.")
    current_limit = measurement(
        "CURR:LIM?", parse_float, doc="Get the source (charge) current limit in A."
    )
    sink_current_limit = measurement(
        "CURR:LIM:NEG?",
        _parse_sink_limit,
        doc="Get the sink (discharge) current limit in A, as a positive number.",
    )

    def __init__(
        self,
        transport: Transport,
        *,
        check_errors: bool = True,
        max_voltage_v: float = 1500.0,
        max_current_a: float = 90.0,
        max_power_w: float = 18000.0,
    ) -> None:
        self.max_voltage_v = rating("max_voltage_v", max_voltage_v)
        self.max_current_a = rating("max_current_a", max_current_a)
        self.max_power_w = rating("max_power_w", max_power_w)
        super().__init__(transport, check_errors=check_errors)

    def connect(self) -> None:
        """Clear the error queue, take remote control and select voltage priority."""
        self.send("*CLS")
        self.send("SYST:REM")
        self.send("SOUR:FUNC VOLT")

    def set_voltage(self, volts: float) -> None:
        """Set the CV setpoint in V (0 … ``max_voltage_v``); also the sink CV level."""
        in_range(0, self.max_voltage_v)(volts)
        self.send(f"VOLT {volts:.4f}")

    def set_current(self, amps: float) -> None:
        """Set the source (charge) current limit in A (0 … ``max_current_a``)."""
        in_range(0, self.max_current_a)(amps)
        self.send(f"CURR:LIM {amps:.4f}")

    def set_sink_current(self, amps: float) -> None:
        """Set the sink (discharge) current limit in A as a positive number.

        The instrument wants it negative, so 50 A is sent as ``CURR:LIM:NEG -50.0000``.
        """
        in_range(0, self.max_current_a)(amps)
        self.send(f"CURR:LIM:NEG {0.0 - amps:.4f}")

    def set_protection(self, *, ovp_v: float | None = None, ocp_a: float | None = None) -> None:
        """Set and arm the hardware trips: OVP in V and/or OCP in A (each 0 … rating).

        The station sets these ceilings before switching the output on. Every value is
        checked before anything is sent.
        """
        if ovp_v is None and ocp_a is None:
            raise ValueError("give ovp_v and/or ocp_a")
        if ovp_v is not None:
            in_range(0, self.max_voltage_v)(ovp_v)
        if ocp_a is not None:
            in_range(0, self.max_current_a)(ocp_a)
        if ovp_v is not None:
            self.send(f"SOUR:VOLT:OVER:PROT:LEV {ovp_v:.4f}")
            self.send("SOUR:VOLT:OVER:PROT:STAT ON")
        if ocp_a is not None:
            self.send(f"SOUR:CURR:OVER:PROT:LEV {ocp_a:.4f}")
            self.send("SOUR:CURR:OVER:PROT:STAT ON")
