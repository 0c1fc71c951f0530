"""Modbus RTU devices over a serial line (interlock digital I/O)."""
