"""The fault catalogue of ``station coverage``: which fault each kind of step must catch.

``station coverage SEQUENCE`` runs the sequence on the virtual bench once per case: a healthy
baseline, and for every entry below each *bad* magnitude (the pack must not PASS, and the
first step that does not pass must be one of the entry's ``catches``) and each *good*
magnitude (the pack must PASS). The entries name step *types*, never step names, so the same
catalogue judges any sequence a test engineer writes; the table reports the step name that
caught each case. Reference: ``docs/coverage.md``.

How to add an entry
-------------------
1. The fault must exist in ``drivers/sim/faults.py`` (``station sim --list-faults``); its
   VALUE is what the entry's magnitudes are.
2. Append an :class:`Entry` to ``CATALOGUE`` (at the end of the list; keep one fault's
   entries together):

   ``fault``
       the fault's name.
   ``catches``
       one or more :class:`Catch`; the case is caught when the *first* step of the run that
       did not pass matches any of them. ``Catch(step_type, measurement, outcome, params,
       role)``: ``step_type`` (``None`` = any type), ``measurement`` (for ``FAILED``: this
       measurement must be among the step's failed ones; ``None`` = any), ``outcome``
       (``"FAILED"`` for a pack fault, ``"ERROR"`` for a station fault, ``"ABORTED"`` for a
       safety event), ``params`` (filter on the step's parameters, name → accepted values,
       e.g. ``{"pole": ("plus", "both")}``), ``role`` (the step's type must use this bench
       role, e.g. the first step that talks to the DMM).
   ``bad`` / ``good``
       fault VALUEs that must be caught / must PASS (``""`` = the fault's default; ``{last}``
       is replaced by the pack's last cell index; ``"0:0.97"`` is INDEX:FACTOR for the cell
       faults that take a factor). A plain switch has ``bad=("",)`` and no ``good``.
   ``derive``
       where the magnitude follows from the sequence's own numbers, a :class:`FromLimit`
       (``step_type``, ``measurement``, ``bound`` "low"/"high", ``bad_factor``,
       ``good_factor``, ``params`` filter) or a :class:`FromParam` (``step_type``, ``param``,
       factors, filter). The bad value is the factor × the strictest such bound of the
       sequence (for the limit of the chosen part number), the good value the factor × the
       most lenient, so the good case passes every matching step and the bad one fails them
       all. When the sequence has no such step, ``bad`` is used and the case is listed as
       declared (it is then usually an escape: nothing in the sequence looks for it).
   ``packs``
       the virtual packs the entry applies to (empty: all).
   ``needs_role``
       the entry applies only when some step of the sequence uses this bench role (an
       instrument fault on an instrument the sequence never uses proves nothing).
3. Run ``station coverage`` on both reference sequences: the new cases must be caught
   and their good magnitudes must PASS, or the report says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from station.outcomes import Outcome

ParamFilter = Mapping[str, tuple[object, ...]]


@dataclass(frozen=True)
class Catch:
    """A step that counts as catching a fault (see the module docstring)."""

    step_type: str | None
    measurement: str | None = None
    outcome: Outcome = Outcome.FAILED
    params: ParamFilter = field(default_factory=dict)
    role: str | None = None

    def describe(self) -> str:
        what = self.step_type or (f"a step using {self.role}" if self.role else "any step")
        if self.params:
            what += "[" + ",".join(f"{k}={'|'.join(map(str, v))}" for k, v in self.params.items())
            what += "]"
        if self.measurement:
            what += f".{self.measurement}"
        return f"{what} {self.outcome}"


@dataclass(frozen=True)
class FromLimit:
    """The magnitude is a factor × a bound of the sequence's limit on a measurement."""

    step_type: str
    measurement: str
    bound: Literal["low", "high"]
    bad_factor: float
    good_factor: float
    params: ParamFilter = field(default_factory=dict)


@dataclass(frozen=True)
class FromParam:
    """The magnitude is a factor × a numeric parameter of a step of the sequence."""

    step_type: str
    param: str
    bad_factor: float
    good_factor: float
    params: ParamFilter = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """One fault of the catalogue and what must catch it (see the module docstring)."""

    fault: str
    catches: tuple[Catch, ...]
    bad: tuple[str, ...] = ("",)
    good: tuple[str, ...] = ()
    derive: FromLimit | FromParam | None = None
    packs: tuple[str, ...] = ()
    needs_role: str | None = None


PLUS = {"pole": ("plus", "both")}
MINUS = {"pole": ("minus", "both")}
SCPI_ROLES = ("dmm", "insulation_tester", "supply")
# The interlock I/O module speaks Modbus: it can fall silent, but has no SCPI replies to garble
# and no error queue.
INSTRUMENT_FAULT_ROLES = {
    "not_answering": (*SCPI_ROLES, "interlocks"),
    "garbage_reply": SCPI_ROLES,
    "error_queue": SCPI_ROLES,
}


def _instrument_entries() -> list[Entry]:
    """A station fault is an ERROR of the first step that uses the instrument (a safety
    chain that cannot be read may also ABORT the step)."""
    entries = []
    for fault, roles in INSTRUMENT_FAULT_ROLES.items():
        for role in roles:
            catches = [Catch(None, outcome=Outcome.ERROR, role=role)]
            if role == "interlocks":
                catches.append(Catch(None, outcome=Outcome.ABORTED, role=role))
            entries.append(Entry(fault, tuple(catches), bad=(role,), needs_role=role))
    return entries


CATALOGUE: list[Entry] = [
    Entry(
        "low_insulation_plus",
        (Catch("insulation_resistance", "riso_ohm", params=PLUS),),
        bad=("2e6",),
        derive=FromLimit("insulation_resistance", "riso_ohm", "low", 0.9, 1.1, PLUS),
    ),
    Entry(
        "low_insulation_minus",
        (Catch("insulation_resistance", "riso_ohm", params=MINUS),),
        bad=("2e6",),
        derive=FromLimit("insulation_resistance", "riso_ohm", "low", 0.9, 1.1, MINUS),
    ),
    Entry(
        "breakdown",
        (Catch("withstand", "breakdown"),),
        bad=("1200",),
        derive=FromParam("withstand", "voltage_v", 0.9, 1.1),
    ),
    Entry(
        "weak_cell",
        (
            Catch("ocv_and_cells", "cell_voltages"),
            Catch("ocv_and_cells", "cell_spread_v"),
        ),
        bad=("0", "{last}"),
        good=("0:0.97",),  # 3 % low on capacity: inside the spread a pack may have
    ),
    Entry(
        "high_resistance_cell",
        (Catch("dcir"),),
        bad=("0", "{last}"),
        good=("0:1.5",),  # one cell 1.5× R0: well inside the pack's DCIR tolerance
    ),
    Entry("sense_wire_open", (Catch("ocv_and_cells", "cell_voltages"),), bad=("0", "{last}")),
    Entry("ntc_open", (Catch("temperatures", "temperatures"),), bad=("0", "{last}")),
    Entry("ntc_short", (Catch("temperatures", "temperatures"),), bad=("0", "{last}")),
    Entry("hvil_open", (Catch("hvil", "closed_at_rest"),)),
    Entry(
        "contactor_welded",
        (
            Catch("contactors", "state", params={"action": ("open",)}),
            Catch("contactors_precharge", "opened"),
        ),
    ),
    Entry("contactor_wont_close", (Catch("contactors_precharge", "closed"),)),
    Entry("precharge_timeout", (Catch("contactors_precharge"),)),
    Entry(
        "bms_out_of_calibration_range",
        (Catch("bms_current_calibration"), Catch("bms_voltage_calibration")),
    ),
    Entry("bms_silent", (Catch(None, outcome=Outcome.ERROR, role="bms"),), needs_role="bms"),
    Entry("wrong_sw_version", (Catch("identify", "sw_version"),)),
    Entry("stuck_dtc", (Catch("dtc"),)),
    *_instrument_entries(),
    Entry(
        "supply_overcurrent_trip",
        (Catch(None, outcome=Outcome.ERROR, role="supply"),),
        bad=("5",),
        needs_role="supply",
    ),
    Entry(
        "door_opened_mid_test",
        (Catch(None, outcome=Outcome.ABORTED, role="insulation_tester"),),
        needs_role="insulation_tester",
    ),
    Entry("estop_pressed", (Catch(None, outcome=Outcome.ABORTED),)),
    Entry(
        "nvm_not_committed",
        (
            Catch("bms_current_calibration", "persisted"),
            Catch("bms_voltage_calibration", "persisted"),
        ),
    ),
    Entry(
        "soc_bias",
        (Catch("set_soc", "soc_deviation_pct"), Catch("set_soc", "ocv_soc_pct")),
        bad=("5",),
        good=("2",),  # inside the BMS-vs-OCV tolerance of the reference sequences (±3 points)
    ),
    Entry("balancing_fet_open", (Catch("balancing", "bleed_drop_v"),), bad=("0", "{last}")),
    # Issue #9: the HV steps' proofs and the stack behind the contactors.
    Entry(
        "low_insulation_stack",
        (Catch("imd_function", "insulation_at_rest_ohm"),),
        bad=("2e6",),
        # The monitor reads the stack in parallel with the (healthy, GΩ) outside: 0.9× the
        # limit reads below it, 1.1× still above it.
        derive=FromLimit("imd_function", "insulation_at_rest_ohm", "low", 0.9, 1.1),
        needs_role="bms",
    ),
    Entry("imd_blind", (Catch("imd_function"),), needs_role="bms"),
    Entry(
        "ir_lead_open",
        (
            Catch("insulation_resistance", outcome=Outcome.ERROR),
            Catch("withstand", outcome=Outcome.ERROR),
        ),
        needs_role="insulation_tester",
    ),
    Entry(
        "dmm_lead_open",
        (
            Catch("insulation_resistance", outcome=Outcome.ERROR),
            Catch("withstand", outcome=Outcome.ERROR),
        ),
        needs_role="insulation_tester",
    ),
    Entry(
        "bms_reports_contactors_open",
        (
            Catch("insulation_resistance", outcome=Outcome.ERROR),
            Catch("withstand", outcome=Outcome.ERROR),
        ),
        needs_role="insulation_tester",
    ),
    Entry(
        "capacity_fade",
        # ΔAh / ΔSOC(BMS), and on NMC the OCV slope; the Ah moved is the stop condition
        (Catch("capacity", "soc_capacity_ah"), Catch("capacity", "ocv_slope_v_per_ah")),
        bad=("0.7", "0.9"),
        good=("0.98",),
    ),
    Entry(
        "pack_resistance",
        (Catch("dcir"),),  # r0_discharge_25c_ohm (or the raw value where nothing normalises)
        bad=("1.25",),
        good=("1.05",),
    ),
    Entry(
        "ambient_c",
        (),  # a condition, not a defect: a good pack passes in a cold and a warm room
        bad=(),
        good=("18", "32"),
    ),
]
"""Every entry, in the order the table lists them. Append new entries at the end."""
