"""Load and check a BMS description: which DBC, which signal plays which role, UDS ids.

A description is a TOML file beside its DBC (``sequences/bms/*.toml``; the format and a
worked foxBMS example are in ``docs/bms-signal-map.md``). Every problem in it is collected —
unknown messages and signals with a did-you-mean, wrong units, bad ids — and reported at
once as a :class:`BmsDescriptionError` naming the file and the field.

Values are converted to SI on the way in (V, A, Ω, %, °C): a DBC signal in mV or kOhm gets a
factor here, and ``pack_current`` also gets ``current_sign`` so that every reading follows the
station convention, pack current > 0 = discharge.

Nothing about a particular BMS is built into the code: what its enumerated values mean
(``[states]``), which raw values are "not available" or "above range", how often each message
comes (``[periods_ms]`` where the DBC says nothing) and which signals are not station roles
(``[custom_signals]``) are all read from the description and checked against the DBC.
"""

from __future__ import annotations

import itertools
import logging
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cantools

from drivers.bms.decoder import MessageDecoder, UnsupportedSignal
from drivers.bms.security import SECURITY_ALGORITHMS
from drivers.bms.signal_map import (
    KNOWN_ROLES,
    MAX_PROBLEMS_PER_ARRAY,
    NOT_AVAILABLE_LABELS,
    REQUIRED_MEANINGS,
    STATE_MEANINGS,
    ArrayRef,
    DbcResolver,
    SignalRef,
    SourcesRef,
    labelled_raws,
    squash_label,
    suggest,
)
from drivers.errors import BmsError

_TOP_KEYS = (
    "bms",
    "uds",
    "signals",
    "custom_signals",
    "states",
    "not_available",
    "above_range",
    "periods_ms",
    "faults",
    "dids",
    "routines",
)
_BMS_KEYS = ("name", "dbc", "dbc_strict", "current_sign")
_UDS_KEYS = ("request_id", "response_id", "security_level", "security_algorithm")
_SIGNAL_SETTINGS = ("current_sign", "hvil_closed_value")
_SOURCES_KEYS = ("sources", "template", "ranges", "order", "invalid", "invalid_value")
_ARRAY_KEYS = (
    "message",
    "multiplexer",
    "signals",
    "per_page",
    "invalid",
    "invalid_value",
    "count",
)
_log = logging.getLogger(__name__)


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

    ``db`` is the loaded cantools database. ``faults`` maps a fault name to its flag signal.
    ``states`` maps an enumerated role (``contactor_state``, ``hvil_state``) to raw value →
    meaning ("open", "closed", "precharge", "welded"). ``cycle_s`` is each mapped message's
    period in s (DBC ``GenMsgCycleTime`` or ``[periods_ms]``). ``ignored`` lists what a
    lenient DBC load (``dbc_strict = false``) left out.
    """

    path: Path
    name: str
    dbc_path: Path
    db: Any
    signals: Mapping[str, SignalRef] = field(default_factory=dict)
    arrays: Mapping[str, ArrayRef | SourcesRef] = field(default_factory=dict)
    faults: Mapping[str, SignalRef] = field(default_factory=dict)
    current_sign: int = 1
    states: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    cycle_s: Mapping[str, float] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()
    uds: UdsSettings | None = None
    dids: Mapping[str, int] = field(default_factory=dict)
    routines: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> BmsDescription:
        """Load and check the description at ``path``; raise BmsDescriptionError if wrong."""
        return _Loader(Path(path)).load()

    def meaning(self, role: str, raw: int) -> str | None:
        """Return what ``raw`` of the enumerated ``role`` means ("open", …), None if unknown."""
        return self.states.get(role, {}).get(raw)

    def signal_map(self) -> dict[str, SignalRef | ArrayRef | SourcesRef]:
        """Return every role the monitor decodes: signals, arrays and ``fault.<name>``."""
        out: dict[str, SignalRef | ArrayRef | SourcesRef] = {**self.signals, **self.arrays}
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
        self.na_words: frozenset[str] = frozenset()
        self.lenient: dict[str, str] = {}
        """Messages a strict load would have refused → why (``dbc_strict = false``)."""
        self.ignored: list[str] = []

    def problem(self, where: str, text: str) -> None:
        self.problems.append(f"{where}: {text}")

    def load(self) -> BmsDescription:
        # Worded as station.inputs.read_toml words it (drivers may not import station).
        try:
            doc = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BmsDescriptionError(self.path, ["file not found"]) from None
        except IsADirectoryError:
            raise BmsDescriptionError(self.path, ["is a directory, not a TOML file"]) from None
        except PermissionError:
            raise BmsDescriptionError(self.path, ["cannot be read (permission denied)"]) from None
        except OSError as err:
            raise BmsDescriptionError(self.path, [f"cannot be read ({err.strerror})"]) from err
        except tomllib.TOMLDecodeError as err:  # says "(at line 4, column 7)"
            raise BmsDescriptionError(self.path, [f"is not valid TOML: {err}"]) from err
        except UnicodeDecodeError as err:
            raise BmsDescriptionError(self.path, [f"is not UTF-8 text ({err.reason})"]) from err
        except RecursionError:  # the parser recurses once per level of nesting
            raise BmsDescriptionError(self.path, ["nests too deep to read"]) from None
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
        strict = bms.get("dbc_strict", True)
        if not isinstance(strict, bool):
            self.problem("[bms].dbc_strict", f"must be true or false, not {strict!r}")
            strict = True
        dbc_path = self.load_dbc(bms.get("dbc"), strict=strict)
        signal_table = self.table(doc, "signals", required=True)
        current_sign = self.sign(bms, signal_table)
        na_table = self.table(doc, "not_available", required=False)
        self.na_words = self.na_labels(na_table)
        signals: dict[str, SignalRef] = {}
        arrays: dict[str, ArrayRef | SourcesRef] = {}
        for role, value in signal_table.items():
            where = f"[signals].{role}"
            if role in _SIGNAL_SETTINGS:
                continue
            if role not in KNOWN_ROLES:
                hint = suggest(role, list(KNOWN_ROLES)) or (f" (roles: {', '.join(KNOWN_ROLES)})")
                self.problem(
                    where, f"unknown role {role!r}{hint}; map other signals in [custom_signals]"
                )
                continue
            self.map_role(where, role, value, signals, arrays)
        for role, value in self.table(doc, "custom_signals", required=False).items():
            where = f"[custom_signals].{role}"
            if role in KNOWN_ROLES or role in _SIGNAL_SETTINGS:
                self.problem(where, f"{role!r} is a station role: map it in [signals]")
                continue
            if not isinstance(value, str):
                self.problem(where, "must be 'Message.Signal'")
                continue
            self.map_role(where, role, value, signals, arrays)
        if "pack_current" in signals:
            ref = signals["pack_current"]
            signals["pack_current"] = replace(ref, factor=ref.factor * current_sign)
        self.raw_sets(na_table, "not_available", signals, arrays)
        self.raw_sets(self.table(doc, "above_range", required=False), "above_range", signals, {})
        states = self.states(doc, signal_table, signals)
        faults = self.faults(doc, signals)
        used = list(
            dict.fromkeys(
                message
                for ref in [*signals.values(), *arrays.values(), *faults.values()]
                for message in (ref.messages if isinstance(ref, SourcesRef) else [ref.message])
            )
        )
        cycle_s = self.periods(doc, used)
        self.decodable([*signals.values(), *faults.values()], arrays)
        for message_name, why in self.lenient.items():
            if message_name in used:
                self.problem(
                    "[bms].dbc", f"message {message_name}, which is mapped, is broken: {why}"
                )
            else:
                self.ignored.append(f"{message_name} ({why})")
        uds = self.uds(doc)
        dids = self.id_table(doc, "dids")
        routines = self.id_table(doc, "routines")
        if self.problems:
            raise BmsDescriptionError(self.path, self.problems)
        if self.ignored:
            _log.warning(
                "%s: the lenient DBC load left out %d message(s) the description does not use: %s",
                self.path,
                len(self.ignored),
                "; ".join(self.ignored),
            )
        return BmsDescription(
            path=self.path,
            name=name,
            dbc_path=dbc_path,
            db=self.db,
            signals=signals,
            arrays=arrays,
            faults=faults,
            current_sign=current_sign,
            states=states,
            cycle_s=cycle_s,
            ignored=tuple(self.ignored),
            uds=uds,
            dids=dids,
            routines=routines,
        )

    def map_role(
        self,
        where: str,
        role: str,
        value: Any,
        signals: dict[str, SignalRef],
        arrays: dict[str, ArrayRef | SourcesRef],
    ) -> None:
        if isinstance(value, str):
            ref = self.resolver.signal_ref(where, role, value)
            if ref is not None:
                signals[role] = self.with_labels(ref)
        elif isinstance(value, dict):
            if "sources" in value or "template" in value:
                sources = self.sources_ref(where, role, value)
                if sources is not None:
                    arrays[role] = replace(sources, not_available_labels=self.na_words)
                return
            array = self.array_ref(where, role, value)
            if array is not None:
                arrays[role] = replace(array, not_available_labels=self.na_words)
        else:
            self.problem(
                where, "must be 'Message.Signal' or an inline table for a multiplexed array"
            )

    def decodable(self, refs: list[SignalRef], arrays: Mapping[str, ArrayRef | SourcesRef]) -> None:
        """Check that the client's decoder can extract every mapped signal (nested muxes)."""
        if self.db is None:
            return
        wanted: dict[str, list[str]] = {}
        for ref in refs:
            wanted.setdefault(ref.message, []).append(ref.signal)
        for array in arrays.values():
            if isinstance(array, SourcesRef):
                for element in array.elements:
                    wanted.setdefault(element.message, []).append(element.signal)
        for message_name, names in wanted.items():
            try:
                MessageDecoder(self.db.get_message_by_name(message_name), names)
            except UnsupportedSignal as err:
                self.problem(f"[signals] {message_name}", f"cannot be decoded: {err}")

    # --- not available, above range, states, periods --------------------------------------

    def na_labels(self, table: Mapping[str, Any]) -> frozenset[str]:
        words = table.get("labels", list(NOT_AVAILABLE_LABELS))
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            self.problem("[not_available].labels", "must be a list of VAL_ label words")
            words = list(NOT_AVAILABLE_LABELS)
        return frozenset(squash_label(w) for w in words)

    def with_labels(self, ref: SignalRef) -> SignalRef:
        """Add the raw values the DBC labels "not available".

        Only for measurements: the station's roles, and custom signals that carry a unit.
        A custom enumeration (a BMS state whose labels include "INIT" or "ERROR") keeps every
        value: there those labels are states, not missing measurements.
        """
        if self.db is None:
            return ref
        signal = self.db.get_message_by_name(ref.message).get_signal_by_name(ref.signal)
        if ref.role not in KNOWN_ROLES and not (signal.unit or "").strip():
            return ref
        return replace(ref, not_available=labelled_raws(signal, self.na_words))

    def raw_sets(
        self,
        table: Mapping[str, Any],
        key: str,
        signals: dict[str, SignalRef],
        arrays: dict[str, ArrayRef | SourcesRef],
    ) -> None:
        for role, value in table.items():
            where = f"[{key}].{role}"
            if key == "not_available" and role == "labels":
                continue
            if not isinstance(value, list) or not all(_is_int(v) for v in value):
                self.problem(where, "must be a list of raw values, e.g. [0x1FFF]")
                continue
            raws = frozenset(int(v) for v in value)
            if role in signals:
                ref = signals[role]
                signals[role] = replace(ref, **{key: getattr(ref, key) | raws})
            elif role in arrays:
                found = arrays[role]
                arrays[role] = replace(found, not_available=found.not_available | raws)
            else:
                roles = [*signals, *arrays] if key == "not_available" else list(signals)
                self.problem(where, f"{role!r} is not a mapped signal role{suggest(role, roles)}")

    def states(
        self,
        doc: Mapping[str, Any],
        signal_table: Mapping[str, Any],
        signals: Mapping[str, SignalRef],
    ) -> dict[str, dict[int, str]]:
        table = self.table(doc, "states", required=False)
        if self.db is None:
            return {}  # the DBC did not load: that problem is already listed
        for role in table:
            if role not in STATE_MEANINGS:
                hint = suggest(role, list(STATE_MEANINGS))
                self.problem(f"[states].{role}", f"not an enumerated role{hint}")
        legacy = signal_table.get("hvil_closed_value")
        if legacy is not None:
            if "hvil_state" in table:
                self.problem(
                    "[signals].hvil_closed_value", "given twice (also [states.hvil_state])"
                )
            elif not _is_int(legacy):
                self.problem("[signals].hvil_closed_value", f"must be a raw value, not {legacy!r}")
            else:
                table = {**table, "hvil_state": {"closed": [legacy]}}
        out: dict[str, dict[int, str]] = {}
        for role, meanings in STATE_MEANINGS.items():
            ref = signals.get(role)
            given = table.get(role)
            where = f"[states.{role}]"
            if ref is None:
                if given is not None and role not in signal_table:  # else: already reported
                    self.problem(where, f"{role} is not mapped in [signals]")
                continue
            if not isinstance(given, dict):
                needed = " and ".join(REQUIRED_MEANINGS[role])
                self.problem(
                    where,
                    f"missing: say which raw values or VAL_ labels of {ref} mean {needed}",
                )
                continue
            out[role] = self.state_table(where, ref, given, meanings)
            for meaning in REQUIRED_MEANINGS[role]:
                if meaning in given:
                    continue
                self.problem(where, f"missing {meaning!r}: which raw values mean {meaning}")
        return out

    def state_table(
        self, where: str, ref: SignalRef, given: Mapping[str, Any], meanings: tuple[str, ...]
    ) -> dict[int, str]:
        signal = None
        if self.db is not None:
            signal = self.db.get_message_by_name(ref.message).get_signal_by_name(ref.signal)
        choices = {
            str(label): int(raw) for raw, label in ((signal and signal.choices) or {}).items()
        }
        out: dict[int, str] = {}
        for meaning, values in given.items():
            field_where = f"{where}.{meaning}"
            if meaning not in meanings:
                hint = suggest(meaning, list(meanings)) or f" (one of {', '.join(meanings)})"
                self.problem(field_where, f"unknown state{hint}")
                continue
            for value in values if isinstance(values, list) else [values]:
                if _is_int(value):
                    raw = int(value)
                elif isinstance(value, str) and value in choices:
                    raw = choices[value]
                elif isinstance(value, str):
                    labels = list(choices)
                    known = suggest(value, labels) or (
                        f" (its labels: {', '.join(labels)})" if labels else " (it has none)"
                    )
                    self.problem(field_where, f"{ref} has no VAL_ label {value!r}{known}")
                    continue
                else:
                    self.problem(field_where, f"must list raw values or VAL_ labels, not {value!r}")
                    continue
                if raw in out and out[raw] != meaning:
                    self.problem(field_where, f"raw {raw} already means {out[raw]!r}")
                    continue
                out[raw] = meaning
        return out

    def periods(self, doc: Mapping[str, Any], used: list[str]) -> dict[str, float]:
        table = self.table(doc, "periods_ms", required=False)
        out: dict[str, float] = {}
        for message_name, value in table.items():
            where = f"[periods_ms].{message_name}"
            if self.db is None:
                continue  # the DBC did not load: that problem is already listed
            if message_name not in used:
                self.problem(where, f"not a mapped message{suggest(message_name, used)}")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                self.problem(where, f"must be the message period in ms (> 0), not {value!r}")
            else:
                out[message_name] = float(value) / 1000.0
        if self.db is None:
            return out
        for message_name in used:
            if message_name in out:
                continue
            cycle = self.db.get_message_by_name(message_name).cycle_time
            if cycle:
                out[message_name] = cycle / 1000.0
            else:
                self.problem(
                    f"[periods_ms].{message_name}",
                    "the DBC gives this message no cycle time (GenMsgCycleTime): give its "
                    "period in ms, or a silent BMS could not be told from a quiet one",
                )
        return out

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

    def load_dbc(self, dbc: Any, *, strict: bool) -> Path:
        if not isinstance(dbc, str) or not dbc:
            self.problem("[bms].dbc", "missing: name the DBC file (relative to this file)")
            return Path()
        dbc_path = (self.path.parent / dbc).resolve()
        if not dbc_path.is_file():
            self.problem("[bms].dbc", f"file {dbc_path} does not exist")
            return dbc_path
        try:
            self.db = cantools.database.load_file(
                str(dbc_path), database_format="dbc", strict=strict
            )
        except Exception as err:  # cantools raises several unrelated types for a bad file
            hint = (
                "; if it is about messages this description does not use, set "
                "dbc_strict = false in [bms]"
                if strict
                else ""
            )
            self.problem("[bms].dbc", f"cannot load {dbc_path.name}: {err}{hint}")
        if self.db is not None and not strict:
            for message in self.db.messages:
                try:
                    message.refresh(strict=True)
                except Exception as err:  # the check strict loading would have made
                    self.lenient[message.name] = str(err)
                    message.refresh(strict=False)
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

    def sources_ref(self, where: str, role: str, table: Mapping[str, Any]) -> SourcesRef | None:
        """An array of separate signals: a ``sources`` list, or a ``template`` over ``ranges``."""
        self.check_keys(where, table, _SOURCES_KEYS)
        if "sources" in table and "template" in table:
            self.problem(where, "give either sources or template with ranges, not both")
            return None
        texts = (
            self.string_list(f"{where}.sources", table["sources"])
            if "sources" in table
            else self.expand(where, table)
        )
        if not texts:
            if texts is not None:
                self.problem(where, "the array has no elements")
            return None
        invalid: list[str | None] = [None] * len(texts)
        if "invalid" in table:
            spec = dict(table, template=table["invalid"]) if "template" in table else None
            flags = (
                self.expand(f"{where}.invalid", spec)
                if spec is not None
                else self.string_list(f"{where}.invalid", table["invalid"])
            )
            if flags is None or len(flags) != len(texts):
                self.problem(f"{where}.invalid", f"must name one flag per element ({len(texts)})")
                return None
            invalid = list(flags)
        invalid_value = table.get("invalid_value", 1)
        if not _is_int(invalid_value):
            self.problem(f"{where}.invalid_value", f"must be a raw value, not {invalid_value!r}")
            return None
        elements: list[SignalRef] = []
        reported = 0
        for index, text in enumerate(texts):
            before = len(self.problems)
            ref = self.resolver.signal_ref(f"{where}[{index}]", role, text)
            if ref is not None:
                ref = self.one_page(f"{where}[{index}]", ref)
            if ref is None:
                reported += len(self.problems) - before
                if reported >= MAX_PROBLEMS_PER_ARRAY:
                    break
                continue
            flag = invalid[index]
            if flag is not None:
                flag_ref = self.resolver.signal_ref(f"{where}.invalid[{index}]", "", flag)
                if flag_ref is None:
                    continue
                if flag_ref.message != ref.message:
                    self.problem(f"{where}.invalid[{index}]", f"{flag} is not in {ref.message}")
                    continue
                invalid[index] = flag_ref.signal
            elements.append(self.with_labels(ref))
        if len(elements) != len(texts):
            return None
        return SourcesRef(role, tuple(elements), tuple(invalid), int(invalid_value))

    def one_page(self, where: str, ref: SignalRef) -> SignalRef | None:
        signal = self.db.get_message_by_name(ref.message).get_signal_by_name(ref.signal)
        ids = signal.multiplexer_ids
        if ids is not None and len(ids) > 1:
            self.problem(
                where,
                f"{ref} is on {len(ids)} multiplexer pages; a paged array (message, "
                "multiplexer, per_page) describes it",
            )
            return None
        return ref

    def string_list(self, where: str, value: Any) -> list[str] | None:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        self.problem(where, "must be a list of 'Message.Signal' strings")
        return None

    def expand(self, where: str, table: Mapping[str, Any]) -> list[str] | None:
        """Expand ``template`` over ``ranges`` ([first, last] inclusive, or a list of names),
        the first name of ``order`` outermost."""
        template = table.get("template")
        ranges = table.get("ranges")
        if not isinstance(template, str):
            self.problem(f"{where}.template", "must be a string such as 'Cells_{m}.V_{m}_{c}'")
            return None
        if not isinstance(ranges, dict) or not ranges:
            self.problem(f"{where}.ranges", "must be a table such as { m = [1, 4], c = [1, 12] }")
            return None
        spans: dict[str, Sequence[int | str]] = {}
        for name, span in ranges.items():
            if isinstance(span, list) and span and all(isinstance(v, str) for v in span):
                spans[name] = span  # the values themselves: ["A", "B", "C"]
            elif (
                isinstance(span, list)
                and len(span) == 2
                and all(_is_int(v) for v in span)
                and span[0] <= span[1]
            ):
                spans[name] = range(span[0], span[1] + 1)
            else:
                self.problem(
                    f"{where}.ranges.{name}",
                    f'must be [first, last] or a list of names such as ["A", "B"], not {span!r}',
                )
                return None
        order = table.get("order", list(spans))
        if not isinstance(order, list) or sorted(map(str, order)) != sorted(spans):
            self.problem(f"{where}.order", f"must list each of {', '.join(spans)} once")
            return None
        out: list[str] = []
        for combo in itertools.product(*(spans[name] for name in order)):
            try:
                out.append(template.format(**dict(zip(order, combo, strict=True))))
            except (KeyError, IndexError, ValueError) as err:
                self.problem(f"{where}.template", f"{template!r} cannot be filled: {err!r}")
                return None
        return out

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
