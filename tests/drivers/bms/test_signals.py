"""SignalMonitor: decoding, snapshots after an instant, staleness, alive counters, periods.

Frames are built with cantools from a DBC in the reference layout and handed straight to
``on_message_received`` (what the notifier thread does), so every test is deterministic; the
clock is a plain settable number.
"""

from __future__ import annotations

import math
import random
import threading
import time
from pathlib import Path
from typing import Any

import can
import cantools
import pytest

from drivers.bms.description import BmsDescription
from drivers.bms.signals import BmsWaitAborted, SignalMonitor
from drivers.errors import BmsError, BmsTimeout

DBC = """VERSION ""

NS_ :

BS_:

BU_: BMS STATION

BO_ 256 BMS_PackStatus: 8 BMS
 SG_ PackVoltage : 0|16@1+ (0.01,0) [0|655.35] "V" STATION
 SG_ PackCurrent : 16|16@1- (0.05,0) [-1638.4|1638.35] "A" STATION
 SG_ BusVoltage : 32|16@1+ (0.01,0) [0|655.35] "V" STATION
 SG_ SOC : 48|10@1+ (0.1,0) [0|100] "%" STATION
 SG_ AliveCounter : 60|4@1+ (1,0) [0|15] "" STATION

BO_ 257 BMS_State: 8 BMS
 SG_ ContactorState : 4|2@1+ (1,0) [0|3] "" STATION
 SG_ HvilState : 6|1@1+ (1,0) [0|1] "" STATION
 SG_ FaultCellOV : 8|1@1+ (1,0) [0|1] "" STATION
 SG_ InsulationResistance : 16|16@1+ (10,0) [0|655350] "kOhm" STATION
 SG_ AliveCounter : 60|4@1+ (1,0) [0|15] "" STATION

BO_ 272 BMS_CellVoltages: 8 BMS
 SG_ CellPage M : 0|8@1+ (1,0) [0|63] "" STATION
 SG_ Cell0 m0 : 8|16@1+ (0.0001,0) [0|6.5535] "V" STATION
 SG_ Cell1 m0 : 24|16@1+ (0.0001,0) [0|6.5535] "V" STATION
 SG_ Cell2 m0 : 40|16@1+ (0.0001,0) [0|6.5535] "V" STATION
 SG_ CellInvalid : 56|3@1+ (1,0) [0|7] "" STATION
 SG_ AliveCounter : 60|4@1+ (1,0) [0|15] "" STATION

BA_DEF_ BO_ "GenMsgCycleTime" INT 0 65535;
BA_DEF_DEF_ "GenMsgCycleTime" 0;
BA_ "GenMsgCycleTime" BO_ 256 100;
BA_ "GenMsgCycleTime" BO_ 257 100;
BA_ "GenMsgCycleTime" BO_ 272 10;
VAL_ 257 ContactorState 0 "OPEN" 1 "PRECHARGE" 2 "CLOSED" 3 "WELDED" ;
SG_MUL_VAL_ 272 Cell0 CellPage 0-63;
SG_MUL_VAL_ 272 Cell1 CellPage 0-63;
SG_MUL_VAL_ 272 Cell2 CellPage 0-63;
"""

TOML = """
[bms]
dbc = "ref.dbc"
[states.contactor_state]
open = ["OPEN"]
closed = ["CLOSED"]
[above_range]
insulation = [0xFFFF]
[signals]
pack_voltage = "BMS_PackStatus.PackVoltage"
pack_current = "BMS_PackStatus.PackCurrent"
soc = "BMS_PackStatus.SOC"
contactor_state = "BMS_State.ContactorState"
insulation = "BMS_State.InsulationResistance"
current_sign = {sign}
[signals.cell_voltages]
message = "BMS_CellVoltages"
multiplexer = "CellPage"
signals = ["Cell0", "Cell1", "Cell2"]
per_page = 3
invalid = "CellInvalid"
{count}
"""


class Clock:
    """A settable station clock."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def describe(tmp_path: Path, *, sign: int = 1, count: int | None = 7) -> BmsDescription:
    (tmp_path / "ref.dbc").write_text(DBC, encoding="utf-8")
    extra = "" if count is None else f"count = {count}"
    path = tmp_path / "ref.toml"
    path.write_text(TOML.format(sign=sign, count=extra), encoding="utf-8")
    return BmsDescription.load(path)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desc(tmp_path: Path) -> BmsDescription:
    return describe(tmp_path)


def monitor_for(desc: BmsDescription, clock: Clock, **kwargs: Any) -> SignalMonitor:
    return SignalMonitor(None, desc.db, desc.signal_map(), now=clock, **kwargs)


class Feeder:
    """Encode frames from the DBC and hand them to the monitor, with a running alive counter."""

    def __init__(self, db: cantools.database.can.Database, monitor: SignalMonitor) -> None:
        self.db = db
        self.monitor = monitor
        self.counters: dict[str, int] = {}

    def frame(self, name: str, alive: int | None = None, **values: float) -> None:
        message = self.db.get_message_by_name(name)
        counter = self.counters.get(name, 0) if alive is None else alive
        self.counters[name] = (counter + 1) % 16
        signals = {s.name: 0 for s in message.signals}
        signals.update(values, AliveCounter=counter)
        data = message.encode(signals, strict=False)
        self.monitor.on_message_received(
            can.Message(arbitration_id=message.frame_id, is_extended_id=False, data=data)
        )

    def pack(self, **values: float) -> None:
        base = {"PackVoltage": 400.0, "PackCurrent": 0.0, "SOC": 50.0}
        self.frame("BMS_PackStatus", **{**base, **values})

    def cells(self, page: int, volts: tuple[float, float, float], invalid: int = 0) -> None:
        cells = {f"Cell{k}": v for k, v in enumerate(volts)}
        self.frame("BMS_CellVoltages", CellPage=page, CellInvalid=invalid, **cells)


@pytest.fixture
def feed(desc: BmsDescription, clock: Clock) -> Feeder:
    return Feeder(desc.db, monitor_for(desc, clock))


def test_pack_values_decode_in_si_units(feed: Feeder) -> None:
    feed.pack(PackVoltage=398.76, PackCurrent=12.5, SOC=81.3)
    feed.frame("BMS_State", ContactorState=2, InsulationResistance=12340)
    m = feed.monitor
    assert m.value("pack_voltage") == pytest.approx(398.76)
    assert m.value("pack_current") == pytest.approx(12.5)
    assert m.value("soc") == pytest.approx(81.3)
    assert m.value("insulation") == pytest.approx(12.34e6)  # kOhm → Ω
    state = m.reading("contactor_state")
    assert (state.raw, state.label) == (2, "CLOSED")


def test_current_sign_turns_a_charge_positive_bms_into_the_station_convention(
    tmp_path: Path, clock: Clock
) -> None:
    desc = describe(tmp_path, sign=-1)
    feed = Feeder(desc.db, monitor_for(desc, clock))
    feed.pack(PackCurrent=20.0)  # this BMS counts charge positive
    assert feed.monitor.value("pack_current") == pytest.approx(-20.0)


def test_values_beyond_the_dbc_range_are_not_clamped(feed: Feeder) -> None:
    feed.pack(SOC=102.3)  # DBC says [0|100]; the BMS sent more: that is information
    assert feed.monitor.value("soc") == pytest.approx(102.3)


def test_a_raw_value_declared_above_range_is_flagged(feed: Feeder) -> None:
    feed.frame("BMS_State", InsulationResistance=655350)  # raw 0xFFFF, [above_range]
    reading = feed.monitor.reading("insulation")
    assert reading.above_range and reading.raw == 0xFFFF
    feed.frame("BMS_State", InsulationResistance=655340)
    assert not feed.monitor.reading("insulation").above_range


def test_unmapped_role_is_a_clear_error(feed: Feeder) -> None:
    with pytest.raises(BmsError, match="maps no signal for 'bus_voltage'"):
        feed.monitor.reading("bus_voltage")


def test_snapshot_assembles_pages_and_marks_invalid_cells(feed: Feeder, clock: Clock) -> None:
    feed.cells(0, (3.7001, 3.7002, 3.7003))
    feed.cells(1, (3.7011, 3.7012, 3.7013), invalid=0b010)
    feed.cells(2, (3.7021, 0.0, 0.0), invalid=0b110)  # 7 cells: slots 7, 8 do not exist
    cells = feed.monitor.snapshot("cell_voltages", after=0.0, timeout_s=1.0)
    assert cells == pytest.approx([3.7001, 3.7002, 3.7003, 3.7011, None, 3.7013, 3.7021])


def test_snapshot_uses_only_pages_received_after_the_instant(feed: Feeder, clock: Clock) -> None:
    for page in range(3):
        feed.cells(page, (3.5, 3.5, 3.5))  # before the load step
    clock.t = 10.0
    load_step = clock()
    feed.cells(0, (3.4, 3.4, 3.4))
    feed.cells(1, (3.4, 3.4, 3.4))
    with pytest.raises(BmsTimeout, match=r"page\(s\) 2 of BMS_CellVoltages"):
        feed.monitor.snapshot("cell_voltages", after=load_step, timeout_s=0.0)
    feed.cells(2, (3.4, 3.4, 3.4))
    cells = feed.monitor.snapshot("cell_voltages", after=load_step, timeout_s=1.0)
    assert cells == pytest.approx([3.4] * 7)


def test_snapshot_waits_for_pages_that_arrive_later(feed: Feeder, clock: Clock) -> None:
    clock.t = 5.0
    result: list[list[float | None]] = []
    waiter = threading.Thread(
        target=lambda: result.append(feed.monitor.snapshot("cell_voltages", 5.0, 10.0))
    )
    waiter.start()
    for page in range(3):
        feed.cells(page, (3.6, 3.6, 3.6))
    waiter.join(timeout=10.0)
    assert result == [pytest.approx([3.6] * 7)]


def test_snapshot_timeout_names_every_missing_page(feed: Feeder) -> None:
    with pytest.raises(BmsTimeout, match=r"page\(s\) 0–2 of BMS_CellVoltages \(CellPage\)"):
        feed.monitor.snapshot("cell_voltages", after=0.0, timeout_s=0.0)


def test_snapshot_stops_waiting_when_aborted(feed: Feeder) -> None:
    abort = threading.Event()
    abort.set()
    with pytest.raises(BmsWaitAborted):
        feed.monitor.snapshot("cell_voltages", after=0.0, timeout_s=30.0, abort=abort)


def test_page_count_is_learned_from_one_cycle_when_not_given(tmp_path: Path, clock: Clock) -> None:
    desc = describe(tmp_path, count=None)
    feed = Feeder(desc.db, monitor_for(desc, clock))
    for page in (2, 3, 0, 1, 2, 3):  # joined mid-cycle; the wrap 3 → 0 shows the cycle
        feed.cells(page, (3.3, 3.3, 3.3))
    assert len(feed.monitor.snapshot("cell_voltages", 0.0, 1.0)) == 12
    assert feed.monitor.snapshot("cell_voltages", 0.0, 1.0, count=5) == pytest.approx([3.3] * 5)


def test_page_count_unknown_before_a_full_cycle(tmp_path: Path, clock: Clock) -> None:
    desc = describe(tmp_path, count=None)
    feed = Feeder(desc.db, monitor_for(desc, clock))
    feed.cells(0, (3.3, 3.3, 3.3))
    with pytest.raises(BmsTimeout, match="page count is unknown"):
        feed.monitor.snapshot("cell_voltages", 0.0, 0.0)


def test_reading_after_an_instant_waits_for_a_new_frame(feed: Feeder, clock: Clock) -> None:
    feed.pack(PackCurrent=0.0)
    clock.t = 1.0
    with pytest.raises(BmsTimeout, match=r"no BMS_PackStatus frame since t=1\.000"):
        feed.monitor.reading("pack_current", after=1.0, timeout_s=0.0)
    feed.pack(PackCurrent=50.0)
    assert feed.monitor.value("pack_current", after=1.0, timeout_s=0.0) == pytest.approx(50.0)


def test_a_waiting_reading_wakes_on_the_frame_not_at_its_timeout(
    feed: Feeder, clock: Clock
) -> None:
    clock.t = 1.0
    got: list[float] = []
    waiter = threading.Thread(
        target=lambda: got.append(feed.monitor.value("pack_current", after=1.0, timeout_s=60.0))
    )
    waiter.start()
    deadline = time.monotonic() + 10.0
    while not feed.monitor._waiting and time.monotonic() < deadline:  # until it waits
        time.sleep(0.001)
    assert feed.monitor._waiting == 1
    feed.pack(PackCurrent=25.0)
    waiter.join(timeout=10.0)  # far below the reading's 60 s: woken by the frame
    assert got == [pytest.approx(25.0)]
    assert feed.monitor._waiting == 0


# --- values: several roles in one look ----------------------------------------------------


def test_values_are_what_value_gives_each_role_in_order(feed: Feeder, clock: Clock) -> None:
    feed.pack(PackVoltage=398.76, PackCurrent=-12.55, SOC=81.3)
    feed.frame("BMS_State", ContactorState=2, InsulationResistance=12340)
    roles = ["insulation", "pack_current", "soc", "pack_voltage", "contactor_state"]
    got = feed.monitor.values(roles, after=0.0, timeout_s=0.0)
    assert got == [feed.monitor.value(r, after=0.0, timeout_s=0.0) for r in roles]  # same bits
    assert got[:2] == [pytest.approx(12.34e6), pytest.approx(-12.55)]
    assert feed.monitor.values([], after=0.0) == []


def test_values_come_from_frames_received_at_or_after_the_instant(
    feed: Feeder, clock: Clock
) -> None:
    feed.pack(PackVoltage=390.0)
    feed.frame("BMS_State", InsulationResistance=5000)
    clock.t = 1.0
    feed.pack(PackVoltage=391.0)  # only BMS_PackStatus is new
    with pytest.raises(BmsTimeout, match=r"no BMS_State frame since t=1\.000 .* no insulation"):
        feed.monitor.values(["pack_voltage", "insulation"], after=1.0, timeout_s=0.0)
    with pytest.raises(BmsTimeout, match=r"no BMS_State frame since t=1\.001"):  # the first
        feed.monitor.values(["insulation", "pack_voltage"], after=1.001, timeout_s=0.0)
    feed.frame("BMS_State", InsulationResistance=6000)
    got = feed.monitor.values(["pack_voltage", "insulation"], after=1.0, timeout_s=0.0)
    assert got == [pytest.approx(391.0), pytest.approx(6e6)]


def test_values_without_an_instant_refuse_a_stale_message(feed: Feeder, clock: Clock) -> None:
    feed.pack(PackVoltage=390.0)
    feed.frame("BMS_State", InsulationResistance=5000)
    clock.t = 0.25
    feed.pack(PackVoltage=391.0)
    clock.t = 0.301  # BMS_State: 3 cycles without a frame; BMS_PackStatus is fresh
    with pytest.raises(BmsTimeout, match=r"BMS_State .* is stale.*insulation is out of date"):
        feed.monitor.values(["pack_voltage", "insulation"], timeout_s=0.0)
    assert feed.monitor.values(["pack_voltage"]) == [pytest.approx(391.0)]


def test_values_of_an_unmapped_role_is_a_clear_error(feed: Feeder) -> None:
    feed.pack()
    with pytest.raises(BmsError, match="maps no signal for 'bus_voltage'"):
        feed.monitor.values(["pack_voltage", "bus_voltage"])
    with pytest.raises(BmsError, match="maps no signal for 'cell_voltages'"):
        feed.monitor.values(["cell_voltages"])  # an array is no single value


def test_stale_message_is_detected_from_its_cycle_time(feed: Feeder, clock: Clock) -> None:
    feed.pack()
    feed.frame("BMS_State")
    feed.cells(0, (3.7, 3.7, 3.7))
    clock.t = 0.029
    assert feed.monitor.stale_messages() == []
    clock.t = 0.031  # 3 × 10 ms without a cell page
    assert feed.monitor.stale_messages() == ["BMS_CellVoltages"]
    clock.t = 0.301  # 3 × 100 ms
    assert feed.monitor.stale_messages() == ["BMS_CellVoltages", "BMS_PackStatus", "BMS_State"]
    with pytest.raises(BmsTimeout, match=r"BMS_PackStatus .* is stale"):
        feed.monitor.value("pack_voltage", timeout_s=0.0)
    feed.pack(PackVoltage=401.0)  # a fresh frame: no longer stale
    assert feed.monitor.value("pack_voltage", timeout_s=0.0) == pytest.approx(401.0)


def test_a_message_that_never_came_is_stale_too(desc: BmsDescription, clock: Clock) -> None:
    monitor = monitor_for(desc, clock)
    clock.t = 0.5
    assert "BMS_PackStatus" in monitor.stale_messages()
    assert monitor.status()["BMS_PackStatus"].frames == 0


def test_stale_factor_is_configurable(desc: BmsDescription, clock: Clock) -> None:
    feed = Feeder(desc.db, monitor_for(desc, clock, stale_factor=10.0))
    feed.pack()
    clock.t = 0.9
    assert "BMS_PackStatus" not in feed.monitor.stale_messages()


def test_alive_counter_violations_are_counted(feed: Feeder) -> None:
    for counter in (13, 14, 15, 0, 1):  # wraps mod 16: fine
        feed.pack(alive=counter)
    assert feed.monitor.alive_violations()["BMS_PackStatus"] == 0
    feed.pack(alive=3)  # skipped 2
    feed.pack(alive=3)  # repeated
    assert feed.monitor.alive_violations()["BMS_PackStatus"] == 2
    assert feed.monitor.status()["BMS_PackStatus"].alive_violations == 2


class Collector:
    """The frames a Feeder would hand to a monitor, kept to be handed over later."""

    def __init__(self) -> None:
        self.frames: list[can.Message] = []

    def on_message_received(self, msg: can.Message) -> None:
        self.frames.append(msg)


def test_a_batch_leaves_the_monitor_as_its_frames_one_by_one_do(
    desc: BmsDescription, clock: Clock
) -> None:
    kept = Collector()
    feed = Feeder(desc.db, kept)  # type: ignore[arg-type]
    for counter in (3, 4, 6, 6):  # two alive violations
        feed.pack(alive=counter, PackVoltage=400.0 + counter)
    feed.cells(0, (3.7001, 3.7002, 3.7003))
    feed.cells(1, (3.7011, 3.7012, 3.7013), invalid=0b010)
    feed.cells(2, (3.7021, 0.0, 0.0), invalid=0b110)
    feed.cells(2, (3.7031, 0.0, 0.0), invalid=0b110)
    short = can.Message(arbitration_id=0x100, is_extended_id=False, data=b"\x01\x02")
    unmapped = can.Message(arbitration_id=0x7E8, is_extended_id=False, data=bytes(8))
    error = can.Message(arbitration_id=0x100, is_error_frame=True, data=bytes(8))
    frames = [*kept.frames[:2], short, unmapped, error, *kept.frames[2:]]
    one_by_one, batched = monitor_for(desc, clock), monitor_for(desc, clock)
    clock.t = 1.25
    for msg in frames:
        one_by_one.on_message_received(msg)
    batched.on_batch(frames)
    for monitor in (one_by_one, batched):
        assert monitor.alive_violations()["BMS_PackStatus"] == 2
        assert monitor.decode_errors()["BMS_PackStatus"] == 1
    assert batched.status() == one_by_one.status()
    assert batched.periods() == one_by_one.periods()
    assert batched.reading("pack_voltage") == one_by_one.reading("pack_voltage")
    cells = batched.snapshot("cell_voltages", after=1.25, timeout_s=0.0)
    assert cells == one_by_one.snapshot("cell_voltages", after=1.25, timeout_s=0.0)
    assert cells[6] == pytest.approx(3.7031)  # the page's latest frame


def test_a_batch_without_a_mapped_frame_does_not_look_at_the_clock(
    desc: BmsDescription,
) -> None:
    def no_clock() -> float:
        raise AssertionError("the clock was read for frames the monitor does not map")

    monitor = SignalMonitor(None, desc.db, desc.signal_map(), now=lambda: 0.0)
    monitor._now = no_clock  # after the start time is taken
    monitor.on_batch([can.Message(arbitration_id=0x7E8, is_extended_id=False, data=bytes(8))])
    monitor._now = lambda: 0.0
    assert monitor.status()["BMS_PackStatus"].frames == 0


def test_undecodable_frames_are_counted(feed: Feeder) -> None:
    feed.monitor.on_message_received(
        can.Message(arbitration_id=0x100, is_extended_id=False, data=b"\x01\x02")
    )
    assert feed.monitor.decode_errors()["BMS_PackStatus"] == 1
    with pytest.raises(BmsTimeout):
        feed.monitor.reading("pack_voltage", timeout_s=0.0)


def test_periods_report_mean_and_jitter(feed: Feeder, clock: Clock) -> None:
    for t in (0.0, 0.1, 0.2, 0.3, 0.4):
        clock.t = t
        feed.pack()
    clock.t = 0.52
    feed.pack()
    stats = feed.monitor.periods()["BMS_PackStatus"]
    assert stats.frames == 6 and stats.expected_s == pytest.approx(0.1)
    assert stats.mean_s == pytest.approx(0.104)
    assert stats.max_s == pytest.approx(0.12) and stats.min_s == pytest.approx(0.1)
    assert stats.jitter_s == pytest.approx(0.008)
    recent = feed.monitor.periods(since=0.35)["BMS_PackStatus"]
    assert recent.frames == 2 and recent.mean_s == pytest.approx(0.12)
    assert feed.monitor.periods()["BMS_State"].mean_s is None


def test_stop_releases_waiters(feed: Feeder) -> None:
    feed.monitor.stop()
    with pytest.raises(BmsError, match="closed"):
        feed.monitor.snapshot("cell_voltages", after=0.0, timeout_s=30.0)
    assert math.isfinite(feed.monitor.periods()["BMS_PackStatus"].frames)


# --- pacer: stepping a lockstep virtual clock while a call is starved -------------------------


class StepPacer:
    """A lockstep clock for the monitor: each step moves 5 ms and lets ``due`` act there."""

    def __init__(self, clock: Clock, due: Any = None) -> None:
        self.clock = clock
        self.due = due
        self.steps: list[tuple[float, float]] = []  # (time before, until)

    def now(self) -> float:
        return self.clock.t

    def step(self, until: float) -> None:
        self.steps.append((self.clock.t, until))
        self.clock.t = min(self.clock.t + 0.005, until)
        if self.due is not None:
            self.due(self.clock.t)


def test_a_starved_snapshot_steps_the_pacer_until_the_pages_come(
    desc: BmsDescription, clock: Clock
) -> None:
    """Under a lockstep clock the BMS sends only when time moves, and the waiting call moves it."""
    pages = iter(range(3))

    def bms_acts(now: float) -> None:
        # The BMS side runs on its own thread: this join would time out if the waiting
        # call held the monitor's lock during step().
        page = next(pages, None)
        if page is not None:
            sender = threading.Thread(target=feed.cells, args=(page, (3.6, 3.6, 3.6)))
            sender.start()
            sender.join(timeout=1.0)
            assert not sender.is_alive()

    pacer = StepPacer(clock, bms_acts)
    feed = Feeder(desc.db, monitor_for(desc, clock, pacer=pacer))
    assert feed.monitor.snapshot("cell_voltages", after=0.0, timeout_s=5.0) == [3.6] * 7
    assert len(pacer.steps) == 3 and clock.t == pytest.approx(0.015)
    assert all(until == 5.0 for _, until in pacer.steps)  # never past the timeout


def test_the_pacer_is_not_stepped_when_the_answer_is_already_there(
    desc: BmsDescription, clock: Clock
) -> None:
    pacer = StepPacer(clock)
    feed = Feeder(desc.db, monitor_for(desc, clock, pacer=pacer))
    for page in range(3):
        feed.cells(page, (3.6, 3.6, 3.6))
    feed.pack(PackCurrent=12.0)
    assert len(feed.monitor.snapshot("cell_voltages", after=0.0, timeout_s=1.0)) == 7
    assert feed.monitor.value("pack_current", after=0.0) == pytest.approx(12.0)
    assert pacer.steps == []


def test_values_wait_each_role_with_its_own_timeout(desc: BmsDescription, clock: Clock) -> None:
    """What value() one role after the other would do: the wait for a later role starts when
    the earlier ones are read, and lasts timeout_s (here in a lockstep pacer's time)."""

    def bms_acts(now: float) -> None:
        if round(now * 1000) == 80:
            feed.frame("BMS_State", InsulationResistance=7000)

    pacer = StepPacer(clock, bms_acts)
    feed = Feeder(desc.db, monitor_for(desc, clock, pacer=pacer))
    feed.pack(PackVoltage=395.0)
    got = feed.monitor.values(["pack_voltage", "insulation"], after=0.0, timeout_s=0.1)
    assert got == [pytest.approx(395.0), pytest.approx(7e6)]
    assert clock.t == pytest.approx(0.08)  # stepped until the frame came, not to the timeout
    with pytest.raises(BmsTimeout, match=r"after 0\.1 s: no BMS_PackStatus frame since t=0\.080"):
        feed.monitor.values(["insulation", "pack_voltage"], after=clock.t, timeout_s=0.1)
    assert clock.t == pytest.approx(0.18)


def test_values_already_there_do_not_step_the_pacer(desc: BmsDescription, clock: Clock) -> None:
    pacer = StepPacer(clock)
    feed = Feeder(desc.db, monitor_for(desc, clock, pacer=pacer))
    feed.pack(PackCurrent=12.0)
    feed.frame("BMS_State", InsulationResistance=100)
    assert feed.monitor.values(["pack_current", "insulation"], after=0.0) == [
        pytest.approx(12.0),
        pytest.approx(1e5),
    ]
    assert pacer.steps == []


def test_a_dead_bms_times_out_in_the_pacers_time(desc: BmsDescription, clock: Clock) -> None:
    pacer = StepPacer(clock)
    monitor = monitor_for(desc, clock, pacer=pacer)
    with pytest.raises(BmsTimeout, match=r"after 0\.1 s: cell_voltages incomplete"):
        monitor.snapshot("cell_voltages", after=0.0, timeout_s=0.1)
    assert clock.t == pytest.approx(0.1)
    assert len(pacer.steps) == 20  # 5 ms a step, exactly as far as the timeout


def test_a_reading_stale_after_a_clock_jump_waits_for_a_fresh_frame(
    desc: BmsDescription, clock: Clock
) -> None:
    def bms_acts(now: float) -> None:
        if round(now * 1000) % 100 == 0:  # the BMS's next 100 ms slot
            feed.pack(PackCurrent=25.0)

    feed = Feeder(desc.db, monitor_for(desc, clock, pacer=StepPacer(clock, bms_acts)))
    feed.pack(PackCurrent=0.0)
    clock.t = 600.0  # a rest step in one virtual jump: every message is stale now
    assert feed.monitor.value("pack_current", timeout_s=5.0) == pytest.approx(25.0)
    assert 600.0 < clock.t <= 600.1 + 1e-9


ROOT = Path(__file__).resolve().parents[3]
VENDORED_DBCS = sorted([*ROOT.glob("sequences/bms/*.dbc"), *ROOT.glob("tests/data/dbc/*/*.dbc")])


@pytest.mark.parametrize("path", VENDORED_DBCS, ids=lambda p: p.name)
def test_a_value_decoded_when_read_is_the_one_decoding_every_frame_gives(path: Path) -> None:
    """Lazy decoding against eager, for every signal of every vendored DBC message: after
    each frame of a random stream (random pages, some the DBC does not define), every
    signal read gives the raw value the latest frame carrying it carried."""
    from drivers.bms.decoder import MessageDecoder
    from drivers.bms.signal_map import SignalRef

    db = cantools.database.load_file(str(path), strict=False)
    rng = random.Random(path.name)
    clock = Clock()
    checked = 0
    for message in db.messages:
        refs = {
            f"r{i}": SignalRef(f"r{i}", message.name, s.name) for i, s in enumerate(message.signals)
        }
        try:
            monitor = SignalMonitor(None, db, refs, now=clock)
            eager = MessageDecoder(message, [s.name for s in message.signals])
        except BmsError:
            continue  # a float, a signal past the frame's end, a nested multiplexer
        pages = sorted({int(p) for s in message.signals for p in (s.multiplexer_ids or ())})
        latest: dict[str, tuple[int, float]] = {}
        for _ in range(40):
            clock.t += 0.001
            data = bytearray(rng.randrange(256) for _ in range(message.length))
            if eager.mux is not None and pages and rng.random() < 0.8:
                # Most frames on a page the DBC defines: put its number in the multiplexer.
                frame = eager.read(bytes(data))
                mux = eager.mux
                base = frame[0] if mux.big_endian else frame[1]
                base = (base & ~(mux.mask << mux.shift)) | (rng.choice(pages) << mux.shift)
                order = "big" if mux.big_endian else "little"
                data = bytearray(base.to_bytes(message.length, order))
            msg = can.Message(
                arbitration_id=message.frame_id,
                is_extended_id=bool(message.is_extended_frame),
                data=data,
            )
            monitor.on_message_received(msg)
            for name, raw in eager.decode(bytes(data)).items():
                latest[name] = (raw, clock.t)
            for role, ref in refs.items():
                try:
                    got = monitor.reading(role, timeout_s=0.0)
                except BmsTimeout:
                    assert ref.signal not in latest
                else:
                    assert (got.raw, got.received_at) == latest[ref.signal], ref
                checked += 1
            ready = [role for role, ref in refs.items() if ref.signal in latest]
            each = [monitor.value(role, timeout_s=0.0) for role in ready]
            assert monitor.values(ready, timeout_s=0.0) == each  # pages and all: the same bits
    assert checked > 1000
