"""UdsClient against a scripted UDS responder on a python-can ``virtual`` bus.

The responder is ordered ``(request, replies)`` pairs in the PyMeasure style: a request that
is not the next one expected is recorded as an error, and the fixture fails if any pair is
left unused. A float among the replies is a pause in seconds before the next reply (to go
past P2 on purpose). TesterPresent is answered outside the script and counted.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import can
import isotp
import pytest

from drivers.bms import redact
from drivers.bms.nrc import describe_nrc, nrc_name
from drivers.bms.security import eol_demo_v1
from drivers.bms.uds import SECURITY_ALGORITHMS, Dtc, UdsClient
from drivers.errors import BmsError, BmsNegativeResponse, BmsTimeout

Script = list[tuple[bytes, list[bytes | float | threading.Event]]]

DIDS = {"serial": 0xF18C, "eol_record": 0xFD11, "eol_flag": 0xFD10}
ROUTINES = {"close_contactors": 0x0201, "commit_calibration": 0x0210}
SEED = bytes.fromhex("11223344")
RESPONDER_LOG = "tests.uds_responder"
# The simulated ECU side is not under test: its isotp stack logs frames (keys too) at DEBUG.
logging.getLogger(RESPONDER_LOG).setLevel(logging.INFO)


class Responder:
    """A scripted UDS server on its own bus, notifier and ISO-TP stack."""

    def __init__(self, channel: str) -> None:
        self.bus = can.Bus(interface="virtual", channel=channel)
        self.requests_on_wire: list[can.Message] = []
        self.notifier = can.Notifier(self.bus, [self._wire], timeout=0.05)
        self.stack = isotp.NotifierBasedCanStack(
            self.bus,
            self.notifier,
            address=isotp.Address(txid=0x7E8, rxid=0x7E0),
            params={
                "tx_padding": 0xCC,
                "tx_data_min_length": 8,
                "stmin": 0,
                "blocksize": 0,
                "logger_name": RESPONDER_LOG,
            },
        )
        self.script: deque[tuple[bytes, list[bytes | float | threading.Event]]] = deque()
        self.errors: list[str] = []
        self.tester_presents = 0
        self.two_tester_presents = threading.Event()
        self.silent_tester_presents: list[bytes] = []
        self._stop = threading.Event()
        self.stack.start()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def expect(self, script: Script) -> None:
        self.script.extend(script)

    def _wire(self, msg: can.Message) -> None:
        if msg.arbitration_id == 0x7E0:
            self.requests_on_wire.append(msg)

    def _serve(self) -> None:
        while not self._stop.is_set():
            got = self.stack.recv(block=True, timeout=0.05)
            if got is None:
                continue
            request = bytes(got)
            if request == b"\x3e\x80":  # TesterPresent, no answer wanted
                self.silent_tester_presents.append(request)
                continue
            if request == b"\x3e\x00":
                self.tester_presents += 1
                if self.tester_presents >= 2:
                    self.two_tester_presents.set()
                self.stack.send(b"\x7e\x00")
                continue
            if not self.script:
                self.errors.append(f"unexpected request {request.hex()}")
                continue
            expected, replies = self.script.popleft()
            if request != expected:
                self.errors.append(f"expected {expected.hex()}, got {request.hex()}")
                continue
            for reply in replies:
                if isinstance(reply, float):
                    self._stop.wait(reply)
                elif isinstance(reply, threading.Event):
                    reply.wait(timeout=5.0)  # released by the test (a routine finishing)
                else:
                    self.stack.send(reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.stack.stop()
        self.notifier.stop()
        self.bus.shutdown()


class Rig:
    def __init__(self, **options: Any) -> None:
        channel = f"uds-{uuid.uuid4().hex}"
        self.server = Responder(channel)
        self.bus = can.Bus(interface="virtual", channel=channel)
        self.notifier = can.Notifier(self.bus, [], timeout=0.05)
        self.transcript: list[tuple[str, str, str]] = []
        self.client = UdsClient(
            self.bus,
            self.notifier,
            request_id=0x7E0,
            response_id=0x7E8,
            dids=DIDS,
            routines=ROUTINES,
            tracer=lambda *line: self.transcript.append(line),
            **options,
        ).open()

    def close(self) -> None:
        self.client.close()
        self.notifier.stop()
        self.bus.shutdown()
        self.server.close()


RELAXED_P2_S = 1.0
"""P2 for tests of what is asked and answered: a busy CI machine's scheduling can delay the
responder thread past a real BMS's 50 ms; tests of the P2 timing itself use ``strict_rig``."""


def _rig(**options: Any) -> Iterator[Rig]:
    made = Rig(**options)
    try:
        yield made
    finally:
        made.close()
    assert made.server.errors == []
    assert list(made.server.script) == [], "scripted requests never sent"


@pytest.fixture
def rig() -> Iterator[Rig]:
    yield from _rig(p2_timeout_s=RELAXED_P2_S)


@pytest.fixture
def strict_rig() -> Iterator[Rig]:
    """The client with a real BMS's P2 of 50 ms."""
    yield from _rig()


def test_read_did_text_and_requests_padded_with_cc(rig: Rig) -> None:
    rig.server.expect([(b"\x22\xf1\x8c", [b"\x62\xf1\x8c" + b"BMS24A0001234\x00"])])
    assert rig.client.read_did_text("serial") == "BMS24A0001234"
    frame = rig.server.requests_on_wire[0]
    assert bytes(frame.data) == bytes.fromhex("0322F18CCCCCCCCC")
    assert rig.transcript == [
        ("UDS 0x7E0/0x7E8", ">", "22 F1 8C"),
        ("UDS 0x7E0/0x7E8", "<", "62 F1 8C 42 4D 53 32 34 41 30 30 30 31 32 33 34 00"),
    ]


def test_read_did_by_number_and_long_write(rig: Rig) -> None:
    record = b"EOL-01 20261126".ljust(24, b" ")
    rig.server.expect(
        [
            (b"\x22\xfd\x10", [b"\x62\xfd\x10\x01"]),
            (b"\x2e\xfd\x11" + record, [b"\x6e\xfd\x11"]),  # multi-frame request
        ]
    )
    assert rig.client.read_did(0xFD10) == b"\x01"
    rig.client.write_did("eol_record", record)


def test_unknown_names_are_refused_before_sending(rig: Rig) -> None:
    with pytest.raises(BmsError, match=r"no DID 'seriel' \(known: eol_flag, eol_record, serial\)"):
        rig.client.read_did("seriel")
    with pytest.raises(BmsError, match="unknown UDS session 'extendet'"):
        rig.client.change_session("extendet")
    with pytest.raises(BmsError, match="unknown routine control 'begin'"):
        rig.client.routine("close_contactors", "begin")


@pytest.mark.parametrize(
    ("call", "request_bytes", "nrc", "sentence"),
    [
        (
            lambda c: c.read_did("serial"),
            b"\x22\xf1\x8c",
            0x31,
            "the BMS refused ReadDataByIdentifier (0x22) of DID 0xF18C (serial): "
            "NRC 0x31 requestOutOfRange",
        ),
        (
            lambda c: c.write_did(0xFD10, b"\x01"),
            b"\x2e\xfd\x10\x01",
            0x33,
            "WriteDataByIdentifier (0x2E) of DID 0xFD10 (eol_flag): NRC 0x33 "
            "securityAccessDenied — unlock security access first",
        ),
        (
            lambda c: c.routine("commit_calibration"),
            b"\x31\x01\x02\x10",
            0x7F,
            "RoutineControl (0x31) start of RID 0x0210 (commit_calibration): NRC 0x7F "
            "serviceNotSupportedInActiveSession",
        ),
    ],
    ids=["read_did", "write_did", "routine"],
)
def test_negative_responses_name_service_identifier_and_nrc(
    rig: Rig,
    capfd: pytest.CaptureFixture[str],
    call: object,
    request_bytes: bytes,
    nrc: int,
    sentence: str,
) -> None:
    rig.server.expect([(request_bytes, [bytes([0x7F, request_bytes[0], nrc])])])
    with pytest.raises(BmsNegativeResponse) as caught:
        call(rig.client)  # type: ignore[operator]
    assert caught.value.nrc == nrc
    assert sentence in str(caught.value)
    assert capfd.readouterr().err == ""  # udsoncan's NRC warnings stay off stderr


def test_response_pending_extends_the_wait_past_p2(strict_rig: Rig) -> None:
    pending = b"\x7f\x31\x78"
    strict_rig.server.expect(
        [(b"\x31\x01\x02\x01", [pending, 0.15, pending, 0.15, b"\x71\x01\x02\x01\x00"])]
    )
    start = time.monotonic()
    assert strict_rig.client.routine("close_contactors") == b"\x00"
    assert time.monotonic() - start >= 0.3  # six times P2: only 0x78 kept it waiting


class RoutinePacer:
    """A lockstep clock whose first step finishes the scripted routine.

    ``step`` releases the responder's final answer and returns once that answer's frame has
    reached the client's listeners, as the station's clock returns after its settle hook.
    """

    def __init__(self) -> None:
        self.t = 0.0
        self.steps: list[str] = []  # the thread of each step
        self.release = threading.Event()
        self.final_seen = threading.Event()
        self.actors: list[tuple[Any, bool]] = []  # (actor, punctual)

    def now(self) -> float:
        return self.t

    def step(self, until: float) -> None:
        self.steps.append(threading.current_thread().name)
        self.t = min(self.t + 0.01, until)
        for actor, _ in self.actors:  # as a clock does at each move
            actor.run_due(self.t)
        self.release.set()
        assert self.final_seen.wait(timeout=5.0)

    def add_actor(self, actor: Any, *, punctual: bool = False) -> None:
        self.actors.append((actor, punctual))

    def remove_actor(self, actor: Any) -> None:
        self.actors = [(a, p) for a, p in self.actors if a is not actor]

    def watch(self, msg: can.Message) -> None:
        if msg.arbitration_id == 0x7E8 and bytes(msg.data[:2]) == b"\x05\x71":
            self.final_seen.set()


def test_the_pacer_is_stepped_only_after_response_pending_and_never_by_the_keeper() -> None:
    pacer = RoutinePacer()
    made = Rig(tester_present_interval_s=2.0, pacer=pacer)
    made.notifier.add_listener(pacer.watch)  # after the client's: it has counted the frame
    try:
        pending = b"\x7f\x31\x78"
        made.server.expect(
            [
                (b"\x10\x03", [bytes.fromhex("5003003201F4")]),
                (b"\x22\xf1\x8c", [bytes.fromhex("62F18C41")]),
                (b"\x31\x01\x02\x01", [pending, pacer.release, b"\x71\x01\x02\x01\x02"]),
                (b"\x10\x01", [bytes.fromhex("5001003201F4")]),
            ]
        )
        made.client.change_session("extended")
        # Under a pacer the keeper is a punctual actor of it, not a thread.
        [(keeper, punctual)] = pacer.actors
        assert punctual and made.client.keeper_running
        assert not any(t.name.startswith("TesterPresent") for t in threading.enumerate())
        assert keeper.next_due() == 3.0  # an interval, then half of one at the latest
        keep_alive = ("UDS 0x7E0/0x7E8", ">", "3E 80")
        keeper.run_due(1.9)  # a move before the interval is up: nothing to send
        assert keep_alive not in made.transcript
        wire = len(made.server.requests_on_wire)
        keeper.run_due(2.2)  # the first move after it: one single frame, sent at once
        assert keeper.next_due() == pytest.approx(5.2)
        assert made.transcript[-1] == keep_alive
        assert made.client.read_did("serial") == b"A"  # after the keep-alive on the wire
        frames = [bytes(m.data) for m in made.server.requests_on_wire[wire:]]
        assert frames[0] == bytes.fromhex("023E80CCCCCCCCCC"), frames
        assert made.server.silent_tester_presents == [b"\x3e\x80"]
        assert pacer.steps == [], "stepped before a responsePending, or by the keeper"
        # The routine's step is a move with the keeper due; the request under way (its lock
        # is held by this very thread) keeps the session: no keep-alive, and no deadlock.
        pacer.t = 10.0
        assert made.client.routine("close_contactors") == b"\x02"
        assert pacer.steps == [threading.current_thread().name]  # one step: the answer came
        assert made.server.silent_tester_presents == [b"\x3e\x80"]
        made.client.change_session("default")
        assert pacer.actors == [] and not made.client.keeper_running
    finally:
        made.close()
    assert made.server.errors == [] and not made.server.script


def test_no_answer_is_a_timeout(strict_rig: Rig) -> None:
    strict_rig.server.expect([(b"\x22\xf1\x8c", [])])
    start = time.monotonic()
    with pytest.raises(BmsTimeout, match=r"did not answer ReadDataByIdentifier .* \(P2 50 ms"):
        strict_rig.client.read_did("serial")
    assert time.monotonic() - start < 1.0


def test_a_late_answer_is_dropped_and_a_quiet_bus_costs_no_reception_reset(strict_rig: Rig) -> None:
    stack = strict_rig.client._conn._stack
    arrived_late = threading.Event()
    put = stack.rx_queue.put

    def put_and_tell(payload: bytearray, *args: Any, **kwargs: Any) -> None:
        put(payload, *args, **kwargs)
        if payload.startswith(b"\x62\xf1\x8c"):
            arrived_late.set()

    resets = 0
    stop_receiving = stack.stop_receiving

    def counted_stop_receiving() -> None:
        nonlocal resets
        resets += 1
        stop_receiving()

    stack.stop_receiving = counted_stop_receiving  # type: ignore[method-assign]
    stack.rx_queue.put = put_and_tell  # type: ignore[method-assign]
    release = threading.Event()
    strict_rig.server.expect(
        [
            (b"\x22\xfd\x10", [b"\x62\xfd\x10\x01"]),
            (b"\x22\xf1\x8c", [release, b"\x62\xf1\x8c" + b"BMS24A0001234"]),
            (b"\x22\xfd\x10", [b"\x62\xfd\x10\x00"]),
        ]
    )
    assert strict_rig.client.read_did("eol_flag") == b"\x01"
    with pytest.raises(BmsTimeout):
        strict_rig.client.read_did("serial")
    release.set()  # the answer to the timed-out request comes now, whole
    assert arrived_late.wait(timeout=5.0)  # and waits in the stack's queue
    assert resets == 0  # nothing came after an answer: no reset was needed
    assert strict_rig.client.read_did("eol_flag") == b"\x00"  # its own answer, not the late one
    assert resets == 1


def test_dtcs_clear_and_reset(rig: Rig) -> None:
    rig.server.expect(
        [
            (b"\x19\x02\x09", [bytes.fromhex("5902FF D10001 09 D10005 09")]),
            (b"\x14\xff\xff\xff", [b"\x54"]),
            (b"\x11\x01", [b"\x51\x01"]),
        ]
    )
    assert rig.client.read_dtcs(0x09) == [Dtc(0xD10001, 0x09), Dtc(0xD10005, 0x09)]
    assert str(Dtc(0xD10001, 0x09)) == "0xD10001 (status 0x09)"
    rig.client.clear_dtcs()
    rig.client.ecu_reset()
    assert rig.client.session == 0x01


def secret_forms(secret: bytes) -> list[str]:
    return [
        secret.hex(),
        secret.hex().upper(),
        secret.hex(" "),
        secret.hex(" ").upper(),
        repr(secret)[2:-1],
        str(int.from_bytes(secret, "big")),
    ]


def test_unlock_keeps_seed_and_key_out_of_logs_errors_and_transcript(
    rig: Rig, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    key = eol_demo_v1(SEED)
    assert key == SECURITY_ALGORITHMS["eol-demo-v1"](SEED)
    rig.server.expect(
        [
            (b"\x27\x01", [b"\x67\x01" + SEED]),
            (b"\x27\x02" + key, [b"\x67\x02"]),
            (b"\x27\x01", [b"\x67\x01" + SEED]),
            (b"\x27\x02" + key, [b"\x7f\x27\x35"]),  # this time the BMS says: invalid key
        ]
    )
    caplog.set_level(logging.DEBUG)
    rig.client.unlock()
    with pytest.raises(BmsNegativeResponse) as caught:
        rig.client.unlock(1)
    assert caught.value.nrc == 0x35
    assert "SecurityAccess (0x27) sendKey for level 1: NRC 0x35 invalidKey" in str(caught.value)
    seen = "\n".join(
        [
            caplog.text,
            *(str(r.args) for r in caplog.records),
            *traceback.format_exception(caught.value),
            repr(caught.value),
            *(" ".join(line) for line in rig.transcript),
            *capfd.readouterr(),
        ]
    )
    for secret in (key, SEED):
        for form in secret_forms(secret):
            assert form not in seen
    assert ("UDS 0x7E0/0x7E8", ">", "27 02 <4 bytes redacted>") in rig.transcript
    assert ("UDS 0x7E0/0x7E8", "<", "67 01 <4 bytes redacted>") in rig.transcript


def test_unlock_with_an_all_zero_seed_sends_no_key(rig: Rig) -> None:
    rig.server.expect([(b"\x27\x01", [b"\x67\x01\x00\x00\x00\x00"])])
    rig.client.unlock()


def test_tester_present_keeper_runs_only_outside_the_default_session() -> None:
    made = Rig(tester_present_interval_s=0.05, p2_timeout_s=RELAXED_P2_S)
    try:
        made.server.expect(
            [
                (b"\x10\x03", [bytes.fromhex("5003003201F4")]),
                (b"\x10\x01", [bytes.fromhex("5001003201F4")]),
            ]
        )
        assert not made.client.keeper_running
        made.client.change_session("extended")
        assert made.client.keeper_running and made.client.session == 0x03
        assert made.server.two_tester_presents.wait(timeout=5.0)
        made.client.change_session("default")
        assert not made.client.keeper_running
        assert made.client.keeper_failures == 0
    finally:
        made.close()
    assert made.server.errors == [] and not made.server.script


def test_a_closed_client_refuses_requests(rig: Rig) -> None:
    rig.client.close()
    with pytest.raises(BmsError, match="is closed"):
        rig.client.tester_present()


def test_payload_redaction() -> None:
    assert redact.describe(bytes.fromhex("2702AABBCCDD")) == "27 02 <4 bytes redacted>"
    assert redact.describe(bytes.fromhex("6701AABBCCDD")) == "67 01 <4 bytes redacted>"
    assert redact.describe(bytes.fromhex("2701")) == "27 01"
    assert redact.describe(bytes.fromhex("6702")) == "67 02"
    assert redact.describe(bytes.fromhex("22F18C")) == "22 F1 8C"


def test_frame_redaction_single_and_multi_frame() -> None:
    redactor = redact.FrameRedactor([0x7E0, 0x7E8])

    def frame(can_id: int, hex_data: str) -> bytes:
        msg = can.Message(arbitration_id=can_id, is_extended_id=False, data=bytes.fromhex(hex_data))
        return bytes(redactor(msg).data)

    assert frame(0x7E0, "062702AABBCCDDCC") == bytes.fromhex("0627020000000000")[:7] + b"\xcc"
    assert frame(0x7E8, "066701AABBCCDDCC") == bytes.fromhex("06670100000000CC")
    assert frame(0x7E0, "0322F18CCCCCCCCC") == bytes.fromhex("0322F18CCCCCCCCC")
    assert frame(0x123, "062702AABBCCDDCC") == bytes.fromhex("062702AABBCCDDCC")
    # a 16-byte key: first frame and its consecutive frames are blanked, flow control is not
    assert frame(0x7E0, "10122702AABBCCDD") == bytes.fromhex("1012270200000000")
    assert frame(0x7E8, "3000000000000000") == bytes.fromhex("3000000000000000")
    assert frame(0x7E0, "21EEFF0011223344") == bytes.fromhex("2100000000000000")
    assert frame(0x7E0, "0322F18CCCCCCCCC") == bytes.fromhex("0322F18CCCCCCCCC")
    assert frame(0x7E0, "2255667788CCCCCC") == bytes.fromhex("2255667788CCCCCC")


def test_nrc_names() -> None:
    assert nrc_name(0x78) == "requestCorrectlyReceived-ResponsePending"
    assert nrc_name(0x40) == "reservedByExtendedDataLinkSecurityDocument"
    assert nrc_name(0xF3) == "vehicleManufacturerSpecificConditionsNotCorrect"
    assert nrc_name(0x01) == "ISOSAEReserved"
    assert describe_nrc(0x22).startswith("NRC 0x22 conditionsNotCorrect — ")


def test_against_the_simulated_reference_bms() -> None:
    """The one integration test: the whole client against the virtual bench's BMS."""
    import drivers.sim.bms as sim
    from drivers.bms.bms import Bms
    from drivers.bms.description import BmsDescription
    from drivers.sim.pack import Pack
    from drivers.sim.packs import get_pack_spec

    root = Path(__file__).resolve().parents[3]
    description = BmsDescription.load(root / "sequences" / "bms" / "eol_reference.toml")
    channel = f"sim-{uuid.uuid4().hex}"
    sim_bus = can.Bus(interface="virtual", channel=channel)
    simulated = sim.SimulatedBms(Pack(get_pack_spec("lfp16s")), sim_bus, now=time.monotonic)
    bus = {"interface": "virtual", "channel": channel}
    try:
        # P2 relaxed: this checks the contract, not a busy CI machine's scheduling.
        with simulated, Bms(description, bus, p2_timeout_s=1.0) as bms:
            start = time.monotonic()
            cells = bms.cell_voltages(after=start, timeout_s=5.0, count=16)
            assert len(cells) == 16 and all(v is not None and 2.5 < v < 3.8 for v in cells)
            assert bms.pack_voltage(after=start) == pytest.approx(sum(cells), abs=1.0)  # type: ignore[arg-type]
            assert len(bms.cell_temperatures(after=start, timeout_s=5.0, count=4)) == 4
            assert bms.hvil_closed() in (True, False)
            assert str(bms.contactor_state()) in {"OPEN", "PRECHARGE", "CLOSED", "WELDED"}
            assert bms.uds.read_did_text("serial")
            bms.uds.change_session("extended")
            bms.uds.unlock()
            bms.uds.write_did("eol_flag", b"\x01")
            assert bms.uds.read_did("eol_flag") == b"\x01"
            bms.uds.change_session("default")
            assert not any(s.alive_violations or s.decode_errors for s in bms.status().values())
    finally:
        sim_bus.shutdown()


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (b"\x6e\xf1\x8c", r"an answer of service 0x2E, not 0x22"),
        (b"\x7f\x2e\x31", r"a negative response to service 0x2E, not 0x22"),
        (b"\x7f\x22", r"an incomplete negative response 7F 22"),
    ],
    ids=["other_service", "nrc_for_other_service", "short_nrc"],
)
def test_an_answer_that_is_not_one_is_a_bms_error_saying_why(
    rig: Rig, reply: bytes, why: str
) -> None:
    rig.server.expect([(b"\x22\xf1\x8c", [reply])])
    with pytest.raises(BmsError, match=rf"answered ReadDataByIdentifier .* wrongly: {why}$"):
        rig.client.read_did("serial")


def test_a_wrong_answer_to_security_access_quotes_no_bytes(rig: Rig) -> None:
    rig.server.expect([(b"\x27\x01", [b"\x50\x01\x12\x34\x56\x78"])])
    with pytest.raises(BmsError) as caught:
        rig.client.unlock()
    assert str(caught.value).endswith("wrongly")
    assert "12" not in str(caught.value) and "78" not in str(caught.value)


def test_response_pending_then_a_refusal_is_a_negative_response(rig: Rig) -> None:
    rig.server.expect([(b"\x31\x01\x02\x01", [b"\x7f\x31\x78", 0.1, b"\x7f\x31\x22"])])
    with pytest.raises(BmsNegativeResponse, match="conditionsNotCorrect") as caught:
        rig.client.routine("close_contactors")
    assert caught.value.nrc == 0x22


def test_endless_response_pending_ends_at_the_request_timeout() -> None:
    made = Rig(request_timeout_s=0.3)
    try:
        pending = b"\x7f\x31\x78"
        made.server.expect([(b"\x31\x01\x02\x01", [pending, 0.2, pending, 0.2, pending])])
        started = time.monotonic()
        with pytest.raises(BmsTimeout, match="did not answer RoutineControl"):
            made.client.routine("close_contactors")
        assert 0.3 <= time.monotonic() - started < 2.0
    finally:
        made.close()
