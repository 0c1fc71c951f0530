"""The station config: one explicit TOML file, validated, hashed and recorded per run.

::

    [station]
    id = "EOL-01"
    results_db = "results/eol01.db"      # relative paths are relative to this file
    plugins = ["my_company.steps"]      # modules defining extra step types

    [instruments.supply]                 # the table name is the role
    model = "itech.it6000c"
    resource = "TCPIP0::10.0.0.5::5025::SOCKET"
    serial = "602118010"
    cal_due = 2027-03-31                 # a TOML date
    timeout_s = 2.0
    options = { max_voltage_v = 1000 }  # passed to the driver

    [can]                                # the pack's BMS
    interface = "pcan"                   # any python-can interface
    channel = "PCAN_USBBUS1"
    bitrate = 500000
    bms = "bms/eol_reference.toml"       # BMS description: DBC, signal map, UDS ids, DIDs
    options = {}                         # more python-can arguments

    [interlocks]
    required_for_hv = true               # HV steps refuse to start without an interlocks role

    [logging]                            # the rotating application log
    file = "logs/station.log"            # default: station.log beside the results database
    level = "INFO"                       # the station's own messages
    library_level = "WARNING"            # python-can, udsoncan, pyvisa …, Python warnings
    max_bytes = 5000000
    backups = 5

    [masters]                            # golden and failure masters (station.masters)
    golden = ["NM96A9000001"]            # must PASS today before production packs
    failure = [{ serial = "NM96A9000002", expect = "IR HV+ to chassis",
                 fault = "low_insulation_plus=2e6" }]   # must FAIL that step today

    [retest]                             # without it, no retest limits (station.retest)
    max_attempts = 3                     # verdict runs per serial; then repair and rework
    signoff_from_attempt = 2             # from this attempt on a supervisor signs off (0: never)
    rework_signoff = false               # does every rework need a supervisor sign-off?

    [central]                            # the plant's PostgreSQL results database
    dsn = "host=db.plant port=5432 dbname=eol user=eol01"   # libpq connection string
    background = true                    # sync from station run / the UI as well
    interval_s = 30
    max_attempts = 10                    # then a run is quarantined in the outbox
    connect_timeout_s = 5

    [mes]                                # route check before start, result upload after
    plugin = "station.mes_postgres:PostgresMes"   # entry point name or module:attribute
    policy = "refuse"                    # MES unreachable: "refuse" or "queue" (test anyway)
    timeout_s = 5
    options = { dsn = "host=db.plant dbname=eol user=eol01" }   # passed to the plug-in

    [ui]                                 # the operator screen (station ui)
    scan_to_start = false                # a valid scan starts the test (no START press)
    retest_confirm_after = 2             # runs of a serial before a retest needs confirming
    language = "en"                      # the screens' language until a user logs in: en, fr, ar

    [[nests]]                            # parallel nests (station.nest_config); none: one
    name = "left"                        # implicit nest. [station] shared_roles lists the
    can_channel = "can1"                 # [instruments.*] the nests take turns on.
    [nests.instruments.supply]           # this nest's own instruments

Each table is a dataclass below whose field types and ``Annotated`` constraints say what
its keys hold and allow; :func:`station.checked.checked` reads it, noting every problem at
its ``table.key``. docs/station-config.md describes every table and key (a test compares
the two, rules included).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from drivers.roles import CONFIGURED_BY_CAN, INSTRUMENT_ROLES
from station.checked import AtLeast, NonEmpty, NonNegative, OneOf, Range, Rule, checked
from station.errors import ConfigError, Problem
from station.inputs import Problems, did_you_mean, read_toml, sha256_of
from station.languages import DEFAULT as DEFAULT_LANGUAGE
from station.languages import LANGUAGES, language_problem
from station.masters import MasterPolicy
from station.nest_config import NestConfig, NestTable, parse_nests
from station.retest import RetestPolicy

ROLES = INSTRUMENT_ROLES
"""The roles an ``[instruments.<role>]`` table may name (the BMS comes from ``[can]``)."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECONDS = Range(0, 3600, low_open=True, unit="s")


def _model_problem(model: str) -> str:
    from drivers.registry import MODELS  # lazy: reading a config never imports a driver

    if model in MODELS:
        return ""
    return f"unknown instrument model {model!r}{did_you_mean(model, MODELS)}"


KnownModel = Rule("a registered model", why_not=_model_problem)
"""The model names a driver of the registry (the docs list them)."""
StationLanguage = Rule(f"one of {', '.join(LANGUAGES)}", why_not=language_problem)


@dataclass(frozen=True)
class StationTable:
    """The ``[station]`` table as written (``StationConfig`` holds what it says)."""

    id: Annotated[str, NonEmpty]
    results_db: Path = Path("results/results.db")  # relative to the config file
    plugins: tuple[str, ...] = ()
    description: str = ""
    operator_required: bool = False
    shared_roles: tuple[str, ...] = ()  # role names: checked by station.nest_config


@dataclass(frozen=True)
class InstrumentConfig:
    """An ``[instruments.<role>]`` table: the role is the table's name."""

    role: str
    model: Annotated[str, KnownModel]
    resource: Annotated[str, NonEmpty]
    serial: Annotated[str, NonEmpty]
    cal_due: dt.date
    timeout_s: Annotated[float, Range(0, 60, low_open=True, unit="s")] = 2.0
    backend: str = "@py"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CanConfig:
    """The CAN bus to the pack's BMS and the BMS description file (DBC, signal map, UDS)."""

    interface: Annotated[str, NonEmpty]
    channel: Annotated[str, NonEmpty]
    bms: Path  # relative to the config file as written; load_config resolves it
    bitrate: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def bus_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``can.Bus``."""
        args: dict[str, Any] = {"interface": self.interface, "channel": self.channel}
        if self.bitrate is not None:
            args["bitrate"] = self.bitrate
        return {**args, **self.options}


@dataclass(frozen=True)
class InterlocksTable:
    """The ``[interlocks]`` table."""

    required_for_hv: bool = True


@dataclass(frozen=True)
class LoggingConfig:
    """The rotating application log (see :mod:`station.app_log`)."""

    file: Path | None = None  # None: station.log beside the results database
    level: Annotated[str, OneOf(LOG_LEVELS, ignore_case=True)] = "INFO"
    library_level: Annotated[str, OneOf(LOG_LEVELS, ignore_case=True)] = "WARNING"
    max_bytes: Annotated[int, AtLeast(1024)] = 5_000_000
    backups: Annotated[int, NonNegative] = 5


@dataclass(frozen=True)
class CentralConfig:
    """The plant's central results database (see :mod:`station.central`)."""

    dsn: Annotated[str, NonEmpty.noting("a libpq connection string")]
    background: bool = False
    interval_s: Annotated[float, SECONDS] = 30.0
    max_attempts: Annotated[int, AtLeast(1)] = 10
    connect_timeout_s: Annotated[float, SECONDS] = 5.0


@dataclass(frozen=True)
class MesConfig:
    """The MES plug-in the start gate asks (see :mod:`station.mes`)."""

    plugin: Annotated[str, NonEmpty.noting("an eol_station.mes entry point or module:attribute")]
    policy: Literal["refuse", "queue"] = "refuse"
    timeout_s: Annotated[float, SECONDS] = 5.0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UiTable:
    """The ``[ui]`` table: the operator screen."""

    scan_to_start: bool = False
    retest_confirm_after: Annotated[int, AtLeast(1)] = 2
    language: Annotated[str, StationLanguage] = DEFAULT_LANGUAGE


SECTIONS: dict[str, type | None] = {
    "station": StationTable,
    "instruments": InstrumentConfig,  # one table per role
    "can": CanConfig,
    "interlocks": InterlocksTable,
    "logging": LoggingConfig,
    "sim": None,  # reserved for virtual-bench settings: accepted, not read
    "retest": RetestPolicy,
    "masters": MasterPolicy,
    "central": CentralConfig,
    "mes": MesConfig,
    "ui": UiTable,
    "nests": NestTable,  # an array of tables
}
"""Every table of the station config and the dataclass it is checked into (the docs test
reads the keys, and what each allows, from these)."""


@dataclass(frozen=True)
class StationConfig:
    path: Path | None
    sha256: str | None  # None: no config file, nothing hashed
    station_id: str
    results_db: Path
    instruments: dict[str, InstrumentConfig]
    can: CanConfig | None = None
    plugins: tuple[str, ...] = ()
    interlocks_required_for_hv: bool = True
    operator_required: bool = False
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    retest: RetestPolicy | None = None
    masters: MasterPolicy | None = None
    central: CentralConfig | None = None
    mes: MesConfig | None = None
    scan_to_start: bool = False
    retest_confirm_after: int = 2
    language: str = DEFAULT_LANGUAGE
    # Parallel nests (station.nest_config): none = one implicit nest, as before. With nests,
    # ``instruments`` holds the shared ones and each nest's own are in its NestConfig.
    nests: tuple[NestConfig, ...] = ()
    shared_roles: tuple[str, ...] = ()
    nest: NestConfig | None = None  # set on the view of one nest (``for_nest``)

    def nest_by(self, key: str | int) -> NestConfig:
        """Get a nest by number (``2``, ``"2"``) or name; ConfigError naming the choices."""
        for nest in self.nests:
            if str(key) in (str(nest.index), nest.name):
                return nest
        choices = ", ".join(nest.label for nest in self.nests) or "none (no [[nests]])"
        where = self.path or "the station config"
        raise ConfigError([Problem(str(where), f"there is no nest '{key}'; nests: {choices}")])

    def for_nest(self, nest: NestConfig) -> StationConfig:
        """The config as one nest's engine sees it: its own and the shared instruments, its
        CAN channel. The hash stays the file's."""
        instruments: dict[str, InstrumentConfig] = dict(self.instruments)
        for role, ic in nest.instruments.items():
            assert isinstance(ic, InstrumentConfig)
            instruments[role] = ic
        can = self.can
        if can is not None and nest.can_channel is not None:
            can = replace(can, channel=nest.can_channel)
        return replace(self, instruments=instruments, can=can, nest=nest)


def default_config(db: Path) -> StationConfig:
    """A config with no instruments (for sequences that need none, and for tests)."""
    return StationConfig(None, None, "LOCAL", db, {})


def load_config(path: str | Path) -> StationConfig:
    """Load and validate a station config; raise ConfigError listing every problem."""
    path = Path(path)
    problems = Problems(path)
    data = read_toml(path, problems)
    if data is None:
        raise ConfigError(list(problems))
    base = path.parent
    for key in data:
        if key not in SECTIONS:
            problems.add(key, f"unknown section{did_you_mean(key, SECTIONS)}")
    station = checked(StationTable, data.get("station", {}), "station", problems)

    instruments: dict[str, InstrumentConfig] = {}
    tables = data.get("instruments", {})
    if not isinstance(tables, dict):
        problems.add("instruments", "must be a table of [instruments.ROLE] tables")
        tables = {}
    for role, entry in tables.items():
        instrument = _instrument(role, entry, f"instruments.{role}", problems)
        if instrument is not None:
            instruments[role] = instrument

    can = None
    if "can" in data:
        can = checked(CanConfig, data["can"], "can", problems)
        if can is not None:
            can = replace(can, bms=base / can.bms)
            if not can.bms.is_file():
                problems.add("can.bms", f"file not found: {can.bms}")
    interlocks = checked(InterlocksTable, data.get("interlocks", {}), "interlocks", problems)
    log = checked(LoggingConfig, data.get("logging", {}), "logging", problems)
    if log is not None:
        log = replace(
            log,
            file=base / log.file if log.file is not None else None,
            level=log.level.upper(),
            library_level=log.library_level.upper(),
        )
    retest = checked(RetestPolicy, data["retest"], "retest", problems) if "retest" in data else None
    masters = (
        checked(MasterPolicy, data["masters"], "masters", problems) if "masters" in data else None
    )
    central = (
        checked(CentralConfig, data["central"], "central", problems) if "central" in data else None
    )
    mes = checked(MesConfig, data["mes"], "mes", problems) if "mes" in data else None
    ui = checked(UiTable, data.get("ui", {}), "ui", problems)

    def instrument_of(role: str, table: object, where: str) -> InstrumentConfig | None:
        return _instrument(role, table, where, problems)

    nests, shared_roles = parse_nests(
        data.get("nests"),
        shared_roles=station.shared_roles if station is not None else (),
        station_roles=tuple(instruments),
        has_can="can" in data,
        roles=ROLES,
        parse_instrument=instrument_of,
        problems=problems,
    )
    _one_place_per_resource(instruments, nests, problems)
    problems.raise_if_any(ConfigError)
    # every table checked without a problem (else raised above)
    assert station is not None and interlocks is not None and log is not None and ui is not None
    return StationConfig(
        path=path,
        sha256=sha256_of(path),
        station_id=station.id,
        results_db=base / station.results_db,
        instruments=instruments,
        can=can,
        plugins=station.plugins,
        interlocks_required_for_hv=interlocks.required_for_hv,
        operator_required=station.operator_required,
        logging=log,
        retest=retest,
        masters=masters,
        central=central,
        mes=mes,
        scan_to_start=ui.scan_to_start,
        retest_confirm_after=ui.retest_confirm_after,
        language=ui.language,
        nests=nests,
        shared_roles=shared_roles,
    )


def _instrument(
    role: str, entry: object, where: str, problems: Problems
) -> InstrumentConfig | None:
    """One ``[instruments.ROLE]`` (or ``[nests.instruments.ROLE]``) table, or None."""
    if role == CONFIGURED_BY_CAN:
        problems.add(where, "the BMS is not an instrument: describe its bus in the [can] table")
        return None
    if role not in ROLES:
        problems.add(where, f"unknown role{did_you_mean(role, ROLES)}; roles: {', '.join(ROLES)}")
        return None
    return checked(InstrumentConfig, entry, where, problems, given={"role": role})


def _one_place_per_resource(
    shared: dict[str, InstrumentConfig], nests: tuple[NestConfig, ...], problems: Problems
) -> None:
    """Refuse one instrument (resource) given to two nests, or to a nest and the station."""
    seen = {ic.resource: f"instruments.{role}" for role, ic in shared.items()}
    for nest in nests:
        for role, ic in nest.instruments.items():
            assert isinstance(ic, InstrumentConfig)
            where = f"nests[{nest.index}].instruments.{role}"
            if ic.resource in seen:
                problems.add(
                    f"{where}.resource",
                    f"{ic.resource!r} is already {seen[ic.resource]}: one instrument cannot "
                    "serve two nests unguarded; share it (station.shared_roles) instead",
                )
            seen.setdefault(ic.resource, where)
