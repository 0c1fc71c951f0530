"""The ISO-TP link under the UDS client: padding, timing and no payload logging.

udsoncan's own ``PythonIsoTpConnection`` logs every payload in hex at DEBUG, which would put
SecurityAccess keys into the logs; this connection implements the same small interface
(open, close, send, wait_frame, empty_rxqueue) and leaves tracing to its caller, who redacts.
While :meth:`IsoTpConnection.wait_frame` waits it calls :attr:`IsoTpConnection.idle`, if set
(see :mod:`drivers.bms.idle`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import can
import isotp
from udsoncan.exceptions import TimeoutException
from udsoncan.Request import Request

from drivers.bms.idle import IDLE_INTERVAL_S, Idle


class IsoTpConnection:
    """udsoncan's connection interface over ``isotp.NotifierBasedCanStack``, without logging.

    ``trace(direction, payload)`` sees every UDS payload (``">"`` sent, ``"<"`` received) and
    must redact it; ``on_tx`` sees every CAN frame the stack sends, for the CAN trace. The
    stack's own logger, ``logger_name``, is held at INFO because isotp logs each frame's
    bytes at DEBUG — keys included. :attr:`idle`, when set, is called about every 2 ms
    while :meth:`wait_frame` has no frame; its owner sets it per request, from the thread
    that will wait.
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
    ) -> None:
        logging.getLogger(logger_name).setLevel(logging.INFO)
        extended = request_id > 0x7FF or response_id > 0x7FF
        mode = (
            isotp.AddressingMode.Normal_29bits if extended else isotp.AddressingMode.Normal_11bits
        )
        self._stack = isotp.NotifierBasedCanStack(
            bus,
            notifier,
            address=isotp.Address(mode, txid=request_id, rxid=response_id),
            params={
                "stmin": 0,
                "blocksize": 0,
                "tx_padding": 0xCC,
                "tx_data_length": 8,
                "tx_data_min_length": 8,
                # can-isotp wants whole milliseconds
                "rx_flowcontrol_timeout": 1000,
                "rx_consecutive_frame_timeout": 1000,
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
        self._open = False
        self.idle: Idle | None = None

    def open(self) -> IsoTpConnection:
        self._stack.start()
        self._open = True
        return self

    def close(self) -> None:
        if self._open:
            self._open = False
            self._stack.stop()

    def is_open(self) -> bool:
        return self._open

    def send(self, data: bytes | Request, timeout: float | None = None) -> None:
        payload = data.get_payload() if isinstance(data, Request) else bytes(data)
        self._trace(">", payload)
        self._stack.send(payload, send_timeout=timeout)

    def wait_frame(self, timeout: float | None = None, exception: bool = False) -> bytes | None:
        frame = self._receive(timeout)
        if frame is None:
            if exception:
                raise TimeoutException(f"no ISO-TP frame within {timeout} s")  # type: ignore[no-untyped-call]
            return None
        self._trace("<", bytes(frame))
        return bytes(frame)

    def _receive(self, timeout: float | None) -> bytearray | None:
        """Wait up to ``timeout`` s of wall time for a payload, calling idle while starved."""
        idle = self.idle
        if idle is None:
            return self._stack.recv(block=True, timeout=timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait, last = IDLE_INTERVAL_S, False
            if deadline is not None:
                left = deadline - time.monotonic()
                wait, last = max(0.0, min(left, IDLE_INTERVAL_S)), left <= IDLE_INTERVAL_S
            frame = self._stack.recv(block=True, timeout=wait)
            if frame is not None or last:
                return frame
            idle()

    def empty_rxqueue(self) -> None:
        self._stack.stop_receiving()
        self._stack.clear_rx_queue()

    def empty_txqueue(self) -> None:
        self._stack.stop_sending()
        self._stack.clear_tx_queue()
