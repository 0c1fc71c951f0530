"""Chroma instruments (63200A electronic load, 1905x hipot tester)."""
