"""The birth certificate of a pack: one run's record as an HTML or PDF document.

``station results report RUN_ID --html FILE | --pdf FILE`` and the results browser's
Certificate button write it. It holds the pack's identity (serial, part number, BMS serial
and the identity the BMS reported), the verdict, every measurement with its limits and
outcome, the time series as plots, the instruments with serials and calibration dates,
the sequence/limits/config SHA-256, operator, station, software version, the retest
record, and the run's hash-chain link with the chain head when it was written.

The plots are SVG drawn here. The HTML carries them inline; the PDF is laid out by Qt
(``QTextDocument`` printed through ``QPdfWriter``, PySide6 being a dependency of the
station anyway), with each SVG rendered to an image by ``QSvgRenderer``. Qt is imported
only when a PDF is written, so ``station/`` stays free of ``ui/`` and the CLI needs no
display: without a running Qt application an offscreen one is made.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.errors import StationError
from station.outcomes import RunState, Verdict
from station.store import ResultsStore
from station.store_records import MeasurementRecord, RunDetail

MAX_PLOTS = 24
MAX_POINTS = 600
PLOT_W, PLOT_H = 640, 200
_OUTCOME_COLOUR: dict[str, str] = {
    Verdict.PASSED: "#1b7f3b",
    Verdict.FAILED: "#b3261e",
    Verdict.DONE: "#444444",
}


@dataclass(frozen=True)
class Plot:
    title: str
    unit: str
    svg: str


def gather(store: ResultsStore, run_id: str) -> RunDetail:
    """The record of one finished run with its chain link and samples, for a certificate."""
    run = store.get_run(run_id, with_samples=True)
    if run.outcome == RunState.RUNNING:
        raise StationError(
            f"run {run.id[:8]} is still running; its certificate is written once it ends"
        )
    return run


def identity(run: RunDetail) -> list[tuple[str, str]]:
    """The identity the BMS reported (text measurements of the identify steps), in order."""
    step_types = {s.id: s.type for s in run.steps}
    out = []
    for m in run.measurements:
        is_identity = step_types.get(m.step_id) == "identify" and m.name != "pack_serial"
        if is_identity and m.value_text is not None:
            out.append((m.name, str(m.value_text)))
    return out


def _nice(value: float) -> str:
    return f"{value:.4g}"


def plot_svg(title: str, points: list[tuple[float, float]], unit: str) -> str:
    """A line plot of ``points`` (t in s, value) with its axes' ranges, as SVG text."""
    finite = [(t, v) for t, v in points if math.isfinite(t) and math.isfinite(v)]
    if len(finite) > MAX_POINTS:  # keep every n-th point: the shape, not each sample
        step = math.ceil(len(finite) / MAX_POINTS)
        finite = [*finite[::step], finite[-1]]
    left, right, top, bottom = 70, 12, 26, 30
    w, h = PLOT_W - left - right, PLOT_H - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PLOT_W}" height="{PLOT_H}" '
        f'viewBox="0 0 {PLOT_W} {PLOT_H}" font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="16" font-size="12" font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#888"/>',
    ]
    if finite:
        ts = [t for t, _ in finite]
        vs = [v for _, v in finite]
        t0, t1 = min(ts), max(ts)
        v0, v1 = min(vs), max(vs)
        if t1 == t0:
            t1 = t0 + 1.0
        if v1 == v0:
            v0, v1 = v0 - 0.5 * (abs(v0) or 1.0), v1 + 0.5 * (abs(v1) or 1.0)
        xy = " ".join(
            f"{left + (t - t0) / (t1 - t0) * w:.1f},{top + h - (v - v0) / (v1 - v0) * h:.1f}"
            for t, v in finite
        )
        parts += [
            f'<polyline points="{xy}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>',
            f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{_nice(v1)}</text>',
            f'<text x="{left - 4}" y="{top + h}" text-anchor="end">{_nice(v0)}</text>',
            f'<text x="{left - 4}" y="{top + h / 2 + 4:.0f}" text-anchor="end">'
            f"{html.escape(unit)}</text>",
            f'<text x="{left}" y="{PLOT_H - 10}">{_nice(t0)} s</text>',
            f'<text x="{left + w}" y="{PLOT_H - 10}" text-anchor="end">{_nice(t1)} s</text>',
        ]
    else:
        parts.append(f'<text x="{left + 10}" y="{top + 20}">no finite values</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def plots(run: RunDetail) -> list[Plot]:
    """One plot per step and channel of the run's time series (at most ``MAX_PLOTS``)."""
    names = {s.id: s.name for s in run.steps}
    series: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for s in run.samples:
        if s.value is not None:
            series.setdefault((s.step_id, s.channel), []).append((s.t, s.value))
    out = []
    for (step_id, channel), points in list(series.items())[:MAX_PLOTS]:
        title = f"{names.get(step_id, step_id)} — {channel}"
        unit = _unit_of(channel)
        out.append(Plot(title, unit, plot_svg(title, points, unit)))
    return out


def _unit_of(channel: str) -> str:
    suffix = channel.rsplit("_", 1)[-1]
    return {"v": "V", "i": "A", "a": "A", "t": "°C", "c": "°C", "w": "W", "ohm": "Ω"}.get(
        suffix.lower(), ""
    )


def _value_text(m: MeasurementRecord) -> str:
    if m.value is not None:
        return f"{m.value:.6g}"
    if m.value_text is not None:
        return str(m.value_text)
    if m.values_json is not None:
        text = str(m.values_json)
        return text if len(text) <= 60 else text[:57] + "…"
    return "—"


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        f'<table class="{cls}" width="100%" cellspacing="0" cellpadding="3">'
        f"<tr>{head}</tr>{body}</table>"
    )


def _kv(rows: list[tuple[str, Any]], mono: tuple[str, ...] = ()) -> str:
    """A two-column table; values of the keys in ``mono`` in a fixed-width font.

    Ids and hashes go fixed-width: a proportional font's ligatures ("ff", "fi") would
    turn hex digits into single glyphs, and a hash copied from the PDF would not match.
    """
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>"
        + (f"<code>{_text(v)}</code>" if k in mono else _text(v))
        + "</td></tr>"
        for k, v in rows
    )
    return f'<table class="kv" width="100%" cellspacing="0" cellpadding="3">{cells}</table>'


def _text(value: Any) -> str:
    return html.escape("" if value is None else str(value))


_STYLE = """
body { font-family: sans-serif; font-size: 10pt; }
h1 { font-size: 16pt; margin-bottom: 2pt; }
h2 { font-size: 12pt; margin-top: 12pt; border-bottom: 1px solid #888; }
table { border-collapse: collapse; margin-bottom: 6pt; }
th { text-align: left; background: #eeeeee; border: 1px solid #bbbbbb; }
td { border: 1px solid #bbbbbb; }
table.kv th { width: 160px; }
.hash { font-family: monospace; font-size: 8pt; }
"""


def render_html(run: RunDetail, plot_images: list[str] | None = None) -> str:
    """The certificate as HTML; plots are inline SVG, or ``<img>`` of ``plot_images``."""
    esc = html.escape
    verdict = str(run.outcome)
    colour = _OUTCOME_COLOUR.get(verdict, "#b3261e")
    ident = identity(run)
    bms_serial = next((v for k, v in ident if k == "bms_serial"), "—")
    link = run.chain
    chain_rows: list[tuple[str, Any]] = (
        [
            ("Chain link", f"{link.seq}: {link.sha256}"),
            ("Record SHA-256", link.record_sha256),
            ("Chain head (printed)", link.head),
        ]
        if link
        else [("Chain link", "none (a run recorded before the hash chain)")]
    )
    out = [
        f"<html><head><meta charset='utf-8'><title>Birth certificate {esc(run.serial)}"
        f"</title><style>{_STYLE}</style></head><body>",
        "<h1>Battery pack end-of-line test certificate</h1>",
        f"<p style='font-size:14pt'>Serial <b>{esc(run.serial)}</b> — part "
        f"<b>{esc(run.part_number)}</b> — verdict "
        f"<b style='color:{colour}'>{esc(verdict)}</b></p>",
        "<h2>Pack identity</h2>",
        _kv(
            [
                ("Pack serial", run.serial),
                ("Part number", run.part_number),
                ("BMS serial", bms_serial),
                *[(f"BMS DID {name}", value) for name, value in ident if name != "bms_serial"],
            ]
        ),
        *(
            [
                "<h2>Components</h2>",
                _table(
                    ("Component", "Code", "Scanned (UTC)"),
                    [(esc(c.kind), esc(c.code), esc(c.at)) for c in run.components],
                ),
            ]
            if run.components
            else []
        ),
        "<h2>Test</h2>",
        _kv(
            [
                ("Verdict", verdict),
                ("Run id", run.id),
                ("Started (UTC)", run.started_at),
                ("Ended (UTC)", run.ended_at),
                ("Station", run.station_id),
                ("Operator", run.operator or "—"),
                ("Attempt", run.attempt or "—"),
                ("Previous run", run.previous_run_id or "—"),
                ("Rework", run.rework_reason or "—"),
                ("Sequence", f"{run.sequence_name} {run.sequence_version}"),
                ("Software version", run.software_version),
                ("Safe state at end", "confirmed" if run.safe_state_ok else "NOT confirmed"),
            ],
            mono=("Run id", "Previous run"),
        ),
        "<h2>Measurements</h2>",
    ]
    steps = {s.id: s for s in run.steps}
    rows = []
    for m in run.measurements:
        c = _OUTCOME_COLOUR.get(m.outcome, "#b3261e")
        outcome = m.outcome + (" (marginal)" if m.marginal else "")
        rows.append(
            (
                esc(steps[m.step_id].name),
                esc(m.name),
                esc(_value_text(m)),
                esc(m.unit),
                esc(m.limit_text or "—"),
                f"<span style='color:{c}'>{esc(outcome)}</span>",
            )
        )
    out.append(_table(("Step", "Measurement", "Value", "Unit", "Limits", "Result"), rows))
    step_rows = [
        (str(s.seq), esc(s.name), esc(s.type), esc(s.outcome), esc(s.error or ""))
        for s in run.steps
    ]
    out += ["<h2>Steps</h2>", _table(("#", "Step", "Type", "Result", "Error"), step_rows)]
    figures = plots(run)
    if figures:
        out.append("<h2>Time series</h2>")
        for i, figure in enumerate(figures):
            if plot_images is not None:
                out.append(f"<p><img src='{plot_images[i]}' width='{PLOT_W}'></p>")
            else:
                out.append(f"<div>{figure.svg}</div>")
    instruments = [
        (esc(i.role), esc(i.model), esc(i.serial), esc(i.cal_due), esc(i.idn))
        for i in run.instruments
    ]
    out += [
        "<h2>Instruments</h2>",
        _table(("Role", "Model", "Serial", "Calibration due", "Identity"), instruments),
        "<h2>Traceability</h2>",
        _kv(
            [
                ("Sequence file", run.sequence_path),
                ("Sequence SHA-256", run.sequence_sha256),
                ("Limits file", run.limits_path or "—"),
                ("Limits SHA-256", run.limits_sha256 or "—"),
                ("Config SHA-256", run.config_sha256 or "— (no station config)"),
                *chain_rows,
            ],
            mono=(
                "Sequence SHA-256",
                "Limits SHA-256",
                "Config SHA-256",
                "Chain link",
                "Record SHA-256",
                "Chain head (printed)",
            ),
        ),
        "<p>Check this record against the station's database with "
        f"<code>station results verify</code> and <code>station results show {esc(run.id)}"
        "</code>.</p>",
        "</body></html>",
    ]
    return "\n".join(out)


def write_html(run: RunDetail, path: Path) -> None:
    _write(path, lambda: path.write_text(render_html(run), encoding="utf-8"))


def _write(path: Path, write: Any) -> None:
    try:
        write()
    except OSError as err:
        raise StationError(f"cannot write the certificate to {path} ({err.strerror})") from err


def write_pdf(run: RunDetail, path: Path) -> None:
    """Lay the certificate out with Qt and print it to an A4 PDF at ``path``."""
    from PySide6.QtCore import QByteArray, QMarginsF, QUrl
    from PySide6.QtGui import (
        QColor,
        QGuiApplication,
        QImage,
        QPageLayout,
        QPageSize,
        QPainter,
        QPdfWriter,
        QTextDocument,
    )
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance()
    if app is None:  # the CLI: an offscreen application, no display needed
        app = QGuiApplication(["station", "-platform", "offscreen"])
    figures = plots(run)
    names = [f"plot-{i}.png" for i in range(len(figures))]
    document = QTextDocument()
    for name, figure in zip(names, figures, strict=True):
        image = QImage(PLOT_W * 2, PLOT_H * 2, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        QSvgRenderer(QByteArray(figure.svg.encode())).render(painter)
        painter.end()
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    document.setHtml(render_html(run, names))
    if not path.parent.is_dir():
        raise StationError(f"cannot write the certificate to {path} (no such folder)")
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    writer.setTitle(f"EOL certificate {run.serial}")
    writer.setCreator("eol-station")
    document.print_(writer)  # paginates onto A4
    del writer  # the file is complete when the writer goes
    if not path.is_file() or path.stat().st_size == 0:
        raise StationError(f"cannot write the certificate to {path}")
