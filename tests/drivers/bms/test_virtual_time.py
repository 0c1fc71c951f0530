"""The BMS client against the simulated BMS on the station's lockstep virtual clock.

The station's engine moves its virtual clock only when its own thread waits; while a step
waits inside the BMS client, the client steps it (its ``pacer``) to the simulated BMS's next
frame or routine poll. The simulated BMS is an actor of that clock (no thread of its own
sends frames) and the client's ``settle`` is the clock's settle hook, so a frame due at ``t``
has been received before anyone reads at ``t``. The test never advances the clock by hand
(except to model a rest step): every bit of virtual time a call needs comes from its waits.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import can
import pytest

from drivers.bms.bms import Bms
from drivers.bms.description import BmsDescription
from drivers.bms.isotp_link import IsoTpConnection
from drivers.bms.pacer import WALL_BOUND_S
from drivers.errors import BmsNegativeResponse, BmsTimeout
from drivers.sim.bms import SimulatedBms
from drivers.sim.electrical import PackCircuit
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec
from station.clock import VirtualClock

DESCRIPTION = Path(__file__).resolve().parents[3] / "sequences" / "bms" / "eol_reference.toml"
CELLS = 96
CELL_PAGES = 32  # 3 cells per page, one page every 10 ms


class Transcript:
    """The UDS tracer: keeps the lines and lets a test wait for one to turn up."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def __call__(self, resource: str, direction: str, text: str) -> None:
        with self._cond:
            self.lines.append((direction, text))
            self._cond.notify_all()

    def count(self, direction: str, text: str) -> int:
        with self._cond:
            return self.lines.count((direction, text))

    def wait_for(self, direction: str, text: str, times: int, timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: self.lines.count((direction, text)) >= times, timeout_s
            )


class Rig:
    """A simulated BMS on a 96S pack and its circuit, on a fresh virtual CAN channel."""

    def __init__(self) -> None:
        self.channel = f"bms-virtual-time-{uuid.uuid4().hex}"
        self.clock = VirtualClock()
        self.pack = Pack(get_pack_spec("nmc96s"))
        self.circuit = PackCircuit(self.pack, self.clock.now)
        self.sim_bus = can.Bus(interface="virtual", channel=self.channel)
        self.sim = SimulatedBms(
            self.pack, self.sim_bus, now=self.clock.now, circuit=self.circuit, scheduler=self.clock
        )
        self.transcript = Transcript()
        self.sim.start()

    def client(self, *, paced: bool = True, **options: Any) -> Bms:
        """Open the station's BMS client; ``paced`` lets it step the clock as a run does."""
        # P2 relaxed: this checks virtual time, not a busy CI machine's scheduling.
        options = {"p2_timeout_s": 1.0, "uds_tracer": self.transcript, **options}
        bms = Bms(
            BmsDescription.load(DESCRIPTION),
            {"interface": "virtual", "channel": self.channel},
            now=self.clock.now,
            pacer=self.clock if paced else None,
            **options,
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


def test_a_snapshot_after_now_completes_although_only_the_wait_moves_the_clock(rig: Rig) -> None:
    with rig.client() as bms:
        start = rig.clock.now()
        cells = bms.cell_voltages(after=start, timeout_s=5, count=CELLS)
        assert len(cells) == CELLS
        truth = rig.pack.cell_voltages()
        assert cells == pytest.approx(truth, abs=0.01)
        # Every page after ``start`` took its 10 ms slot of virtual time, and no more.
        assert (CELL_PAGES - 1) * 0.010 <= rig.clock.now() - start <= CELL_PAGES * 0.010 + 1e-9
        assert not any(s.alive_violations or s.decode_errors for s in bms.status().values())


def test_a_reading_after_a_load_change_reflects_it(rig: Rig) -> None:
    rig.circuit.close_contactors_settled()
    with rig.client() as bms:
        assert bms.pack_current(after=rig.clock.now()) == pytest.approx(0.0, abs=1.0)
        rig.circuit.connect("load", lambda volts: -50.0)  # draws 50 A out of the pack
        changed = rig.clock.now()
        # Ask for a frame two BMS cycles (2 × 100 ms) after the change, as a step with a
        # settle time would: a frame the BMS measured just before the change and sent just
        # after it is then never the answer.
        current = bms.pack_current(after=changed + 0.2, timeout_s=5)
        assert current == pytest.approx(50.0, abs=2.0)
        assert rig.clock.now() >= changed + 0.2


def test_close_contactors_precharges_in_virtual_time_while_the_client_waits(rig: Rig) -> None:
    with rig.client() as bms:
        bms.uds.change_session("extended")
        bms.uds.unlock()
        start = rig.clock.now()
        assert bms.uds.routine("close_contactors") == bytes([2])  # ContactorState CLOSED
        advanced = rig.clock.now() - start
        assert rig.transcript.count("<", "7F 31 78") >= 1, "no responsePending"
        assert rig.transcript.lines[-1] == ("<", "71 01 02 01 02")
        assert rig.pack.contactor_state == "closed"
        precharge_s = rig.pack.precharge_elapsed_s  # τ ≈ 50 ms up to 95 %: ~0.16 s
        assert 0.1 < precharge_s < 0.3
        assert precharge_s <= advanced < precharge_s + 0.5
        assert str(bms.contactor_state(after=rig.clock.now())) == "CLOSED"


def test_session_and_unlock_outlive_a_virtual_jump_while_tester_present_runs(
    rig: Rig,
) -> None:
    with rig.client() as bms:  # a keep-alive every 2 s, in virtual time
        bms.uds.change_session("extended")
        bms.uds.unlock()
        start = rig.clock.now()
        rig.clock.advance(600.0)  # a rest step: one jump of the engine's clock
        # The keeper is punctual: the jump stopped where it was due, 3 s apart at most
        # (2 s and half of it), and at each stop its keep-alive went out, unanswered.
        sent = rig.transcript.count(">", "3E 80")
        assert 600 / 3 <= sent <= 600 / 2
        assert rig.transcript.count("<", "7E 00") == 0
        assert rig.clock.now() == start + 600.0
        uds = rig.sim.uds
        assert uds is not None and uds.session == 0x03 and uds.unlocked
        bms.uds.write_did("eol_flag", b"\x01")  # needs the extended session and the unlock
        assert rig.sim.nvm.eol_flag == 1
        assert bms.uds.keeper_running and bms.uds.keeper_failures == 0


def test_without_keep_alives_the_session_ends_after_s3_of_virtual_time(rig: Rig) -> None:
    # A keeper slower than the ECU's 5 s S3: the first keep-alive would come at 10 s.
    with rig.client(tester_present_interval_s=10.0) as bms:
        bms.uds.change_session("extended")
        bms.uds.unlock()
        rig.clock.advance(4.9)
        uds = rig.sim.uds
        assert uds is not None and uds.session == 0x03
        rig.clock.advance(0.2)  # 5.1 s without a request: S3 has run out, in virtual time
        assert uds.session == 0x01 and not uds.unlocked
        with pytest.raises(BmsNegativeResponse) as refused:
            bms.uds.write_did("eol_flag", b"\x01")
        assert refused.value.nrc == 0x7F  # serviceNotSupportedInActiveSession
        assert rig.transcript.count(">", "3E 80") == 0


def test_a_security_lockout_ends_after_its_delay_in_virtual_time(rig: Rig) -> None:
    uds = rig.sim.uds
    assert uds is not None
    assert uds.handle(b"\x10\x03") is not None
    wrong_key = b"\x27\x02\x00\x00\x00\x00"
    for _ in range(3):
        assert uds.handle(b"\x27\x01") is not None  # a seed
        answer = uds.handle(wrong_key)
    assert answer == b"\x7f\x27\x36"  # exceededNumberOfAttempts: locked out for 10 s
    rig.clock.advance(4.0)
    assert uds.handle(b"\x3e\x00") == b"\x7e\x00"  # keeps the session
    rig.clock.advance(4.0)
    assert uds.handle(b"\x27\x01") == b"\x7f\x27\x37"  # requiredTimeDelayNotExpired
    rig.clock.advance(2.1)
    seed = uds.handle(b"\x27\x01")
    assert seed is not None and seed[:2] == b"\x67\x01" and len(seed) == 6


def test_a_request_waits_out_a_stalled_ecu_thread_while_virtual_time_stands_still(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loaded machine may hold the simulated ECU's thread longer than P2. The ECU answers
    in no virtual time, so under the pacer that is not a timeout, and no time passes."""
    server = rig.sim.uds
    assert server is not None
    handle, stalled = server.handle, threading.Event()

    def held_first(request: bytes) -> bytes | None:
        if not stalled.is_set():
            stalled.set()
            time.sleep(0.3)  # six times the P2 below: the thread stalled, not the ECU
        return handle(request)

    monkeypatch.setattr(server, "handle", held_first)
    with rig.client(p2_timeout_s=0.05) as bms:
        before = rig.clock.now()
        assert bms.uds.read_did_text("part_number") == "NM96-A"
        assert stalled.is_set()
        assert rig.clock.now() == before


def test_a_tester_thread_stalled_past_a_real_flow_control_bound_gets_the_whole_answer(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first frame of a multi-frame answer reaches the client's ISO-TP stack 1.2 s late,
    so its flow control is later than a real bus's 1 s bound: the simulated ECU waits for it
    under the lockstep clock, and the answer is whole."""
    on_frame, stalled = IsoTpConnection._on_frame, threading.Event()

    def late_first_frame(self: IsoTpConnection, msg: can.Message) -> None:
        if msg.arbitration_id == 0x7E8 and msg.data[0] >> 4 == 1 and not stalled.is_set():
            stalled.set()
            time.sleep(1.2)  # the stall under test: past a real bus's 1 s flow-control bound
        on_frame(self, msg)

    monkeypatch.setattr(IsoTpConnection, "_on_frame", late_first_frame)
    with rig.client() as bms:
        assert bms.uds.read_did_text("part_number") == "NM96-A"  # 9 bytes: a first frame
        assert stalled.is_set()


def test_a_silent_bms_is_found_in_p2_once_its_frames_have_stopped(rig: Rig) -> None:
    rig.sim.faults.silent = True
    with rig.client(p2_timeout_s=0.05) as bms:
        rig.clock.advance(1.0)  # a rest: no cyclic frame came, every message is stale
        started = time.monotonic()
        with pytest.raises(BmsTimeout, match=r"\(P2 50 ms;"):
            bms.uds.read_did("part_number")
        assert time.monotonic() - started < WALL_BOUND_S / 2


def test_a_bms_that_let_a_request_go_unanswered_gets_p2_until_it_sends_again(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("drivers.bms.uds.WALL_BOUND_S", 0.3)  # the bound, shortened
    rig.sim.faults.silent = True
    with rig.client(p2_timeout_s=0.05) as bms:
        # Nothing shows yet that it is silent (no time has passed): presumed there.
        with pytest.raises(BmsTimeout, match=r"\(0\.3 s of wall time for a simulated ECU;"):
            bms.uds.read_did("part_number")
        with pytest.raises(BmsTimeout, match=r"\(P2 50 ms;"):
            bms.uds.read_did("part_number")
        rig.sim.faults.silent = False
        for _ in range(10):  # bounded: its ISO-TP restarts within a few ms of wall time
            rig.clock.advance(0.1)  # it sends its cyclic frames again: presumed there again
            try:
                assert bms.uds.read_did_text("part_number") == "NM96-A"
                break
            except BmsTimeout as err:  # asked before its ISO-TP listened again
                assert "(0.3 s of wall time for a simulated ECU;" in str(err)
        else:
            pytest.fail("the BMS did not answer after its silence ended")


def test_without_a_pacer_a_frozen_clock_times_out_on_the_wall_clock(rig: Rig) -> None:
    with rig.client(paced=False) as bms:
        started = time.monotonic()
        with pytest.raises(BmsTimeout, match="cell_voltages incomplete"):
            bms.cell_voltages(after=rig.clock.now(), timeout_s=0.5, count=CELLS)
        assert 0.5 <= time.monotonic() - started < 2.0
        assert rig.clock.now() == 0.0


def test_frames_due_at_t_are_received_before_a_read_at_t(rig: Rig) -> None:
    with rig.client() as bms:
        for jump in (0.1, 0.25, 600.0):
            rig.clock.advance(jump)  # the engine's wait: one jump, the BMS acts at its end
            now = rig.clock.now()
            # No wait at all: the clock's settle hook already saw the frames in.
            assert bms.status()["BMS_PackStatus"].last_received == now
            assert not bms.stale_messages()


def test_frames_keep_their_dbc_cycle_exactly_in_virtual_time(rig: Rig) -> None:
    with rig.client() as bms:
        start = rig.clock.now()
        bms.pack_voltage(after=start + 2.0, timeout_s=5.0)  # can_check's way of listening
        periods = bms.periods(since=start + 0.2)
        for name, stats in periods.items():
            assert stats.expected_s is not None and stats.frames > 2, name
            assert stats.mean_s == pytest.approx(stats.expected_s, abs=1e-9), name
            assert stats.jitter_s == pytest.approx(0.0, abs=1e-9), name
        assert not any(s.alive_violations for s in bms.status().values())


def test_the_same_calls_give_the_same_values_and_times() -> None:
    def session() -> list[float]:
        made = Rig()
        try:
            with made.client() as bms:
                made.circuit.close_contactors_settled()
                made.circuit.connect("load", lambda volts: -80.0)
                got = [bms.pack_current(after=made.clock.now() + 0.3, timeout_s=5)]
                got += [v or 0.0 for v in bms.cell_voltages(after=made.clock.now(), count=CELLS)]
                bms.uds.change_session("extended")
                bms.uds.unlock()
                got.append(made.clock.now())
                return got
        finally:
            made.close()

    assert session() == session()
