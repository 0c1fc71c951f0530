"""``station ui`` (ui.app.main): starts, runs its window, closes cleanly."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ui.app import DEFAULT_SEQUENCE, main, parser
from ui.main_window import MainWindow

pytestmark = pytest.mark.ui


def test_main_opens_the_reference_sequence_on_the_virtual_bench_and_closes(qapp, tmp_path) -> None:
    seen: list[MainWindow] = []

    def close_window() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        seen.extend(windows)
        for w in windows:
            assert w.isVisible() and w.pages.currentWidget() is w.login
            assert w.login.first_admin  # a new database: create the first admin
            assert "EOL NMC 96S" in w.windowTitle()
            assert w.controller.pacer is not None and w.controller.pacer.speed == 15.0
            w.close()  # as the user would; main closes it again on the way out
        QApplication.quit()

    QTimer.singleShot(0, close_window)
    assert main(["--sim", "--db", str(tmp_path / "r.db")]) == 0
    assert len(seen) == 1
    assert (tmp_path / "r.db").is_file()


def test_main_says_what_is_wrong_in_one_sentence(qapp, tmp_path, capsys) -> None:
    assert main(["--sim", "--sequence", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing.toml" in err and "Traceback" not in err


def test_sim_defaults_to_the_reference_sequence_at_demo_pace() -> None:
    args = parser().parse_args(["--sim"])
    assert args.sim and args.speed == 15.0
    assert args.sequence == DEFAULT_SEQUENCE and DEFAULT_SEQUENCE.is_file()
    assert DEFAULT_SEQUENCE.parts[-3:] == ("sequences", "nmc96s", "eol.toml")
