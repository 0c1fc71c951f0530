"""The reference MES plug-in: a route table and unit history in the plant's PostgreSQL.

``mes.route`` lists, per part number, the stations a pack passes in order. A pack may be
tested at a station when its latest result (by the run's own start time, not by arrival)
at every earlier station of its route is PASSED. ``upload`` adds a finished run to
``mes.unit_history``, keyed by run id, so a repeat is a no-op. A real MES (Opcenter, iTAC,
a CFX endpoint …) replaces this with a plug-in of the same shape (``station.mes.Mes``).

Config::

    [mes]
    plugin = "station.mes_postgres:PostgresMes"
    options = { dsn = "host=db.plant dbname=eol user=eol01", connect_timeout_s = 3 }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from station.mes import MesUnreachable, RouteAnswer, RunSummary
from station.outcomes import Outcome

if TYPE_CHECKING:
    import psycopg

MES_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS mes;
CREATE TABLE IF NOT EXISTS mes.route (
    part_number text NOT NULL,
    position integer NOT NULL,
    station_id text NOT NULL,
    PRIMARY KEY (part_number, position),
    UNIQUE (part_number, station_id)
);
CREATE TABLE IF NOT EXISTS mes.unit_history (
    run_id text PRIMARY KEY,
    serial text NOT NULL,
    part_number text NOT NULL,
    station_id text NOT NULL,
    outcome text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS unit_history_serial ON mes.unit_history (serial, station_id);
"""


class PostgresMes:
    """Route check and upload against ``mes.route`` and ``mes.unit_history``."""

    def __init__(self, options: dict[str, Any]) -> None:
        dsn = options.get("dsn")
        if not isinstance(dsn, str) or not dsn:
            raise ValueError("[mes] options needs dsn, a libpq connection string")
        timeout = options.get("connect_timeout_s", 3)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValueError(f"[mes] options connect_timeout_s must be > 0, got {timeout!r}")
        self.dsn = dsn
        self.connect_timeout_s = max(1, round(timeout))

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg

        try:
            return psycopg.connect(self.dsn, connect_timeout=self.connect_timeout_s)
        except psycopg.Error as err:
            raise MesUnreachable(str(err).strip().splitlines()[0]) from err

    def create_schema(self) -> None:
        """Create the route and history tables if missing (run once when setting up)."""
        with self._connect() as pg:
            pg.execute(MES_SCHEMA.encode())

    def route_check(self, serial: str, part_number: str, station_id: str) -> RouteAnswer:
        import psycopg

        try:
            with self._connect() as pg:
                route = pg.execute(
                    "SELECT position, station_id FROM mes.route WHERE part_number = %s"
                    " ORDER BY position",
                    (part_number,),
                ).fetchall()
                here = [position for position, station in route if station == station_id]
                if not here:
                    return RouteAnswer(
                        False, f"station {station_id} is not on the route of part {part_number}"
                    )
                for _position, earlier in (r for r in route if r[0] < here[0]):
                    last = pg.execute(
                        "SELECT outcome FROM mes.unit_history WHERE serial = %s"
                        " AND station_id = %s ORDER BY started_at DESC, run_id DESC LIMIT 1",
                        (serial, earlier),
                    ).fetchone()
                    if last is None:
                        return RouteAnswer(False, f"it has not been tested at {earlier} yet")
                    if last[0] != Outcome.PASSED:
                        return RouteAnswer(False, f"its last result at {earlier} is {last[0]}")
        except (psycopg.OperationalError, psycopg.InterfaceError) as err:
            raise MesUnreachable(str(err).strip().splitlines()[0]) from err
        return RouteAnswer(True, f"route of part {part_number} passed up to {station_id}")

    def upload(self, run: RunSummary) -> None:
        import psycopg

        try:
            with self._connect() as pg:
                pg.execute(
                    "INSERT INTO mes.unit_history (run_id, serial, part_number, station_id,"
                    " outcome, started_at, ended_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (run_id) DO NOTHING",
                    (run.run_id, run.serial, run.part_number, run.station_id, run.outcome,
                     run.started_at, run.ended_at or None),
                )  # fmt: skip
        except (psycopg.OperationalError, psycopg.InterfaceError) as err:
            raise MesUnreachable(str(err).strip().splitlines()[0]) from err
