"""SecurityInfos (ICAO 9303-11 9.2) from EF.CardAccess and DG14: PACE, Chip and Active Authentication infos.

Parsed with asn1crypto. Unknown SecurityInfo entries are kept by OID and otherwise ignored, as the standard asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from asn1crypto import core, keys
from ecdsa import curves

from edge.identity import tlv
from edge.identity.emrtd import dh, ec
from edge.identity.emrtd.crypto import CipherName
from edge.identity.emrtd.errors import MalformedResponseError, UnsupportedError

BSI_DE = "0.4.0.127.0.7"
ID_PK = BSI_DE + ".2.2.1"  # .1 DH, .2 ECDH
ID_CA = BSI_DE + ".2.2.3"  # .1 DH, .2 ECDH; then .1-.4 cipher
ID_PACE = BSI_DE + ".2.2.4"  # .1 DH-GM .2 ECDH-GM .3 DH-IM .4 ECDH-IM .6 ECDH-CAM; then .1-.4 cipher
ID_AA = "2.23.136.1.1.5"
ECDSA_PLAIN = BSI_DE + ".1.1.4.1"  # .1 SHA-1 .2 SHA-224 .3 SHA-256 .4 SHA-384 .5 SHA-512

CIPHER_ARCS: dict[str, CipherName] = {"1": "3DES", "2": "AES-128", "3": "AES-192", "4": "AES-256"}
_PACE_KINDS: dict[str, tuple[Literal["DH", "ECDH"], Literal["GM", "IM", "CAM"]]] = {
    "1": ("DH", "GM"),
    "2": ("ECDH", "GM"),
    "3": ("DH", "IM"),
    "4": ("ECDH", "IM"),
    "6": ("ECDH", "CAM"),
}
ECDSA_PLAIN_HASHES = {"1": "sha1", "2": "sha224", "3": "sha256", "4": "sha384", "5": "sha512"}


class SecurityInfo(core.Sequence):  # type: ignore[misc]
    """SecurityInfo ::= SEQUENCE { protocol OID, requiredData ANY, optionalData ANY OPTIONAL }"""

    _fields: ClassVar[list[tuple[str, Any, dict[str, bool]]]] = [
        ("protocol", core.ObjectIdentifier, {}),
        ("required_data", core.Any, {}),
        ("optional_data", core.Any, {"optional": True}),
    ]


class SecurityInfoSet(core.SetOf):  # type: ignore[misc]
    _child_spec = SecurityInfo


@dataclass(frozen=True)
class _ProtocolInfo:
    """What PACE and Chip Authentication infos share: the protocol OID (sent to the chip as bytes) and a version."""

    oid: str
    version: int

    @property
    def oid_bytes(self) -> bytes:
        return bytes(core.ObjectIdentifier(self.oid).contents)


@dataclass(frozen=True)
class PaceInfo(_ProtocolInfo):
    parameter_id: int | None
    agreement: Literal["DH", "ECDH"]
    mapping: Literal["GM", "IM", "CAM"]
    cipher: CipherName

    @property
    def supported(self) -> bool:
        if self.mapping != "GM" or self.parameter_id is None:
            return False
        groups = ec.STANDARD_CURVES if self.agreement == "ECDH" else dh.STANDARD_GROUPS
        return self.parameter_id in groups


@dataclass(frozen=True)
class ChipAuthInfo(_ProtocolInfo):
    key_id: int | None
    agreement: Literal["DH", "ECDH"]
    cipher: CipherName


@dataclass(frozen=True)
class ChipAuthPublicKey:
    oid: str
    key_id: int | None
    agreement: Literal["DH", "ECDH"]
    curve: curves.Curve | None  # None for DH keys
    public_key: bytes  # uncompressed EC point (or the DH public value)


@dataclass(frozen=True)
class ActiveAuthInfo:
    version: int
    signature_oid: str

    @property
    def hash_name(self) -> str | None:
        """Hash of ECDSA-plain signatures (TR-03111), or None for unknown algorithms."""
        if self.signature_oid.startswith(ECDSA_PLAIN + "."):
            return ECDSA_PLAIN_HASHES.get(self.signature_oid.rsplit(".", 1)[1])
        return None


@dataclass(frozen=True)
class SecurityInfos:
    pace: list[PaceInfo] = field(default_factory=list)
    chip_auth: list[ChipAuthInfo] = field(default_factory=list)
    chip_auth_keys: list[ChipAuthPublicKey] = field(default_factory=list)
    active_auth: ActiveAuthInfo | None = None
    other_oids: list[str] = field(default_factory=list)

    def best_pace(self) -> PaceInfo | None:
        """The PACE option to use: generic mapping on standardized parameters, ECDH preferred over DH."""
        usable = [info for info in self.pace if info.supported]
        usable.sort(key=lambda info: info.agreement != "ECDH")
        return usable[0] if usable else None


def _suffix(oid: str, prefix: str) -> list[str] | None:
    if oid.startswith(prefix + "."):
        return oid[len(prefix) + 1 :].split(".")
    return None


def _int(value: core.Any) -> int:
    return int(value.parse(core.Integer).native)


def _ec_key(spki: keys.PublicKeyInfo) -> tuple[curves.Curve, bytes]:
    algorithm = spki["algorithm"]
    if algorithm["algorithm"].native != "ec":
        raise UnsupportedError(f"chip authentication key of type {algorithm['algorithm'].native} is not supported")
    params = algorithm["parameters"]
    if params.name == "named":
        curve = ec.curve_by_oid(params.chosen.dotted)
    elif params.name == "specified":
        spec = params.chosen
        base = bytes(spec["base"].native)
        size = (len(base) - 1) // 2
        if not base or base[0] != 0x04:
            raise UnsupportedError("compressed base points in explicit curve parameters are not supported")
        curve = ec.curve_by_parameters(
            int(spec["field_id"]["parameters"].native),
            int.from_bytes(bytes(spec["curve"]["a"].native), "big"),
            int.from_bytes(bytes(spec["curve"]["b"].native), "big"),
            int.from_bytes(base[1 : 1 + size], "big"),
            int.from_bytes(base[1 + size :], "big"),
            int(spec["order"].native),
        )
    else:
        raise UnsupportedError("implicitly-CA curve parameters are not supported")
    point = bytes(spki["public_key"].native)
    ec.decode_point(curve, point)
    return curve, point


def _one(info: SecurityInfo, infos: dict[str, list[Any]]) -> None:
    oid = info["protocol"].dotted
    required = info["required_data"]
    optional = info["optional_data"]
    has_optional = optional.native is not None if isinstance(optional, core.Any) else False
    if (parts := _suffix(oid, ID_PACE)) is not None and len(parts) == 2 and parts[0] in _PACE_KINDS:
        if parts[1] not in CIPHER_ARCS:
            infos["other"].append(oid)
            return
        agreement, mapping = _PACE_KINDS[parts[0]]
        param = _int(optional) if has_optional else None
        infos["pace"].append(PaceInfo(oid, _int(required), param, agreement, mapping, CIPHER_ARCS[parts[1]]))
    elif (parts := _suffix(oid, ID_CA)) is not None and len(parts) == 2 and parts[0] in ("1", "2"):
        key_id = _int(optional) if has_optional else None
        ca_agreement: Literal["DH", "ECDH"] = "DH" if parts[0] == "1" else "ECDH"
        if parts[1] in CIPHER_ARCS:
            infos["ca"].append(ChipAuthInfo(oid, _int(required), key_id, ca_agreement, CIPHER_ARCS[parts[1]]))
    elif (parts := _suffix(oid, ID_PK)) is not None and len(parts) == 1 and parts[0] in ("1", "2"):
        key_id = _int(optional) if has_optional else None
        if parts[0] == "2":
            curve, point = _ec_key(required.parse(keys.PublicKeyInfo))
            infos["ca_keys"].append(ChipAuthPublicKey(oid, key_id, "ECDH", curve, point))
        else:
            spki = required.parse(keys.PublicKeyInfo)
            infos["ca_keys"].append(ChipAuthPublicKey(oid, key_id, "DH", None, bytes(spki["public_key"].dump())))
    elif oid == ID_AA:
        signature = optional.parse(core.ObjectIdentifier).dotted if has_optional else ""
        infos["aa"].append(ActiveAuthInfo(_int(required), signature))
    else:
        infos["other"].append(oid)


def parse_security_infos(data: bytes) -> SecurityInfos:
    """Parse EF.CardAccess (a DER SET) or DG14 (tag 6E around the SET). Bad data → ``MalformedResponseError``."""
    try:
        if data[:1] == b"\x6e":
            data = tlv.decode(data).value
        parsed = SecurityInfoSet.load(data, strict=False)
        infos: dict[str, list[Any]] = {"pace": [], "ca": [], "ca_keys": [], "aa": [], "other": []}
        for info in parsed:
            _one(info, infos)
    except UnsupportedError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, tlv.TlvError, MalformedResponseError) as exc:
        raise MalformedResponseError(f"SecurityInfos do not parse: {exc}") from exc
    return SecurityInfos(
        pace=infos["pace"],
        chip_auth=infos["ca"],
        chip_auth_keys=infos["ca_keys"],
        active_auth=infos["aa"][0] if infos["aa"] else None,
        other_oids=infos["other"],
    )
