"""Plain serial devices that do not speak SCPI (barcode scanners)."""
