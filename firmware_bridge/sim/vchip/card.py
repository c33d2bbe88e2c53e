"""A faithful virtual CCCD chip: the card side of PACE, BAC, secure messaging, CA and AA, serving identity files.

It checks every MAC, ends the secure channel on SM errors (6987/6988), refuses data-group reads without access
control (6982), answers 6982 for the EAC-protected DG3/DG4 and 6A82 for absent files.
Fault injection: ``remove_after_apdus`` (the card leaves: ``CardGone``), ``corrupt_every`` (flip a byte in every
Nth response), ``max_read_bytes`` (6700 for longer READ BINARY requests).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

from cryptography.hazmat.primitives import serialization

from edge.identity import tlv
from edge.identity.emrtd import bac, crypto, ec, pace
from edge.identity.emrtd.apdu import CommandApdu
from edge.identity.emrtd.cardaccess import parse_security_infos
from edge.identity.emrtd.crypto import SUITES, CipherName
from edge.identity.emrtd.errors import ChipError
from edge.identity.emrtd.session import EMRTD_AID
from firmware_bridge.sim.vchip.chip_keys import AaHash, active_auth_sign, ec_private_key, parse_ca_cipher
from firmware_bridge.sim.vchip.identity import Identity, load_identity
from firmware_bridge.sim.vchip.pace_card import PaceState, pace_step
from firmware_bridge.sim.vchip.secure_messaging import CardSecureMessaging, SmCommandError
from firmware_bridge.sim.vchip.status import Answer

FID_CARD_ACCESS = 0x011C
EAC_PROTECTED = frozenset({0x0103, 0x0104})  # DG3 fingerprints, DG4 iris: need Extended Access Control
DEFAULT_ATS = bytes.fromhex("0578807002")


class CardGone(Exception):  # noqa: N818 - name fixed by the chip contracts
    """The card left the field; the virtual PN532 reports it like a real card leaving (status 0x01)."""


class VirtualCard(Protocol):
    uid: bytes
    ats: bytes

    def process_apdu(self, apdu: bytes) -> bytes: ...

    def reset(self) -> None: ...


class VirtualCccdChip:
    """The card. ``process_apdu`` takes raw command bytes and returns the raw response including SW1 SW2."""

    def __init__(
        self,
        identity: Identity,
        *,
        remove_after_apdus: int | None = None,
        corrupt_every: int | None = None,
        max_read_bytes: int = 65536,
        bac_enabled: bool = True,
        aa_hash: AaHash = "sha256",
        ats: bytes = DEFAULT_ATS,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.identity = identity
        self.uid = identity.uid
        self.ats = ats
        self.remove_after_apdus = remove_after_apdus
        self.corrupt_every = corrupt_every
        self.max_read_bytes = max_read_bytes
        self.bac_enabled = bac_enabled
        self.aa_hash = aa_hash
        self._random_bytes = random_bytes
        card_access = identity.files.get(FID_CARD_ACCESS)
        self.pace_info = parse_security_infos(card_access).best_pace() if card_access else None
        self._ca_key = ec_private_key(identity.chip_auth_private_pem) if identity.chip_auth_private_pem else None
        self._aa_key = (
            serialization.load_pem_private_key(identity.active_auth_private_pem, password=None)
            if identity.active_auth_private_pem
            else None
        )
        self.apdus_seen = 0
        self.responses_sent = 0
        self.log: list[tuple[bytes, bytes]] = []  # (command, response) for tests
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Field off/on: drop PACE/BAC/SM state and the selection; the fault counters restart per tap."""
        self.apdus_seen = 0
        self.responses_sent = 0
        self._app_selected = False
        self._current_fid: int | None = None
        self._sm: CardSecureMessaging | None = None
        self._pace: PaceState | None = None
        self._bac_challenge: bytes | None = None
        self._ca_pending: bytes | None = None  # CA protocol OID after MSE:Set AT (AES chip authentication)
        self._pending_sm: CardSecureMessaging | None = None
        self.authenticated: Literal["PACE", "BAC"] | None = None
        self.chip_authenticated = False

    def _drop_session(self) -> None:
        self._sm = None
        self._pace = None
        self.authenticated = None

    # ------------------------------------------------------------------ entry point
    def process_apdu(self, apdu: bytes) -> bytes:
        if self.remove_after_apdus is not None and self.apdus_seen >= self.remove_after_apdus:
            raise CardGone(f"card left the field after {self.apdus_seen} APDUs")
        self.apdus_seen += 1
        response = self._process(apdu)
        self.responses_sent += 1
        if self.corrupt_every and self.responses_sent % self.corrupt_every == 0:
            corrupted = bytearray(response)
            index = len(corrupted) // 2 - 1 if len(corrupted) > 2 else len(corrupted) - 1
            corrupted[index] ^= 0x5A
            response = bytes(corrupted)
        self.log.append((apdu, response))
        return response

    def _process(self, raw: bytes) -> bytes:
        try:
            command = CommandApdu.parse(raw)
        except (ChipError, ValueError):
            return b"\x67\x00"
        protected = command.cla & 0x0C == 0x0C
        sm = self._sm
        if sm is not None:
            if not protected:
                # ICAO 9303-11: a plain command ends the secure channel
                # (PACE restart and SELECT of EF.CardAccess or the application start over without SM)
                plain_allowed = command.ins in (0x22, 0x86) or (
                    command.ins == 0xA4 and command.data in (FID_CARD_ACCESS.to_bytes(2, "big"), EMRTD_AID)
                )
                self._drop_session()
                if not plain_allowed:
                    return b"\x69\x87"
            else:
                try:
                    command = sm.unwrap_command(command)
                except SmCommandError as exc:
                    self._drop_session()
                    return exc.sw.to_bytes(2, "big")
                data, sw = self._dispatch(command)
                # answered under the keys the command came with, even when CA has just switched them
                return sm.wrap_response(data, sw)
        elif protected:
            return b"\x69\x88"
        data, sw = self._dispatch(command)
        return data + sw.to_bytes(2, "big")

    def _dispatch(self, command: CommandApdu) -> tuple[bytes, int]:
        handlers: dict[int, Callable[[CommandApdu], bytes]] = {
            0xA4: self._select,
            0xB0: self._read_binary,
            0xB1: self._read_binary_odd,
            0x84: self._get_challenge,
            0x82: self._external_authenticate,
            0x22: self._manage_security_environment,
            0x86: self._general_authenticate,
            0x88: self._internal_authenticate,
        }
        handler = handlers.get(command.ins)
        if handler is None:
            return b"", 0x6D00
        if command.cla & ~0x1C & 0xFF:  # only interindustry class, chaining and SM bits
            return b"", 0x6E00
        try:
            return handler(command), 0x9000
        except Answer as answer:
            return b"", answer.sw

    # ------------------------------------------------------------------ files
    def _select(self, command: CommandApdu) -> bytes:
        if command.p1 == 0x04:
            if command.data != EMRTD_AID:
                raise Answer(0x6A82)
            self._app_selected = True
            self._current_fid = None
            return b""
        if command.p1 in (0x02, 0x00) and len(command.data) == 2:
            fid = int.from_bytes(command.data, "big")
            if fid == FID_CARD_ACCESS:
                if fid not in self.identity.files:
                    raise Answer(0x6A82)
                self._current_fid = fid
                return b""
            if not self._app_selected:
                raise Answer(0x6A82)
            if self.authenticated is None:
                raise Answer(0x6982)
            if fid not in self.identity.files and fid not in EAC_PROTECTED:
                raise Answer(0x6A82)
            self._current_fid = fid
            return b""
        raise Answer(0x6A86)

    def _file_bytes(self) -> bytes:
        fid = self._current_fid
        if fid is None:
            raise Answer(0x6986)  # no current EF
        if fid != FID_CARD_ACCESS and self.authenticated is None:
            raise Answer(0x6982)
        if fid in EAC_PROTECTED:
            raise Answer(0x6982)
        return self.identity.files[fid]

    def _slice(self, content: bytes, offset: int, ne: int) -> bytes:
        if ne > self.max_read_bytes:
            raise Answer(0x6700)
        if offset > len(content):
            raise Answer(0x6B00)
        return content[offset : offset + ne]

    def _read_binary(self, command: CommandApdu) -> bytes:
        if command.p1 & 0x80:
            raise Answer(0x6A81)  # short-EF addressing is not offered
        if command.ne == 0:
            raise Answer(0x6700)
        return self._slice(self._file_bytes(), (command.p1 << 8) | command.p2, command.ne)

    def _read_binary_odd(self, command: CommandApdu) -> bytes:
        try:
            offset_do = tlv.decode(command.data)
        except tlv.TlvError as exc:
            raise Answer(0x6A80) from exc
        if offset_do.tag != 0x54 or not 1 <= len(offset_do.value) <= 3:
            raise Answer(0x6A80)
        offset = int.from_bytes(offset_do.value, "big")
        content = self._file_bytes()
        # DO'53' header takes up to 4 bytes of the Ne budget
        chunk = self._slice(content, offset, max(1, command.ne - 4))
        return tlv.encode(0x53, chunk)

    # ------------------------------------------------------------------ BAC
    def _get_challenge(self, command: CommandApdu) -> bytes:
        if command.ne != 8:
            raise Answer(0x6700)
        self._bac_challenge = self._random_bytes(8)
        return self._bac_challenge

    def _external_authenticate(self, command: CommandApdu) -> bytes:
        challenge, self._bac_challenge = self._bac_challenge, None
        if not self.bac_enabled or not self._app_selected:
            raise Answer(0x6985)
        if challenge is None:
            raise Answer(0x6985)
        if len(command.data) != 40:
            raise Answer(0x6700)
        ident = self.identity
        k_enc, k_mac = bac.basic_keys(
            bac.key_seed(bac.mrz_information(ident.document_number, ident.birth_date, ident.expiry_date))
        )
        e_ifd, m_ifd = command.data[:32], command.data[32:]
        if not hmac.compare_digest(crypto.retail_mac(k_mac, crypto.pad(e_ifd, 8)), m_ifd):
            raise Answer(0x6300)
        s = crypto.des3_cbc_decrypt(k_enc, e_ifd)
        rnd_ifd, rnd_ic, k_ifd = s[:8], s[8:16], s[16:]
        if rnd_ic != challenge:
            raise Answer(0x6300)
        k_ic = self._random_bytes(16)
        e_ic = crypto.des3_cbc_encrypt(k_enc, rnd_ic + rnd_ifd + k_ic)
        answer = e_ic + crypto.retail_mac(k_mac, crypto.pad(e_ic, 8))
        ks_enc, ks_mac = bac.basic_keys(bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True)))
        self._pending_sm = CardSecureMessaging(
            SUITES["3DES"], ks_enc, ks_mac, int.from_bytes(rnd_ic[4:] + rnd_ifd[4:], "big")
        )
        self._activate_after_response("BAC")
        return answer

    def _activate_after_response(self, protocol: Literal["PACE", "BAC"]) -> None:
        # the answer to the authenticating command is plain; SM starts with the next command
        self._sm, self._pending_sm = self._pending_sm, None
        self.authenticated = protocol

    # ------------------------------------------------------------------ PACE and CA: MSE, GENERAL AUTHENTICATE
    def _manage_security_environment(self, command: CommandApdu) -> bytes:
        try:
            objects = {obj.tag: obj.value for obj in tlv.iter_tlv(command.data)}
        except tlv.TlvError as exc:
            raise Answer(0x6A80) from exc
        if (command.p1, command.p2) == (0xC1, 0xA4):
            return self._mse_pace(objects)
        if (command.p1, command.p2) == (0x41, 0xA4) and self._sm is not None:
            if self._ca_key is None or 0x80 not in objects:
                raise Answer(0x6A80)
            self._ca_pending = objects[0x80]
            return b""
        if (command.p1, command.p2) == (0x41, 0xA6) and self._sm is not None:
            if self._ca_key is None or 0x91 not in objects:
                raise Answer(0x6A80)
            self._chip_authenticate(objects[0x91], "3DES")
            return b""
        raise Answer(0x6A86)

    def _mse_pace(self, objects: dict[int, bytes]) -> bytes:
        info = self.pace_info
        if info is None or objects.get(0x80) != info.oid_bytes:
            raise Answer(0x6A80)
        if 0x84 in objects and int.from_bytes(objects[0x84], "big") != info.parameter_id:
            raise Answer(0x6A80)
        reference = objects.get(0x83)
        ident = self.identity
        if reference == b"\x02":
            password = pace.PacePassword.from_can(ident.can)
        elif reference == b"\x01":
            password = pace.PacePassword.from_mrz(ident.document_number, ident.birth_date, ident.expiry_date)
        else:
            raise Answer(0x6A80)
        self._drop_session()
        self._pace = PaceState(info, password, pace.group_for(info))
        return b""

    def _general_authenticate(self, command: CommandApdu) -> bytes:
        try:
            outer = tlv.decode(command.data)
            if outer.tag != 0x7C:
                raise Answer(0x6A80)
            inner = {obj.tag: obj.value for obj in outer.children()}
        except tlv.TlvError as exc:
            raise Answer(0x6A80) from exc
        if self._ca_pending is not None and self._sm is not None and 0x80 in inner:
            oid, self._ca_pending = self._ca_pending, None
            self._chip_authenticate(inner[0x80], parse_ca_cipher(oid))
            return tlv.encode(0x7C, b"")
        state = self._pace
        if state is None:
            raise Answer(0x6985)
        try:
            return self._pace_answer(state, inner, chained=bool(command.cla & 0x10))
        except Answer:
            self._pace = None
            raise
        except ChipError as exc:  # bad points and the like from the shared EC code
            self._pace = None
            raise Answer(0x6A80) from exc

    def _pace_answer(self, state: PaceState, inner: dict[int, bytes], *, chained: bool) -> bytes:
        answer, channel = pace_step(state, inner, chained=chained, random_bytes=self._random_bytes)
        if channel is not None:  # mutual authentication done: SM starts with the next command
            self._pace = None
            self._pending_sm = channel
            self._activate_after_response("PACE")
        return answer

    def _chip_authenticate(self, public: bytes, cipher: CipherName) -> None:
        if self._ca_key is None:
            raise Answer(0x6A80)
        curve, private, _ = self._ca_key
        try:
            terminal = ec.decode_point(curve, public)
        except ChipError as exc:
            raise Answer(0x6A80) from exc
        suite = SUITES[cipher]
        shared = ec.shared_x(private, terminal)
        # the answer to this command still goes out under the old keys (see _process)
        self._sm = CardSecureMessaging(
            suite, crypto.kdf(shared, crypto.KDF_ENC, suite), crypto.kdf(shared, crypto.KDF_MAC, suite), 0
        )
        self.chip_authenticated = True

    # ------------------------------------------------------------------ Active Authentication
    def _internal_authenticate(self, command: CommandApdu) -> bytes:
        if self.authenticated is None:
            raise Answer(0x6982)
        if self._aa_key is None:
            raise Answer(0x6D00)
        if len(command.data) != 8:
            raise Answer(0x6700)
        return active_auth_sign(self._aa_key, command.data, self.aa_hash, self._random_bytes)


def load_identity_card(path: Path, **faults: int | None) -> VirtualCccdChip:
    """The virtual chip for an identity file (``ValueError``/``KeyError``/``OSError`` on a bad file)."""
    return VirtualCccdChip(load_identity(path), **faults)  # type: ignore[arg-type]
