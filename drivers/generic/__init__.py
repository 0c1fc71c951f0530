"""Generic SCPI-99 instruments for makes without a dedicated driver."""
