"""Simulated BMS, UDS side: a plain isotp + udsoncan client against the BMS's UDS server."""

import logging
import struct
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import can
import cantools
import isotp
import pytest
import udsoncan
from udsoncan.client import Client
from udsoncan.connections import PythonIsoTpConnection
from udsoncan.exceptions import NegativeResponseException, TimeoutException

from drivers.sim.bms import REFERENCE_DBC, SimulatedBms
from drivers.sim.bms_security import ALGORITHMS, eol_demo_v1
from drivers.sim.clock import ManualTime
from drivers.sim.electrical import PackCircuit
from drivers.sim.pack import Pack
from drivers.sim.packs import get_pack_spec

# Negative responses are expected here; keep udsoncan from logging each of them.
LOGGER_NAME = "sim-bms-test"
logging.getLogger(f"UdsClient[{LOGGER_NAME}]").setLevel(logging.CRITICAL)

DB: Any = cantools.database.load_file(str(REFERENCE_DBC), strict=True)
IDENTITY_DIDS = (0xF187, 0xF189, 0xF18C, 0xF191, 0xF195)


class Raw(udsoncan.DidCodec):
    """Pass DID data through as bytes; ``length`` None = the rest of the response."""

    def __init__(self, length: int | None = None) -> None:
        self.length = length

    def encode(self, value: bytes) -> bytes:
        return value

    def decode(self, payload: bytes) -> bytes:
        return bytes(payload)

    def __len__(self) -> int:
        if self.length is None:
            raise udsoncan.DidCodec.ReadAllRemainingData
        return self.length


CODECS = {
    **{did: Raw() for did in IDENTITY_DIDS},
    0xFD01: Raw(8),
    0xFD02: Raw(12),
    0xFD10: Raw(1),
    0xFD11: Raw(96),
    0xFD20: Raw(1),
    0xF190: Raw(),  # VIN: not in the reference BMS
}


class Rig:
    """A started BMS and a udsoncan client on one virtual CAN channel."""

    def __init__(self, **bms_options: Any) -> None:
        channel = f"bms-uds-{uuid.uuid4()}"
        self.clock = ManualTime()  # the bench: physics
        self.timer = ManualTime()  # the BMS's protocol timers (S3, lockout): wall time here
        self.pack = Pack(get_pack_spec("lfp16s"))
        self.circuit = PackCircuit(self.pack, self.clock)
        self.bms_bus = can.Bus(interface="virtual", channel=channel)
        self.bus = can.Bus(interface="virtual", channel=channel)
        options: dict[str, Any] = {"tick_interval_s": None, "uds_timer": self.timer}
        options.update(bms_options)
        self.bms = SimulatedBms(
            self.pack, self.bms_bus, now=self.clock, circuit=self.circuit, **options
        )
        self.bms.start()
        self.frames = can.BufferedReader()
        self.notifier = can.Notifier(self.bus, [self.frames], timeout=0.05)
        address = isotp.Address(isotp.AddressingMode.Normal_11bits, txid=0x7E0, rxid=0x7E8)
        params = {"tx_padding": 0xCC, "tx_data_min_length": 8, "stmin": 0, "blocksize": 0}
        self.stack = isotp.NotifierBasedCanStack(
            self.bus, self.notifier, address=address, params=params
        )
        self.responses_pending = threading.Event()
        config = dict(udsoncan.configs.default_client_config)
        config.update(
            data_identifiers=CODECS,
            security_algo=lambda level, seed, params=None: eol_demo_v1(seed),
            request_timeout=2.0,
            # The server announces P2 = 50 ms, a real-time figure; on a loaded test machine
            # its thread can be descheduled for longer. These tests check protocol
            # behaviour, not the server's timing, so the client waits up to 1 s.
            use_server_timing=False,
            p2_timeout=1.0,
            logger_name=LOGGER_NAME,
            nrc78_callback=self.responses_pending.set,
        )
        self.client = Client(PythonIsoTpConnection(self.stack), config=config)
        self.client.open()

    def unlock(self) -> None:
        self.client.change_session(3)
        self.client.unlock_security_access(1)

    def nrc(self, call: Callable[..., object]) -> int:
        with pytest.raises(NegativeResponseException) as err:
            call()
        return int(err.value.response.code)

    def read(self, did: int) -> bytes:
        return bytes(self.client.read_data_by_identifier(did).service_data.values[did])

    def run(self, seconds: float, step_s: float = 0.01) -> list[can.Message]:
        """Let ``seconds`` of clock time pass, ticking the BMS; return its frames."""
        sent = 0
        for _ in range(round(seconds / step_s)):
            self.clock.advance(step_s)
            sent += self.bms.tick()
        frames = []
        while len(frames) < sent:  # the notifier thread hands them over; bounded wait
            frame = self.frames.get_message(timeout=1.0)
            assert frame is not None, "BMS frames lost on the virtual bus"
            if frame.arbitration_id < 0x7E0:
                frames.append(frame)
        return frames

    def status(self, seconds: float = 0.2) -> dict[str, Any]:
        """Let ``seconds`` of clock time pass; return the last BMS_PackStatus and BMS_State."""
        state: dict[str, Any] = {}
        for frame in self.run(seconds):
            if frame.arbitration_id in (0x100, 0x101):
                state.update(DB.decode_message(frame.arbitration_id, frame.data, False))
        return state

    def close(self) -> None:
        self.client.close()
        self.notifier.stop()
        self.bms.close()
        self.bms_bus.shutdown()
        self.bus.shutdown()


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    r.close()


def in_thread(call: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    """Run a blocking client call in a thread; its result or exception lands in the dict."""
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["result"] = call()
        except Exception as err:
            out["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def advance_until_done(r: Rig, thread: threading.Thread, step_s: float = 0.01) -> None:
    """Move the clock in steps while the client waits; bounded in wall and clock time."""
    assert r.responses_pending.wait(2.0), "no 0x78 responsePending"
    for _ in range(500):
        r.clock.advance(step_s)
        thread.join(timeout=0.005)
        if not thread.is_alive():
            return
    thread.join(timeout=2.0)
    assert not thread.is_alive()


# --- security algorithm --------------------------------------------------------------------


def test_demo_algorithm_vector() -> None:
    # seed 0: 0x5A5AA5A5 rotl 7 = 0x2D52D2AD; + 0x01234567 = 0x2E761814
    assert eol_demo_v1(bytes(4)) == bytes.fromhex("2E761814")
    assert ALGORITHMS["eol-demo-v1"](bytes.fromhex("12345678")) == bytes.fromhex("389D340B")
    with pytest.raises(ValueError):
        eol_demo_v1(b"\x01\x02")


# --- sessions and security -----------------------------------------------------------------


def test_session_change_announces_timing_and_tester_present_keeps_it(rig: Rig) -> None:
    response = rig.client.change_session(3)
    assert response.service_data.p2_server_max == pytest.approx(0.05)
    assert response.service_data.p2_star_server_max == pytest.approx(5.0)
    assert rig.bms.uds is not None and rig.bms.uds.session == 3
    for _ in range(3):
        rig.timer.advance(4.0)
        rig.client.tester_present()
    assert rig.bms.uds.session == 3
    rig.timer.advance(5.1)  # S3 expires on the protocol timer
    assert rig.bms.uds.session == 1
    assert rig.nrc(lambda: rig.client.request_seed(1)) == 0x7F


def test_a_jump_of_the_bench_clock_keeps_session_unlock_and_lockout(rig: Rig) -> None:
    # Without a lockstep clock the protocol timers run on their own clock (wall time, as a
    # real tester's background keeper does): a jump of the bench's clock moves neither.
    rig.unlock()
    rig.clock.advance(600.0)  # a rest step in one virtual jump
    assert rig.bms.uds is not None and rig.bms.uds.session == 3 and rig.bms.uds.unlocked
    rig.client.write_data_by_identifier(0xFD10, b"\x01")
    rig.client.change_session(1)
    rig.client.change_session(3)
    for _ in range(3):
        seed = rig.client.request_seed(1).service_data.seed
        wrong = bytes(b ^ 0xFF for b in eol_demo_v1(seed))
        rig.nrc(lambda key=wrong: rig.client.send_key(2, key))
    rig.clock.advance(600.0)
    assert rig.nrc(lambda: rig.client.request_seed(1)) == 0x37


def test_unlock_with_seed_and_key(rig: Rig) -> None:
    rig.unlock()
    assert rig.bms.uds is not None and rig.bms.uds.unlocked
    # Already unlocked: the seed is all zeros.
    assert rig.client.request_seed(1).service_data.seed == bytes(4)


def test_protected_services_need_extended_session_then_unlock(rig: Rig) -> None:
    write = lambda: rig.client.write_data_by_identifier(0xFD10, b"\x01")  # noqa: E731
    routine = lambda: rig.client.start_routine(0x0210)  # noqa: E731
    assert rig.nrc(write) == 0x7F
    assert rig.nrc(routine) == 0x7F
    assert rig.nrc(lambda: rig.client.request_seed(1)) == 0x7F
    rig.client.change_session(3)
    assert rig.nrc(write) == 0x33
    assert rig.nrc(routine) == 0x33
    rig.client.unlock_security_access(1)
    rig.client.write_data_by_identifier(0xFD10, b"\x01")
    assert rig.read(0xFD10) == b"\x01"


def test_three_wrong_keys_lock_out_for_10_s_of_the_protocol_timer(rig: Rig) -> None:
    rig.client.change_session(3)
    assert rig.nrc(lambda: rig.client.send_key(2, bytes(4))) == 0x24  # no seed asked
    for expected in (0x35, 0x35, 0x36):
        seed = rig.client.request_seed(1).service_data.seed
        wrong = bytes(b ^ 0xFF for b in eol_demo_v1(seed))
        assert rig.nrc(lambda key=wrong: rig.client.send_key(2, key)) == expected
    for _ in range(2):  # 9.8 s, kept in session by TesterPresent
        assert rig.nrc(lambda: rig.client.request_seed(1)) == 0x37
        rig.timer.advance(4.9)
        rig.client.tester_present()
    assert rig.nrc(lambda: rig.client.request_seed(1)) == 0x37
    rig.timer.advance(0.3)
    rig.client.unlock_security_access(1)


def test_key_of_wrong_length_is_0x13(rig: Rig) -> None:
    rig.client.change_session(3)
    rig.client.request_seed(1)
    assert rig.nrc(lambda: rig.client.send_key(2, b"\x01\x02")) == 0x13


# --- DIDs -----------------------------------------------------------------------------------


def test_read_every_did(rig: Rig) -> None:
    values = {
        did: rig.read(did) for did in (*IDENTITY_DIDS, 0xFD01, 0xFD02, 0xFD10, 0xFD11, 0xFD20)
    }
    assert values[0xF187] == b"LF16-A"
    assert values[0xF189] == b"2.4.1"
    assert values[0xF18C] == b"BMS24A0000001"
    assert values[0xF191] == b"HW-C3"
    assert values[0xF195].startswith(b"SUP-")
    assert struct.unpack(">ff", values[0xFD01]) == (1.0, 0.0)
    assert struct.unpack(">fff", values[0xFD02]) == (1.0, 1.0, 0.0)
    assert values[0xFD10] == b"\x00"
    assert values[0xFD11] == b" " * 96
    assert values[0xFD20] == bytes([30])


def test_several_dids_in_one_request(rig: Rig) -> None:
    response = rig.client.read_data_by_identifier([0xFD01, 0xFD02, 0xFD10])
    assert set(response.service_data.values) == {0xFD01, 0xFD02, 0xFD10}


def test_identity_override_and_wrong_sw_version_fault() -> None:
    r = Rig(identity={"serial": "BMS24A0001234"})
    try:
        assert r.read(0xF18C) == b"BMS24A0001234"
        r.bms.faults.wrong_sw_version = True
        assert r.read(0xF189) == b"2.3.0"
    finally:
        r.close()


def test_unknown_or_read_only_did_is_0x31_and_bad_length_0x13(rig: Rig) -> None:
    assert rig.nrc(lambda: rig.read(0xF190)) == 0x31
    rig.unlock()
    assert rig.nrc(lambda: rig.client.write_data_by_identifier(0xF187, b"X")) == 0x31
    assert rig.nrc(lambda: rig.client.write_data_by_identifier(0xFD20, b"\x10\x20")) == 0x13
    assert rig.nrc(lambda: rig.client.write_data_by_identifier(0xFD20, b"\x65")) == 0x31
    assert rig.nrc(lambda: rig.client.write_data_by_identifier(0xFD10, b"\x02")) == 0x31
    assert rig.nrc(lambda: rig.client.write_data_by_identifier(0xFD11, b"\x00" * 96)) == 0x31


def test_eol_data_is_written_to_nvm_directly(rig: Rig) -> None:
    rig.unlock()
    record = b"NM96A0000001 RUN-ID 20261126 EOL-01".ljust(96)
    rig.client.write_data_by_identifier(0xFD11, record)
    rig.client.write_data_by_identifier(0xFD20, bytes([35]))
    rig.client.ecu_reset(1)
    assert rig.read(0xFD11) == record
    assert rig.read(0xFD20) == bytes([35])


# --- calibration ----------------------------------------------------------------------------


def close_pack_contactors(r: Rig) -> None:
    with r.circuit.locked() as pack:  # behind the BMS's back, as a fixture test would
        pack.close_contactors()
    r.status(0.5)  # precharge (tau 40 ms) completes
    assert r.pack.contactor_state == "closed"


def mean_bus_voltage(r: Rig, seconds: float = 2.0) -> float:
    frames = [f for f in r.run(seconds, step_s=0.1) if f.arbitration_id == 0x100]
    values = [float(DB.decode_message(0x100, f.data)["BusVoltage"]) for f in frames]
    assert len(values) == round(seconds / 0.1)
    return sum(values) / len(values)


def test_calibration_write_changes_the_reported_bus_voltage(rig: Rig) -> None:
    close_pack_contactors(rig)
    true_v = rig.pack.bus_voltage
    before = mean_bus_voltage(rig)
    error = rig.bms.model.error
    assert before == pytest.approx((1 + error.bus_gain) * true_v + error.bus_offset_v, abs=0.03)
    rig.unlock()
    rig.client.write_data_by_identifier(0xFD01, struct.pack(">ff", 1.02, 1.5))
    assert mean_bus_voltage(rig) == pytest.approx(1.02 * before + 1.5, abs=0.05)
    # The ideal correction makes the BMS report the truth.
    k = 1 / (1 + error.bus_gain)
    rig.client.write_data_by_identifier(0xFD01, struct.pack(">ff", k, -error.bus_offset_v * k))
    assert mean_bus_voltage(rig) == pytest.approx(true_v, abs=0.03)


def test_current_calibration_uses_the_gain_of_the_direction(rig: Rig) -> None:
    rig.unlock()
    rig.client.write_data_by_identifier(0xFD02, struct.pack(">fff", 1.05, 0.95, 0.0))
    assert rig.bms.calibration.current_gain_discharge == pytest.approx(1.05)
    close_pack_contactors(rig)
    error = rig.bms.model.error
    for amps_in, gain, k in (
        (-50.0, error.current_gain_discharge, 1.05),  # a 50 A load: discharge
        (50.0, error.current_gain_charge, 0.95),  # a 50 A charger
    ):
        rig.circuit.connect("dc", lambda v, a=amps_in: a)
        readings = [rig.bms.measure().pack_current_a for _ in range(20)]
        rig.circuit.disconnect("dc")
        raw = (1 + gain) * -amps_in + error.current_offset_a
        assert sum(readings) / len(readings) == pytest.approx(k * raw, abs=0.05)


def test_bus_voltage_is_measured_at_the_circuit_terminals(rig: Rig) -> None:
    """With the contactors open, a supply on the bus is what the bus voltage channel sees."""
    rig.circuit.connect("supply", lambda v: 10.0 if v < 40.0 else 0.0)  # CV at 40 V
    error = rig.bms.model.error
    expected = (1 + error.bus_gain) * 40.0 + error.bus_offset_v
    assert mean_bus_voltage(rig) == pytest.approx(expected, abs=0.03)
    assert rig.pack.contactor_state == "open"


def test_reset_without_commit_restores_and_with_commit_keeps(rig: Rig) -> None:
    record = struct.pack(">ff", 0.99, -0.5)
    rig.unlock()
    rig.client.write_data_by_identifier(0xFD01, record)
    assert rig.read(0xFD01) == record
    rig.client.ecu_reset(1)
    assert rig.read(0xFD01) == struct.pack(">ff", 1.0, 0.0)
    assert rig.bms.uds is not None and rig.bms.uds.session == 1 and not rig.bms.uds.unlocked
    rig.unlock()
    rig.client.write_data_by_identifier(0xFD01, record)
    rig.client.start_routine(0x0210)
    rig.client.ecu_reset(1)
    assert rig.read(0xFD01) == record


@pytest.mark.parametrize(
    ("did", "values"),
    [
        (0xFD01, (1.06, 0.0)),
        (0xFD01, (0.94, 0.0)),
        (0xFD01, (1.0, 5.5)),
        (0xFD01, (1.0, float("nan"))),
        (0xFD02, (1.0, 0.9, 0.0)),
        (0xFD02, (1.0, 1.0, -2.1)),
    ],
)
def test_out_of_range_calibration_is_0x31(rig: Rig, did: int, values: tuple[float, ...]) -> None:
    rig.unlock()
    data = struct.pack(f">{len(values)}f", *values)
    assert rig.nrc(lambda: rig.client.write_data_by_identifier(did, data)) == 0x31
    rig.client.write_data_by_identifier(0xFD01, struct.pack(">ff", 0.95, -5.0))  # edges are in


def test_out_of_range_fault_needs_a_correction_outside_the_range(rig: Rig) -> None:
    rig.bms.faults.calibration_out_of_range = True
    low = mean_bus_voltage(rig)  # contactors open: 0 V on the bus
    close_pack_contactors(rig)
    high = mean_bus_voltage(rig)
    k = rig.pack.bus_voltage / (high - low)  # two-point calibration, as the station does it
    d = -k * low
    assert not 0.95 <= k <= 1.05 or not -5 <= d <= 5
    rig.unlock()
    data = struct.pack(">ff", k, d)
    assert rig.nrc(lambda: rig.client.write_data_by_identifier(0xFD01, data)) == 0x31


# --- routines -------------------------------------------------------------------------------


def test_close_contactors_answers_pending_then_positive(rig: Rig) -> None:
    rig.unlock()
    thread, out = in_thread(lambda: rig.client.start_routine(0x0201))
    advance_until_done(rig, thread)
    assert "error" not in out
    assert out["result"].service_data.routine_status_record == b"\x02"
    assert rig.pack.contactor_state == "closed"
    state = rig.status()
    assert (state["ContactorState"], state["BmsState"]) == (2, 3)  # CLOSED, NORMAL


def test_close_contactors_with_hvil_open_is_0x22(rig: Rig) -> None:
    rig.pack.faults.hvil_open = True
    rig.unlock()
    assert rig.nrc(lambda: rig.client.start_routine(0x0201)) == 0x22
    assert rig.pack.contactor_state == "open"


def test_precharge_timeout_is_0x22_with_dtc(rig: Rig) -> None:
    rig.pack.faults.precharge_timeout = True
    rig.unlock()
    thread, out = in_thread(lambda: rig.client.start_routine(0x0201))
    advance_until_done(rig, thread, step_s=0.05)
    assert isinstance(out["error"], NegativeResponseException)
    assert out["error"].response.code == 0x22
    assert rig.pack.contactor_state == "open"
    assert rig.status()["FaultPrecharge"] == 1
    dtcs = rig.client.get_dtc_by_status_mask(0xFF).service_data.dtcs
    assert [(d.id, d.status.get_byte_as_int()) for d in dtcs] == [(0xD10006, 0x2F)]


def test_open_contactors_reports_a_welded_contactor(rig: Rig) -> None:
    close_pack_contactors(rig)
    rig.unlock()
    response = rig.client.start_routine(0x0202)
    assert response.service_data.routine_status_record == b"\x00"
    close_pack_contactors(rig)
    rig.pack.faults.contactor_welded = True
    response = rig.client.start_routine(0x0202)
    assert response.service_data.routine_status_record == b"\x03"  # WELDED
    assert rig.status()["ContactorState"] == 3
    result = rig.client.get_routine_result(0x0202)
    assert result.service_data.routine_status_record == b"\x03"
    dtcs = rig.client.get_dtc_by_status_mask(0x01).service_data.dtcs
    assert [d.id for d in dtcs] == [0xD10005]


def test_balancing_mask_is_reported_and_checked(rig: Rig) -> None:
    rig.unlock()
    mask = (1 << 0 | 1 << 5 | 1 << 15).to_bytes(24, "little")
    rig.client.start_routine(0x0203, mask)
    assert rig.bms.balancing_mask == 1 << 0 | 1 << 5 | 1 << 15
    assert rig.status()["BalancingActive"] == 1
    assert rig.client.get_routine_result(0x0203).service_data.routine_status_record == mask
    rig.client.stop_routine(0x0203)
    assert rig.status()["BalancingActive"] == 0
    beyond = (1 << 16).to_bytes(24, "little")  # a 16S pack has cells 0..15
    assert rig.nrc(lambda: rig.client.start_routine(0x0203, beyond)) == 0x31
    assert rig.nrc(lambda: rig.client.start_routine(0x0203, b"\x01")) == 0x13


def test_unknown_routine_service_and_subfunction(rig: Rig) -> None:
    rig.unlock()
    assert rig.nrc(lambda: rig.client.start_routine(0x0220)) == 0x31
    assert rig.nrc(lambda: rig.client.stop_routine(0x0210)) == 0x12
    assert rig.nrc(lambda: rig.client.ecu_reset(3)) == 0x12
    assert rig.nrc(lambda: rig.client.change_session(2)) == 0x12
    request = udsoncan.Request(udsoncan.services.ReadMemoryByAddress, data=b"\x14\x00\x00\x04")
    assert rig.nrc(lambda: rig.client.send_request(request)) == 0x11


# --- DTCs -----------------------------------------------------------------------------------


def dtcs(r: Rig, mask: int = 0xFF) -> list[tuple[int, int]]:
    found = r.client.get_dtc_by_status_mask(mask).service_data.dtcs
    return [(d.id, d.status.get_byte_as_int()) for d in found]


FAILING = 0x2F  # testFailed, …ThisOperationCycle, pending, confirmed, …SinceLastClear
PASSED_SINCE = 0x2E  # the same, no longer failing


def test_dtcs_follow_faults_and_clear(rig: Rig) -> None:
    assert dtcs(rig, 0x09) == []
    rig.pack.faults.hvil_open = True
    rig.pack.insulation.set_stack_resistance("plus", 10e3)  # the monitor sees the stack
    assert dtcs(rig, 0x09) == [(0xD10001, FAILING), (0xD10002, FAILING)]
    rig.pack.faults.hvil_open = False
    assert dtcs(rig, 0x09) == [(0xD10001, PASSED_SINCE), (0xD10002, FAILING)]
    assert dtcs(rig, mask=0x01) == [(0xD10002, FAILING)]
    rig.client.clear_dtc(0xD10001)
    assert dtcs(rig, 0x09) == [(0xD10002, FAILING)]
    rig.client.clear_dtc()
    assert dtcs(rig, 0x09) == [(0xD10002, FAILING)]  # still failing: detected again at once
    rig.pack.insulation.set_stack_resistance("plus", 5e9)
    rig.client.clear_dtc()
    assert dtcs(rig, 0x09) == []
    assert rig.nrc(lambda: rig.client.clear_dtc(0x123456)) == 0x31


def test_after_a_clear_a_monitor_not_yet_run_reports_test_not_completed(rig: Rig) -> None:
    """ISO 14229-1: every DTC reads 0x50 after ClearDiagnosticInformation until its monitor
    completes a test; asked with mask 0xFF the server lists them, with 0x09 it does not."""
    close_pack_contactors(rig)
    rig.unlock()
    rig.client.start_routine(0x0202)  # opening runs the welded monitor: passed
    rig.client.clear_dtc()
    listed = dict(dtcs(rig, 0xFF))
    # the continuous monitors ran at the read; the contactor monitors wait for a command
    assert listed == {0xD10005: 0x50, 0xD10006: 0x50}
    assert dtcs(rig, 0x09) == []
    rig.client.start_routine(0x0202)
    assert dict(dtcs(rig, 0xFF)) == {0xD10006: 0x50}  # welded monitor ran and passed


def test_a_dtc_reported_before_a_reset_stays_pending_for_one_operation_cycle(rig: Rig) -> None:
    rig.pack.faults.hvil_open = True
    assert dtcs(rig, 0x09) == [(0xD10001, FAILING)]
    rig.pack.faults.hvil_open = False
    rig.bms.model.measure()
    rig.unlock()
    rig.client.ecu_reset(1)
    # a new cycle; the monitor passes at the read: pending (failed last cycle), confirmed,
    # failed since the clear
    assert dtcs(rig, 0x09) == [(0xD10001, 0x2C)]
    rig.client.ecu_reset(1)
    assert dtcs(rig, 0x09) == [(0xD10001, 0x28)]  # a cycle without a failure ends pending


def test_stuck_dtc_comes_back_after_clearing() -> None:
    r = Rig()
    try:
        r.bms.faults.stuck_dtc = 0xD10004
        r.client.clear_dtc()
        assert dtcs(r, 0x09) == [(0xD10004, FAILING)]
    finally:
        r.close()


def test_dtcs_survive_an_ecu_reset(rig: Rig) -> None:
    rig.pack.sense_wire_open(3)
    assert dtcs(rig, 0x09) == [(0xD10003, FAILING)]
    rig.client.ecu_reset(1)
    assert (0xD10003, FAILING) in dtcs(rig, 0x09)


# --- silence and shutdown -------------------------------------------------------------------


def test_silent_bms_does_not_answer(rig: Rig) -> None:
    rig.bms.faults.silent = True
    rig.client.set_config("request_timeout", 0.2)
    with pytest.raises(TimeoutException):
        rig.client.tester_present()
    rig.bms.faults.silent = False
    for _ in range(10):  # bounded: the server restarts ISO-TP within a few ms
        try:
            rig.client.tester_present()
            break
        except TimeoutException:
            continue
    else:
        pytest.fail("BMS did not answer after the silence ended")


def test_close_leaves_no_threads() -> None:
    before = set(threading.enumerate())
    r = Rig()
    r.client.tester_present()
    r.close()
    assert set(threading.enumerate()) <= before


# --- server details ------------------------------------------------------------------------


def test_busy_while_a_routine_is_pending_and_suppressed_answers(rig: Rig) -> None:
    uds = rig.bms.uds
    assert uds is not None
    assert uds.handle(b"\x3e\x80") is None  # suppressPosRspMsgIndicationBit
    assert uds.handle(b"\x10\x83") is None
    assert uds.session == 3
    rig.unlock()
    # Stop the server thread so it cannot finish the pending routine under the test.
    uds.close()
    assert uds.handle(b"\x31\x01\x02\x01") == b"\x7f\x31\x78"
    assert uds.handle(b"\x3e\x00") == b"\x7f\x3e\x21"  # busyRepeatRequest


def test_ecu_reset_opens_the_contactors_and_stops_balancing(rig: Rig) -> None:
    close_pack_contactors(rig)
    rig.unlock()
    rig.client.start_routine(0x0203, (0b11).to_bytes(24, "little"))
    rig.client.ecu_reset(1)
    assert rig.pack.contactor_state == "open"
    assert rig.bms.balancing_mask == 0


def test_bms_may_be_used_inside_the_circuit_lock_while_its_threads_run() -> None:
    r = Rig(tick_interval_s=0.001)
    try:
        r.unlock()
        done = threading.Event()

        def use_inside_lock() -> None:
            for _ in range(100):
                with r.circuit.locked():
                    r.bms.measure()
                    assert r.bms.uds is not None
                    _ = r.bms.uds.session
            done.set()

        worker = threading.Thread(target=use_inside_lock)
        worker.start()
        for _ in range(50):  # meanwhile: frames, UDS and contactor switching on other threads
            r.clock.advance(0.02)
            r.client.get_routine_result(0x0201)
        worker.join(timeout=10.0)
        assert done.is_set(), "deadlock between the BMS and the circuit lock"
    finally:
        r.close()
