"""SecurityInfos parsing: EF.CardAccess and DG14 shapes, named and explicit curve parameters, unknown entries."""

from __future__ import annotations

import pytest
from asn1crypto import core, keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec

from edge.identity import tlv
from edge.identity.emrtd import ec
from edge.identity.emrtd.cardaccess import parse_security_infos
from edge.identity.emrtd.chip_auth import choose_chip_auth
from edge.identity.emrtd.errors import MalformedResponseError
from firmware_bridge.sim.identity_builder import build_card_access, build_dg14

# EF.CardAccess of ICAO 9303-11 App. G.1: PACEInfo id-PACE-ECDH-GM-AES-CBC-CMAC-128, version 2, parameter id 13
ICAO_CARD_ACCESS = bytes.fromhex("3114" + "3012060A04007F0007020204020202010202010D")


def test_icao_card_access() -> None:
    infos = parse_security_infos(ICAO_CARD_ACCESS)
    (info,) = infos.pace
    assert (info.oid, info.version, info.parameter_id) == ("0.4.0.127.0.7.2.2.4.2.2", 2, 13)
    assert (info.agreement, info.mapping, info.cipher) == ("ECDH", "GM", "AES-128")
    assert infos.best_pace() == info


def test_builder_card_access_roundtrip() -> None:
    for curve, param in (("P-384", 15), ("brainpoolP512r1", 17)):
        (info,) = parse_security_infos(build_card_access(curve, "AES-256")).pace
        assert (info.parameter_id, info.cipher) == (param, "AES-256")


def test_dg14_named_curve() -> None:
    key = crypto_ec.generate_private_key(crypto_ec.BrainpoolP256R1())
    infos = parse_security_infos(build_dg14(key, "AES-128", pace=("brainpoolP256r1", "AES-128"), aa_hash="sha256"))
    (ca_key,) = infos.chip_auth_keys
    assert ca_key.curve is ec.STANDARD_CURVES[13]
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert ca_key.public_key == point
    assert infos.chip_auth[0].cipher == "AES-128"
    assert infos.active_auth is not None and infos.active_auth.hash_name == "sha256"
    choice = choose_chip_auth(infos)
    assert choice is not None and choice.key is ca_key


def test_dg14_explicit_curve_parameters() -> None:
    """Real chips often put explicit (specified) domain parameters into DG14; match them to the named curve."""
    curve = ec.STANDARD_CURVES[13]
    key = crypto_ec.generate_private_key(crypto_ec.BrainpoolP256R1())
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    fp, size = curve.curve, 32
    specified = keys.SpecifiedECDomain(
        {
            "version": 1,
            "field_id": {"field_type": "prime_field", "parameters": fp.p()},
            "curve": {"a": (fp.a() % fp.p()).to_bytes(size, "big"), "b": fp.b().to_bytes(size, "big")},
            "base": ec.generator(curve).encode(),
            "order": curve.order,
            "cofactor": 1,
        }
    )
    spki = keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": keys.ECDomainParameters(name="specified", value=specified)},
            "public_key": point,
        }
    )
    entry = core.Sequence.load(tlv.encode(0x30, core.ObjectIdentifier("0.4.0.127.0.7.2.2.1.2").dump() + spki.dump()))
    dg14 = tlv.encode(0x6E, tlv.encode(0x31, entry.dump()))
    (ca_key,) = parse_security_infos(dg14).chip_auth_keys
    assert ca_key.curve is curve and ca_key.public_key == point
    choice = choose_chip_auth(parse_security_infos(dg14))
    assert choice is not None and choice.info.cipher == "3DES"  # no ChipAuthenticationInfo: CA v1 3DES implied


def test_unknown_entries_are_kept_aside() -> None:
    unknown = tlv.encode(0x30, core.ObjectIdentifier("1.2.3.4").dump() + core.Integer(1).dump())
    infos = parse_security_infos(tlv.encode(0x31, unknown + ICAO_CARD_ACCESS[2:]))
    assert infos.other_oids == ["1.2.3.4"]
    assert len(infos.pace) == 1


@pytest.mark.parametrize("raw", ["", "31", "3103300100", "6E03310130", "3105300306012A"])
def test_malformed(raw: str) -> None:
    with pytest.raises(MalformedResponseError):
        parse_security_infos(bytes.fromhex(raw))


def test_best_pace_prefers_ecdh_over_dh() -> None:
    dh = tlv.encode(0x30, core.ObjectIdentifier("0.4.0.127.0.7.2.2.4.1.2").dump() + b"\x02\x01\x02\x02\x01\x02")
    infos = parse_security_infos(tlv.encode(0x31, dh + ICAO_CARD_ACCESS[2:]))
    assert sorted(p.agreement for p in infos.pace) == ["DH", "ECDH"]
    best = infos.best_pace()
    assert best is not None and best.parameter_id == 13


def test_integrated_mapping_is_not_offered() -> None:
    im = tlv.encode(0x30, core.ObjectIdentifier("0.4.0.127.0.7.2.2.4.4.2").dump() + b"\x02\x01\x02\x02\x01\x0d")
    infos = parse_security_infos(tlv.encode(0x31, im))
    assert infos.pace[0].mapping == "IM"
    assert infos.best_pace() is None
