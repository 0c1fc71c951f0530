"""The operator screen: scan, start, watch, read the verdict from 2 m.

Scan field (a keyboard-wedge scanner types the serial and Enter), variant, START and
ABORT (confirmed in place, then immediate); the state banner; the step list with status
and duration; the measurement table with failing rows tinted; the live V/I/T plot; a
progress bar with ETA on long steps; typed prompts; station health, shift counters and
the last packs. It shows what the controller and the bridge report and holds no test
logic: whether Start is allowed is the controller's answer, shown with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from station.events import Measurement, Progress, RunFinished, RunStarted, StepFinished
from station.events import Sample as SampleEvent
from station.events import StepStarted as StepStartedEvent
from station.gate import PACK_KINDS, Blocker, serial_problem
from station.languages import DEFAULT as DEFAULT_LANGUAGE
from station.outcomes import Outcome, RunState, Verdict
from ui import gating, i18n
from ui.banner import StateBanner
from ui.controller import StationController
from ui.health import HealthPanel
from ui.i18n import ltr
from ui.models import (
    RowsModel,
    duration_text,
    make_table,
    outcome_tint,
)
from ui.plots import TimeSeriesPlot
from ui.prompts import PromptPanel
from ui.run_view import RunView, measurement_columns, step_columns
from ui.shift_panel import ShiftPanel
from ui.style import VERDICT_DETAIL_POINT_SIZE, big_button, fit_text, font, section
from ui.wording import needs_details, operator_sentence

BODY_MIN_PX = 125  # steps, measurements, plot and side panels at their smallest
FAILING_OUTCOMES = tuple(o for o in Outcome if o.failing)
BannerView = Callable[[], tuple[str, str, str]]
"""``() -> (state, headline, detail)``: computed again when the language changes."""


class OperatorScreen(QWidget):
    """The screen an operator works at; driven by ``controller`` and its bridge."""

    def __init__(self, controller: StationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.run = RunView()
        seq = controller.sequence
        # Step names as the sequence file translates them for the screens' language.
        self.run.label = lambda name: seq.step_label(i18n.current(), name)
        self.verdict_shown = False
        self._banner_view: BannerView = lambda: ("READY", "", "")
        self._reason: tuple[str, str] = ("", "")  # the station's sentence and its kind

        self.banner = StateBanner()
        self.scan = QLineEdit()
        self.scan.setObjectName("scan")
        self.scan.setFont(font(24))
        self.scan.returnPressed.connect(self._scanned)
        self.scan.textChanged.connect(self._serial_edited)
        self.variant = QComboBox()
        self.variant.setObjectName("variant")
        self.variant.setFont(font(20))
        if len(seq.products) > 1:
            self.variant.addItem("", None)  # "— choose variant —", set by retranslate
        for product in seq.products:
            self.variant.addItem(product, product)
        self.variant.setEnabled(len(seq.products) > 1)
        self.variant.currentIndexChanged.connect(lambda _: self.refresh())
        self.variant.activated.connect(lambda _: self.focus_scan())  # back for the next scan
        self.start_button = big_button("", "#2E7D32")
        self.abort_button = big_button("", "#C62828")
        self.start_button.clicked.connect(self.start)
        self.abort_button.clicked.connect(self.ask_abort)
        self.reason = QLabel()
        self.reason.setObjectName("reason")
        self.reason.setFont(font(16, bold=True))
        self.reason.setWordWrap(True)
        # The technical version of the reason (patterns, digests), one tap away.
        self.details_button = QPushButton()
        self.details_button.setCheckable(True)
        self.details_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps it
        self.details_button.hide()
        self.reason_detail = QLabel()
        self.reason_detail.setObjectName("reason_detail")
        self.reason_detail.setWordWrap(True)
        self.reason_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason_detail.hide()
        self.details_button.toggled.connect(self.reason_detail.setVisible)

        self.confirm = QFrame()
        self.confirm.setStyleSheet("QFrame { background: #FFEBEE; border-radius: 8px; }")
        self.confirm_text = confirm_text = QLabel()
        confirm_text.setFont(font(18, bold=True))
        confirm_text.setWordWrap(True)
        self.confirm_yes = big_button("", "#C62828")
        self.confirm_no = big_button("", "#ECEFF1", "#263238")
        self.confirm_yes.clicked.connect(self.confirm_abort)
        self.confirm_no.clicked.connect(self._keep_running)
        row = QHBoxLayout(self.confirm)
        row.addWidget(confirm_text, 1)
        row.addWidget(self.confirm_yes)
        row.addWidget(self.confirm_no)
        self.confirm.hide()

        # A pack tested before: the operator confirms the retest in place.
        self.retest = QFrame()
        self.retest.setStyleSheet("QFrame { background: #FFF8E1; border-radius: 8px; }")
        self.retest_text = QLabel()
        self.retest_text.setFont(font(18, bold=True))
        self.retest_text.setWordWrap(True)
        self.retest_yes = big_button("", "#EF6C00")
        self.retest_no = big_button("", "#ECEFF1", "#263238")
        self.retest_yes.clicked.connect(self.confirm_retest)
        self.retest_no.clicked.connect(self.cancel_retest)
        row = QHBoxLayout(self.retest)
        row.addWidget(self.retest_text, 1)
        row.addWidget(self.retest_yes)
        row.addWidget(self.retest_no)
        self.retest.hide()
        self._retest_confirmed = ""  # the serial whose retest the operator confirmed
        self._pending = ""  # the last valid serial scanned and not yet started
        self._refocus = True  # give the scan field the focus at the next idle refresh
        self._scan_note = ""  # "Scanned B — it replaces A."
        self._retest_warning = ""  # the warning the operator is asked to confirm (English)

        # Every failing measurement of a FAIL, under the banner; scrolls when there are many.
        self.failures = QListWidget()
        self.failures.setObjectName("failures")
        self.failures.setFont(font(VERDICT_DETAIL_POINT_SIZE - 4, bold=True))
        self.failures.setWordWrap(True)
        self.failures.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps it
        self.failures.setMaximumHeight(150)
        self.failures.hide()

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFont(font(15, bold=True))
        self._progress_event: Progress | None = None  # shown again when the language changes
        self.progress.hide()
        self.prompt = PromptPanel()
        self.prompt.base_dir = seq.path.parent
        # A prompt's text as the sequence file translates it, for the step that asks it.
        self.prompt.label = lambda text: seq.prompt_label(
            i18n.current(), self.run.current_name, text
        )
        self.prompt.answered.connect(self._answer)

        self.steps = RowsModel(
            step_columns(self.run.label),
            tint=lambda s: outcome_tint(s.outcome),
            bold=lambda s: s.outcome == RunState.RUNNING,
        )
        self.measurements = RowsModel(
            measurement_columns(self.run.label),
            tint=lambda r: outcome_tint(r[1].outcome, r[1].marginal),
            bold=lambda r: r[1].outcome == Verdict.FAILED,
        )
        self.step_table = make_table(self.steps, 1)
        self._shown_step = -1
        self.step_table.verticalScrollBar().rangeChanged.connect(
            lambda *_: self._keep_step_in_view()
        )
        self.measurement_table = make_table(self.measurements, 1)
        # The newest measurement stays in view: follow the scroll range once the view has
        # laid out new rows (scrolling right after an insert lands one row short).
        self._following = True  # off at a FAIL, which shows the failing row instead
        self.measurement_table.verticalScrollBar().rangeChanged.connect(self._follow_measurements)
        self.plot = TimeSeriesPlot(live=True)
        self.health = HealthPanel()
        self.shift = ShiftPanel()

        controls = QHBoxLayout()
        self.serial_label = QLabel()
        self.serial_label.setFont(font(20, bold=True))
        controls.addWidget(self.serial_label)
        controls.addWidget(self.scan, 3)
        controls.addWidget(self.variant, 2)
        controls.addWidget(self.start_button, 1)
        controls.addWidget(self.abort_button, 1)

        steps = QWidget()
        box = QVBoxLayout(steps)
        box.setContentsMargins(0, 0, 0, 0)
        self.steps_title = section("")
        box.addWidget(self.steps_title)
        box.addWidget(self.step_table)
        results = QWidget()
        box = QVBoxLayout(results)
        box.setContentsMargins(0, 0, 0, 0)
        self.measurements_title = section("")
        box.addWidget(self.measurements_title)
        box.addWidget(self.measurement_table)
        middle = QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(results)
        middle.addWidget(self.plot)
        middle.setSizes([240, 440])
        side_panels = QWidget()
        box = QVBoxLayout(side_panels)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.shift, 2)
        box.addWidget(self.health, 3)
        # Scrolls rather than growing the window on a 768-pixel-high screen.
        side = QScrollArea()
        side.setWidget(side_panels)
        side.setWidgetResizable(True)
        side.setFrameShape(QFrame.Shape.NoFrame)
        side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(steps)
        body.addWidget(middle)
        body.addWidget(side)
        body.setSizes([400, 700, 360])  # the measurements get the most room
        body.setChildrenCollapsible(False)
        # On a 768-pixel-high screen with a prompt showing, the tables and plot give way
        # (each keeps a few rows, scrolling) rather than the window growing off the screen.
        body.setMinimumHeight(BODY_MIN_PX)
        body.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.banner)
        layout.addWidget(self.failures)
        layout.addLayout(controls)
        reason_row = QHBoxLayout()
        reason_row.addWidget(self.reason, 1)
        reason_row.addWidget(self.details_button)
        layout.addLayout(reason_row)
        layout.addWidget(self.reason_detail)
        layout.addWidget(self.confirm)
        layout.addWidget(self.retest)
        layout.addWidget(self.progress)
        layout.addWidget(self.prompt)
        layout.addWidget(body, 1)

        bridge = controller.bridge
        bridge.runStarted.connect(self.on_run_started)
        bridge.stepStarted.connect(self.on_step_started)
        bridge.measurements.connect(self.on_measurements)
        bridge.samples.connect(self.on_samples)
        bridge.progress.connect(self.on_progress)
        bridge.stepFinished.connect(self.on_step_finished)
        bridge.runFinished.connect(self.on_run_finished)
        controller.prompter.requested.connect(self.prompt.show_prompt)
        controller.prompter.withdrawn.connect(self.prompt.withdraw)
        controller.runRefused.connect(self.on_refused)
        controller.runCrashed.connect(self.on_crashed)
        controller.changed.connect(self.refresh)
        controller.healthChanged.connect(self.refresh)  # the interlocks may block START
        self.shift.refresh(controller.store)
        self.retranslate()
        self.refresh()

    # -- language ----------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Set every fixed text in the screens' language."""
        self.scan.setPlaceholderText(self.tr("scan the pack's serial number"))
        if self.variant.count() and self.variant.itemData(0) is None:
            self.variant.setItemText(0, self.tr("— choose variant —"))
        self.start_button.setText(self.tr("START"))
        self.abort_button.setText(self.tr("ABORT"))
        self.details_button.setText(self.tr("Details"))
        self.confirm_text.setText(
            self.tr("Abort this test? Cleanup runs and every source is switched off.")
        )
        self.confirm_yes.setText(self.tr("YES, ABORT"))
        self.confirm_no.setText(self.tr("NO, CONTINUE"))
        self.retest_yes.setText(self.tr("TEST AGAIN"))
        self.retest_no.setText(self.tr("CANCEL"))
        for button in (
            self.start_button,
            self.abort_button,
            self.confirm_yes,
            self.confirm_no,
            self.retest_yes,
            self.retest_no,
        ):
            fit_text(button)
        self.serial_label.setText(self.tr("Serial"))
        self.steps_title.setText(self.tr("Steps"))
        self.measurements_title.setText(self.tr("Measurements"))
        self.retest_text.setText(self._retest_text())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            self.say(*self._reason)
            self._show(self._banner_view)
            self._show_progress()
            self.failures.clear()
            self.failures.addItems(self.run.failing_lines() if self.failures.isVisible() else [])

    def _show(self, view: BannerView) -> None:
        """Show ``view`` on the banner, and again in the new language when it changes."""
        self._banner_view = view
        self.banner.set_state(*view())

    # -- state --------------------------------------------------------------------------
    @property
    def serial(self) -> str:
        return self.scan.text().strip()

    @property
    def part(self) -> str | None:
        data = self.variant.currentData()
        return str(data) if data else None

    def blockers(self) -> list[Blocker]:
        return self.controller.blockers(self.serial, self.part, cached=True)

    def refresh(self) -> None:
        """Recompute what Start may do and what the banner says while idle."""
        c = self.controller
        running = c.running
        blockers = [] if running else self.blockers()
        self.start_button.setEnabled(not running and not blockers)
        self.abort_button.setEnabled(running)
        self.scan.setEnabled(not running)
        self.variant.setEnabled(not running and len(c.sequence.products) > 1)
        if running:
            self.say("")
        elif blockers and blockers[0].kind in PACK_KINDS:
            first = blockers[0]
            kind = "scan" if first.kind == "serial" and not self.serial else first.kind
            self.say(first.message[:1].upper() + first.message[1:], kind)
        elif blockers:
            self.say("Cannot start: " + blockers[0].message, blockers[0].kind)
        else:
            self.say("")
        if not running and not self.verdict_shown:
            station = [b for b in blockers if b.kind not in PACK_KINDS]
            serial, note = self.serial, self._scan_note
            if station and station[0].kind != "login":
                first = station[0]
                self._show(lambda: ("BLOCKED", "", operator_sentence(first.message, first.kind)))
            elif serial and not blockers:
                self._show(
                    lambda: (
                        "READY",
                        "",
                        self._scan_note_text(note)
                        + self.tr("Press START to test {serial}").format(serial=ltr(serial)),
                    )
                )
            else:
                self._show(lambda: ("READY", "", self.run.ready_note_text()))
        if not running and self._refocus:
            self.focus_scan()
        self.refresh_health()

    def focus_scan(self) -> None:
        """Put the keyboard focus in the scan field, so the next scan lands there.

        After a verdict, abort, error or in-place dialog; the text is selected so the
        scanner's next serial replaces it.
        """
        self._refocus = False
        self.scan.setFocus(Qt.FocusReason.OtherFocusReason)
        self.scan.selectAll()

    def say(self, text: str, kind: str = "") -> None:
        """Show why START is disabled in plain words (the operator's language; ``kind``
        is the blocker's, ``station.gate.Blocker.kind``); the full text behind Details."""
        self._reason = (text, kind)
        plain = operator_sentence(text, kind)
        self.reason.setText(plain)
        self.reason_detail.setText(text)
        technical = needs_details(text, kind)
        self.details_button.setVisible(technical)
        if not technical:
            self.details_button.setChecked(False)
        self.reason_detail.setVisible(technical and self.details_button.isChecked())

    def refresh_health(self) -> None:
        c = self.controller
        seq = c.sequence
        self.health.show_health(
            c.health(),
            c.interlock_state,
            c.releases.production_mode,
            f"{seq.name} {seq.version} ({seq.path.name})",
        )
        self.health.show_masters(c.masters(cached=True))

    # -- operator actions ----------------------------------------------------------------
    def _serial_edited(self, text: str) -> None:
        self._scan_note = ""
        if text.strip():
            self.failures.hide()
            self.verdict_shown = False
            self.run.ready_note = ""
        if self.controller.sequence.products and len(self.controller.sequence.products) > 1:
            guess = gating.variant_from_serial(text.strip(), self.controller.sequence.products)
            if guess is not None:
                self.variant.setCurrentIndex(self.variant.findData(guess))
        self.refresh()

    def _scanned(self) -> None:
        serial = self.serial
        problem = serial_problem(serial, self.controller.sequence)
        if problem:
            self.say(problem, "serial")
            self.scan.selectAll()  # the next scan replaces the bad one
            return
        replaced = self._pending if self._pending and self._pending != serial else ""
        self._pending = serial
        # Focus stays here with the serial selected: a second scan replaces it, never
        # lands on a button or in nothing.
        self.scan.selectAll()
        self._ask_retest(serial)
        self._scan_note = replaced
        self.refresh()
        scan_starts = self.controller.config.scan_to_start and self.retest.isHidden()
        if scan_starts and self.start_button.isEnabled():
            self.start()

    def _ask_retest(self, serial: str) -> bool:
        """Show the retest warning for ``serial`` unless confirmed; True when shown."""
        warning = self.controller.retest_warning(serial)
        self._retest_warning = warning if self._retest_confirmed != serial else ""
        self.retest_text.setText(self._retest_text())
        self.retest.setVisible(bool(self._retest_warning))
        return bool(self._retest_warning)

    def _retest_text(self) -> str:
        """The retest warning in the screens' language (the station's words in the details)."""
        warning = self._retest_warning
        if not warning or i18n.current() == DEFAULT_LANGUAGE:
            return warning
        serial = warning.split(" ", 1)[0]
        return self.tr("{serial} was tested before. Test it again?").format(serial=ltr(serial))

    def _scan_note_text(self, replaced: str) -> str:
        if not replaced:
            return ""
        return self.tr("Scanned {serial} — it replaces {previous}. ").format(
            serial=ltr(self.serial), previous=ltr(replaced)
        )

    def confirm_retest(self) -> None:
        self._retest_confirmed = self.serial
        self.controller.confirm_retest(self.serial, self._retest_warning)
        self.retest.hide()
        self.refresh()
        self.focus_scan()
        if self.controller.config.scan_to_start and self.start_button.isEnabled():
            self.start()

    def cancel_retest(self) -> None:
        self.retest.hide()
        self._pending = ""
        self.scan.clear()
        self.focus_scan()

    def _keep_running(self) -> None:
        self.confirm.hide()

    def start(self) -> None:
        if self._ask_retest(self.serial):
            return
        try:
            self.controller.start(self.serial, self.part)
        except Exception as err:  # RunRefused, PermissionDenied: one sentence on screen
            self.say(f"Cannot start: {err}", "refused")
            return
        self.verdict_shown = False
        self._following = True
        self.failures.hide()
        self._pending = self._retest_confirmed = ""
        self.run.reset()
        self.steps.clear()
        self.measurements.clear()
        self.plot.clear()
        serial = self.serial
        self._show(
            lambda: (
                RunState.RUNNING,
                "",
                self.tr("starting {serial} …").format(serial=ltr(serial)),
            )
        )
        self.refresh()

    def _answer(self, prompt_id: int, text: str) -> None:
        # A slot must not return a value: PySide6 6.12 mis-counts the references of a
        # returned bool and the interpreter aborts at exit ("bool_dealloc").
        self.controller.prompter.answer(prompt_id, text)

    def ask_abort(self) -> None:
        if self.controller.running:
            self.confirm.show()
            self.confirm_no.setFocus()

    def confirm_abort(self) -> None:
        self.confirm.hide()
        self.run.operator_abort = self.run.stopping = True
        self.controller.abort()
        self._show_aborting()

    def _show_aborting(self, step: str = "") -> None:
        def view() -> tuple[str, str, str]:
            where = f"{self.run.label(step)}: " if step else ""
            return (
                "ABORTING",
                self.tr("ABORTING …"),
                where + self.tr("cleanup runs; every source is being switched off"),
            )

        self._show(view)

    # -- engine events (queued from the engine thread by the bridge) ----------------------
    def on_run_started(self, ev: RunStarted) -> None:
        self.run.started(ev)
        self.steps.set_rows(self.run.steps)
        who = ltr(f"{ev.serial} · {ev.part_number}")
        self._show(lambda: (RunState.RUNNING, "", who))

    def on_step_started(self, ev: StepStartedEvent) -> None:
        i = self.run.step_started(ev)
        if i is None:
            return
        self.steps.replace(i, self.run.steps[i])
        self._progress_event = None
        self.progress.hide()
        if self.run.stopping:
            self._show_aborting(ev.name)
        else:
            n, name, serial = len(self.run.steps), ev.name, self.run.serial
            self._show(
                lambda: (
                    RunState.RUNNING,
                    self.tr("RUNNING step {k} of {n}").format(k=i + 1, n=n),
                    f"{self.run.label(name)} · {ltr(serial)}",
                )
            )
        self._show_step(i)

    def on_measurements(self, events: list[Measurement]) -> None:
        self.measurements.extend([(self.run.step_name(ev.step_id), ev) for ev in events])
        for ev in events:
            self.run.measured(ev)

    def _follow_measurements(self, _low: int, high: int) -> None:
        if not self._following:
            return
        self.measurement_table.verticalScrollBar().setValue(high)

    def _show_step(self, row: int) -> None:
        """Keep step ``row`` in view, also after the layout changes (a verdict line)."""
        self._shown_step = row
        self._keep_step_in_view()

    def _keep_step_in_view(self) -> None:
        if 0 <= self._shown_step < len(self.steps.rows):
            self.step_table.scrollTo(self.steps.index(self._shown_step, 0))

    def on_samples(self, events: list[SampleEvent]) -> None:
        for ev in events:
            self.plot.add(ev.t, ev.channel, ev.value)
        self.plot.redraw()

    def on_progress(self, ev: Progress) -> None:
        self._progress_event = ev
        self._show_progress()

    def _show_progress(self) -> None:
        ev = self._progress_event
        if ev is None:
            return
        self.progress.show()
        self.progress.setValue(int(ev.fraction * 1000))
        left = self.tr("{time} left")
        eta = f" — {left.format(time=duration_text(ev.eta_s))}" if ev.eta_s is not None else ""
        text = f" — {ev.text}" if ev.text else ""
        self.progress.setFormat(
            f"{self.run.label(self.run.current_name)}: {ev.fraction:.0%}{eta}{text}"
        )

    def on_step_finished(self, ev: StepFinished) -> None:
        i = self.run.step_finished(ev)
        if i is not None:
            self.steps.replace(i, self.run.steps[i])
        self._progress_event = None
        self.progress.hide()
        if self.run.stopping and self.controller.running:
            self._show_aborting()

    def on_run_finished(self, ev: RunFinished) -> None:
        self.prompt.close_prompt()
        self.confirm.hide()
        self._progress_event = None
        self.progress.hide()
        self.plot.finish()
        for i in self.run.finished():
            self.steps.replace(i, self.run.steps[i])
        for table in (self.step_table, self.measurement_table):
            table.fit()  # the run's rows only widened the columns: fit them to what is left
        stopped = [i for i, s in enumerate(self.run.steps) if s.outcome in FAILING_OUTCOMES]
        # The step the verdict is about, else the end of the list.
        self._show_step(stopped[0] if stopped else len(self.run.steps) - 1)
        state = self.run.verdict(ev)[0]
        self.verdict_shown = state != "READY"
        self._show(lambda: self.run.verdict(ev))
        failing = [
            i for i, r in enumerate(self.measurements.rows) if r[1].outcome == Verdict.FAILED
        ]
        if failing:  # the first failing measurement in view, not the cleanup's last rows
            self._following = False
            centre = self.measurement_table.ScrollHint.PositionAtCenter
            self.measurement_table.scrollTo(self.measurements.index(failing[0], 0), centre)
        lines = self.run.failing_lines() if state == Outcome.FAILED else []
        self.failures.clear()
        self.failures.addItems(lines)
        self.failures.setVisible(len(lines) > 1)  # one failure is on the banner already
        self.scan.blockSignals(True)
        self.scan.clear()
        self.scan.blockSignals(False)
        self.shift.refresh(self.controller.store)
        self._refocus = True  # once the controller says the run is over
        self.refresh()

    def on_refused(self, message: str) -> None:
        self._show(lambda: ("BLOCKED", "", operator_sentence(message, "refused")))
        self.verdict_shown = True
        self.say(f"Cannot start: {message}", "refused")
        self._refocus = True

    def on_crashed(self, message: str) -> None:
        self._show(
            lambda: (Outcome.ERROR, "", self.tr("{error} — call an engineer").format(error=message))
        )
        self.verdict_shown = True
        self._refocus = True

    def dispose(self) -> None:
        self.plot.dispose()

    def snapshot(self) -> dict[str, Any]:
        """What the screen shows, for tests and logs."""
        return {
            "banner": self.banner.state,
            "text": self.banner.text,
            "start_enabled": self.start_button.isEnabled(),
            "reason": self.reason.text(),
        }
