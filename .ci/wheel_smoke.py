"""The station as a user gets it from ``pip install``: built, installed away from the checkout.

Builds the wheel, installs it into a throwaway virtualenv in a fresh temporary folder (deps
come from pip's cache or index), and from there, with that folder as the working directory:
``station examples``, a ``--sim --yes`` reference run that must PASS (its virtual pack found
by part number among the installed pack files), ``python -m station
--help``, ``station --version`` (the commit baked in at build time), the UI's translations
and ``station ui --sim --smoke`` offscreen. Prints each step's wall time. ``make test`` runs
it after pytest.

Usage: ``python .ci/wheel_smoke.py`` (any Python ≥ 3.11 with pip; Linux, macOS or Windows).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERIAL = "NM96A0000001"


class SmokeFailed(Exception):
    pass


def step(
    title: str, cmd: list[str], cwd: Path, expect: str = "", env: dict[str, str] | None = None
) -> str:
    start = time.monotonic()
    done = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600, check=False
    )
    took = time.monotonic() - start
    output = done.stdout + done.stderr
    ok = done.returncode == 0 and expect in output
    print(f"wheel smoke: {title:<44} {'ok' if ok else 'FAILED'} ({took:.1f} s)", flush=True)
    if not ok:
        raise SmokeFailed(
            f"{title}: exit {done.returncode}"
            + (f", expected {expect!r} in the output" if expect else "")
            + f"\n$ {' '.join(cmd)}\n{output}"
        )
    return output


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="eol-station-wheel-"))
    bin_dir = "Scripts" if os.name == "nt" else "bin"
    venv = scratch / "venv"
    python = venv / bin_dir / ("python.exe" if os.name == "nt" else "python")
    station = venv / bin_dir / "station"
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    env.pop("PYTHONPATH", None)  # nothing from the checkout may leak into the installed station
    started = time.monotonic()
    # pip builds in the tree; leave no build/ behind that was not there before
    build_dir = ROOT / "build"
    build_existed = build_dir.exists()
    try:
        step(
            "build the wheel",
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                str(ROOT),
                "--no-deps",
                "-q",
                "-w",
                str(scratch / "dist"),
            ],
            scratch,
        )
        wheel = next((scratch / "dist").glob("eol_station-*.whl"))
        step("create a clean venv", [sys.executable, "-m", "venv", str(venv)], scratch)
        step(
            "pip install the wheel (deps from the cache)",
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
            scratch,
        )
        step("station examples X", [str(station), "examples", "X"], scratch, "packs/nmc14s.toml")
        step(
            "station run X/nmc96s/eol.toml --sim --yes",
            [
                str(station),
                "run",
                str(Path("X", "nmc96s", "eol.toml")),
                "--serial",
                SERIAL,
                "--sim",
                "--yes",
                "--db",
                "results.db",
            ],
            scratch,
            "VERDICT: PASSED",
            env,
        )
        step(
            "python -m station --help",
            [str(python), "-m", "station", "--help"],
            scratch,
            "examples",
        )
        version = step("station --version", [str(station), "--version"], scratch, "+g")
        print(f"wheel smoke: installed {version.strip()}")
        step(
            "the French and Arabic translations load",
            [
                str(python),
                "-c",
                "from PySide6.QtCore import QTranslator; from ui import i18n; "
                "print('translations', [QTranslator().load(str(i18n.qm_path(c))) "
                "for c in i18n.TRANSLATED])",
            ],
            scratch,
            "translations [True, True]",
            env,
        )
        step(
            "station ui --sim --smoke (offscreen)",
            [str(station), "ui", "--sim", "--smoke"],
            scratch,
            "ui: window shown",
            env,
        )
    except (SmokeFailed, StopIteration, subprocess.TimeoutExpired) as err:
        print(f"wheel smoke FAILED: {err}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not build_existed:
            shutil.rmtree(build_dir, ignore_errors=True)
    print(f"wheel smoke: all passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
