"""Kikusui instruments (TOS9300 series electrical safety analyzers)."""
