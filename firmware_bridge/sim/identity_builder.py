"""Build an ``examgate-identity/1`` file: the full content of a virtual CCCD chip, signed by a throw-away PKI.

EF.CardAccess (PACEInfo), DG14 (Chip Authentication key, ActiveAuthenticationInfo) and DG15 (AA key) are
built here; DG1, DG2, DG13, EF.COM and EF.SOD come from ``firmware_bridge.sim.lds_build``.

    python -m firmware_bridge.sim.identity_builder --name "Nguyễn Văn An" --id 001099012345 \
        --birth 1999-01-01 --expiry 2039-01-01 --sex M --face face.jpg --out identity.json
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import io
import json
import secrets
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from asn1crypto import core
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image, UnidentifiedImageError

from edge.errors import ExamGateError
from edge.identity import tlv
from edge.identity.emrtd.cardaccess import (
    CIPHER_ARCS,
    ECDSA_PLAIN,
    ID_AA,
    ID_CA,
    ID_PACE,
    ID_PK,
    SecurityInfo,
    SecurityInfoSet,
)
from edge.identity.emrtd.crypto import SUITES, CipherName
from firmware_bridge.sim import lds_build
from firmware_bridge.sim import pki as sim_pki
from firmware_bridge.sim.vchip.identity import IDENTITY_FORMAT

# names accepted for the standardized domain parameters (ICAO 9303-11 parameter ids; 0-2 are DH groups)
CURVE_IDS: dict[str, int] = {
    "MODP-1024-160": 0,
    "MODP-2048-224": 1,
    "MODP-2048-256": 2,
    "P-192": 8,
    "brainpoolP192r1": 9,
    "P-224": 10,
    "brainpoolP224r1": 11,
    "P-256": 12,
    "brainpoolP256r1": 13,
    "brainpoolP320r1": 14,
    "P-384": 15,
    "brainpoolP384r1": 16,
    "brainpoolP512r1": 17,
    "P-521": 18,
}
# curves ``cryptography`` can make keys on (Chip and Active Authentication keys)
_KEY_CURVES: dict[str, crypto_ec.EllipticCurve] = {
    "P-192": crypto_ec.SECP192R1(),
    "P-224": crypto_ec.SECP224R1(),
    "P-256": crypto_ec.SECP256R1(),
    "P-384": crypto_ec.SECP384R1(),
    "P-521": crypto_ec.SECP521R1(),
    "brainpoolP256r1": crypto_ec.BrainpoolP256R1(),
    "brainpoolP384r1": crypto_ec.BrainpoolP384R1(),
    "brainpoolP512r1": crypto_ec.BrainpoolP512R1(),
}
_CIPHER_ARC: dict[CipherName, str] = {cipher: arc for arc, cipher in CIPHER_ARCS.items()}
_AA_HASH_ARC = {"sha1": 1, "sha224": 2, "sha256": 3, "sha384": 4, "sha512": 5}
DG13_SAMPLE_ADDRESS = "Phường 1, Quận 3, TP HCM"


class IdentityBuildError(ExamGateError):
    code = "E_SIM_IDENTITY_BUILD"
    remedy = "check the builder arguments: 12-digit ID, ISO dates, sex M or F, a readable JPEG/PNG/JPEG 2000 face"


def _info(oid: str, required: core.Asn1Value, optional: core.Asn1Value | None = None) -> SecurityInfo:
    value: dict[str, Any] = {"protocol": oid, "required_data": core.Any.load(required.dump())}
    if optional is not None:
        value["optional_data"] = core.Any.load(optional.dump())
    return SecurityInfo(value)


def pace_info(curve: str, cipher: CipherName) -> SecurityInfo:
    if curve not in CURVE_IDS:
        raise IdentityBuildError(f"PACE curve {curve!r} is not one of {sorted(CURVE_IDS)}")
    if cipher not in SUITES:
        raise IdentityBuildError(f"PACE cipher {cipher!r} is not one of {sorted(SUITES)}")
    agreement = 1 if CURVE_IDS[curve] <= 2 else 2  # id-PACE-DH-GM or id-PACE-ECDH-GM
    oid = f"{ID_PACE}.{agreement}.{_CIPHER_ARC[cipher]}"
    return _info(oid, core.Integer(2), core.Integer(CURVE_IDS[curve]))


def build_card_access(curve: str, cipher: CipherName) -> bytes:
    """EF.CardAccess: SecurityInfos with one PACEInfo (generic mapping on standardized domain parameters)."""
    return bytes(SecurityInfoSet([pace_info(curve, cipher)]).dump(force=True))


def _spki_der(key: crypto_ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def build_dg14(
    ca_key: crypto_ec.EllipticCurvePrivateKey,
    ca_cipher: CipherName,
    *,
    pace: tuple[str, CipherName] | None,
    aa_hash: str | None,
) -> bytes:
    """DG14 (6E): ChipAuthenticationPublicKeyInfo + ChipAuthenticationInfo (+ PACEInfo, ActiveAuthenticationInfo)."""
    infos = [
        _info(f"{ID_PK}.2", core.Any.load(_spki_der(ca_key))),
        _info(f"{ID_CA}.2.{_CIPHER_ARC[ca_cipher]}", core.Integer(1)),
    ]
    if pace is not None:
        infos.append(pace_info(*pace))
    if aa_hash is not None:
        infos.append(_info(ID_AA, core.Integer(1), core.ObjectIdentifier(f"{ECDSA_PLAIN}.{_AA_HASH_ARC[aa_hash]}")))
    return tlv.encode(0x6E, bytes(SecurityInfoSet(infos).dump(force=True)))


def build_dg15(aa_key: crypto_ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return tlv.encode(0x6F, _spki_der(aa_key))


def _pem(key: crypto_ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _face(path: Path) -> tuple[bytes, Literal["jpeg", "jpeg2000"], int, int]:
    """Image bytes as stored in DG2: JPEG and JPEG 2000 kept as they are, anything else re-encoded as JPEG."""
    try:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if image.format == "JPEG":
                return data, "jpeg", width, height
            if image.format == "JPEG2000":
                return data, "jpeg2000", width, height
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=85)
            return out.getvalue(), "jpeg", width, height
    except (OSError, UnidentifiedImageError) as exc:
        raise IdentityBuildError(f"face image {path.name} is not readable: {exc}") from exc


def _split_name(full_name: str) -> tuple[str, str]:
    parts = full_name.split()
    if not parts:
        raise IdentityBuildError("full name is empty")
    return parts[0], " ".join(parts[1:])


def build_identity(
    full_name: str,
    personal_id: str,
    birth_date: dt.date,
    expiry_date: dt.date,
    sex: str,
    face_image_path: Path,
    out_path: Path | None = None,
    *,
    pace: tuple[str, CipherName] | None = ("brainpoolP256r1", "AES-128"),
    chip_auth: tuple[str, CipherName] | None = ("brainpoolP256r1", "AES-128"),
    active_auth: Literal["ecdsa", "rsa"] | None = "ecdsa",
    aa_hash: Literal["sha1", "sha224", "sha256", "sha384", "sha512"] = "sha256",
    pki: sim_pki.TestPki | None = None,
    issue_date: dt.date | None = None,
    address: str = DG13_SAMPLE_ADDRESS,
    old_id: str | None = None,
    uid: bytes | None = None,
) -> dict[str, Any]:
    """The identity document (also written to ``out_path`` when given). See chip-contracts for the format."""
    if len(personal_id) != 12 or not personal_id.isdigit():
        raise IdentityBuildError("personal_id must be the 12-digit CCCD number")
    if sex not in ("M", "F"):
        raise IdentityBuildError(f"sex must be M or F, got {sex!r}")
    document_number = personal_id[-9:]
    surname, given = _split_name(full_name)
    image, image_format, width, height = _face(face_image_path)
    issued = issue_date or dt.date(expiry_date.year - 25 if expiry_date.year > 2030 else 2021, 7, 15)

    dg1 = lds_build.build_dg1_td1(document_number, birth_date, expiry_date, sex, "VNM", surname, given, personal_id)
    dg2 = lds_build.build_dg2(image, image_format, width, height)
    sex_vi = "Nam" if sex == "M" else "Nữ"
    dg13_fields: dict[int, str | tuple[str, str]] = {
        1: personal_id,
        2: full_name,
        3: birth_date.strftime("%d/%m/%Y"),
        4: sex_vi,
        5: "Việt Nam",
        6: "Kinh",
        7: "Không",
        8: address,
        9: address,
        10: "Nốt ruồi C:1cm trên trước mày trái",
        11: issued.strftime("%d/%m/%Y"),
        12: expiry_date.strftime("%d/%m/%Y"),
        13: ("Nguyễn Văn Bố", "Trần Thị Mẹ"),
        14: "",
    }
    if old_id:
        dg13_fields[15] = old_id
    dg13 = lds_build.build_dg13(dg13_fields)

    files: dict[int, bytes] = {0x011E: lds_build.build_ef_com([1, 2, 3, 13, 14, 15]), 0x0101: dg1, 0x0102: dg2}
    files[0x010D] = dg13
    keys: dict[str, str] = {}
    signed: dict[int, bytes] = {1: dg1, 2: dg2, 13: dg13}
    if pace is not None:
        files[0x011C] = build_card_access(*pace)
    if chip_auth is not None:
        if chip_auth[0] not in _KEY_CURVES:
            raise IdentityBuildError(f"chip authentication curve must be one of {sorted(_KEY_CURVES)}")
        ca_key = crypto_ec.generate_private_key(_KEY_CURVES[chip_auth[0]])
        keys["chip_auth_private_pem"] = _pem(ca_key)
        dg14 = build_dg14(ca_key, chip_auth[1], pace=pace, aa_hash=aa_hash if active_auth == "ecdsa" else None)
        files[0x010E] = signed[14] = dg14
    if active_auth is not None:
        aa_key: crypto_ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        if active_auth == "ecdsa":
            aa_key = crypto_ec.generate_private_key(crypto_ec.BrainpoolP256R1())
        else:
            aa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        keys["active_auth_private_pem"] = _pem(aa_key)
        files[0x010F] = signed[15] = build_dg15(aa_key)
    pki = pki or sim_pki.make_test_pki("VN")
    files[0x011D] = lds_build.build_sod(signed, pki)

    uid_bytes = uid or (b"\x08" + secrets.token_bytes(3))
    document: dict[str, Any] = {
        "format": IDENTITY_FORMAT,
        "can": personal_id[-6:],
        "mrz": {
            "document_number": document_number,
            "birth_date": birth_date.strftime("%y%m%d"),
            "expiry_date": expiry_date.strftime("%y%m%d"),
        },
        "uid_hex": uid_bytes.hex(),
        "files": {f"{fid:04X}": base64.b64encode(content).decode("ascii") for fid, content in sorted(files.items())},
        "keys": keys,
        "csca_certificate_pem": pki.csca_pem.decode("ascii"),
        "qr_text": "|".join(
            [
                personal_id,
                old_id or "",
                full_name,
                birth_date.strftime("%d%m%Y"),
                sex_vi,
                address,
                issued.strftime("%d%m%Y"),
            ]
        ),
    }
    if out_path is not None:
        out_path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return document


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="identity_builder", description="Build a virtual CCCD chip identity file.")
    p.add_argument("--name", required=True, help="full name, e.g. 'Nguyễn Văn An'")
    p.add_argument("--id", dest="personal_id", required=True, help="12-digit CCCD number")
    p.add_argument("--birth", type=_date, required=True, help="YYYY-MM-DD")
    p.add_argument("--expiry", type=_date, required=True, help="YYYY-MM-DD")
    p.add_argument("--sex", choices=("M", "F"), required=True)
    p.add_argument("--face", type=Path, required=True, help="face image (JPEG, JPEG 2000 or PNG)")
    p.add_argument("--out", type=Path, required=True, help="identity file to write (JSON)")
    p.add_argument("--pace-curve", default="brainpoolP256r1", choices=sorted(CURVE_IDS))
    p.add_argument("--pace-cipher", default="AES-128", choices=sorted(SUITES))
    p.add_argument("--no-pace", action="store_true", help="no EF.CardAccess: the chip offers BAC only")
    p.add_argument("--active-auth", default="ecdsa", choices=("ecdsa", "rsa", "none"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        document = build_identity(
            args.name,
            args.personal_id,
            args.birth,
            args.expiry,
            args.sex,
            args.face,
            args.out,
            pace=None if args.no_pace else (args.pace_curve, args.pace_cipher),
            active_auth=None if args.active_auth == "none" else args.active_auth,
        )
    except ExamGateError as exc:
        print(json.dumps(exc.to_dict(), ensure_ascii=False), file=sys.stderr)
        return 2
    summary: Mapping[str, Any] = {"out": str(args.out), "can": document["can"], "files": sorted(document["files"])}
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
