"""The ISO-TP link under the UDS client: padding, timing and no payload logging.

udsoncan's own ``PythonIsoTpConnection`` logs every payload in hex at DEBUG, which would put
SecurityAccess keys into the logs; this connection implements the same small interface
(open, close, send, wait_frame, empty_rxqueue) and leaves tracing to its caller, who redacts.
While :meth:`IsoTpConnection.wait_frame` waits for a routine's final answer after 0x78
responsePending it steps :attr:`IsoTpConnection.pacer`, if set (see :mod:`drivers.bms.pacer`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import can
import isotp
from udsoncan.exceptions import TimeoutException
from udsoncan.Request import Request

from drivers.bms.pacer import WALL_BOUND_S, Pacer

_PADDING = b"\xcc"
"""The stack's ``tx_padding``: every frame is 8 bytes."""


class IsoTpConnection:
    """udsoncan's connection interface over ``isotp.NotifierBasedCanStack``, without logging.

    ``trace(direction, payload)`` sees every UDS payload (``">"`` sent, ``"<"`` received) and
    must redact it; ``on_tx`` sees every CAN frame the stack sends, for the CAN trace. The
    stack's own logger, ``logger_name``, is held at INFO because isotp logs each frame's
    bytes at DEBUG — keys included. ``frame_timeout_s`` bounds the wait for the ECU's
    flow control and for each consecutive frame (ISO 15765-2's N_Bs and N_Cr; wall time).
    :attr:`pacer`, when set, is stepped while
    :meth:`wait_frame` waits after a 0x78 responsePending and no frame of the answer has come
    (the simulated ECU finishes the routine as virtual time moves); its owner sets it per
    request, from the thread that will wait.
    """

    def __init__(
        self,
        bus: can.BusABC,
        notifier: can.Notifier,
        *,
        request_id: int,
        response_id: int,
        trace: Callable[[str, bytes], None],
        on_tx: Callable[[can.Message], None] | None = None,
        logger_name: str = f"{__name__}.isotp",
        frame_timeout_s: float = 1.0,
    ) -> None:
        logging.getLogger(logger_name).setLevel(logging.INFO)
        extended = request_id > 0x7FF or response_id > 0x7FF
        mode = (
            isotp.AddressingMode.Normal_29bits if extended else isotp.AddressingMode.Normal_11bits
        )
        # The stack listens to a notifier of its own that sees only the ECU's answers: the
        # rest of the bus (a BMS's cyclic frames, ~100 a second) would wake the stack's two
        # threads for every frame only for it to drop them. Given no bus, it starts no thread.
        self._answers = can.Notifier([], [])
        self._stack = isotp.NotifierBasedCanStack(
            bus,
            self._answers,
            address=isotp.Address(mode, txid=request_id, rxid=response_id),
            params={
                "stmin": 0,
                "blocksize": 0,
                "tx_padding": _PADDING[0],
                "tx_data_length": 8,
                "tx_data_min_length": 8,
                # can-isotp wants whole milliseconds
                "rx_flowcontrol_timeout": round(frame_timeout_s * 1000),
                "rx_consecutive_frame_timeout": round(frame_timeout_s * 1000),
                "logger_name": logger_name,
            },
        )
        if on_tx is not None:
            send = self._stack.txfn

            def traced_send(msg: isotp.CanMessage) -> None:
                send(msg)
                on_tx(
                    can.Message(
                        timestamp=time.time(),
                        arbitration_id=msg.arbitration_id,
                        is_extended_id=msg.is_extended_id,
                        data=bytes(msg.data),
                        is_rx=False,
                    )
                )

            self._stack.txfn = traced_send
        self._trace = trace
        self._bus = bus
        self._on_tx = on_tx
        self._request_id = request_id
        self._extended = extended
        self._open = False
        self._notifier = notifier
        self._response_id = response_id
        self._rx_cond = threading.Condition()
        self._rx_frames = 0  # frames from the ECU so far
        self._rx_consumed = 0  # of those, the ones that made the payloads returned so far
        self._awaiting_final = False  # the last payload was 0x78 responsePending
        self.pacer: Pacer | None = None

    def open(self) -> IsoTpConnection:
        self._notifier.add_listener(self._on_frame)
        self._stack.start()
        self._open = True
        return self

    def close(self) -> None:
        if self._open:
            self._open = False
            self._stack.stop()
            self._notifier.remove_listener(self._on_frame)

    def _on_frame(self, msg: can.Message) -> None:
        """Count an answer frame, then hand it to the stack; ignore the rest of the bus."""
        if msg.arbitration_id != self._response_id:
            return  # the cyclic traffic: one comparison per frame, nothing more
        if not msg.is_error_frame:
            # Counted before the stack sees it: a frame is counted before it makes a payload.
            with self._rx_cond:
                self._rx_frames += 1
        for listener in list(self._answers.listeners):
            listener(msg)

    def is_open(self) -> bool:
        return self._open

    @property
    def frames_received(self) -> int:
        """Count the frames the ECU has sent on the answer ID so far."""
        return self._rx_frames

    def send(self, data: bytes | Request, timeout: float | None = None) -> None:
        payload = data.get_payload() if isinstance(data, Request) else bytes(data)
        self._awaiting_final = False
        self._trace(">", payload)
        self._stack.send(payload, send_timeout=timeout)

    def send_single_frame(self, payload: bytes) -> None:
        """Send ``payload`` (at most 7 bytes) as one single frame, on the calling thread.

        :meth:`send` hands a payload to the stack's thread, which puts it on the bus a little
        later; a lockstep actor's frames must be on the bus when it returns (see
        :mod:`drivers.sim.clock`), and keep their place among the move's frames. The caller
        makes sure that no transfer is under way (the UDS client holds its request lock).
        """
        if len(payload) > 7:
            raise ValueError(f"a single frame carries at most 7 bytes, not {len(payload)}")
        data = bytes([len(payload)]) + payload + _PADDING * (7 - len(payload))
        self._trace(">", payload)
        frame = can.Message(
            arbitration_id=self._request_id, is_extended_id=self._extended, data=data, is_rx=False
        )
        self._bus.send(frame)  # python-can's buses copy it, or write it out: it stays as is
        if self._on_tx is not None:
            frame.timestamp = time.time()
            self._on_tx(frame)

    def wait_frame(self, timeout: float | None = None, exception: bool = False) -> bytes | None:
        frame = self._receive(timeout)
        if frame is None:
            if exception:
                raise TimeoutException(f"no ISO-TP frame within {timeout} s")  # type: ignore[no-untyped-call]
            return None
        payload = bytes(frame)
        self._awaiting_final = len(payload) >= 3 and payload[0] == 0x7F and payload[2] == 0x78
        self._trace("<", payload)
        return payload

    def _receive(self, timeout: float | None) -> bytearray | None:
        """Wait up to ``timeout`` s for a payload; step the pacer while a routine runs."""
        pacer = self.pacer
        if pacer is None or not self._awaiting_final or timeout is None:
            frame = self._stack.recv(block=True, timeout=timeout)
        else:
            frame = self._paced_receive(pacer, timeout)
        with self._rx_cond:
            self._rx_consumed = self._rx_frames
        return frame

    def _paced_receive(self, pacer: Pacer, timeout: float) -> bytearray | None:
        # After 0x78 the ECU answers when virtual time has moved on. Once a step has put a
        # frame of the answer on the bus (the clock's settle hook saw it received) the
        # payload is on its way through the stack: wait for it without stepping again.
        deadline = pacer.now() + timeout
        wall_deadline = time.monotonic() + timeout + WALL_BOUND_S
        while True:
            frame = self._stack.recv(block=False)
            if frame is not None:
                return frame
            with self._rx_cond:
                arriving = self._rx_frames > self._rx_consumed
            left_wall = wall_deadline - time.monotonic()
            if arriving:
                return self._stack.recv(block=True, timeout=max(0.0, left_wall))
            if pacer.now() >= deadline or left_wall <= 0:
                return None
            pacer.step(deadline)

    def empty_rxqueue(self) -> None:
        """Drop what the ECU sent after the last payload taken, before a new request.

        Usually nothing came (the last request got its answer, and the ECU has been quiet
        since): the stack's reception is idle, and emptying its queue is all there is to
        do. Only when frames came after it (a late answer to a request that timed out, an
        unsolicited one) is the reception reset as well, which waits for the stack's thread
        to do it: a thread hand-off per request otherwise, ~10 % of a loopback
        ReadDataByIdentifier (``bench/uds_roundtrip.py``).
        """
        with self._rx_cond:
            quiet = self._rx_frames == self._rx_consumed
        if not quiet:
            self._stack.stop_receiving()
        self._stack.clear_rx_queue()

    def empty_txqueue(self) -> None:
        self._stack.stop_sending()
        self._stack.clear_tx_queue()
