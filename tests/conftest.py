"""Settings for the whole suite: Qt renders offscreen, so any test may create a QApplication.

The Makefile exports this too; here it also holds for a bare ``pytest`` (the commands
README gives without make), which would otherwise abort on a machine without a display.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
