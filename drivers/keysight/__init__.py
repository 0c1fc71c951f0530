"""Keysight instruments (Truevolt digital multimeters)."""
