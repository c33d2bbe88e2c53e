"""PN532 chip commands (UM0701 §7) on top of ``Pn532Transport``: configuration, polling, data exchange.

``in_data_exchange`` chains in both directions: host→PN532 with the MI bit (0x40) of the Tg byte when the data
exceeds one frame, PN532→host by following the MI bit of the status byte with empty InDataExchange commands,
up to ``max_chain_frames`` frames. Error status bytes become typed ``Pn532StatusError`` subclasses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from firmware_bridge.pn532.errors import (
    Pn532ChainError,
    Pn532ParameterError,
    Pn532ProtocolError,
    Pn532StatusError,
    RfError,
    TargetGoneError,
    TargetTimeoutError,
)
from firmware_bridge.pn532.transport import Pn532Transport

CMD_GET_FIRMWARE_VERSION = 0x02
CMD_SET_SERIAL_BAUD_RATE = 0x10
CMD_SAM_CONFIGURATION = 0x14
CMD_POWER_DOWN = 0x16
CMD_RF_CONFIGURATION = 0x32
CMD_IN_DATA_EXCHANGE = 0x40
CMD_IN_LIST_PASSIVE_TARGET = 0x4A
CMD_IN_RELEASE = 0x52

BRTY_106_TYPE_A = 0x00
BRTY_106_TYPE_B = 0x03
MI_BIT = 0x40
STATUS_ERROR_MASK = 0x3F
MAX_EXCHANGE_DATA = 262  # bytes of data per InDataExchange frame, both directions (UM0701 §7.3.8)

BAUD_CODES: dict[int, int] = {
    9600: 0x00,
    19200: 0x01,
    38400: 0x02,
    57600: 0x03,
    115200: 0x04,
    230400: 0x05,
    460800: 0x06,
    921600: 0x07,
}

STATUS_TEXT: dict[int, str] = {
    0x01: "timeout: the target did not answer",
    0x02: "CRC error on the RF link",
    0x03: "parity error on the RF link",
    0x04: "erroneous bit count during anticollision",
    0x05: "framing error on the RF link",
    0x06: "abnormal bit collision",
    0x07: "communication buffer too small",
    0x09: "RF buffer overflow",
    0x0A: "RF field not switched on in time",
    0x0B: "RF protocol error",
    0x0D: "temperature error (antenna drivers switched off)",
    0x0E: "internal buffer overflow",
    0x10: "invalid parameter",
    0x12: "unsupported command (DEP)",
    0x13: "data format does not match the specification",
    0x14: "authentication error",
    0x23: "UID check byte wrong",
    0x25: "invalid device state",
    0x26: "operation not allowed in this configuration",
    0x27: "command not acceptable in the current context (no target?)",
    0x29: "target released by the initiator",
    0x2A: "card exchanged (ID mismatch)",
    0x2B: "card disappeared",
    0x2C: "NFCID3 mismatch",
    0x2D: "over-current",
    0x2E: "NAD missing",
}
_RF_STATUSES = frozenset({0x02, 0x03, 0x04, 0x05, 0x06, 0x09, 0x0A, 0x0B, 0x13, 0x14})
_GONE_STATUSES = frozenset({0x29, 0x2A, 0x2B})


def status_error(status: int, context: str) -> Pn532StatusError:
    """The typed error for a non-zero PN532 status (``status`` already masked to 6 bits)."""
    text = STATUS_TEXT.get(status, "unknown error")
    message = f"{context}: PN532 status 0x{status:02X} ({text})"
    if status == 0x01:
        return TargetTimeoutError(message, status=status)
    if status in _GONE_STATUSES:
        return TargetGoneError(message, status=status)
    if status in _RF_STATUSES:
        return RfError(message, status=status)
    return Pn532StatusError(message, status=status)


@dataclass(frozen=True)
class FirmwareVersion:
    ic: int  # 0x32 for a PN532
    version: int
    revision: int
    support: int  # bit 0 ISO 14443 A, bit 1 ISO 14443 B, bit 2 ISO 18092


@dataclass(frozen=True)
class Target:
    """A card activated by InListPassiveTarget. ``uid`` is NFCID1 (Type A) or the PUPI (Type B)."""

    tg: int
    card_type: Literal["A", "B"]
    uid: bytes
    atqa: bytes = b""
    sak: int = 0
    ats: bytes = b""  # Type A: ATS including its length byte TL
    atqb: bytes = b""  # Type B: ATQB (12 bytes)
    attrib_res: bytes = b""

    @property
    def iso14443_4(self) -> bool:
        return self.card_type == "B" or bool(self.sak & 0x20)


def parse_target_a(data: bytes) -> Target:
    """Parse one Type A target record: Tg, SENS_RES(2), SEL_RES, NFCIDLength, NFCID1, [ATS]."""
    truncated = Pn532ProtocolError(f"truncated Type A target data ({data.hex()})")
    if len(data) < 5 or len(data) < 5 + data[4]:
        raise truncated
    tg, sak, uid_len = data[0], data[3], data[4]
    uid, rest = data[5 : 5 + uid_len], data[5 + uid_len :]
    ats = b""
    if sak & 0x20:
        if not rest or rest[0] == 0 or len(rest) < rest[0]:
            raise truncated
        ats = rest[: rest[0]]
    return Target(tg=tg, card_type="A", uid=bytes(uid), atqa=bytes(data[1:3]), sak=sak, ats=bytes(ats))


def parse_target_b(data: bytes) -> Target:
    """Parse one Type B target record: Tg, ATQB(12), ATTRIB_RES length, ATTRIB_RES."""
    if len(data) < 14 or len(data) < 14 + data[13]:
        raise Pn532ProtocolError(f"truncated Type B target data ({data.hex()})")
    atqb = data[1:13]
    return Target(
        tg=data[0], card_type="B", uid=bytes(atqb[1:5]), atqb=bytes(atqb), attrib_res=bytes(data[14 : 14 + data[13]])
    )


class Pn532:
    """One PN532 behind a transport. Every method raises ``Pn532Error`` subclasses on failure."""

    def __init__(
        self,
        transport: Pn532Transport,
        *,
        exchange_timeout_s: float = 2.5,
        max_chain_frames: int = 256,
        max_frame_data: int = MAX_EXCHANGE_DATA,
    ) -> None:
        if not 1 <= max_frame_data <= MAX_EXCHANGE_DATA:
            raise Pn532ParameterError(f"max_frame_data must be 1..{MAX_EXCHANGE_DATA}, got {max_frame_data}")
        self.transport = transport
        self.exchange_timeout_s = exchange_timeout_s
        self.max_chain_frames = max_chain_frames
        self.max_frame_data = max_frame_data
        self.exchanges = 0  # InDataExchange frames sent (chained parts included)

    # ------------------------------------------------------------------ set-up
    def wake_up(self) -> None:
        """Wake the PN532 (HSU) and put it in normal mode: must run before anything else after power-up."""
        self.transport.wake_up()
        self.sam_configuration()

    def get_firmware_version(self) -> FirmwareVersion:
        data = self.transport.command(CMD_GET_FIRMWARE_VERSION, timeout_s=0.5)
        if len(data) != 4:
            raise Pn532ProtocolError(f"GetFirmwareVersion answered {len(data)} bytes, expected 4")
        return FirmwareVersion(*data)

    def sam_configuration(self, *, mode: int = 0x01, timeout_50ms: int = 0x14, use_irq: bool = False) -> None:
        """Normal mode (no SAM). ``timeout_50ms`` only matters in virtual-card mode."""
        self.transport.command(CMD_SAM_CONFIGURATION, bytes([mode, timeout_50ms, int(use_irq)]), timeout_s=0.5)

    def rf_field(self, on: bool, *, auto_rfca: bool = True) -> None:
        self.transport.command(CMD_RF_CONFIGURATION, bytes([0x01, (int(auto_rfca) << 1) | int(on)]), timeout_s=0.5)

    def set_timings(self, *, atr_res_timeout: int = 0x0B, retry_timeout: int = 0x0A) -> None:
        """RFConfiguration item 2 (codes per UM0701 table: 0x0A ≈ 51 ms, 0x0B ≈ 102 ms)."""
        self.transport.command(CMD_RF_CONFIGURATION, bytes([0x02, 0x00, atr_res_timeout, retry_timeout]), timeout_s=0.5)

    def set_max_retries(self, *, atr: int = 0xFF, psl: int = 0x01, passive_activation: int = 0x02) -> None:
        """RFConfiguration item 5. A finite ``passive_activation`` makes InListPassiveTarget return when no card
        is there instead of waiting forever (0xFF)."""
        self.transport.command(CMD_RF_CONFIGURATION, bytes([0x05, atr, psl, passive_activation]), timeout_s=0.5)

    def set_serial_baud_rate(self, baud: int) -> None:
        """Switch the link speed: the PN532 answers at the old rate and switches on the host's ACK."""
        code = BAUD_CODES.get(baud)
        if code is None:
            raise Pn532ParameterError(f"the PN532 cannot run at {baud} baud; use one of {sorted(BAUD_CODES)}")
        self.transport.command(CMD_SET_SERIAL_BAUD_RATE, bytes([code]), timeout_s=0.5, resend_on_timeout=False)
        self.transport.send_ack()
        time.sleep(0.002)  # let the ACK leave at the old rate; the PN532 switches when it has it
        self.transport.set_host_baud(baud)

    def power_down(self, *, wake_up_sources: int = 0x10) -> None:
        """Enter power-down; 0x10 = wake on HSU (the next ``wake_up`` brings it back)."""
        data = self.transport.command(CMD_POWER_DOWN, bytes([wake_up_sources]), timeout_s=0.5)
        if data and data[0] & STATUS_ERROR_MASK:
            raise status_error(data[0] & STATUS_ERROR_MASK, "PowerDown")

    # ------------------------------------------------------------------ targets
    def in_list_passive_target(
        self, brty: int = BRTY_106_TYPE_A, initiator_data: bytes = b"", *, timeout_s: float = 1.0
    ) -> list[Target]:
        data = self.transport.command(
            CMD_IN_LIST_PASSIVE_TARGET, bytes([0x01, brty]) + initiator_data, timeout_s=timeout_s
        )
        if not data:
            raise Pn532ProtocolError("InListPassiveTarget answered no data")
        count = data[0]
        if count == 0:
            return []
        if count != 1:
            raise Pn532ProtocolError(f"asked for 1 target, the PN532 listed {count}")
        return [parse_target_b(data[1:]) if brty == BRTY_106_TYPE_B else parse_target_a(data[1:])]

    def poll(self, *, timeout_s: float = 1.0) -> Target | None:
        """One poll round: 106 kbps Type A, then Type B (AFI 00). None when no card answered."""
        found = self.in_list_passive_target(BRTY_106_TYPE_A, timeout_s=timeout_s)
        if not found:
            found = self.in_list_passive_target(BRTY_106_TYPE_B, b"\x00", timeout_s=timeout_s)
        return found[0] if found else None

    def in_release(self, tg: int = 0) -> None:
        """Release ``tg`` (0: all targets). A status error here is ignored: the card is gone either way."""
        self.transport.command(CMD_IN_RELEASE, bytes([tg]), timeout_s=0.5)

    # ------------------------------------------------------------------ data exchange
    def _exchange_frame(self, tg: int, data: bytes, context: str) -> tuple[bool, bytes]:
        self.exchanges += 1
        answer = self.transport.command(
            CMD_IN_DATA_EXCHANGE, bytes([tg]) + data, timeout_s=self.exchange_timeout_s, resend_on_timeout=False
        )
        if not answer:
            raise Pn532ProtocolError(f"{context}: InDataExchange answered no status byte")
        status = answer[0]
        if status & STATUS_ERROR_MASK:
            raise status_error(status & STATUS_ERROR_MASK, context)
        return bool(status & MI_BIT), answer[1:]

    def in_data_exchange(self, tg: int, data: bytes) -> bytes:
        """Send ``data`` to target ``tg`` and return its complete answer, chaining both ways as needed."""
        if not 1 <= tg <= 0x3F:
            raise Pn532ParameterError(f"target number must be 1..63, got {tg}")
        size = self.max_frame_data
        parts = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
        if len(parts) > self.max_chain_frames:
            raise Pn532ParameterError(
                f"{len(data)} bytes need {len(parts)} chained frames (max {self.max_chain_frames})"
            )
        for part in parts[:-1]:
            _, echoed = self._exchange_frame(tg | MI_BIT, part, "InDataExchange (chained send)")
            if echoed:
                raise Pn532ProtocolError("the PN532 answered data to a chained (MI) part")
        more, answer = self._exchange_frame(tg, parts[-1], "InDataExchange")
        chunks = [answer]
        frames = 1
        while more:
            if frames >= self.max_chain_frames:
                raise Pn532ChainError(f"the answer was still chained after {frames} frames")
            more, chunk = self._exchange_frame(tg, b"", "InDataExchange (chained answer)")
            chunks.append(chunk)
            frames += 1
        return b"".join(chunks)
