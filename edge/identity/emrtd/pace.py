"""PACE v2 (ICAO 9303-11 4.4), reader side: generic mapping over ECDH (standardized curves, ids 8-18) or DH
(RFC 5114 MODP groups, ids 0-2), with 3DES or AES.

Integrated mapping and chip-authentication mapping are not implemented (``UnsupportedError``).
The step functions are pure so that the ICAO App. G worked example and the virtual chip can use them.
"""

from __future__ import annotations

import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from ecdsa import curves

from edge.identity import tlv
from edge.identity.emrtd import crypto, dh, ec
from edge.identity.emrtd.apdu import ApduChannel, CommandApdu, ResponseApdu, raise_for_status, transceive
from edge.identity.emrtd.bac import mrz_information
from edge.identity.emrtd.cardaccess import PaceInfo
from edge.identity.emrtd.crypto import SUITES, CipherSuite
from edge.identity.emrtd.errors import (
    AccessDeniedError,
    ChipError,
    MalformedResponseError,
    SecurityStatusError,
    UnsupportedError,
)
from edge.identity.emrtd.sm import SecureMessaging

PASSWORD_REFS = {"MRZ": 0x01, "CAN": 0x02}
E = TypeVar("E")


@dataclass(frozen=True)
class PacePassword:
    kind: Literal["CAN", "MRZ"]
    key: bytes  # K_pi = f(pi): the CAN's ASCII digits, or SHA-1 of the MRZ information

    @classmethod
    def from_can(cls, can: str) -> PacePassword:
        if not can.isdigit() or not 1 <= len(can) <= 12:
            raise AccessDeniedError("the CAN must be digits (6 on a CCCD)")
        return cls("CAN", can.encode("ascii"))

    @classmethod
    def from_mrz(cls, document_number: str, birth_date: str, expiry_date: str) -> PacePassword:
        info = mrz_information(document_number, birth_date, expiry_date)
        return cls("MRZ", hashlib.sha1(info.encode("ascii")).digest())  # noqa: S324 - ICAO 9303-11 f(pi)


def nonce_key(suite: CipherSuite, password: PacePassword) -> bytes:
    return crypto.kdf(password.key, crypto.KDF_PACE, suite)


def decrypt_nonce(suite: CipherSuite, password: PacePassword, encrypted: bytes) -> bytes:
    if not encrypted or len(encrypted) % suite.block_bytes:
        raise MalformedResponseError(f"PACE nonce of {len(encrypted)} bytes is not whole cipher blocks")
    return crypto.decrypt(suite, nonce_key(suite, password), encrypted)


def session_keys(suite: CipherSuite, shared: bytes) -> tuple[bytes, bytes]:
    return crypto.kdf(shared, crypto.KDF_ENC, suite), crypto.kdf(shared, crypto.KDF_MAC, suite)


def public_key_object(oid_bytes: bytes, public: bytes, tag: int = 0x86) -> bytes:
    """7F49 { 06 OID, 86 point | 84 DH value }: the data the authentication tokens are computed over."""
    return tlv.encode(0x7F49, tlv.encode(0x06, oid_bytes) + tlv.encode(tag, public))


class PaceGroup(ABC, Generic[E]):
    """The group PACE runs in: an elliptic curve (points) or a MODP group (integers), written multiplicatively."""

    order: int
    token_tag: int

    @abstractmethod
    def generator(self) -> E: ...

    @abstractmethod
    def power(self, base: E, exponent: int) -> E:
        """k·P on a curve, base^k mod p in a MODP group."""

    @abstractmethod
    def combine(self, a: E, b: E) -> E:
        """Point addition, or multiplication mod p."""

    @abstractmethod
    def encode(self, element: E) -> bytes: ...

    @abstractmethod
    def decode(self, data: bytes) -> E:
        """Validate a public key from the other side (``MalformedResponseError`` when invalid)."""

    @abstractmethod
    def shared_secret(self, private: int, public: E) -> bytes: ...

    def map_generator(self, nonce: bytes, sk_map: int, pk_map_other: E) -> E:
        """Generic mapping: G' = s·G + SK_map·PK_map(other) (EC), g' = g^s · PK_map(other)^SK_map (DH)."""
        return self.combine(
            self.power(self.generator(), int.from_bytes(nonce, "big")), self.power(pk_map_other, sk_map)
        )

    def token(self, suite: CipherSuite, ks_mac: bytes, oid_bytes: bytes, other_public: E) -> bytes:
        return crypto.token_mac(suite, ks_mac, public_key_object(oid_bytes, self.encode(other_public), self.token_tag))


class EcGroup(PaceGroup[ec.Point]):
    token_tag = 0x86

    def __init__(self, curve: curves.Curve) -> None:
        self.curve = curve
        self.order = int(curve.order)

    def generator(self) -> ec.Point:
        return ec.generator(self.curve)

    def power(self, base: ec.Point, exponent: int) -> ec.Point:
        return base * exponent

    def combine(self, a: ec.Point, b: ec.Point) -> ec.Point:
        return a + b

    def encode(self, element: ec.Point) -> bytes:
        return element.encode()

    def decode(self, data: bytes) -> ec.Point:
        return ec.decode_point(self.curve, data)

    def shared_secret(self, private: int, public: ec.Point) -> bytes:
        return ec.shared_x(private, public)


class DhGroup(PaceGroup[int]):
    token_tag = 0x84

    def __init__(self, group: dh.ModpGroup) -> None:
        self.group = group
        self.order = group.q

    def generator(self) -> int:
        return self.group.g

    def power(self, base: int, exponent: int) -> int:
        return pow(base, exponent, self.group.p)

    def combine(self, a: int, b: int) -> int:
        return a * b % self.group.p

    def encode(self, element: int) -> bytes:
        return self.group.encode(element)

    def decode(self, data: bytes) -> int:
        return self.group.decode(data)

    def shared_secret(self, private: int, public: int) -> bytes:
        return self.group.encode(pow(public, private, self.group.p))


def group_for(info: PaceInfo) -> PaceGroup[Any]:
    """The group a PACEInfo names; ``UnsupportedError`` for mappings or parameters this reader lacks."""
    if not info.supported or info.parameter_id is None:
        raise UnsupportedError(f"PACE {info.agreement}-{info.mapping} with parameter id {info.parameter_id}")
    if info.agreement == "DH":
        return DhGroup(dh.STANDARD_GROUPS[info.parameter_id])
    return EcGroup(ec.curve_for_parameter_id(info.parameter_id))


def mse_set_at(info: PaceInfo, password: PacePassword) -> CommandApdu:
    data = tlv.encode(0x80, info.oid_bytes) + tlv.encode(0x83, bytes((PASSWORD_REFS[password.kind],)))
    if info.parameter_id is not None:
        data += tlv.encode(0x84, bytes((info.parameter_id,)))
    return CommandApdu(0x00, 0x22, 0xC1, 0xA4, data)


def dynamic_data(response: ResponseApdu, tag: int, step: str) -> bytes:
    """Value of ``tag`` inside the 7C dynamic authentication data of a GENERAL AUTHENTICATE answer."""
    try:
        outer = tlv.decode(response.data)
        if outer.tag != 0x7C:
            raise MalformedResponseError(f"PACE {step}: answer is not tag 7C")
        inner = outer.find(tag)
    except tlv.TlvError as exc:
        raise MalformedResponseError(f"PACE {step}: answer does not parse: {exc.message}") from exc
    if inner is None:
        raise MalformedResponseError(f"PACE {step}: answer lacks tag {tag:X}")
    return inner.value


def _general_authenticate(channel: ApduChannel, tag: int, value: bytes, *, last: bool, step: str) -> ResponseApdu:
    body = tlv.encode(0x7C, tlv.encode(tag, value) if tag else b"")
    command = CommandApdu(0x00 if last else 0x10, 0x86, 0x00, 0x00, body, 256)
    response = transceive(channel, command)
    try:
        return raise_for_status(response, f"PACE {step}")
    except SecurityStatusError as exc:
        raise AccessDeniedError(f"PACE {step}: the chip rejected the access key", sw=exc.sw) from exc


def perform_pace(
    channel: ApduChannel,
    info: PaceInfo,
    password: PacePassword,
    *,
    random_scalar: Callable[[int], int] | None = None,
) -> SecureMessaging:
    """Run PACE; returns the SM session (SSC 0). Wrong CAN/MRZ → ``AccessDeniedError`` (no retry here)."""
    group = group_for(info)
    suite = SUITES[info.cipher]
    pick = random_scalar or crypto.random_scalar

    response = transceive(channel, mse_set_at(info, password))
    try:
        raise_for_status(response, "PACE MSE:Set AT", allow=tuple(range(0x63C1, 0x63D0)))
    except ChipError as exc:
        if exc.sw in (0x6A80, 0x6A88, 0x6985):
            raise UnsupportedError(f"chip refused PACE parameters {info.oid}", sw=exc.sw) from exc
        raise

    z = dynamic_data(_general_authenticate(channel, 0, b"", last=False, step="nonce"), 0x80, "nonce")
    nonce = decrypt_nonce(suite, password, z)

    sk_map = pick(group.order)
    pk_map = group.power(group.generator(), sk_map)
    answer = _general_authenticate(channel, 0x81, group.encode(pk_map), last=False, step="mapping")
    pk_map_chip = group.decode(dynamic_data(answer, 0x82, "mapping"))
    if pk_map_chip == pk_map:
        raise MalformedResponseError("PACE mapping: chip echoed our public key")
    mapped = group.map_generator(nonce, sk_map, pk_map_chip)

    sk_eph = pick(group.order)
    pk_eph = group.power(mapped, sk_eph)
    answer = _general_authenticate(channel, 0x83, group.encode(pk_eph), last=False, step="key agreement")
    pk_eph_chip = group.decode(dynamic_data(answer, 0x84, "key agreement"))
    if pk_eph_chip == pk_eph:
        raise MalformedResponseError("PACE key agreement: chip echoed our ephemeral key")
    shared = group.shared_secret(sk_eph, pk_eph_chip)
    ks_enc, ks_mac = session_keys(suite, shared)

    token = group.token(suite, ks_mac, info.oid_bytes, pk_eph_chip)
    answer = _general_authenticate(channel, 0x85, token, last=True, step="mutual authentication")
    chip_token = dynamic_data(answer, 0x86, "mutual authentication")
    if not hmac.compare_digest(chip_token, group.token(suite, ks_mac, info.oid_bytes, pk_eph)):
        raise AccessDeniedError("PACE: the chip's authentication token does not verify")
    return SecureMessaging(suite, ks_enc, ks_mac, 0)
