"""Production code never imports test code: nothing under ui/ imports ``tests``."""

from __future__ import annotations

import pytest

from tests.test_layers import ROOT, imported_packages

pytestmark = pytest.mark.ui


def test_ui_never_imports_tests() -> None:
    wrong = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "ui").rglob("*.py"))
        if "tests" in imported_packages(path) or "tests." in path.read_text(encoding="utf-8")
    ]
    assert wrong == []
