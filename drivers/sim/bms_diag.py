"""The reference BMS's DIDs, routines and DTCs, as a UDS DiagnosticApplication.

ReadDataByIdentifier/WriteDataByIdentifier DIDs, RoutineControl routines and DTCs of the
reference BMS spec (``sequences/bms/eol_reference.toml`` names them), on top of a
:class:`~drivers.sim.bms_model.BmsModel`, served by :class:`~drivers.sim.uds_server.UdsServer`.

Choices the spec leaves open: identity DIDs are the exact ASCII strings (no padding, so read
them one per request or know their length); EOL flag, EOL record and shipping SOC are written
straight to NVM (only calibration needs the commit routine); routines answer with a one-byte
status record, the ContactorState code, for close/open contactors; the balancing mask is 24
bytes with bit i = cell i counted from bit 0 of byte 0 (little-endian).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from drivers.sim.bms_model import PRECHARGE_TIMEOUT_S, BmsModel, ContactorCode
from drivers.sim.packs import PackSpec
from drivers.sim.uds_app import NegativeResponse, Nrc, Pending

DID_PART_NUMBER = 0xF187
DID_SW_VERSION = 0xF189
DID_SERIAL = 0xF18C
DID_HW_NUMBER = 0xF191
DID_SUPPLIER_SW_VERSION = 0xF195
DID_VOLTAGE_CALIBRATION = 0xFD01
DID_CURRENT_CALIBRATION = 0xFD02
DID_EOL_FLAG = 0xFD10
DID_EOL_RECORD = 0xFD11
DID_SHIPPING_SOC = 0xFD20

RID_CLOSE_CONTACTORS = 0x0201
RID_OPEN_CONTACTORS = 0x0202
RID_BALANCING = 0x0203
RID_COMMIT_CALIBRATION = 0x0210

#: Identity keys and their DIDs.
IDENTITY_DIDS: dict[str, int] = {
    "part_number": DID_PART_NUMBER,
    "sw_version": DID_SW_VERSION,
    "serial": DID_SERIAL,
    "hw_number": DID_HW_NUMBER,
    "supplier_sw_version": DID_SUPPLIER_SW_VERSION,
}
STALE_SW_VERSION = "2.3.0"
EOL_RECORD_LENGTH = 96
BALANCING_MASK_LENGTH = 24

_WRITABLE: dict[int, int] = {
    DID_VOLTAGE_CALIBRATION: 8,
    DID_CURRENT_CALIBRATION: 12,
    DID_EOL_FLAG: 1,
    DID_EOL_RECORD: EOL_RECORD_LENGTH,
    DID_SHIPPING_SOC: 1,
}
# Which sub-functions (1 start, 2 stop, 3 results) each routine has.
_ROUTINES: dict[int, tuple[int, ...]] = {
    RID_CLOSE_CONTACTORS: (1, 3),
    RID_OPEN_CONTACTORS: (1, 3),
    RID_BALANCING: (1, 2, 3),
    RID_COMMIT_CALIBRATION: (1,),
}


def pack_identity(spec: PackSpec, seed: int) -> dict[str, str]:
    """Get the identity the BMS of a pack built to ``spec`` reports (serial drawn from ``seed``)."""
    return {
        "part_number": spec.product,
        "sw_version": spec.bms_sw_version,
        "serial": f"{spec.bms_serial_prefix}{seed % 10_000_000:07d}",
        "hw_number": spec.bms_hw_number,
        "supplier_sw_version": spec.bms_supplier_sw_version,
    }


class BmsDiagnostics:
    """DIDs, routines and DTCs of the reference BMS.

    ``now`` is the bench clock in s (physics: a precharge and its timeout run on it; the UDS
    protocol timers do not, see :mod:`drivers.sim.uds_server`).
    """

    def __init__(
        self, model: BmsModel, identity: Mapping[str, str], now: Callable[[], float]
    ) -> None:
        unknown = set(identity) - set(IDENTITY_DIDS)
        if unknown:
            raise ValueError(f"unknown identity keys {sorted(unknown)}; use {list(IDENTITY_DIDS)}")
        self.model = model
        self.identity = dict(identity)
        self._now = now

    def online(self) -> bool:
        """Return False while the BMS is silent."""
        return not self.model.faults.silent

    # --- DIDs -----------------------------------------------------------------------------

    def read_did(self, did: int) -> bytes | None:
        """Read ``did``; ``None`` if unknown."""
        model = self.model
        with model.lock:
            for key, key_did in IDENTITY_DIDS.items():
                if did == key_did:
                    text = self.identity[key]
                    if did == DID_SW_VERSION and model.faults.wrong_sw_version:
                        text = STALE_SW_VERSION if text != STALE_SW_VERSION else "0.0.0"
                    return text.encode("ascii")
            nvm, cal = model.nvm, model.calibration
            values: dict[int, bytes] = {
                DID_VOLTAGE_CALIBRATION: cal.voltage_record(),
                DID_CURRENT_CALIBRATION: cal.current_record(),
                DID_EOL_FLAG: bytes([nvm.eol_flag]),
                DID_EOL_RECORD: nvm.eol_record,
                DID_SHIPPING_SOC: bytes([nvm.shipping_soc_pct]),
            }
            return values.get(did)

    def writable_did_length(self, did: int) -> int | None:
        """Get the data length of writable ``did``; ``None`` if not writable."""
        return _WRITABLE.get(did)

    def write_did(self, did: int, data: bytes) -> None:
        """Write ``did``: calibration to RAM (see commit), the rest straight to NVM."""
        model = self.model
        with model.lock:
            try:
                if did == DID_VOLTAGE_CALIBRATION:
                    model.calibration = model.calibration.with_voltage_record(data)
                elif did == DID_CURRENT_CALIBRATION:
                    model.calibration = model.calibration.with_current_record(data)
                elif did == DID_EOL_FLAG:
                    if data[0] not in (0x00, 0x01):
                        raise ValueError("EOL flag must be 0x00 or 0x01")
                    model.nvm.eol_flag = data[0]
                elif did == DID_EOL_RECORD:
                    if not all(0x20 <= b <= 0x7E for b in data):
                        raise ValueError("EOL record must be printable ASCII")
                    model.nvm.eol_record = bytes(data)
                elif did == DID_SHIPPING_SOC:
                    if data[0] > 100:
                        raise ValueError("shipping SOC must be 0–100 %")
                    model.nvm.shipping_soc_pct = data[0]
            except ValueError as err:
                raise NegativeResponse(Nrc.REQUEST_OUT_OF_RANGE, str(err)) from err

    # --- routines -------------------------------------------------------------------------

    def has_routine(self, rid: int) -> bool:
        """Return whether routine ``rid`` exists."""
        return rid in _ROUTINES

    def routine_control(self, control: int, rid: int, option: bytes) -> bytes | Pending:
        """Start, stop or read the results of routine ``rid``."""
        if control not in _ROUTINES[rid]:
            raise NegativeResponse(Nrc.SUBFUNCTION_NOT_SUPPORTED)
        expected = BALANCING_MASK_LENGTH if (rid, control) == (RID_BALANCING, 1) else 0
        if len(option) != expected:
            raise NegativeResponse(Nrc.INCORRECT_LENGTH)
        model = self.model
        if rid == RID_BALANCING:
            return self._balancing(control, option)
        if rid == RID_COMMIT_CALIBRATION:
            with model.lock:
                if not model.faults.nvm_not_committed:
                    model.nvm.calibration = model.calibration
            return b""
        # Contactor routines take no BMS lock: switching goes through the circuit's lock.
        model.sync()
        if control == 3:
            return bytes([model.contactor_code()])
        if rid == RID_OPEN_CONTACTORS:
            return bytes([model.open_contactors()])
        return self._close_contactors()

    def _balancing(self, control: int, option: bytes) -> bytes:
        # No BMS lock around set_balancing: switching the FETs goes through the circuit's lock.
        model = self.model
        if control == 1:
            mask = int.from_bytes(option, "little")
            if mask >> model.cells:
                raise NegativeResponse(Nrc.REQUEST_OUT_OF_RANGE, "mask names missing cells")
            model.set_balancing(mask)
        elif control == 2:
            model.set_balancing(0)
        return model.balancing_mask.to_bytes(BALANCING_MASK_LENGTH, "little")

    def _close_contactors(self) -> bytes | Pending:
        model, pack = self.model, self.model.pack
        if pack.contactor_state == "closed":
            with model.lock:
                model.welded = False  # closed is what was asked for now
            return bytes([ContactorCode.CLOSED])
        if not pack.hvil_closed:
            raise NegativeResponse(Nrc.CONDITIONS_NOT_CORRECT, "HVIL open")
        if model.measure().flags.insulation:
            raise NegativeResponse(Nrc.CONDITIONS_NOT_CORRECT, "insulation low")
        model.close_contactors()
        started = self._now()

        def poll() -> bytes | None:
            model.sync()
            if pack.contactor_state == "closed":
                model.report_precharge(failed=False)
                return bytes([ContactorCode.CLOSED])
            if self._now() - started > PRECHARGE_TIMEOUT_S:
                model.open_contactors()
                model.report_precharge(failed=True)
                raise NegativeResponse(Nrc.CONDITIONS_NOT_CORRECT, "precharge timeout")
            return None

        return Pending(poll)

    # --- DTCs and reset -------------------------------------------------------------------

    def read_dtcs(self) -> list[tuple[int, int]]:
        """Get the stored DTCs as (code, status)."""
        return self.model.read_dtcs()

    def clear_dtcs(self, group: int) -> None:
        """Clear all DTCs (0xFFFFFF) or one."""
        try:
            self.model.clear_dtcs(group)
        except KeyError:
            raise NegativeResponse(Nrc.REQUEST_OUT_OF_RANGE, f"DTC group 0x{group:06X}") from None

    def ecu_reset(self) -> None:
        """Reset the BMS: uncommitted calibration lost, balancing off, contactors open."""
        self.model.reset()
