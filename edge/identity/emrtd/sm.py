"""Secure messaging (ICAO 9303-11 9.8), reader side: wrap commands, verify and unwrap every response.

3DES: 8-byte SSC, IV zero, retail MAC. AES: 16-byte SSC, IV = E(KS_enc, SSC), AES-CMAC truncated to 8 bytes.
A response whose MAC does not verify raises ``SecureMessagingError`` and the channel refuses further use.
"""

from __future__ import annotations

import hmac

from edge.identity import tlv
from edge.identity.emrtd import crypto
from edge.identity.emrtd.apdu import SHORT_MAX_NE, SW_OK, ApduChannel, CommandApdu, ResponseApdu, transceive
from edge.identity.emrtd.crypto import CipherSuite
from edge.identity.emrtd.errors import SecureMessagingError

SM_CLA_BITS = 0x0C
SW_SM_MISSING = 0x6987
SW_SM_INCORRECT = 0x6988


def encode_le(ne: int) -> bytes:
    """Le as carried in DO'97': one byte for short lengths, two for extended (0 encodes the maximum)."""
    if ne <= SHORT_MAX_NE:
        return bytes((ne % 256,))
    return (ne % 65536).to_bytes(2, "big")


class SecureMessaging:
    """Session keys and send sequence counter of one SM session (either cipher)."""

    def __init__(self, suite: CipherSuite, ks_enc: bytes, ks_mac: bytes, ssc: int = 0) -> None:
        if len(ks_enc) != suite.key_bytes or len(ks_mac) != suite.key_bytes:
            raise ValueError(f"{suite.name} session keys must be {suite.key_bytes} bytes")
        self.suite = suite
        self.ks_enc = ks_enc
        self.ks_mac = ks_mac
        self.ssc = ssc
        self.broken = False

    @property
    def ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.suite.block_bytes, "big")

    def _iv(self) -> bytes:
        if self.suite.is_aes:
            return crypto.aes_ecb_encrypt(self.ks_enc, self.ssc_bytes)
        return bytes(8)

    def _mac(self, data: bytes) -> bytes:
        return crypto.mac8(self.suite, self.ks_mac, crypto.pad(self.ssc_bytes + data, self.suite.block_bytes))

    def wrap(self, command: CommandApdu) -> CommandApdu:
        """Protect one command (increments the SSC)."""
        if self.broken:
            raise SecureMessagingError("secure messaging session is broken; re-authenticate")
        block = self.suite.block_bytes
        cla = command.cla | SM_CLA_BITS
        header = bytes((cla, command.ins, command.p1, command.p2))
        self.ssc += 1
        data_do = b""
        if command.data:
            cryptogram = crypto.encrypt(self.suite, self.ks_enc, crypto.pad(command.data, block), self._iv())
            # odd INS: data is BER-TLV, carried in DO'85' without the padding-content indicator
            odd = bool(command.ins & 1)
            data_do = tlv.encode(0x85, cryptogram) if odd else tlv.encode(0x87, b"\x01" + cryptogram)
        le_do = tlv.encode(0x97, encode_le(command.ne)) if command.ne else b""
        checksum = self._mac(crypto.pad(header, block) + data_do + le_do)
        body = data_do + le_do + tlv.encode(0x8E, checksum)
        extended = len(body) > 255 or command.ne > SHORT_MAX_NE
        return CommandApdu(cla, command.ins, command.p1, command.p2, body, 65536 if extended else 256)

    def unwrap(self, response: ResponseApdu) -> ResponseApdu:
        """Verify and decrypt one response (increments the SSC). Unprotected error SWs pass through unchanged."""
        if self.broken:
            raise SecureMessagingError("secure messaging session is broken; re-authenticate")
        self.ssc += 1
        if response.sw in (SW_SM_MISSING, SW_SM_INCORRECT):
            self.broken = True
            raise SecureMessagingError(f"card rejected the secure messaging (SW {response.sw:04X})", sw=response.sw)
        if not response.data:
            if response.sw == SW_OK:
                self.broken = True
                raise SecureMessagingError("card answered 9000 without secure messaging objects")
            return response  # an unprotected error status; carries no data to trust
        try:
            objects = list(tlv.iter_tlv(response.data))
        except tlv.TlvError as exc:
            self.broken = True
            raise SecureMessagingError(f"secure messaging response does not parse: {exc.message}") from exc
        tags = [obj.tag for obj in objects]
        if not tags or tags[-1] != 0x8E or tags.count(0x8E) != 1:
            self.broken = True
            raise SecureMessagingError("secure messaging response lacks a single trailing DO'8E' checksum")
        mac_do = objects[-1]
        covered = response.data[: len(response.data) - len(tlv.encode(0x8E, mac_do.value))]
        if not hmac.compare_digest(self._mac(covered), mac_do.value):
            self.broken = True
            raise SecureMessagingError("response MAC does not verify")
        plain = b""
        sw: int | None = None
        for obj in objects[:-1]:
            if obj.tag == 0x87:
                if not obj.value or obj.value[0] != 0x01:
                    raise SecureMessagingError("DO'87' without padding-content indicator 01")
                plain = crypto.unpad(crypto.decrypt(self.suite, self.ks_enc, obj.value[1:], self._iv()))
            elif obj.tag == 0x85:
                plain = crypto.unpad(crypto.decrypt(self.suite, self.ks_enc, obj.value, self._iv()))
            elif obj.tag == 0x99:
                if len(obj.value) != 2:
                    raise SecureMessagingError("DO'99' must hold exactly two status bytes")
                sw = int.from_bytes(obj.value, "big")
            else:
                raise SecureMessagingError(f"unexpected data object {obj.tag:X} in a protected response")
        if sw is None:
            raise SecureMessagingError("protected response lacks DO'99' (status word)")
        return ResponseApdu(plain, sw)


class SecureChannel:
    """A channel that protects every command with ``sm`` (send with ``transceive``)."""

    def __init__(self, channel: ApduChannel, sm: SecureMessaging) -> None:
        self.channel = channel
        self.sm = sm

    def transceive(self, command: CommandApdu) -> ResponseApdu:
        return self.sm.unwrap(transceive(self.channel, self.sm.wrap(command)))
