"""One eMRTD read: EF.CardAccess, PACE (or BAC), SELECT eMRTD application, file reads, CA and AA.

Reads are chunked (≤ 0xE0 bytes first, shrinking on 6700), and a transient failure (link error, broken secure
messaging, unparsable answer) re-establishes access control and resumes at the same offset, a bounded number of
times. A wrong access key or a removed card ends the read at once with a typed error.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from edge.devices import AccessKey
from edge.identity import tlv
from edge.identity.emrtd import bac, chip_auth, crypto, pace
from edge.identity.emrtd.apdu import (
    SW_END_OF_FILE,
    ApduChannel,
    CommandApdu,
    ResponseApdu,
    raise_for_status,
    transceive,
)
from edge.identity.emrtd.cardaccess import PaceInfo, SecurityInfos, parse_security_infos
from edge.identity.emrtd.errors import (
    AccessDeniedError,
    ChipCommunicationError,
    ChipError,
    FileNotFoundOnChipError,
    MalformedResponseError,
    ReaderLinkError,
    SecureMessagingError,
    SecurityStatusError,
    UnsupportedError,
    WrongLengthError,
)
from edge.identity.emrtd.sm import SecureChannel

log = logging.getLogger(__name__)

EMRTD_AID = bytes.fromhex("A0000002471001")
FILE_IDS: dict[str, int] = {
    "CardAccess": 0x011C,
    "COM": 0x011E,
    "SOD": 0x011D,
    **{f"DG{n}": 0x0100 + n for n in range(1, 17)},
}
DEFAULT_FILES = ("COM", "DG1", "DG2", "DG13", "DG14", "DG15", "SOD")
REQUIRED_FILES = frozenset({"DG1", "DG2", "SOD"})
MAX_SHORT_OFFSET = 0x7FFF
HEADER_PROBE_BYTES = 4
MAX_FILE_BYTES = 1 << 20  # far above any CCCD file (DG2 is 10-20 KB); bounds a card that claims gigabytes

AuthStatus = chip_auth.AuthStatus
_TRANSIENT = (ChipCommunicationError, SecureMessagingError, MalformedResponseError)


@dataclass
class FileRead:
    name: str
    data: bytes
    elapsed_s: float
    apdus: int
    recoveries: int = 0


@dataclass
class ReadResult:
    """Everything one session read from the chip (raw bytes; LDS parses them)."""

    access_protocol: Literal["PACE", "BAC"]
    password: Literal["CAN", "MRZ"]
    pace_oid: str | None
    files: dict[str, bytes] = field(default_factory=dict)
    reads: dict[str, FileRead] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # file name -> error code
    chip_auth: AuthStatus = "not_supported"
    active_auth: AuthStatus = "not_supported"
    timings_ms: dict[str, float] = field(default_factory=dict)
    apdus: int = 0
    recoveries: int = 0


class _CountingChannel:
    def __init__(self, channel: ApduChannel) -> None:
        self.inner = channel
        self.count = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.count += 1
        return self.inner.transmit(apdu)


class EmrtdSession:
    """Reader side of one card tap. ``read()`` does the whole job; the steps are public for tests and tools."""

    def __init__(
        self,
        channel: ApduChannel,
        key: AccessKey,
        *,
        max_chunk_bytes: int = 0xE0,
        min_chunk_bytes: int = 0x10,
        max_recoveries: int = 3,
        random_bytes: Callable[[int], bytes] = os.urandom,
        random_scalar: Callable[[int], int] | None = None,
    ) -> None:
        if not 1 <= min_chunk_bytes <= max_chunk_bytes <= 0xFFFF:
            raise ValueError("need 1 <= min_chunk_bytes <= max_chunk_bytes <= 65535")
        self.channel = _CountingChannel(channel)
        self.key = key
        self.max_chunk_bytes = max_chunk_bytes
        self.min_chunk_bytes = min_chunk_bytes
        self.max_recoveries = max_recoveries
        self._random_bytes = random_bytes
        self._random_scalar = random_scalar or crypto.random_scalar
        self._chunk = max_chunk_bytes
        self.card_access: SecurityInfos | None = None
        self.pace_info: PaceInfo | None = None
        self.secure: SecureChannel | None = None
        self.protocol: Literal["PACE", "BAC"] | None = None
        self.password_kind: Literal["CAN", "MRZ"] = "CAN"  # noqa: S105 - which password type, not a secret
        self.recoveries = 0
        self._card_access_read = False

    # ------------------------------------------------------------------ access control
    def _plain(self, command: CommandApdu) -> ResponseApdu:
        return transceive(self.channel, command)

    def _send(self, command: CommandApdu) -> ResponseApdu:
        if self.secure is None:
            return self._plain(command)
        return self.secure.transceive(command)

    def read_card_access(self) -> SecurityInfos | None:
        """SELECT EF.CardAccess (``00 A4 02 0C 02 01 1C``) before the application and parse it; None if absent."""
        select = self._plain(CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1c"))
        if select.sw in (0x6A82, 0x6A86, 0x6D00, 0x6986):
            self._card_access_read = True
            return None
        raise_for_status(select, "SELECT EF.CardAccess")
        data = self._read_selected("CardAccess")
        self.card_access = parse_security_infos(data)
        self._card_access_read = True  # only now: a garbled read is read again on retry
        return self.card_access

    def _pace_password(self) -> pace.PacePassword:
        key = self.key
        if key.can:
            return pace.PacePassword.from_can(key.can)
        if key.document_number and key.birth_date and key.expiry_date:
            return pace.PacePassword.from_mrz(key.document_number, key.birth_date, key.expiry_date)
        raise AccessDeniedError("no access key: need the CAN (from the QR code) or the MRZ data")

    def _has_mrz(self) -> bool:
        return bool(self.key.document_number and self.key.birth_date and self.key.expiry_date)

    def _select_application(self) -> None:
        raise_for_status(self._send(CommandApdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)), "SELECT eMRTD application")

    def establish(self) -> Literal["PACE", "BAC"]:
        """Access control (PACE if announced and usable, else BAC) and SELECT of the eMRTD application."""
        self.secure = None
        if not self.key.can and not self._has_mrz():
            raise AccessDeniedError("no access key: need the CAN (from the QR code) or the MRZ data")
        if not self._card_access_read:
            self.read_card_access()
        info = self.card_access.best_pace() if self.card_access else None
        if info is not None:
            password = self._pace_password()
            sm = pace.perform_pace(self.channel, info, password, random_scalar=self._random_scalar)
            self.secure = SecureChannel(self.channel, sm)
            self.protocol, self.password_kind, self.pace_info = "PACE", password.kind, info
            self._select_application()
            return "PACE"
        if self.card_access is not None and not self._has_mrz():
            raise UnsupportedError("EF.CardAccess announces no PACE variant this reader has, and BAC needs the MRZ")
        number, birth, expiry = self.key.document_number, self.key.birth_date, self.key.expiry_date
        if not (number and birth and expiry):
            raise AccessDeniedError("this chip needs BAC, which needs the MRZ data (document number, birth, expiry)")
        self._select_application()
        sm = bac.perform_bac(self.channel, number, birth, expiry, random_bytes=self._random_bytes)
        self.secure = SecureChannel(self.channel, sm)
        self.protocol, self.password_kind = "BAC", "MRZ"
        return "BAC"

    def _recover_budget(self, exc: ChipError, where: str) -> None:
        self.recoveries += 1
        if self.recoveries > self.max_recoveries or isinstance(exc, ReaderLinkError):
            raise exc
        log.warning("chip read %s: %s; retrying (%d/%d)", where, exc.code, self.recoveries, self.max_recoveries)

    def _recover(self, exc: ChipError, where: str) -> None:
        """Re-establish the secure channel after a transient failure, or re-raise when the budget is spent."""
        while True:
            self._recover_budget(exc, where)
            try:
                self.establish()
                return
            except _TRANSIENT as again:
                exc = again

    # ------------------------------------------------------------------ file reads
    def _select_file(self, name: str) -> None:
        fid = FILE_IDS[name].to_bytes(2, "big")
        raise_for_status(self._send(CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid)), f"SELECT {name}")

    def _read_binary(self, offset: int, length: int) -> ResponseApdu:
        if offset <= MAX_SHORT_OFFSET:
            command = CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, b"", length)
            return self._send(command)
        # offsets beyond 32767: odd INS B1 with the offset in DO'54', data comes back in DO'53'
        offset_do = tlv.encode(0x54, offset.to_bytes(3 if offset > 0xFFFF else 2, "big"))
        response = self._send(CommandApdu(0x00, 0xB1, 0x00, 0x00, offset_do, length))
        if response.data:
            try:
                wrapped = tlv.decode(response.data)
            except tlv.TlvError as exc:
                raise MalformedResponseError(f"READ BINARY (B1) answer does not parse: {exc.message}") from exc
            if wrapped.tag != 0x53:
                raise MalformedResponseError("READ BINARY (B1) answer is not DO'53'")
            return ResponseApdu(wrapped.value, response.sw)
        return response

    def _read_chunk(self, name: str, offset: int, length: int) -> bytes:
        """Read up to ``length`` bytes at ``offset``; shrink on 6700, recover on transient errors."""
        reselect = False
        while True:
            want = min(length, self._chunk)
            try:
                if reselect:  # a fresh secure channel starts with the application selected, not the file
                    self._select_file(name)
                    reselect = False
                response = self._read_binary(offset, want)
                if response.sw == SW_END_OF_FILE and response.data:
                    return response.data
                raise_for_status(response, f"READ BINARY {name} at {offset}")
                if not response.data:
                    raise MalformedResponseError(f"READ BINARY {name} at {offset} returned no data")
                return response.data
            except WrongLengthError:
                if self._chunk <= self.min_chunk_bytes:
                    raise
                self._chunk = max(self.min_chunk_bytes, self._chunk // 2)
                log.info("chip read %s: 6700 at offset %d, chunk now %d bytes", name, offset, self._chunk)
            except _TRANSIENT as exc:
                if self.secure is None:
                    raise
                self._recover(exc, f"{name} at {offset}")
                reselect = True

    def _read_selected(self, name: str) -> bytes:
        header = self._read_chunk(name, 0, HEADER_PROBE_BYTES)
        try:
            _, _, value_offset, value_len = tlv.decode_header(header)
        except tlv.TlvError:
            header += self._read_chunk(name, len(header), 8 - len(header))
            try:
                _, _, value_offset, value_len = tlv.decode_header(header)
            except tlv.TlvError as exc:
                raise MalformedResponseError(f"{name} does not start with a TLV header: {exc.message}") from exc
        total = value_offset + value_len
        if total > MAX_FILE_BYTES:
            raise MalformedResponseError(f"{name} claims {total} bytes, more than the {MAX_FILE_BYTES} allowed")
        data = bytearray(header[:total])
        while len(data) < total:
            data += self._read_chunk(name, len(data), total - len(data))
        return bytes(data[:total])

    def read_file(self, name: str) -> FileRead:
        """SELECT and read one elementary file by name (``DG1``, ``SOD``, …)."""
        started, apdus_before, recoveries_before = time.perf_counter(), self.channel.count, self.recoveries
        while True:
            try:
                self._select_file(name)
                break
            except _TRANSIENT as exc:
                self._recover(exc, f"SELECT {name}")
        data = self._read_selected(name)
        return FileRead(
            name,
            data,
            time.perf_counter() - started,
            self.channel.count - apdus_before,
            self.recoveries - recoveries_before,
        )

    # ------------------------------------------------------------------ clone checks
    def _chip_authenticate(self, dg14: bytes, result: ReadResult) -> None:
        started = time.perf_counter()
        try:
            infos = parse_security_infos(dg14)
            choice = chip_auth.choose_chip_auth(infos)
        except (MalformedResponseError, UnsupportedError) as exc:
            log.warning("DG14 unusable for chip authentication: %s", exc.code)
            return
        if choice is None:
            return
        # A MAC failure right after the key switch means the chip lacks the DG14 private key (a clone), or the
        # answer was garbled on the way. Only a failure on two attempts in a row counts as "failed".
        for attempt in (1, 2):
            if self.secure is None:
                return
            try:
                new_sm = chip_auth.chip_authenticate(self.secure, choice, random_scalar=self._random_scalar)
                self.secure = SecureChannel(self.channel, new_sm)
                self._select_file("COM")  # the first command under the new keys proves the chip holds the CA key
                result.chip_auth = "valid"
                break
            except (SecureMessagingError, SecurityStatusError, MalformedResponseError) as exc:
                log.warning("chip authentication attempt %d failed: %s", attempt, exc.code)
                result.chip_auth = "failed"
                self._recover(exc, "chip authentication")
        result.timings_ms["chip_auth"] = (time.perf_counter() - started) * 1000

    def _active_authenticate(self, dg15: bytes, dg14: bytes | None, result: ReadResult) -> None:
        if self.secure is None:
            return
        started = time.perf_counter()
        hash_name = None
        if dg14 is not None:
            try:
                aa = parse_security_infos(dg14).active_auth
                hash_name = aa.hash_name if aa else None
            except (MalformedResponseError, UnsupportedError):
                hash_name = None
        while True:
            try:
                result.active_auth = chip_auth.active_authenticate(
                    self.secure, dg15, hash_name, random_bytes=self._random_bytes
                )
                break
            except SecureMessagingError as exc:  # garbled answer: the signature never reached us intact
                self._recover(exc, "active authentication")
            except (UnsupportedError, MalformedResponseError, SecurityStatusError) as exc:
                log.warning("active authentication not possible: %s", exc.code)
                result.active_auth = "not_supported"
                break
        result.timings_ms["active_auth"] = (time.perf_counter() - started) * 1000

    # ------------------------------------------------------------------ whole read
    def read(
        self,
        files: Sequence[str] = DEFAULT_FILES,
        *,
        chip_authentication: bool = True,
        active_authentication: bool = True,
    ) -> ReadResult:
        """Access control, then every file in ``files`` (DG14 first so CA protects the rest), then AA."""
        started = time.perf_counter()
        while True:
            try:
                protocol = self.establish()
                break
            except _TRANSIENT as exc:
                self._recover_budget(exc, "access control")
        result = ReadResult(protocol, self.password_kind, self.pace_info.oid if self.pace_info else None)
        result.timings_ms["access_control"] = (time.perf_counter() - started) * 1000
        ordered = sorted(files, key=lambda name: 0 if name == "DG14" else 1)
        for name in ordered:
            if name not in FILE_IDS:
                raise ValueError(f"unknown file {name!r}")
            try:
                read = self.read_file(name)
            except (FileNotFoundOnChipError, SecurityStatusError) as exc:
                if name in REQUIRED_FILES:
                    raise
                result.skipped[name] = exc.code
                continue
            result.files[name], result.reads[name] = read.data, read
            result.timings_ms[f"read_{name}"] = read.elapsed_s * 1000
            if name == "DG14" and chip_authentication:
                self._chip_authenticate(read.data, result)
        if active_authentication and "DG15" in result.files:
            self._active_authenticate(result.files["DG15"], result.files.get("DG14"), result)
        result.timings_ms["total"] = (time.perf_counter() - started) * 1000
        result.apdus = self.channel.count
        result.recoveries = self.recoveries
        return result
