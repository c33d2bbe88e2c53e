"""ICAO 9303-11 cryptographic primitives: key derivation, ISO 9797-1 padding and MACs, 3DES and AES modes.

3DES is two-key (K1 || K2 || K1) from ``cryptography.hazmat.decrepit``; AES-CMAC from ``cryptography``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from edge.identity.emrtd.errors import SecureMessagingError

CipherName = Literal["3DES", "AES-128", "AES-192", "AES-256"]

KDF_ENC = 1
KDF_MAC = 2
KDF_PACE = 3


@dataclass(frozen=True)
class CipherSuite:
    """One of the four ICAO cipher choices: key length, block size, and which MAC goes with it."""

    name: CipherName
    key_bytes: int
    block_bytes: int

    @property
    def is_aes(self) -> bool:
        return self.name != "3DES"


SUITES: dict[CipherName, CipherSuite] = {
    "3DES": CipherSuite("3DES", 16, 8),
    "AES-128": CipherSuite("AES-128", 16, 16),
    "AES-192": CipherSuite("AES-192", 24, 16),
    "AES-256": CipherSuite("AES-256", 32, 16),
}


def random_scalar(order: int) -> int:
    """A private key for a group of prime order ``order``: uniform in [1, order - 1]."""
    return secrets.randbelow(order - 1) + 1


def des_parity(key: bytes) -> bytes:
    """Set each byte's lowest bit so the byte has odd parity (DES key convention)."""
    out = bytearray()
    for byte in key:
        high = byte & 0xFE
        out.append(high | (bin(high).count("1") % 2 == 0))
    return bytes(out)


def kdf(shared: bytes, counter: int, suite: CipherSuite) -> bytes:
    """KDF(K, c) of ICAO 9303-11 9.7.1: SHA-1 for 3DES/AES-128, SHA-256 for AES-192/256."""
    d = shared + counter.to_bytes(4, "big")
    # SHA-1 is prescribed by ICAO 9303-11 for 3DES and AES-128
    hash_name = "sha1" if suite.name in ("3DES", "AES-128") else "sha256"
    digest = hashlib.new(hash_name, d).digest()
    key = digest[: suite.key_bytes]
    return des_parity(key) if suite.name == "3DES" else key


def pad(data: bytes, block_bytes: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80 then zeros up to the block size (always adds at least one byte)."""
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % block_bytes)


def unpad(data: bytes) -> bytes:
    """Remove padding method 2; ``SecureMessagingError`` when the padding is absent."""
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise SecureMessagingError("decrypted data lacks ISO 9797-1 method 2 padding")
    return stripped[:-1]


def _tdes_key(key: bytes) -> bytes:
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return key
    raise ValueError(f"3DES key must be 16 or 24 bytes, got {len(key)}")


def des3_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    encryptor = Cipher(TripleDES(_tdes_key(key)), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def des3_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    decryptor = Cipher(TripleDES(_tdes_key(key)), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def _des_cbc_single(key8: bytes, data: bytes) -> bytes:
    # single DES as 3DES with K1 = K2 = K3
    encryptor = Cipher(TripleDES(key8 * 3), modes.CBC(bytes(8))).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _des_ecb(key8: bytes, block: bytes, *, decrypt: bool) -> bytes:
    cipher = Cipher(TripleDES(key8 * 3), modes.ECB())  # noqa: S305 - one block, as MAC alg. 3 prescribes
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(block) + ctx.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (DES CBC with Ka, then decrypt Kb, encrypt Ka). ``data`` must be padded."""
    if len(data) % 8 or not data:
        raise ValueError("retail MAC input must be padded to a multiple of 8 bytes")
    ka, kb = key[:8], key[8:16]
    last = _des_cbc_single(ka, data)[-8:]
    return _des_ecb(ka, _des_ecb(kb, last, decrypt=True), decrypt=False)


def aes_cmac(key: bytes, data: bytes) -> bytes:
    mac = cmac.CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def aes_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def aes_ecb_encrypt(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - one block (SM IV derivation)
    return encryptor.update(block) + encryptor.finalize()


def encrypt(suite: CipherSuite, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
    """CBC encryption with the suite's cipher (IV zero unless given); ``data`` must be block-aligned."""
    if suite.is_aes:
        return aes_cbc_encrypt(key, data, iv if iv is not None else bytes(16))
    return des3_cbc_encrypt(key, data, iv if iv is not None else bytes(8))


def decrypt(suite: CipherSuite, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
    if len(data) % suite.block_bytes or not data:
        raise SecureMessagingError(f"cryptogram of {len(data)} bytes is not a whole number of blocks")
    if suite.is_aes:
        return aes_cbc_decrypt(key, data, iv if iv is not None else bytes(16))
    return des3_cbc_decrypt(key, data, iv if iv is not None else bytes(8))


def mac8(suite: CipherSuite, key: bytes, padded: bytes) -> bytes:
    """The 8-byte SM checksum over already padded data: retail MAC (3DES) or AES-CMAC truncated to 8 bytes."""
    if suite.is_aes:
        return aes_cmac(key, padded)[:8]
    return retail_mac(key, padded)


def token_mac(suite: CipherSuite, key: bytes, data: bytes) -> bytes:
    """PACE/CA authentication token over unpadded data: CMAC for AES, padded retail MAC for 3DES."""
    if suite.is_aes:
        return aes_cmac(key, data)[:8]
    return retail_mac(key, pad(data, 8))
