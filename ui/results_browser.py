"""The results browser (engineers): find runs, read a run's full record, and its SPC.

Filter by serial (any part of it), date range, outcome and variant. A selected run shows
its record (identity, versions and hashes, safe state), steps, measurements (failing rows
tinted), time series, attachments and log. The Statistics tab shows one measurement's
trend and histogram with its limits, n, mean, σ and Cpk, and the first-pass yield of the
runs found. Everything is read from the results store; nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from PySide6.QtCore import QDate, QEvent, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from station import certificate
from station.errors import StationError
from station.outcomes import STORED_RUN_WORDS, Outcome, RunState, Verdict
from station.store_records import MeasurementWithRun, RunDetail, RunRecord
from ui import spc
from ui.auth import Action
from ui.controller import StationController
from ui.i18n import QT_TRANSLATE_NOOP, translate
from ui.models import (
    Column,
    RowsModel,
    duration_text,
    limit_text,
    local_time,
    make_table,
    measured_text,
    outcome_tint,
    outcome_word,
)
from ui.plots import MeasurementStats, TimeSeriesPlot

OUTCOMES = STORED_RUN_WORDS
FETCH_LIMIT = 5000

RUN_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "Started"), lambda r: local_time(r.started_at)),
    Column(QT_TRANSLATE_NOOP("Column", "Serial"), lambda r: r.serial),
    Column(QT_TRANSLATE_NOOP("Column", "Variant"), lambda r: r.part_number),
    Column(QT_TRANSLATE_NOOP("Column", "Verdict"), lambda r: outcome_word(r.outcome)),
    Column(QT_TRANSLATE_NOOP("Column", "Operator"), lambda r: r.operator),
    Column(
        QT_TRANSLATE_NOOP("Column", "Sequence"),
        lambda r: f"{r.sequence_name} {r.sequence_version}",
    ),
)
STEP_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "#"), lambda s: str(s.seq), right=True),
    Column(QT_TRANSLATE_NOOP("Column", "Group"), lambda s: s.grp),
    Column(QT_TRANSLATE_NOOP("Column", "Step"), lambda s: s.name),
    Column(QT_TRANSLATE_NOOP("Column", "Type"), lambda s: s.type),
    Column(QT_TRANSLATE_NOOP("Column", "Result"), lambda s: outcome_word(s.outcome)),
    Column(QT_TRANSLATE_NOOP("Column", "Time"), lambda s: duration_text(s.duration_s), right=True),
    Column(QT_TRANSLATE_NOOP("Column", "Error"), lambda s: s.error or ""),
)
MEASUREMENT_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "Step"), lambda m: m.step_name),
    Column(QT_TRANSLATE_NOOP("Column", "Measurement"), lambda m: m.name),
    Column(
        QT_TRANSLATE_NOOP("Column", "Value"),
        lambda m: measured_text(m.value, m.value_text, m.values_json, m.unit),
        right=True,
    ),
    Column(QT_TRANSLATE_NOOP("Column", "Limits"), lambda m: limit_text(m.limit_text, m.unit)),
    Column(
        QT_TRANSLATE_NOOP("Column", "Result"),
        lambda m: outcome_word(m.outcome, bool(m.marginal)),
        tooltip=lambda m: m.detail or m.outcome,
    ),
)
ATTACHMENT_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "Name"), lambda a: a.name),
    Column(QT_TRANSLATE_NOOP("Column", "Type"), lambda a: a.media_type),
    Column(
        QT_TRANSLATE_NOOP("Column", "Size"),
        lambda a: "" if a.size is None else f"{a.size} B",
        right=True,
    ),
    Column(QT_TRANSLATE_NOOP("Column", "sha256"), lambda a: (a.sha256 or "missing")[:16]),
    Column(QT_TRANSLATE_NOOP("Column", "Path"), lambda a: a.path),
)
LOG_COLUMNS = (
    Column(QT_TRANSLATE_NOOP("Column", "Time"), lambda e: local_time(e.at)),
    Column(QT_TRANSLATE_NOOP("Column", "Level"), lambda e: e.level),
    Column(
        QT_TRANSLATE_NOOP("Column", "Message"),
        lambda e: e.message.splitlines()[0] if e.message else "",
        tooltip=lambda e: e.message,
    ),
)


class ResultsBrowser(QWidget):
    """Browse the station's results; ``search`` requires the BROWSE_RESULTS permission."""

    def __init__(self, controller: StationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.store = controller.store
        self.run: RunDetail | None = None

        self.serial = QLineEdit()
        self.serial.returnPressed.connect(self.search)
        self.use_dates = QCheckBox()
        self.date_from = QDateEdit(QDate.currentDate().addDays(-7))
        self.date_to = QDateEdit(QDate.currentDate())
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.outcome = QComboBox()
        self.outcome.addItem("", None)  # "any verdict": retranslate
        for o in OUTCOMES:
            self.outcome.addItem(outcome_word(o), o)
        self.variant = QComboBox()
        self.variant.addItem("", None)  # "any variant": retranslate
        for product in controller.sequence.products:
            self.variant.addItem(product, product)
        self.search_button = search = QPushButton()
        search.clicked.connect(self.search)
        self.certificate_button = QPushButton()
        self.certificate_button.setEnabled(False)
        self.certificate_button.clicked.connect(self._ask_certificate)
        self.summary = QLabel()
        self.summary.setObjectName("section")

        self.to_label = QLabel()
        bar = QHBoxLayout()
        for w in (
            self.serial,
            self.use_dates,
            self.date_from,
            self.to_label,
            self.date_to,
            self.outcome,
            self.variant,
            search,
            self.certificate_button,
        ):
            bar.addWidget(w)
        bar.setStretch(0, 2)

        self.runs = RowsModel(RUN_COLUMNS, tint=lambda r: outcome_tint(r.outcome))
        self.run_table = make_table(self.runs, 5, select=True, point_size=13)
        self.run_table.selectionModel().currentRowChanged.connect(
            lambda current, _: self.show_run(current.row())
        )
        self.record = QLabel()
        self.record.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.record.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.record.setWordWrap(True)
        self.steps = RowsModel(STEP_COLUMNS, tint=lambda s: outcome_tint(s.outcome))
        self.measurements = RowsModel(
            MEASUREMENT_COLUMNS,
            tint=lambda m: outcome_tint(m.outcome, bool(m.marginal)),
            bold=lambda m: m.outcome == Verdict.FAILED,
        )
        self.measurement_table = make_table(self.measurements, 4, select=True, point_size=13)
        self.measurement_table.doubleClicked.connect(
            lambda index: self.show_statistics(self.measurements.rows[index.row()])
        )
        self.attachments = RowsModel(ATTACHMENT_COLUMNS)
        self.logs = RowsModel(
            LOG_COLUMNS,
            tint=lambda e: outcome_tint(Outcome.FAILED) if e.level == "ERROR" else None,
        )
        self.series = TimeSeriesPlot(live=False)

        self.pick = QComboBox()
        self.pick.currentIndexChanged.connect(lambda _: self._picked())
        self.stats = MeasurementStats()
        self.stats_text = QLabel()
        self.stats_text.setWordWrap(True)
        stats_page = QWidget()
        form = QFormLayout()
        self.pick_label = QLabel()
        form.addRow(self.pick_label, self.pick)
        stats_layout = QVBoxLayout(stats_page)
        stats_layout.addLayout(form)
        stats_layout.addWidget(self.stats_text)
        stats_layout.addWidget(self.stats, 1)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("details")  # smaller tabs than the main ones (ui.style)
        self.tabs.addTab(self.record, "")
        self.tabs.addTab(make_table(self.steps, 6, point_size=13), "")
        self.tabs.addTab(self.measurement_table, "")
        self.tabs.addTab(self.series, "")
        self.tabs.addTab(make_table(self.attachments, 4, point_size=13), "")
        self.tabs.addTab(make_table(self.logs, 2, point_size=13), "")
        self.tabs.addTab(stats_page, "")

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.run_table)
        split.addWidget(self.tabs)
        split.setSizes([820, 780])
        split.setStretchFactor(1, 1)  # a wider window widens the run's details
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self._summary: tuple[int, spc.Counters, bool] | None = None
        self._statistics: MeasurementWithRun | None = None
        self.retranslate()

    def retranslate(self) -> None:
        """Set the texts in the screens' language (the shown run's too)."""
        self.serial.setPlaceholderText(self.tr("serial contains …"))
        self.use_dates.setText(self.tr("dates"))
        self.to_label.setText(self.tr("to"))
        self.outcome.setItemText(0, self.tr("any verdict"))
        for i in range(1, self.outcome.count()):
            self.outcome.setItemText(i, outcome_word(str(self.outcome.itemData(i))))
        self.variant.setItemText(0, self.tr("any variant"))
        self.search_button.setText(self.tr("Search"))
        self.certificate_button.setText(self.tr("Certificate…"))
        self.certificate_button.setToolTip(
            self.tr("Save the selected run's birth certificate (PDF or HTML)")
        )
        self.pick_label.setText(self.tr("Measurement"))
        tabs = (
            self.tr("Record"),
            self.tr("Steps"),
            self.tr("Measurements"),
            self.tr("Time series"),
            self.tr("Attachments"),
            self.tr("Log"),
            self.tr("Statistics"),
        )
        for i, text in enumerate(tabs):
            self.tabs.setTabText(i, text)
        if self._summary is not None:
            self._show_summary(*self._summary)
        if self.run is not None:
            self.record.setText(_record_html(self.run))
        if self._statistics is not None:
            self.show_statistics(self._statistics, switch=False)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def _show_summary(self, found: int, counts: spc.Counters, capped: bool) -> None:
        self._summary = (found, counts, capped)
        text = self.tr("{runs} runs · {packs} packs · passed {passed} · first-pass yield {fpy}")
        self.summary.setText(
            text.format(
                runs=found,
                packs=counts.tested,
                passed=counts.passed,
                fpy=spc.format_yield(counts.first_pass_yield),
            )
            + (self.tr(" (from the newest runs only: narrow the dates)") if capped else "")
        )

    # -- searching ----------------------------------------------------------------------
    def search(self) -> list[RunRecord]:
        """Apply the filters; show and return the runs found (newest first)."""
        self.controller.require(Action.BROWSE_RESULTS, "results")
        since = until = None
        if self.use_dates.isChecked():
            first, last = _day(self.date_from.date()), _day(self.date_to.date())
            since = dt.datetime.combine(first, dt.time()).astimezone()
            until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time()).astimezone(dt.UTC)
        runs = self.store.list_runs(
            outcome=self.outcome.currentData(), since=since, limit=FETCH_LIMIT
        )
        text = self.serial.text().strip().upper()
        variant = self.variant.currentData()
        found = [
            r
            for r in runs
            if text in r.serial.upper()
            and (variant is None or r.part_number == variant)
            and (until is None or _utc(r.started_at) < until)
        ]
        self.runs.set_rows(found)
        self._show_summary(len(found), spc.counters(found), len(runs) == FETCH_LIMIT)
        if found:
            self.run_table.selectRow(0)
        return found

    # -- one run --------------------------------------------------------------------------
    def show_run(self, row: int) -> None:
        if not 0 <= row < len(self.runs.rows):
            return
        run = self.store.get_run(self.runs.rows[row].id, with_samples=True)
        self.run = run
        self.certificate_button.setEnabled(run.outcome != RunState.RUNNING)
        names = {s.id: s.name for s in run.steps}
        measurements = [
            MeasurementWithRun(
                **vars(m),
                step_name=names.get(m.step_id, "?"),
                serial=run.serial,
                part_number=run.part_number,
                station_id=run.station_id,
                run_started_at=run.started_at,
                run_outcome=run.outcome,
            )
            for m in run.measurements
        ]
        self.record.setText(_record_html(run))
        self.steps.set_rows(list(run.steps))
        self.measurements.set_rows(measurements)
        self.attachments.set_rows(list(run.attachments))
        self.logs.set_rows(list(run.logs))
        self.series.set_samples(run.samples)
        self.pick.blockSignals(True)
        self.pick.clear()
        for m in measurements:
            if m.value is not None:
                self.pick.addItem(f"{m.step_name} › {m.name}", m)
        self.pick.blockSignals(False)
        if self.pick.count():
            self._picked()

    def _picked(self) -> None:
        m = self.pick.currentData()
        if m is not None:
            self.show_statistics(m, switch=False)

    def show_statistics(self, m: MeasurementWithRun, switch: bool = True) -> spc.Capability:
        """Trend, histogram, Cpk of measurement ``m`` over this variant's runs."""
        part = self.run.part_number if self.run else None
        history = self.store.measurement_history(m.name, m.step_name, part)
        values = [h.value for h in history if h.value is not None]
        failed = [h.outcome == Verdict.FAILED for h in history if h.value is not None]
        low, high = m.low, m.high
        cap = spc.capability(values, low, high)
        self._statistics = m
        self.stats.show_values(values, failed, low, high, m.unit)
        far = "" if self.stats.limits_shown else self.tr(" (far outside the plotted range)")
        text = self.tr(
            "<b>{what}</b> ({part}) — n = {n}, mean {mean}, σ {stdev}, Cpk <b>{cpk}</b>, "
            "limits {limits}{far}, failed {failed}"
        )
        self.stats_text.setText(
            text.format(
                what=f"{m.step_name} › {m.name}",
                part=part,
                n=cap.n,
                mean=measured_text(cap.mean, "", None, m.unit),
                stdev=measured_text(cap.stdev, "", None, m.unit),
                cpk="–" if cap.cpk is None else f"{cap.cpk:.2f}",
                limits=limit_text(m.limit_text, m.unit),
                far=far,
                failed=sum(failed),
            )
        )
        if switch:
            self.tabs.setCurrentIndex(self.tabs.count() - 1)
        return cap

    # -- the birth certificate -----------------------------------------------------------
    def _ask_certificate(self) -> None:
        if self.run is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save the birth certificate"),
            f"{self.run.serial}-{self.run.id[:8]}.pdf",
            "PDF (*.pdf);;HTML (*.html)",
        )
        if name:
            try:
                self.write_certificate(Path(name))
            except StationError as err:
                QMessageBox.warning(self, self.tr("Certificate"), str(err))

    def write_certificate(self, path: Path) -> Path:
        """Write the selected run's certificate: HTML for a ``.html``/``.htm`` name, else PDF."""
        self.controller.require(Action.BROWSE_RESULTS, "certificate")
        if self.run is None:
            raise StationError("select a run first")
        run = certificate.gather(self.store, self.run.id)
        if path.suffix.lower() in (".html", ".htm"):
            certificate.write_html(run, path)
        else:
            certificate.write_pdf(run, path)
        return path

    def dispose(self) -> None:
        self.series.dispose()
        self.stats.dispose()


def _day(date: QDate) -> dt.date:
    return dt.date(date.year(), date.month(), date.day())


def _utc(stamp: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _attempt_text(run: RunRecord) -> str:
    if run.attempt is None:
        return "—"
    text = str(run.attempt)
    if run.previous_run_id:
        previous = str(run.previous_run_id)[:8]
        text += translate("Record", " (previous run {run})").format(run=previous)
    if run.rework_reason:
        text += translate("Record", " — rework: {reason}").format(reason=run.rework_reason)
    return text


RECORD_ROWS = (
    QT_TRANSLATE_NOOP("Record", "Verdict"),
    QT_TRANSLATE_NOOP("Record", "Serial"),
    QT_TRANSLATE_NOOP("Record", "Variant"),
    QT_TRANSLATE_NOOP("Record", "Operator"),
    QT_TRANSLATE_NOOP("Record", "Attempt"),
    QT_TRANSLATE_NOOP("Record", "Station"),
    QT_TRANSLATE_NOOP("Record", "Started"),
    QT_TRANSLATE_NOOP("Record", "Ended"),
    QT_TRANSLATE_NOOP("Record", "Sequence"),
    QT_TRANSLATE_NOOP("Record", "Sequence sha256"),
    QT_TRANSLATE_NOOP("Record", "Limits"),
    QT_TRANSLATE_NOOP("Record", "Config sha256"),
    QT_TRANSLATE_NOOP("Record", "Software"),
    QT_TRANSLATE_NOOP("Record", "Safe state"),
    QT_TRANSLATE_NOOP("Record", "Run id"),
)
"""The rows of a run's record, in order (translated where shown)."""


def _record_html(run: RunDetail) -> str:
    states = {1: translate("Record", "confirmed off"), 0: translate("Record", "NOT CONFIRMED")}
    safe = "—" if run.safe_state_ok is None else states.get(run.safe_state_ok, "—")
    inline = translate("Record", "(inline)")
    values = (
        outcome_word(run.outcome),
        run.serial,
        run.part_number,
        run.operator,
        _attempt_text(run),
        run.station_id,
        local_time(run.started_at),
        local_time(run.ended_at),
        f"{run.sequence_name} {run.sequence_version} — {run.sequence_path}",
        run.sequence_sha256,
        f"{run.limits_path or inline} {(run.limits_sha256 or '')[:16]}",
        run.config_sha256,
        run.software_version,
        f"{safe} — {run.safe_state_detail or ''}",
        run.id,
    )
    due = translate("Record", "cal due {date}")
    instruments = "".join(
        f"<tr><td>{html.escape(i.role)}</td><td>{html.escape(i.idn)}</td>"
        f"<td>{html.escape(due.format(date=i.cal_due))}</td></tr>"
        for i in run.instruments
    )
    body = "".join(
        f"<tr><td><b>{translate('Record', k)}</b></td><td>{html.escape(str(v))}</td></tr>"
        for k, v in zip(RECORD_ROWS, values, strict=True)
    )
    title = translate("Record", "Instruments")
    return f"<table cellpadding=3>{body}</table><p><b>{title}</b></p><table>{instruments}</table>"
