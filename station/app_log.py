"""The application log: one rotating file per station, with every library's warnings in it.

``station run`` and ``station ui`` hold :func:`application_log` open while they work. The
station's own loggers (``station``, ``drivers``, ``ui``) write at ``[logging] level``; the
libraries (python-can, can-isotp, udsoncan, pyvisa, pyserial, cantools) and Python's
``warnings`` (through :func:`logging.captureWarnings`) at ``library_level``. Times are UTC,
like the results database. Without a ``[logging] file`` the log is ``station.log`` beside
the results database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path

from station.config import LoggingConfig
from station.errors import StationError

OWN_LOGGERS = ("station", "drivers", "ui")
LIBRARY_LOGGERS = (
    "can",
    "isotp",
    "udsoncan",
    "UdsClient",  # udsoncan's client logs under this name
    "Connection",  # udsoncan's connections
    "pyvisa",
    "pyvisa_py",
    "serial",
    "cantools",
    "py.warnings",
)
FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)-7s %(name)s: %(message)s"


def log_path(config: LoggingConfig, results_db: Path) -> Path:
    """Get where the log goes: the configured file, else ``station.log`` beside the DB."""
    return config.file if config.file is not None else Path(results_db).parent / "station.log"


@contextmanager
def application_log(config: LoggingConfig, results_db: Path) -> Iterator[Path]:
    """Log to the rotating file while the block runs; restore logging as it was after."""
    path = log_path(config, results_db)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=config.max_bytes, backupCount=config.backups, encoding="utf-8"
        )
    except OSError as err:
        raise StationError(
            f"cannot open the application log {path}: {err.strerror}; fix [logging] file "
            "in the station config"
        ) from err
    formatter = logging.Formatter(FORMAT, datefmt="%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    levels: dict[str, int] = {"": root.level}
    for name in (*OWN_LOGGERS, *LIBRARY_LOGGERS):
        levels[name] = logging.getLogger(name).level
    root.addHandler(handler)
    root.setLevel(config.library_level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(config.library_level)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(config.level)
    logging.captureWarnings(True)
    try:
        yield path
    finally:
        logging.captureWarnings(False)
        root.removeHandler(handler)
        handler.close()
        for name, level in levels.items():
            logging.getLogger(name or None).setLevel(level)
