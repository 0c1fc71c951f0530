"""``station ui`` (ui.app.main): starts, runs its window, closes cleanly."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import DATA
from ui.app import main, parser
from ui.main_window import MainWindow

pytestmark = pytest.mark.ui


def test_main_opens_the_window_on_the_virtual_bench_and_closes(qapp, tmp_path) -> None:
    seen: list[MainWindow] = []

    def close_window() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        seen.extend(windows)
        for w in windows:
            assert w.isVisible() and w.pages.currentWidget() is w.login
            assert w.login.first_admin  # a new database: create the first admin
            w.close()  # as the user would; main closes it again on the way out
        QApplication.quit()

    QTimer.singleShot(0, close_window)
    argv = ["--sim", "--sequence", str(DATA / "pass.toml"), "--db", str(tmp_path / "r.db")]
    assert main(argv) == 0
    assert len(seen) == 1
    assert (tmp_path / "r.db").is_file()


def test_main_says_what_is_wrong_in_one_sentence(qapp, tmp_path, capsys) -> None:
    assert main(["--sim", "--sequence", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing.toml" in err and "Traceback" not in err


def test_sim_defaults_to_demo_speed() -> None:
    args = parser().parse_args(["--sim"])
    assert args.sim and args.speed == 60.0
