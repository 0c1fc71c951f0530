"""Simulated instruments (twins) for the virtual bench, one module per real model.

Each twin is a :class:`~drivers.sim.scpi_server.ScpiDevice` that the real driver reaches over
a real socket. Twins on the HV connector register a source with the
:class:`~drivers.sim.electrical.PackCircuit`; measuring twins read it. Each enforces its own
ratings the way the real instrument does: an over-range setpoint is refused with an error in
the instrument's queue and the old setting is kept.
"""
