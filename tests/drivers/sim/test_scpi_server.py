"""The SCPI socket server framework, through raw sockets (no driver, no pyvisa)."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.sim import scpi_server
from drivers.sim.scpi_server import (
    ERROR_QUEUE_SIZE,
    GARBAGE,
    Call,
    CommandFn,
    ScpiDevice,
    ScpiError,
    ScpiServer,
    compile_pattern,
)
from drivers.sim.scpi_server import _match as match_nodes


class Gadget(ScpiDevice):
    """A tiny instrument: a voltage level, two readings, a numbered step, a broken command."""

    idn = "ACME,Gadget,SN1,1.0"

    def __init__(self) -> None:
        self.level = 0.0
        self.steps: dict[int, float] = {}

    def reset(self) -> None:
        self.level = 0.0

    def commands(self) -> Sequence[tuple[str, CommandFn]]:
        return [
            ("[SOURce:]VOLTage[:LEVel]", self._set_level),
            ("[SOURce:]VOLTage[:LEVel]?", lambda c: f"{self.level:g}"),
            ("MEASure:VOLTage?", lambda c: "1.5"),
            ("MEASure:CURRent?", lambda c: "0.25"),
            ("SAFE:STEP#:LEVel", self._set_step),
            ("OUTPut", lambda c: c.boolean() and None),
            ("BOOM?", self._boom),
        ]

    def _set_level(self, call: Call) -> None:
        call.expect(1)
        self.level = call.number(low=0.0, high=10.0, default=1.0)

    def _set_step(self, call: Call) -> None:
        call.expect(1)
        self.steps[call.suffixes[0]] = call.number(low=0.0, high=5000.0)

    def _boom(self, call: Call) -> str:
        raise RuntimeError("bug in the twin")


class Client:
    """A raw line-oriented socket client."""

    def __init__(self, server: ScpiServer, timeout_s: float = 2.0) -> None:
        self.sock = socket.create_connection((server.host, server.port), timeout=timeout_s)
        self._buffer = b""

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode("ascii") + b"\n")

    def read(self) -> str:
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("ascii")

    def query(self, line: str) -> str:
        self.send(line)
        return self.read()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Iterator[ScpiServer]:
    with ScpiServer(Gadget()) as started:
        yield started


@pytest.fixture
def client(server: ScpiServer) -> Iterator[Client]:
    opened = Client(server)
    yield opened
    opened.close()


# --- header matching ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["VOLT", "volt", "VOLTAGE", "Voltage", "SOUR:VOLT", "SOURCE:VOLTAGE:LEVEL", "sour:volt:lev"],
)
def test_short_and_long_forms_match_in_any_case(header: str) -> None:
    nodes, query = compile_pattern("[SOURce:]VOLTage[:LEVel]")
    assert not query
    assert match_nodes(nodes, header.split(":")) == ()


@pytest.mark.parametrize("header", ["VOLTA", "VOL", "LEV", "SOUR", "VOLT:LEV:LEV", "CURR"])
def test_other_headers_do_not_match(header: str) -> None:
    nodes, _ = compile_pattern("[SOURce:]VOLTage[:LEVel]")
    assert match_nodes(nodes, header.split(":")) is None


def test_a_numeric_suffix_is_captured_and_defaults_to_1() -> None:
    nodes, _ = compile_pattern("SAFE:STEP#:LEVel")
    assert match_nodes(nodes, ["SAFE", "STEP12", "LEV"]) == (12,)
    assert match_nodes(nodes, ["safe", "step", "level"]) == (1,)


@given(
    st.lists(st.sampled_from(["SOUR", "SOURCE"]), max_size=1),
    st.sampled_from(["VOLT", "VOLTAGE"]),
    st.lists(st.sampled_from(["LEV", "LEVEL"]), max_size=1),
    st.randoms(),
)
def test_any_mix_of_forms_and_case_matches(
    source: list[str], volt: str, level: list[str], rng: random.Random
) -> None:
    parts = [
        "".join(ch.lower() if rng.random() < 0.5 else ch for ch in part)
        for part in [*source, volt, *level]
    ]
    nodes, _ = compile_pattern("[SOURce:]VOLTage[:LEVel]")
    assert match_nodes(nodes, parts) == ()


# --- messages ----------------------------------------------------------------------------


def test_resource_names_the_port(server: ScpiServer) -> None:
    assert server.resource == f"TCPIP0::127.0.0.1::{server.port}::SOCKET"


def test_identify_and_empty_error_queue(client: Client) -> None:
    assert client.query("*IDN?") == "ACME,Gadget,SN1,1.0"
    assert client.query("SYST:ERR?") == '0,"No error"'


def test_several_commands_on_one_line_give_one_reply_line(client: Client) -> None:
    assert client.query("VOLT 2.5;*IDN?;:SOUR:VOLT?;:SYSTEM:ERROR:NEXT?") == (
        'ACME,Gadget,SN1,1.0;2.5;0,"No error"'
    )


def test_a_header_after_a_semicolon_is_relative_to_the_previous_one(client: Client) -> None:
    assert client.query("MEAS:VOLT?;CURR?") == "1.5;0.25"


def test_a_line_of_settings_gets_no_reply(client: Client) -> None:
    client.send("VOLT 3;OUTP ON")
    assert client.query("VOLT?") == "3"


def test_numeric_suffix_and_keywords_reach_the_command(server: ScpiServer) -> None:
    assert server.process("SAFE:STEP3:LEV 1000;:VOLT MAX") is None
    device = server.handler
    assert isinstance(device, Gadget)
    assert device.steps == {3: 1000.0}
    assert device.level == 10.0
    server.process("VOLT DEF")
    assert device.level == 1.0


def test_unknown_header_queues_undefined_header_and_gives_no_reply(client: Client) -> None:
    client.send("FOO:BAR 1")
    assert client.query("BOGUS?;*IDN?") == "ACME,Gadget,SN1,1.0"  # the failed query is silent
    assert client.query("SYST:ERR?") == '-113,"Undefined header"'
    assert client.query("SYST:ERR?") == '-113,"Undefined header"'
    assert client.query("SYST:ERR?") == '0,"No error"'


def test_a_repeated_header_reaches_the_same_command_with_its_own_suffix(
    server: ScpiServer,
) -> None:
    device = server.handler
    assert isinstance(device, Gadget)
    for _ in range(3):
        assert server.process("MEAS:VOLT?;CURR?") == "1.5;0.25"
        server.process("SAFE:STEP3:LEV 1000;:SAFE:STEP4:LEV 7")
    assert device.steps == {3: 1000.0, 4: 7.0}
    assert server.errors == ()


def test_a_remembered_header_still_depends_on_the_path_before_it(server: ScpiServer) -> None:
    assert server.process("MEAS:VOLT?;CURR?") == "1.5;0.25"  # CURR? is MEAS:CURR? here
    assert server.process("CURR?") is None  # and undefined from the root
    assert server.process("MEAS:VOLT?;CURR?") == "1.5;0.25"
    assert server.errors == ((-113, "Undefined header"),)


def test_an_unknown_header_pushes_undefined_header_every_time(server: ScpiServer) -> None:
    for _ in range(3):
        assert server.process("BOGUS?;*IDN?") == "ACME,Gadget,SN1,1.0"
    assert server.errors == ((-113, "Undefined header"),) * 3


LINES = [
    "VOLT 2",
    "sour:volt:lev 3;VOLT?",
    "MEAS:VOLT?;CURR?",
    "MEAS:VOLT?;:MEAS:CURR?",
    "CURR?",
    "MEAS:CURR?;VOLT?",
    "SAFE:STEP2:LEV 5;STEP9:LEV 6",
    "SAFE:STEP0:LEV 1",
    "NOPE;*IDN?",
    "OUTP ON;OUTP MAYBE",
    "SYST:ERR?;:SYSTEM:ERROR:NEXT?",
]


@given(st.lists(st.sampled_from(LINES), max_size=30))
def test_remembered_lookups_answer_as_a_fresh_server_does(lines: list[str]) -> None:
    warm, fresh = ScpiServer(Gadget()), ScpiServer(Gadget())  # never started: no sockets
    for line in LINES:
        warm.process(line)  # every header seen once, in other contexts
    warm.process("*RST;*CLS")
    assert [warm.process(line) for line in lines] == [fresh.process(line) for line in lines]
    assert warm.errors == fresh.errors


def test_remembered_lookups_and_lines_are_bounded(
    server: ScpiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scpi_server, "LOOKUPS_KEPT", 8)
    for number in range(20):
        server.process(f"NOPE{number}?")
        server.process(f"VOLT {number / 4}")  # the same header, in ever new lines
    assert len(server._found) <= 8
    assert len(server._parsed) <= 8
    assert server.process("MEAS:VOLT?") == "1.5"


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ("VOLT 11", '-222,"Data out of range"'),
        ("VOLT -1", '-222,"Data out of range"'),
        ("VOLT abc", '-224,"Illegal parameter value"'),
        ("VOLT nan", '-224,"Illegal parameter value"'),
        ("OUTP MAYBE", '-224,"Illegal parameter value"'),
        ("VOLT", '-109,"Missing parameter"'),
        ("VOLT 1,2", '-108,"Parameter not allowed"'),
        ("*IDN? 1", '-108,"Parameter not allowed"'),
    ],
)
def test_bad_parameters_are_refused_and_leave_the_setting(
    client: Client, command: str, error: str
) -> None:
    client.send("VOLT 4")
    client.send(command)
    assert client.query("SYST:ERR?") == error
    assert client.query("VOLT?") == "4"


def test_cls_clears_and_rst_resets(client: Client, server: ScpiServer) -> None:
    client.send("NOPE;VOLT 7")
    client.send("*CLS;*RST")
    assert client.query("SYST:ERR?;VOLT?;*OPC?") == '0,"No error";0;1'
    assert server.errors == ()


def test_a_full_error_queue_ends_with_queue_overflow(server: ScpiServer) -> None:
    for _ in range(ERROR_QUEUE_SIZE + 5):
        server.process("NOPE")
    errors = server.errors
    assert len(errors) == ERROR_QUEUE_SIZE
    assert errors[0] == (-113, "Undefined header")
    assert errors[-1] == (-350, "Queue overflow")


def test_a_bug_in_the_device_is_queued_and_recorded(client: Client, server: ScpiServer) -> None:
    client.send("BOOM?")
    assert client.query("SYST:ERR?") == '-300,"Device-specific error"'
    assert [str(e) for e in server.internal_errors] == ["bug in the twin"]


def test_two_clients_are_served_at_once(server: ScpiServer) -> None:
    first, second = Client(server), Client(server)
    try:
        first.send("VOLT 6")
        assert second.query("*IDN?") == "ACME,Gadget,SN1,1.0"
        assert first.query("VOLT?") == "6"
    finally:
        first.close()
        second.close()


# --- faults ------------------------------------------------------------------------------


def test_error_queue_fault_pushes_an_error(client: Client, server: ScpiServer) -> None:
    server.push_error(-222, "Data out of range")
    assert client.query("SYST:ERR?") == '-222,"Data out of range"'


def test_not_answering_reads_but_never_replies(server: ScpiServer) -> None:
    server.not_answering = True
    silent = Client(server, timeout_s=0.2)
    try:
        silent.send("*IDN?")
        with pytest.raises(TimeoutError):
            silent.read()
    finally:
        silent.close()
    server.not_answering = False
    fresh = Client(server)
    try:
        assert fresh.query("*IDN?") == "ACME,Gadget,SN1,1.0"
    finally:
        fresh.close()


def test_garbage_reply_answers_nonsense_but_still_executes(
    client: Client, server: ScpiServer
) -> None:
    server.garbage_reply = True
    assert client.query("VOLT 5;VOLT?") == GARBAGE
    server.garbage_reply = False
    assert client.query("VOLT?") == "5"


def test_drop_connection_closes_the_link_on_the_next_message(
    client: Client, server: ScpiServer
) -> None:
    server.drop_connection = True
    with pytest.raises(ConnectionError):
        client.query("*IDN?")


def test_drop_connections_closes_every_link_now(client: Client, server: ScpiServer) -> None:
    assert client.query("*OPC?") == "1"
    server.drop_connections()
    with pytest.raises(ConnectionError):
        client.read()


# --- lifecycle ---------------------------------------------------------------------------


def test_close_stops_every_thread_even_with_clients_connected() -> None:
    before = set(threading.enumerate())
    server = ScpiServer(Gadget()).start()
    clients = [Client(server), Client(server)]
    try:
        assert clients[0].query("*IDN?") == "ACME,Gadget,SN1,1.0"
        server.not_answering = True
        clients[1].send("*IDN?")
        server.close()
        server.close()  # twice is fine
        assert set(threading.enumerate()) <= before
        with pytest.raises(ConnectionError):
            clients[0].query("*IDN?")
    finally:
        for opened in clients:
            opened.close()


def test_a_server_never_started_closes_quietly() -> None:
    server = ScpiServer(Gadget())
    with pytest.raises(RuntimeError):
        _ = server.resource
    server.close()


def test_scpi_error_carries_code_and_detail() -> None:
    err = ScpiError((-222, "Data out of range"), "VOLT 11")
    assert (err.code, err.message) == (-222, "Data out of range;VOLT 11")
