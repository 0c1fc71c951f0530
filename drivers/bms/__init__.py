"""The pack's BMS over CAN: description file, cyclic signals, UDS diagnostics and traces."""
