"""The virtual bench: a physics-based pack and its simulated instruments and BMS."""
