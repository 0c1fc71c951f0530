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

    [[nests]]                            # parallel nests (station.nest_config); none: one
    name = "left"                        # implicit nest. [station] shared_roles lists the
    can_channel = "can1"                 # [instruments.*] the nests take turns on.
    [nests.instruments.supply]           # this nest's own instruments

docs/station-config.md describes every table and key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from drivers.roles import CONFIGURED_BY_CAN, INSTRUMENT_ROLES
from station.errors import ConfigError, Problem
from station.inputs import Problems, did_you_mean, read_toml, sha256_of
from station.masters import FailureMaster, MasterPolicy
from station.nest_config import NestConfig, parse_nests
from station.retest import RetestPolicy

ROLES = INSTRUMENT_ROLES
"""The roles an ``[instruments.<role>]`` table may name (the BMS comes from ``[can]``)."""
_SECTIONS = (
    "station", "instruments", "can", "interlocks", "logging", "sim", "retest", "masters",
    "central", "mes", "ui", "nests",
)  # fmt: skip
_STATION_KEYS = (
    "id", "results_db", "plugins", "description", "operator_required", "shared_roles",
)  # fmt: skip
_INSTRUMENT_KEYS = ("model", "resource", "serial", "cal_due", "timeout_s", "backend", "options")
_CAN_KEYS = ("interface", "channel", "bitrate", "bms", "options")
_INTERLOCK_KEYS = ("required_for_hv",)
_LOGGING_KEYS = ("file", "level", "library_level", "max_bytes", "backups")
_CENTRAL_KEYS = ("dsn", "background", "interval_s", "max_attempts", "connect_timeout_s")
_MES_KEYS = ("plugin", "policy", "timeout_s", "options")
MES_POLICIES = ("refuse", "queue")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_RETEST_KEYS = ("max_attempts", "signoff_from_attempt", "rework_signoff")
_MASTER_KEYS = ("golden", "failure")
_FAILURE_MASTER_KEYS = ("serial", "expect", "fault")
_UI_KEYS = ("scan_to_start", "retest_confirm_after")


@dataclass(frozen=True)
class InstrumentConfig:
    role: str
    model: str
    resource: str
    serial: str
    cal_due: dt.date
    timeout_s: float = 2.0
    backend: str = "@py"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CanConfig:
    """The CAN bus to the pack's BMS and the BMS description file (DBC, signal map, UDS)."""

    interface: str
    channel: str
    bms: Path
    bitrate: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def bus_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``can.Bus``."""
        args: dict[str, Any] = {"interface": self.interface, "channel": self.channel}
        if self.bitrate is not None:
            args["bitrate"] = self.bitrate
        return {**args, **self.options}


@dataclass(frozen=True)
class LoggingConfig:
    """The rotating application log (see :mod:`station.app_log`)."""

    file: Path | None = None  # None: station.log beside the results database
    level: str = "INFO"
    library_level: str = "WARNING"
    max_bytes: int = 5_000_000
    backups: int = 5


@dataclass(frozen=True)
class CentralConfig:
    """The plant's central results database (see :mod:`station.central`)."""

    dsn: str
    background: bool = False
    interval_s: float = 30.0
    max_attempts: int = 10
    connect_timeout_s: float = 5.0


@dataclass(frozen=True)
class MesConfig:
    """The MES plug-in the start gate asks (see :mod:`station.mes`)."""

    plugin: str
    policy: str = "refuse"
    timeout_s: float = 5.0
    options: dict[str, Any] = field(default_factory=dict)


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
        if key not in _SECTIONS:
            problems.add(key, f"unknown section{did_you_mean(key, _SECTIONS)}")
    station = _table(data, "station", problems)
    _unknown(station, _STATION_KEYS, "station", problems)
    station_id = station.get("id")
    if not isinstance(station_id, str) or not station_id:
        problems.add("station.id", "missing or not a non-empty string")
        station_id = ""
    db = station.get("results_db", "results/results.db")
    if not isinstance(db, str) or not db:
        problems.add("station.results_db", "must be a path string")
        db = "results/results.db"
    plugins = station.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        problems.add("station.plugins", "must be a list of Python module names")
        plugins = []
    operator_required = station.get("operator_required", False)
    if not isinstance(operator_required, bool):
        problems.add("station.operator_required", "must be true or false")
        operator_required = False

    instruments: dict[str, InstrumentConfig] = {}
    for role, entry in _table(data, "instruments", problems).items():
        where = f"instruments.{role}"
        if role == CONFIGURED_BY_CAN:
            problems.add(where, "the BMS is not an instrument: describe its bus in the [can] table")
            continue
        if role not in ROLES:
            problems.add(
                where, f"unknown role{did_you_mean(role, ROLES)}; roles: {', '.join(ROLES)}"
            )
            continue
        if not isinstance(entry, dict):
            problems.add(where, "must be a table")
            continue
        instrument = _instrument(role, entry, where, problems)
        if instrument is not None:
            instruments[role] = instrument

    can = None
    if "can" in data:
        can = _can(_table(data, "can", problems), base, problems)
    interlocks = _table(data, "interlocks", problems)
    _unknown(interlocks, _INTERLOCK_KEYS, "interlocks", problems)
    required = interlocks.get("required_for_hv", True)
    if not isinstance(required, bool):
        problems.add("interlocks.required_for_hv", "must be true or false")
        required = True
    log = _logging(_table(data, "logging", problems), base, problems)
    retest = _retest(data["retest"], problems) if "retest" in data else None
    masters = _masters(data["masters"], problems) if "masters" in data else None
    central = _central(_table(data, "central", problems), problems) if "central" in data else None
    mes = _mes(_table(data, "mes", problems), problems) if "mes" in data else None
    ui = _table(data, "ui", problems)
    _unknown(ui, _UI_KEYS, "ui", problems)
    scan_to_start = ui.get("scan_to_start", False)
    if not isinstance(scan_to_start, bool):
        problems.add("ui.scan_to_start", "must be true or false")
        scan_to_start = False
    retest_after = ui.get("retest_confirm_after", 2)
    if isinstance(retest_after, bool) or not isinstance(retest_after, int) or retest_after < 1:
        problems.add("ui.retest_confirm_after", f"must be a whole number ≥ 1, got {retest_after!r}")
        retest_after = 2

    def instrument_of(role: str, table: dict[str, Any], where: str) -> InstrumentConfig | None:
        return _instrument(role, table, where, problems)

    nests, shared_roles = parse_nests(
        data.get("nests"),
        shared_roles=station.get("shared_roles"),
        station_roles=tuple(instruments),
        has_can=can is not None or "can" in data,
        roles=ROLES,
        parse_instrument=instrument_of,
        problem=problems.add,
    )
    _one_place_per_resource(instruments, nests, problems)
    problems.raise_if_any(ConfigError)
    return StationConfig(
        path=path,
        sha256=sha256_of(path),
        station_id=station_id,
        results_db=(base / db),
        instruments=instruments,
        can=can,
        plugins=tuple(plugins),
        interlocks_required_for_hv=required,
        operator_required=operator_required,
        logging=log,
        retest=retest,
        masters=masters,
        central=central,
        mes=mes,
        scan_to_start=scan_to_start,
        retest_confirm_after=retest_after,
        nests=nests,
        shared_roles=shared_roles,
    )


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


def _seconds(
    table: dict[str, Any], key: str, default: float, where: str, problems: Problems
) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        problems.add(f"{where}.{key}", f"must be a number of seconds in (0, 3600], got {value!r}")
        return default
    return float(value)


def _central(table: dict[str, Any], problems: Problems) -> CentralConfig | None:
    _unknown(table, _CENTRAL_KEYS, "central", problems)
    dsn = table.get("dsn")
    if not isinstance(dsn, str) or not dsn.strip():
        problems.add("central.dsn", "missing or not a libpq connection string")
        return None
    background = table.get("background", False)
    if not isinstance(background, bool):
        problems.add("central.background", "must be true or false")
        background = False
    attempts = table.get("max_attempts", 10)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        problems.add("central.max_attempts", f"must be a whole number ≥ 1, got {attempts!r}")
        attempts = 10
    return CentralConfig(
        dsn,
        background,
        _seconds(table, "interval_s", 30.0, "central", problems),
        attempts,
        _seconds(table, "connect_timeout_s", 5.0, "central", problems),
    )


def _mes(table: dict[str, Any], problems: Problems) -> MesConfig | None:
    _unknown(table, _MES_KEYS, "mes", problems)
    plugin = table.get("plugin")
    if not isinstance(plugin, str) or not plugin:
        problems.add(
            "mes.plugin", "missing: an eol_station.mes entry point name or module:attribute"
        )
        return None
    policy = table.get("policy", "refuse")
    if policy not in MES_POLICIES:
        problems.add("mes.policy", f"must be one of {', '.join(MES_POLICIES)}, got {policy!r}")
        policy = "refuse"
    options = table.get("options", {})
    if not isinstance(options, dict):
        problems.add("mes.options", "must be a table")
        options = {}
    return MesConfig(plugin, policy, _seconds(table, "timeout_s", 5.0, "mes", problems), options)


def _logging(table: dict[str, Any], base: Path, problems: Problems) -> LoggingConfig:
    _unknown(table, _LOGGING_KEYS, "logging", problems)
    default = LoggingConfig()
    file = table.get("file")
    if file is not None and (not isinstance(file, str) or not file):
        problems.add("logging.file", "must be a path string")
        file = None
    levels = {}
    for key in ("level", "library_level"):
        value = table.get(key, getattr(default, key))
        if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
            problems.add(f"logging.{key}", f"must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
            value = getattr(default, key)
        levels[key] = value.upper()
    sizes = {}
    for key, low in (("max_bytes", 1024), ("backups", 0)):
        value = table.get(key, getattr(default, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            problems.add(f"logging.{key}", f"must be a whole number ≥ {low}, got {value!r}")
            value = getattr(default, key)
        sizes[key] = value
    return LoggingConfig(
        base / file if file else None,
        levels["level"],
        levels["library_level"],
        sizes["max_bytes"],
        sizes["backups"],
    )


def _table(data: dict[str, Any], key: str, problems: Problems) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        problems.add(key, "must be a table")
        return {}
    return value


def _unknown(
    table: dict[str, Any], allowed: tuple[str, ...], where: str, problems: Problems
) -> None:
    for key in table:
        if key not in allowed:
            problems.add(f"{where}.{key}", f"unknown field{did_you_mean(key, allowed)}")


def _instrument(
    role: str, entry: dict[str, Any], where: str, problems: Problems
) -> InstrumentConfig | None:
    from drivers.registry import MODELS  # lazy: reading a config never imports a driver

    _unknown(entry, _INSTRUMENT_KEYS, where, problems)
    ok = True
    model = entry.get("model")
    if not isinstance(model, str) or model not in MODELS:
        hint = did_you_mean(str(model), MODELS)
        problems.add(f"{where}.model", f"unknown instrument model {model!r}{hint}")
        ok = False
    for key in ("resource", "serial"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            problems.add(f"{where}.{key}", "missing or not a non-empty string")
            ok = False
    cal_due = entry.get("cal_due")
    if not isinstance(cal_due, dt.date) or isinstance(cal_due, dt.datetime):
        problems.add(f"{where}.cal_due", f"must be a TOML date like 2027-03-31, got {cal_due!r}")
        ok = False
    timeout = entry.get("timeout_s", 2.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 60:
        problems.add(
            f"{where}.timeout_s", f"must be a number of seconds in (0, 60], got {timeout!r}"
        )
        ok = False
    options = entry.get("options", {})
    if not isinstance(options, dict):
        problems.add(f"{where}.options", "must be a table")
        ok = False
    backend = entry.get("backend", "@py")
    if not isinstance(backend, str):
        problems.add(f"{where}.backend", "must be a string such as '@py' or '@ivi'")
        ok = False
    if not ok:
        return None
    assert isinstance(cal_due, dt.date)
    return InstrumentConfig(
        role,
        str(model),
        entry["resource"],
        entry["serial"],
        cal_due,
        float(timeout),
        backend,
        dict(options),
    )


def _can(table: dict[str, Any], base: Path, problems: Problems) -> CanConfig | None:
    _unknown(table, _CAN_KEYS, "can", problems)
    interface, channel = table.get("interface"), table.get("channel")
    ok = True
    for key, value in (("interface", interface), ("channel", channel)):
        if not isinstance(value, str) or not value:
            problems.add(f"can.{key}", "missing or not a non-empty string")
            ok = False
    bitrate = table.get("bitrate")
    if bitrate is not None and (isinstance(bitrate, bool) or not isinstance(bitrate, int)):
        problems.add("can.bitrate", f"must be an integer (bit/s), got {bitrate!r}")
        ok = False
    bms = table.get("bms")
    if not isinstance(bms, str) or not bms:
        problems.add("can.bms", "missing: name the BMS description file (DBC, signal map, UDS)")
        ok = False
    elif not (base / bms).is_file():
        problems.add("can.bms", f"file not found: {base / bms}")
        ok = False
    options = table.get("options", {})
    if not isinstance(options, dict):
        problems.add("can.options", "must be a table of python-can arguments")
        ok = False
    if not ok:
        return None
    assert isinstance(bms, str)
    return CanConfig(str(interface), str(channel), base / bms, bitrate, dict(options))


def _retest(table: Any, problems: Problems) -> RetestPolicy | None:
    if not isinstance(table, dict):
        problems.add("retest", "must be a table")
        return None
    _unknown(table, _RETEST_KEYS, "retest", problems)
    default = RetestPolicy()
    ok = True
    counts = {}
    for key, low in (("max_attempts", 1), ("signoff_from_attempt", 0)):
        value = table.get(key, getattr(default, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            problems.add(f"retest.{key}", f"must be a whole number ≥ {low}, got {value!r}")
            ok = False
        counts[key] = value
    rework_signoff = table.get("rework_signoff", default.rework_signoff)
    if not isinstance(rework_signoff, bool):
        problems.add("retest.rework_signoff", "must be true or false")
        ok = False
    if not ok:
        return None
    return RetestPolicy(counts["max_attempts"], counts["signoff_from_attempt"], rework_signoff)


def _masters(table: Any, problems: Problems) -> MasterPolicy | None:
    if not isinstance(table, dict):
        problems.add("masters", "must be a table")
        return None
    _unknown(table, _MASTER_KEYS, "masters", problems)
    ok = True
    golden = table.get("golden", [])
    if not isinstance(golden, list) or not all(isinstance(s, str) and s for s in golden):
        problems.add("masters.golden", "must be a list of pack serials")
        ok = False
        golden = []
    failures: list[FailureMaster] = []
    entries = table.get("failure", [])
    if not isinstance(entries, list):
        problems.add("masters.failure", "must be a list of { serial, expect, fault } tables")
        return None
    for i, entry in enumerate(entries):
        where = f"masters.failure[{i}]"
        if not isinstance(entry, dict):
            problems.add(where, "must be a table { serial, expect, fault }")
            ok = False
            continue
        _unknown(entry, _FAILURE_MASTER_KEYS, where, problems)
        serial, expect, fault = entry.get("serial"), entry.get("expect"), entry.get("fault", "")
        for key, value in (("serial", serial), ("expect", expect)):
            if not isinstance(value, str) or not value:
                problems.add(f"{where}.{key}", "missing or not a non-empty string")
                ok = False
        if not isinstance(fault, str):
            problems.add(
                f"{where}.fault", "must be a fault NAME[=VALUE] (station sim --list-faults)"
            )
            ok = False
        if ok:
            failures.append(FailureMaster(str(serial), str(expect), str(fault)))
    serials = [*golden, *(m.serial for m in failures)]
    doubled = sorted({s for s in serials if serials.count(s) > 1})
    if doubled:
        problems.add("masters", f"serial(s) {', '.join(doubled)} named more than once")
        ok = False
    if not ok:
        return None
    return MasterPolicy(tuple(golden), tuple(failures))
