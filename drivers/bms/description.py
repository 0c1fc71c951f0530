"""Load and check a BMS description: which DBC, which signal plays which role, UDS ids.

A description is a TOML file beside its DBC (``sequences/bms/*.toml``; the format and a
worked foxBMS example are in ``docs/bms-signal-map.md``). Every problem in it is collected —
unknown messages and signals with a did-you-mean, wrong units, bad ids — and reported at
once as a :class:`BmsDescriptionError` naming the file and the field.

Values are converted to SI on the way in (V, A, Ω, %, °C): a DBC signal in mV or kOhm gets a
factor here, and ``pack_current`` also gets ``current_sign`` so that every reading follows the
station convention, pack current > 0 = discharge.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cantools

from drivers.bms.security import SECURITY_ALGORITHMS
from drivers.bms.signal_map import ArrayRef, DbcResolver, SignalRef, suggest
from drivers.errors import BmsError

_TOP_KEYS = ("bms", "uds", "signals", "faults", "dids", "routines")
_BMS_KEYS = ("name", "dbc", "current_sign")
_UDS_KEYS = ("request_id", "response_id", "security_level", "security_algorithm")
_SIGNAL_SETTINGS = ("current_sign", "hvil_closed_value")
_ARRAY_KEYS = (
    "message",
    "multiplexer",
    "signals",
    "per_page",
    "invalid",
    "invalid_value",
    "count",
)


class BmsDescriptionError(BmsError):
    """The BMS description file is wrong; ``problems`` lists every finding."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"{path}: {len(self.problems)} problem(s) in the BMS description; fix them and "
            f"reload:\n{listing}"
        )


@dataclass(frozen=True)
class UdsSettings:
    """UDS addressing and security for the BMS."""

    request_id: int
    response_id: int
    security_level: int = 1
    security_algorithm: str = "eol-demo-v1"


@dataclass(frozen=True)
class BmsDescription:
    """A checked BMS description (construct with :meth:`load`).

    ``db`` is the loaded cantools database. ``faults`` maps a fault name to its flag signal;
    ``hvil_closed_value`` is the raw value of ``hvil_state`` that means "loop closed".
    """

    path: Path
    name: str
    dbc_path: Path
    db: Any
    signals: Mapping[str, SignalRef] = field(default_factory=dict)
    arrays: Mapping[str, ArrayRef] = field(default_factory=dict)
    faults: Mapping[str, SignalRef] = field(default_factory=dict)
    current_sign: int = 1
    hvil_closed_value: int = 0
    uds: UdsSettings | None = None
    dids: Mapping[str, int] = field(default_factory=dict)
    routines: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> BmsDescription:
        """Load and check the description at ``path``; raise BmsDescriptionError if wrong."""
        return _Loader(Path(path)).load()

    def signal_map(self) -> dict[str, SignalRef | ArrayRef]:
        """Return every role the monitor decodes: signals, arrays and ``fault.<name>``."""
        out: dict[str, SignalRef | ArrayRef] = {**self.signals, **self.arrays}
        out.update({f"fault.{name}": ref for name, ref in self.faults.items()})
        return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Loader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []
        self.db: Any = None
        self.resolver = DbcResolver(None, "", self.problem)

    def problem(self, where: str, text: str) -> None:
        self.problems.append(f"{where}: {text}")

    def load(self) -> BmsDescription:
        try:
            doc = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except OSError as err:
            raise BmsDescriptionError(self.path, [f"cannot read the file: {err}"]) from err
        except tomllib.TOMLDecodeError as err:
            raise BmsDescriptionError(self.path, [f"not valid TOML: {err}"]) from err
        for key in doc:
            # Tables for other readers (the simulator's [layout]) are allowed; a near miss
            # of one of ours ("[fault]") is a typo that would silently drop a table.
            hint = suggest(key, list(_TOP_KEYS))
            if key not in _TOP_KEYS and hint:
                self.problem(f"[{key}]", f"unknown table{hint}")
        bms = self.table(doc, "bms", required=True)
        self.check_keys("[bms]", bms, _BMS_KEYS)
        name = bms.get("name", self.path.stem)
        if not isinstance(name, str):
            self.problem("[bms].name", "must be a string")
            name = self.path.stem
        dbc_path = self.load_dbc(bms.get("dbc"))
        signal_table = self.table(doc, "signals", required=True)
        current_sign = self.sign(bms, signal_table)
        hvil_closed = signal_table.get("hvil_closed_value", 0)
        if hvil_closed not in (0, 1) or isinstance(hvil_closed, bool):
            self.problem("[signals].hvil_closed_value", f"must be 0 or 1, not {hvil_closed!r}")
            hvil_closed = 0
        signals: dict[str, SignalRef] = {}
        arrays: dict[str, ArrayRef] = {}
        for role, value in signal_table.items():
            where = f"[signals].{role}"
            if role in _SIGNAL_SETTINGS:
                continue
            if isinstance(value, str):
                ref = self.resolver.signal_ref(where, role, value)
                if ref is not None:
                    signals[role] = ref
            elif isinstance(value, dict):
                array = self.array_ref(where, role, value)
                if array is not None:
                    arrays[role] = array
            else:
                self.problem(
                    where, "must be 'Message.Signal' or an inline table for a multiplexed array"
                )
        if "pack_current" in signals:
            ref = signals["pack_current"]
            signals["pack_current"] = SignalRef(
                ref.role, ref.message, ref.signal, ref.factor * current_sign, ref.unit
            )
        faults = self.faults(doc, signals)
        uds = self.uds(doc)
        dids = self.id_table(doc, "dids")
        routines = self.id_table(doc, "routines")
        if self.problems:
            raise BmsDescriptionError(self.path, self.problems)
        return BmsDescription(
            path=self.path,
            name=name,
            dbc_path=dbc_path,
            db=self.db,
            signals=signals,
            arrays=arrays,
            faults=faults,
            current_sign=current_sign,
            hvil_closed_value=int(hvil_closed),
            uds=uds,
            dids=dids,
            routines=routines,
        )

    # --- shape -------------------------------------------------------------------------------

    def table(self, doc: Mapping[str, Any], key: str, *, required: bool) -> dict[str, Any]:
        value = doc.get(key)
        if value is None:
            if required:
                self.problem(f"[{key}]", "missing table")
            return {}
        if not isinstance(value, dict):
            self.problem(f"[{key}]", "must be a table")
            return {}
        return value

    def check_keys(self, where: str, table: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                hint = suggest(key, list(allowed)) or f" (expected one of {', '.join(allowed)})"
                self.problem(where, f"unknown key {key!r}{hint}")

    def sign(self, bms: Mapping[str, Any], signals: Mapping[str, Any]) -> int:
        if "current_sign" in bms and "current_sign" in signals:
            self.problem("[bms].current_sign", "given twice (also in [signals]); keep one")
        value = signals.get("current_sign", bms.get("current_sign", 1))
        if value not in (1, -1) or isinstance(value, bool):
            self.problem(
                "[signals].current_sign",
                f"must be 1 (DBC positive = discharge) or -1 (DBC positive = charge), "
                f"not {value!r}",
            )
            return 1
        return int(value)

    # --- DBC -----------------------------------------------------------------------------------

    def load_dbc(self, dbc: Any) -> Path:
        if not isinstance(dbc, str) or not dbc:
            self.problem("[bms].dbc", "missing: name the DBC file (relative to this file)")
            return Path()
        dbc_path = (self.path.parent / dbc).resolve()
        if not dbc_path.is_file():
            self.problem("[bms].dbc", f"file {dbc_path} does not exist")
            return dbc_path
        try:
            self.db = cantools.database.load_file(str(dbc_path), database_format="dbc")
        except Exception as err:  # cantools raises several unrelated types for a bad file
            self.problem("[bms].dbc", f"cannot load {dbc_path.name}: {err}")
        self.resolver = DbcResolver(self.db, dbc_path.name, self.problem)
        return dbc_path

    # --- signals -------------------------------------------------------------------------------

    def array_ref(self, where: str, role: str, table: Mapping[str, Any]) -> ArrayRef | None:
        self.check_keys(where, table, _ARRAY_KEYS)
        before = len(self.problems)
        for key in ("message", "multiplexer", "signals", "per_page"):
            if key not in table:
                self.problem(where, f"missing key {key!r}")
        per_page = table.get("per_page", 1)
        if not _is_int(per_page) or per_page < 1:
            self.problem(f"{where}.per_page", f"must be a whole number ≥ 1, not {per_page!r}")
            per_page = 1
        values = self.names(f"{where}.signals", table.get("signals", ()), per_page)
        invalid = (
            self.names(f"{where}.invalid", table["invalid"], per_page)
            if "invalid" in table
            else None
        )
        invalid_value = table.get("invalid_value", 1)
        if invalid_value not in (0, 1) or isinstance(invalid_value, bool):
            self.problem(f"{where}.invalid_value", f"must be 0 or 1, not {invalid_value!r}")
            invalid_value = 1
        count = table.get("count")
        if count is not None and (not _is_int(count) or count < 1):
            self.problem(f"{where}.count", f"must be a whole number ≥ 1, not {count!r}")
            count = None
        if len(self.problems) > before or values is None:
            return None
        array = ArrayRef(
            role=role,
            message=str(table["message"]),
            multiplexer=str(table["multiplexer"]),
            per_page=per_page,
            values=values,
            invalid=invalid,
            invalid_value=int(invalid_value),
            count=count,
        )
        return self.resolver.check_array(where, array)

    def names(self, where: str, value: Any, per_page: int) -> tuple[str, ...] | str | None:
        if isinstance(value, str):
            if "{" in value:
                try:
                    value.format(index=0, page=0, slot=0)
                except (KeyError, IndexError, ValueError) as err:
                    self.problem(
                        where,
                        f"template {value!r} is not valid ({err!r}); use {{index}}, "
                        "{page} or {slot}",
                    )
                    return None
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            if len(value) != per_page:
                self.problem(where, f"lists {len(value)} signals but per_page is {per_page}")
                return None
            return tuple(value)
        self.problem(where, "must be a list of signal names or a template string")
        return None

    # --- faults, UDS, identifiers -------------------------------------------------------------

    def faults(
        self, doc: Mapping[str, Any], signals: Mapping[str, SignalRef]
    ) -> dict[str, SignalRef]:
        table = self.table(doc, "faults", required=False)
        out: dict[str, SignalRef] = {}
        if "faults" in doc:
            for name, value in table.items():
                if not isinstance(value, str):
                    self.problem(f"[faults].{name}", "must be 'Message.Signal'")
                    continue
                ref = self.resolver.signal_ref(f"[faults].{name}", f"fault.{name}", value)
                if ref is not None:
                    out[name] = SignalRef(name, ref.message, ref.signal)
            return out
        if self.db is None:
            return out
        # No [faults] table: every 1-bit "Fault…" signal of the mapped messages is a fault.
        for message_name in dict.fromkeys(ref.message for ref in signals.values()):
            for signal in self.db.get_message_by_name(message_name).signals:
                if signal.length == 1 and signal.name.startswith("Fault"):
                    out.setdefault(signal.name, SignalRef(signal.name, message_name, signal.name))
        return out

    def uds(self, doc: Mapping[str, Any]) -> UdsSettings | None:
        if "uds" not in doc:
            return None
        table = self.table(doc, "uds", required=False)
        self.check_keys("[uds]", table, _UDS_KEYS)
        ids: list[int] = []
        for key in ("request_id", "response_id"):
            value = table.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 29:
                ids.append(value)
            else:
                self.problem(f"[uds].{key}", f"must be a CAN ID such as 0x7E0, not {value!r}")
                ids.append(0)
        level = table.get("security_level", 1)
        if not _is_int(level) or not 1 <= level <= 0x7D or level % 2 == 0:
            self.problem("[uds].security_level", f"must be an odd level 1…0x7D, not {level!r}")
            level = 1
        algorithm = table.get("security_algorithm", "eol-demo-v1")
        known = sorted(SECURITY_ALGORITHMS)
        if algorithm not in SECURITY_ALGORITHMS:
            hint = suggest(str(algorithm), known) or f" (known: {', '.join(known)})"
            self.problem("[uds].security_algorithm", f"unknown algorithm {algorithm!r}{hint}")
        return UdsSettings(ids[0], ids[1], int(level), str(algorithm))

    def id_table(self, doc: Mapping[str, Any], key: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for name, value in self.table(doc, key, required=False).items():
            if not _is_int(value) or not 0 <= value <= 0xFFFF:
                self.problem(
                    f"[{key}].{name}", f"must be a 16-bit number such as 0xF18C, not {value!r}"
                )
                continue
            out[name] = value
        return out


def load_description(path: str | Path) -> BmsDescription:
    """Load and check the BMS description at ``path`` (see :meth:`BmsDescription.load`)."""
    return BmsDescription.load(path)
