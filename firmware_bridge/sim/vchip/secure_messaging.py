"""Card side of secure messaging: verify and decrypt protected commands, protect responses.

Written apart from the reader's ``edge.identity.emrtd.sm`` on purpose (only the primitives are shared), so that a
mistake in the SSC, IV or MAC-input rules on either side shows up as a failing end-to-end read.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from edge.identity import tlv
from edge.identity.emrtd import crypto
from edge.identity.emrtd.apdu import CommandApdu
from edge.identity.emrtd.crypto import CipherSuite
from edge.identity.emrtd.errors import SecureMessagingError


class SmCommandError(Exception):
    """A protected command is malformed or its MAC fails: the card answers ``sw`` and ends the SM session."""

    def __init__(self, message: str, sw: int) -> None:
        super().__init__(message)
        self.sw = sw


@dataclass
class CardSecureMessaging:
    suite: CipherSuite
    ks_enc: bytes
    ks_mac: bytes
    ssc: int = 0

    def _ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.suite.block_bytes, "big")

    def _iv(self) -> bytes:
        if self.suite.is_aes:
            return crypto.aes_ecb_encrypt(self.ks_enc, self._ssc_bytes())
        return bytes(8)

    def _mac(self, data: bytes) -> bytes:
        return crypto.mac8(self.suite, self.ks_mac, crypto.pad(self._ssc_bytes() + data, self.suite.block_bytes))

    def unwrap_command(self, command: CommandApdu) -> CommandApdu:
        """The plain command inside a protected one (increments the SSC); ``SmCommandError`` when invalid."""
        if command.cla & 0x0C != 0x0C:
            raise SmCommandError("command without secure messaging", 0x6987)
        self.ssc += 1
        try:
            objects = list(tlv.iter_tlv(command.data))
        except tlv.TlvError as exc:
            raise SmCommandError(f"SM data objects do not parse: {exc}", 0x6988) from exc
        if not objects or objects[-1].tag != 0x8E:
            raise SmCommandError("DO'8E' missing", 0x6987)
        covered = command.data[: len(command.data) - len(tlv.encode(0x8E, objects[-1].value))]
        header = crypto.pad(bytes((command.cla, command.ins, command.p1, command.p2)), self.suite.block_bytes)
        if not hmac.compare_digest(self._mac(header + covered), objects[-1].value):
            raise SmCommandError("command MAC does not verify", 0x6988)
        data, ne = b"", 0
        for obj in objects[:-1]:
            if obj.tag in (0x87, 0x85):
                cryptogram = obj.value[1:] if obj.tag == 0x87 else obj.value
                if obj.tag == 0x87 and obj.value[:1] != b"\x01":
                    raise SmCommandError("DO'87' padding indicator is not 01", 0x6988)
                if not cryptogram or len(cryptogram) % self.suite.block_bytes:
                    raise SmCommandError("cryptogram length", 0x6988)
                try:
                    data = crypto.unpad(crypto.decrypt(self.suite, self.ks_enc, cryptogram, self._iv()))
                except SecureMessagingError as exc:
                    raise SmCommandError("bad padding", 0x6988) from exc
            elif obj.tag == 0x97:
                if len(obj.value) == 1:
                    ne = obj.value[0] or 256
                elif len(obj.value) == 2:
                    ne = int.from_bytes(obj.value, "big") or 65536
                else:
                    raise SmCommandError("DO'97' length", 0x6988)
            else:
                raise SmCommandError(f"unexpected DO {obj.tag:X}", 0x6988)
        return CommandApdu(command.cla & ~0x0C & 0xFF, command.ins, command.p1, command.p2, data, ne)

    def wrap_response(self, data: bytes, sw: int) -> bytes:
        """Protect a response: DO'87' (if data), DO'99', DO'8E' (increments the SSC)."""
        self.ssc += 1
        body = b""
        if data:
            cryptogram = crypto.encrypt(self.suite, self.ks_enc, crypto.pad(data, self.suite.block_bytes), self._iv())
            body += tlv.encode(0x87, b"\x01" + cryptogram)
        body += tlv.encode(0x99, sw.to_bytes(2, "big"))
        body += tlv.encode(0x8E, self._mac(body))
        return body + sw.to_bytes(2, "big")
