"""The shared table view: columns fit their contents; when short of room the widest are cut."""

from __future__ import annotations

import pytest

from ui.models import Column, RowsModel, fit_widths, make_table

pytestmark = pytest.mark.ui


def test_everything_fits_as_wanted() -> None:
    assert fit_widths([50, 200, 80], 400) == [50, 200, 80]


def test_only_the_widest_columns_are_cut_to_a_common_width() -> None:
    # 60 + 40 stay; 300 px are left for the two wide ones: 150 each.
    assert fit_widths([60, 400, 40, 250], 400) == [60, 150, 40, 150]
    assert sum(fit_widths([60, 400, 40, 250], 400)) <= 400


def test_a_narrow_table_never_scrolls_sideways(qtbot) -> None:
    model = RowsModel([Column("Step", lambda r: r[0]), Column("Measurement", lambda r: r[1])])
    table = make_table(model, 1)
    qtbot.addWidget(table)
    table.resize(300, 200)
    table.show()
    model.set_rows([("Contactors open (cleanup)", "max_deviation_from_ambient_c")] * 3)
    qtbot.waitUntil(lambda: table.columnWidth(0) < 200)
    assert table.columnWidth(0) + table.columnWidth(1) <= table.viewport().width() + 1
    assert not table.horizontalScrollBar().isVisible()
