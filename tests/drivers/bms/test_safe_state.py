"""The BMS's safe state: the engine's end-of-run safe state opens the pack's contactors.

A simulated reference BMS on a 96S pack and its circuit, on a fresh virtual CAN channel, under
the station's lockstep virtual clock, which only the waiting client steps (as in a run).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import can
import pytest

from drivers.bms.bms import Bms
from drivers.bms.description import BmsDescription
from drivers.errors import BmsError, BmsTimeout
from drivers.roles import OutputCapable
from drivers.sim.bms import SimulatedBms
from drivers.sim.electrical import PackCircuit
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec
from station.clock import VirtualClock

DESCRIPTION = Path(__file__).resolve().parents[3] / "sequences" / "bms" / "eol_reference.toml"
OPEN_ROUTINE = "31 01 02 02"


class Rig:
    """A simulated BMS on a pack, and the station's client for it."""

    def __init__(self) -> None:
        self.channel = f"bms-safe-state-{uuid.uuid4().hex}"
        self.clock = VirtualClock()
        self.pack = Pack(get_pack_spec("nmc96s"))
        self.circuit = PackCircuit(self.pack, self.clock.now)
        self.sim_bus = can.Bus(interface="virtual", channel=self.channel)
        self.sim = SimulatedBms(
            self.pack, self.sim_bus, now=self.clock.now, circuit=self.circuit, scheduler=self.clock
        )
        self.sim.start()
        self.requests: list[str] = []

    def client(self, description: BmsDescription | None = None) -> Bms:
        def trace(resource: str, direction: str, text: str) -> None:
            if direction == ">":
                self.requests.append(text)

        bms = Bms(
            description or BmsDescription.load(DESCRIPTION),
            {"interface": "virtual", "channel": self.channel},
            now=self.clock.now,
            pacer=self.clock,
            p2_timeout_s=1.0,
            read_timeout_s=1.0,
            uds_tracer=trace,
        )
        self.clock.add_settle(bms.settle)
        return bms

    def close(self) -> None:
        self.sim.close()
        self.sim_bus.shutdown()


@pytest.fixture
def rig() -> Iterator[Rig]:
    made = Rig()
    try:
        yield made
    finally:
        made.close()


def test_the_bms_is_an_output_the_engine_makes_safe(rig: Rig) -> None:
    with rig.client() as bms:
        assert isinstance(bms, OutputCapable)


def test_open_contactors_need_no_request(rig: Rig) -> None:
    with rig.client() as bms:
        bms.safe_state()
        assert bms.is_safe()
        assert rig.requests == []  # nothing to do: no session, no unlock, no routine


def test_closed_contactors_are_opened_through_the_routine(rig: Rig) -> None:
    rig.circuit.close_contactors_settled()
    with rig.client() as bms:
        assert not bms.is_safe()
        bms.safe_state()
        assert rig.pack.contactor_state == "open"
        assert OPEN_ROUTINE in rig.requests
        assert bms.is_safe()


def test_is_safe_reads_a_frame_sent_after_the_call(rig: Rig) -> None:
    with rig.client() as bms:
        assert bms.is_safe()
        rig.circuit.close_contactors_settled()  # closed behind the station's back
        assert not bms.is_safe()  # never the OPEN frame received before


def test_a_welded_contactor_is_reported_not_swallowed(rig: Rig) -> None:
    rig.circuit.close_contactors_settled()
    rig.pack.faults.contactor_welded = True
    with rig.client() as bms:
        with pytest.raises(BmsError, match="still reports the contactors WELDED"):
            bms.safe_state()
        assert not bms.is_safe()


def test_a_silent_bms_cannot_be_confirmed_safe(rig: Rig) -> None:
    with rig.client() as bms:
        bms.contactor_state(after=rig.clock.now())
        rig.sim.faults.silent = True
        rig.clock.advance(1.0)  # every message goes stale
        with pytest.raises(BmsTimeout):
            bms.safe_state()


def _description_without(tmp_path: Path, *, drop: tuple[str, ...]) -> BmsDescription:
    lines = DESCRIPTION.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith(drop)]
    dbc = DESCRIPTION.parent / "eol_reference.dbc"
    text = "\n".join(kept).replace('dbc = "eol_reference.dbc"', f'dbc = "{dbc}"')
    path = tmp_path / "bms.toml"
    path.write_text(text, encoding="utf-8")
    return BmsDescription.load(path)


def test_no_state_and_no_routine_leaves_nothing_to_do(rig: Rig, tmp_path: Path) -> None:
    # Like foxBMS: no contactor state on CAN and no UDS routine to open them.
    description = _description_without(tmp_path, drop=("contactor_state", "open_contactors"))
    with rig.client(description) as bms:
        bms.safe_state()
        assert bms.is_safe()
        assert rig.requests == []


def test_closed_with_no_routine_to_open_them_is_an_error(rig: Rig, tmp_path: Path) -> None:
    description = _description_without(tmp_path, drop=("open_contactors",))
    rig.circuit.close_contactors_settled()
    with rig.client(description) as bms, pytest.raises(BmsError, match="open_contactors"):
        bms.safe_state()


def test_state_labels_of_another_bms_are_read_through_the_description(
    rig: Rig, tmp_path: Path
) -> None:
    # The same frames, but a DBC whose value table says CTR_OPEN / CTR_CLOSED: with
    # OPEN/CLOSED hard-coded the station could never confirm the safe state.
    dbc = (DESCRIPTION.parent / "eol_reference.dbc").read_text(encoding="utf-8")
    relabelled = dbc.replace(
        'ContactorState 0 "OPEN" 1 "PRECHARGE" 2 "CLOSED" 3 "WELDED"',
        'ContactorState 0 "CTR_OPEN" 1 "CTR_PRE" 2 "CTR_CLOSED" 3 "CTR_WELDED"',
    )
    assert relabelled != dbc
    (tmp_path / "other.dbc").write_text(relabelled, encoding="utf-8")
    text = DESCRIPTION.read_text(encoding="utf-8").replace(
        'dbc = "eol_reference.dbc"', 'dbc = "other.dbc"'
    )
    text = text.replace(
        'contactor_state = { open = ["OPEN"], closed = ["CLOSED"], precharge = ["PRECHARGE"], '
        'welded = ["WELDED"] }',
        'contactor_state = { open = ["CTR_OPEN"], closed = ["CTR_CLOSED"], welded = [3] }',
    )
    (tmp_path / "other.toml").write_text(text, encoding="utf-8")
    description = BmsDescription.load(tmp_path / "other.toml")
    assert description.states["contactor_state"] == {0: "open", 2: "closed", 3: "welded"}
    with rig.client(description) as bms:
        state = bms.contactor_state()
        assert (state.raw, state.label, state.meaning, str(state)) == (
            0,
            "CTR_OPEN",
            "open",
            "OPEN",
        )
        assert bms.is_safe()
        rig.circuit.close_contactors_settled()
        assert not bms.is_safe()
        bms.safe_state()
        assert bms.is_safe() and rig.requests[-1] == OPEN_ROUTINE
