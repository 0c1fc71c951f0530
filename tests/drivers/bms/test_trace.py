"""CAN traces of a run: ASC and BLF files python-can can read back, with keys blanked."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import can
import cantools
import pytest

from drivers.bms.bms import Bms
from drivers.bms.description import BmsDescription
from drivers.bms.security import eol_demo_v1
from drivers.bms.trace import AscWriter
from drivers.errors import BmsError

ROOT = Path(__file__).resolve().parents[3]
FOXBMS_DBC = ROOT / "sequences" / "bms" / "foxbms.dbc"
SEED = bytes.fromhex("A1B2C3D4")
UDS = """
[uds]
request_id = 0x7E0
response_id = 0x7E8
[dids]
serial = 0xF18C
"""


class SingleFrameEcu(can.Listener):
    """Answer single-frame UDS requests on 0x7E0 from a table, padded to 8 bytes."""

    def __init__(self, bus: can.BusABC, answers: dict[bytes, bytes]) -> None:
        self.bus = bus
        self.answers = answers

    def on_message_received(self, msg: can.Message) -> None:
        if msg.arbitration_id != 0x7E0 or msg.data[0] >> 4 != 0:
            return
        answer = self.answers.get(bytes(msg.data[1 : 1 + msg.data[0]]))
        if answer is not None:
            data = (bytes([len(answer)]) + answer).ljust(8, b"\xcc")
            self.bus.send(can.Message(arbitration_id=0x7E8, is_extended_id=False, data=data))


@pytest.fixture(scope="module")
def description(tmp_path_factory: pytest.TempPathFactory) -> BmsDescription:
    text = (ROOT / "sequences" / "bms" / "foxbms.toml").read_text(encoding="utf-8")
    text = text.replace('"foxbms.dbc"', f'"{FOXBMS_DBC.as_posix()}"')
    path = tmp_path_factory.mktemp("trace") / "foxbms_uds.toml"
    path.write_text(text + UDS, encoding="utf-8")
    return BmsDescription.load(path)


@pytest.fixture
def rig(description: BmsDescription) -> Iterator[tuple[Bms, can.BusABC]]:
    channel = f"trace-{uuid.uuid4().hex}"
    pack = can.Bus(interface="virtual", channel=channel)
    ecu = SingleFrameEcu(
        pack,
        {
            b"\x22\xf1\x8c": b"\x62\xf1\x8cSN1",
            b"\x27\x01": b"\x67\x01" + SEED,
            b"\x27\x02" + eol_demo_v1(SEED): b"\x67\x02",
        },
    )
    notifier = can.Notifier(pack, [ecu], timeout=0.05)
    bms = Bms(description, {"interface": "virtual", "channel": channel})
    try:
        yield bms, pack
    finally:
        bms.close()
        notifier.stop()
        pack.shutdown()


def traffic(bms: Bms, pack: can.BusABC) -> None:
    """One cyclic frame from the pack, one DID read and one unlock from the station."""
    db = bms.description.db
    message = db.get_message_by_name("f_PackValuesP0")
    data = message.encode({"Current": 1.5, "BatteryVoltage": 400.0, "BusVoltage": 0, "Power": 0})
    pack.send(can.Message(arbitration_id=message.frame_id, is_extended_id=False, data=data))
    assert bms.pack_voltage(timeout_s=5.0) == pytest.approx(400.0)
    assert bms.uds.read_did_text("serial") == "SN1"
    bms.uds.unlock()


def check(frames: list[can.Message]) -> None:
    by_id: dict[int, list[bytes]] = {}
    for frame in frames:
        by_id.setdefault(frame.arbitration_id, []).append(bytes(frame.data))
    assert 0x233 in by_id  # received cyclic frame
    assert bytes.fromhex("0322F18CCCCCCCCC") in by_id[0x7E0]  # the station's own request
    assert bytes.fromhex("0662F18C534E31CC") in by_id[0x7E8]
    # the key and the seed are on the wire but not in the file
    assert bytes.fromhex("0627020000000000")[:7] + b"\xcc" in by_id[0x7E0]
    assert bytes.fromhex("06670100000000CC") in by_id[0x7E8]
    everything = b"".join(b for frames_ in by_id.values() for b in frames_)
    assert eol_demo_v1(SEED) not in everything and SEED not in everything


def test_asc_trace_is_readable_by_python_can(rig: tuple[Bms, can.BusABC], tmp_path: Path) -> None:
    bms, pack = rig
    path = tmp_path / "run" / "bms.asc"
    bms.start_trace(path)
    traffic(bms, pack)
    assert bms.stop_trace() == path
    assert bms.stop_trace() is None
    check(list(can.ASCReader(str(path))))


def test_blf_trace_is_readable_by_python_can(rig: tuple[Bms, can.BusABC], tmp_path: Path) -> None:
    bms, pack = rig
    path = tmp_path / "bms.blf"
    bms.start_trace(path)
    traffic(bms, pack)
    bms.stop_trace()
    with can.BLFReader(str(path)) as reader:
        check(list(reader))


def test_close_finishes_an_open_trace(description: BmsDescription, tmp_path: Path) -> None:
    channel = f"trace-{uuid.uuid4().hex}"
    pack = can.Bus(interface="virtual", channel=channel)
    try:
        with Bms(description, {"interface": "virtual", "channel": channel}) as bms:
            bms.start_trace(tmp_path / "left-open.asc")
            db: cantools.database.can.Database = bms.description.db
            message = db.get_message_by_name("f_PackValuesP1")
            data = message.encode({"InsulationResistance": 7000})
            pack.send(can.Message(arbitration_id=message.frame_id, is_extended_id=False, data=data))
            assert bms.insulation_ohm(timeout_s=5.0) == pytest.approx(7e6)
    finally:
        pack.shutdown()
    frames = list(can.ASCReader(str(tmp_path / "left-open.asc")))
    assert [f.arbitration_id for f in frames] == [0x234]


def test_trace_needs_asc_or_blf_and_one_at_a_time(
    rig: tuple[Bms, can.BusABC], tmp_path: Path
) -> None:
    bms, _ = rig
    with pytest.raises(BmsError, match=r"use a \.asc or \.blf file name, not '\.txt'"):
        bms.start_trace(tmp_path / "bms.txt")
    bms.start_trace(tmp_path / "a.asc")
    with pytest.raises(BmsError, match="already being written"):
        bms.start_trace(tmp_path / "b.asc")
    bms.stop_trace()


def test_bus_config_errors_are_bms_errors(description: BmsDescription) -> None:
    with pytest.raises(BmsError, match="needs 'interface'"):
        Bms(description, {"channel": "can0"})
    with pytest.raises(BmsError, match="cannot open CAN interface 'no-such-interface'"):
        Bms(description, {"interface": "no-such-interface", "channel": "x"})


def test_a_trace_is_written_off_the_senders_thread_and_reads_back(tmp_path: Path) -> None:
    from drivers.bms.trace import CanTrace

    trace = CanTrace()
    trace.open(tmp_path / "t.asc")
    for n in range(20):
        trace.record_tx(can.Message(arbitration_id=0x7E0, data=[n] * 8, is_extended_id=False))
    path = trace.close()
    assert path == tmp_path / "t.asc" and trace.failure is None and trace.frames == 20
    assert path.stat().st_mode & 0o007 == 0  # a result file: not for every local user
    frames = list(can.ASCReader(str(path)))
    assert [m.data[0] for m in frames] == list(range(20))


def test_a_trace_blanks_the_keys_of_its_redactors_ids_and_keeps_other_frames_as_they_are(
    tmp_path: Path,
) -> None:
    from drivers.bms.redact import FrameRedactor
    from drivers.bms.trace import CanTrace

    trace = CanTrace(FrameRedactor([0x7E0, 0x7E8]))
    trace.open(tmp_path / "t.asc")
    sent = [
        can.Message(arbitration_id=0x7E0, data=bytes.fromhex("062702AABBCCDDCC")),  # a key
        can.Message(arbitration_id=0x7E8, data=bytes.fromhex("0322F18CCCCCCCCC")),  # no key
        can.Message(arbitration_id=0x100, data=bytes.fromhex("062702AABBCCDDCC")),  # cyclic
    ]
    for msg in sent:
        trace.on_message_received(msg)
    path = trace.close()
    assert path is not None and trace.failure is None
    assert [bytes(m.data).hex() for m in can.ASCReader(str(path))] == [
        "0627020000000000"[:14] + "cc",
        "0322f18ccccccccc",
        "062702aabbccddcc",
    ]
    assert bytes(sent[0].data).hex() == "062702aabbccddcc"  # the received frame is not changed


def test_a_full_disk_stops_the_trace_and_says_so_without_raising_to_the_sender(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from drivers.bms import trace as trace_module

    class FullDisk:
        def __init__(self, path: str) -> None:
            Path(path).touch()  # opening still works; writing finds the disk full

        def on_message_received(self, msg: can.Message) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        def stop(self) -> None:
            pass

    monkeypatch.setattr(trace_module, "open_writer", lambda path: FullDisk(str(path)))
    trace = trace_module.CanTrace()
    trace.open(tmp_path / "t.asc")
    for _ in range(3):
        trace.record_tx(can.Message(arbitration_id=0x7E0, data=[0] * 8, is_extended_id=False))
    trace.close()
    assert trace.failure is not None and "No space left on device" in trace.failure


def test_a_blf_trace_takes_frames_of_a_channel_whose_name_ends_in_a_large_number(
    tmp_path: Path,
) -> None:
    """python-can numbers a named channel by its trailing digits; BLF has 16 bits for it."""
    from drivers.bms.trace import CanTrace

    trace = CanTrace()
    trace.open(tmp_path / "t.blf")
    trace.on_message_received(
        can.Message(arbitration_id=0x233, data=b"\x01\x02", channel="trace-70123456")
    )
    path = trace.close()
    assert path is not None and trace.failure is None
    frames = list(can.BLFReader(str(path)))
    assert [(f.arbitration_id, bytes(f.data)) for f in frames] == [(0x233, b"\x01\x02")]


def test_the_writer_takes_frames_in_batches_not_one_wake_up_per_frame(tmp_path: Path) -> None:
    from drivers.bms.trace import CanTrace

    batches: list[int] = []

    class Counting(CanTrace):
        def _next_batch(self) -> tuple[list[can.Message], bool]:
            batch, closing = super()._next_batch()
            if batch:
                batches.append(len(batch))
            return batch, closing

    trace = Counting()
    trace.open(tmp_path / "t.asc")
    frames = 8 * CanTrace.BATCH_FRAMES
    for n in range(frames):
        trace.record_tx(can.Message(arbitration_id=0x100, data=n.to_bytes(2, "big")))
    trace.close()
    assert trace.frames == frames and sum(batches) == frames
    assert len(batches) < frames // 10  # a wake-up per frame would make one batch per frame
    read = [int.from_bytes(m.data, "big") for m in can.ASCReader(str(tmp_path / "t.asc"))]
    assert read == list(range(frames))


def varied_frames(count: int, seed: int = 5) -> list[can.Message]:
    """Frames of every kind python-can's ASCWriter writes, mixed: mostly classic data frames
    (standard and extended IDs, Rx and Tx, DLC 0 to 8), some remote, error and CAN FD ones,
    channels named, numbered (also as a float and a bool) or none, times going back before
    the start, a few without a time or with an int one; a few IDs come up often."""
    rng = random.Random(seed)
    channels: list[object] = ["eol-sim-4242-3", "vcan0", "virtual", 2, 2.0, None, 0, True]
    frames = []
    t = 1.7e9
    for _ in range(count):
        t += rng.choice([0.0, 0.001, 0.0123456789, -0.5])  # an earlier one: before the start
        kind = rng.random()
        length = rng.randrange(0, 9)
        timestamp: object = t
        if rng.random() < 0.01:
            timestamp = rng.choice([None, int(t)])
        frames.append(
            can.Message(
                timestamp=timestamp,  # type: ignore[arg-type]
                # a few IDs often: frames of other kinds share a data frame's ID and DLC
                arbitration_id=rng.choice(
                    [0x100, 0x7E8, rng.randrange(1 << 29 if kind < 0.2 else 1 << 11)]
                ),
                is_extended_id=kind < 0.2,
                is_remote_frame=0.9 < kind < 0.93,
                is_error_frame=0.93 < kind < 0.96,
                is_fd=kind > 0.96,
                is_rx=rng.random() < 0.8,
                channel=rng.choice(channels),
                dlc=length if rng.random() < 0.95 else 8,  # a DLC beyond the data, now and then
                data=bytes(rng.randrange(256) for _ in range(length)),
                check=False,
            )
        )
    return frames


def python_cans_asc(frames: list[can.Message], path: Path) -> bytes:
    """The bytes python-can's own ASCWriter writes for ``frames``, but the first line."""
    writer = can.ASCWriter(str(path))
    for msg in frames:
        writer.on_message_received(msg)
    writer.stop()
    return after_date(path)


def after_date(path: Path) -> bytes:
    # The first line dates the file in wall time: the rest must be the same bytes.
    return path.read_bytes().split(b"\n", 1)[1]


def test_the_asc_writer_writes_python_cans_own_bytes(tmp_path: Path) -> None:
    """AscWriter, frame by frame and in batches of any size, against python-can's ASCWriter."""
    frames = varied_frames(3000)
    theirs = python_cans_asc(frames, tmp_path / "theirs.asc")
    assert theirs.count(b"\n") > 3000

    writer = AscWriter(tmp_path / "one-by-one.asc")
    for msg in frames:
        writer.on_message_received(msg)
    writer.stop()
    assert after_date(tmp_path / "one-by-one.asc") == theirs

    rng = random.Random(6)
    writer = AscWriter(tmp_path / "batches.asc")
    k = 0
    while k < len(frames):
        size = rng.choice([1, 2, 7, 256, 600])
        writer.write_batch(frames[k : k + size])
        k += size
    writer.write_batch([])
    writer.stop()
    assert after_date(tmp_path / "batches.asc") == theirs


def test_the_asc_writers_cache_is_bounded_and_its_lines_stay_python_cans(tmp_path: Path) -> None:
    """More IDs than the cache keeps: it starts over, the lines do not change."""

    class Small(AscWriter):
        PREFIXES = 16

    rng = random.Random(7)
    frames = [
        can.Message(
            timestamp=1000.0 + n * 0.001,
            arbitration_id=rng.randrange(1 << 29),
            is_extended_id=True,
            channel="vcan1",
            data=rng.randbytes(rng.randrange(9)),
        )
        for n in range(2000)
    ]
    frames += frames[:100]  # IDs seen before, whose middles the cache has dropped since
    writer = Small(tmp_path / "ours.asc")
    sizes = []
    for k in range(0, len(frames), 50):
        writer.write_batch(frames[k : k + 50])
        sizes.append(len(writer._prefixes))
    writer.stop()
    assert max(sizes) <= Small.PREFIXES
    assert after_date(tmp_path / "ours.asc") == python_cans_asc(frames, tmp_path / "theirs.asc")


def test_a_trace_through_the_writer_thread_is_python_cans_asc(tmp_path: Path) -> None:
    """CanTrace's batches to AscWriter write what ASCWriter writes frame by frame."""
    from drivers.bms.trace import CanTrace

    frames = varied_frames(5 * CanTrace.BATCH_FRAMES + 17, seed=8)
    trace = CanTrace()
    trace.open(tmp_path / "ours.asc")
    for msg in frames:
        trace.on_message_received(msg)
    path = trace.close()
    assert path is not None and trace.failure is None and trace.dropped == 0
    assert trace.frames == len(frames)
    assert after_date(path) == python_cans_asc(frames, tmp_path / "theirs.asc")


def test_a_full_disk_under_a_batch_of_asc_lines_stops_the_trace_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import io

    from drivers.bms import trace as trace_module

    class FullDisk(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    def full_disk(path: Path) -> AscWriter:
        writer = AscWriter(path)
        writer.file.close()
        writer.file = FullDisk()
        return writer

    monkeypatch.setattr(trace_module, "open_writer", full_disk)
    trace = trace_module.CanTrace()
    trace.open(tmp_path / "t.asc")
    for n in range(3 * trace.BATCH_FRAMES):
        trace.record_tx(can.Message(timestamp=float(n), arbitration_id=0x7E0, data=[0] * 8))
    trace.close()
    assert trace.failure is not None and "No space left on device" in trace.failure
    assert trace.frames == 0
