"""Label printers."""
