"""Operator messages in plain words; the technical detail stays one tap away.

The station's sentences name what and where for an engineer: regular expressions,
sha256 digests. An operator reads the same sentence with those replaced by plain words;
the screen offers the full text behind a *Details* button.
"""

from __future__ import annotations

import re

_PATTERN = re.compile(r"(?:the )?pattern '(?:[^'\\]|\\.)*'")
_SHA256 = re.compile(r"\b[0-9a-f]{64}\b")


def plain_words(text: str) -> str:
    """``text`` without regular expressions and digests (the operator's version)."""
    text = _PATTERN.sub("the expected format", text)
    return _SHA256.sub("(fingerprint in the details)", text)
