"""Guard against a PySide6 reference-count bug that aborts the interpreter on CPython 3.11.

Measured here with PySide6 6.12.0 on CPython 3.11.7: every call of a void Qt method from
Python (``QLabel.setText``, ``QPainter.setPen``, ``QTimer.setInterval`` …) drops one
reference to ``None`` that it never took, and every ``Signal.emit`` drops one to ``True``.
On CPython ≥ 3.12 these singletons are immortal and nothing happens; on 3.11 their count
(a few thousand at start-up) reaches zero after a few thousand calls and the process dies
with "Fatal Python error: none_dealloc" (or "bool_dealloc") — at exit if lucky, mid-shift
if not. 200,000 ``QLabel.setText`` calls are enough to kill a fresh interpreter.

``protect_singletons`` detects the leak and, only if present, gives ``None``, ``True``
and ``False`` a reference count so large that no run of the station can exhaust it,
which is what CPython 3.12 does by design (PEP 683). The real fix is a PySide6 build
without the bug, or Python ≥ 3.12.
"""

from __future__ import annotations

import ctypes
import sys

_HUGE = 1 << 60  # far from overflow; decades of leaked references at any plausible rate
_PROBES = 64
_applied = False


def leaks() -> bool:
    """Whether void Qt calls or signal emissions lose references to None or True."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        fired = Signal()

    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.setObjectName("probe")
        probe.fired.emit()
    none_lost = none_before - sys.getrefcount(None)
    true_lost = true_before - sys.getrefcount(True)
    return none_lost >= _PROBES // 2 or true_lost >= _PROBES // 2


def protect_singletons() -> bool:
    """Make None, True and False effectively immortal if PySide6 leaks them; True if applied."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or not leaks():
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every object in a release build of CPython 3.11.
        ctypes.c_ssize_t.from_address(id(obj)).value = _HUGE
    _applied = True
    return True
