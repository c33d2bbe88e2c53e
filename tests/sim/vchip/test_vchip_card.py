"""The virtual chip on its own: it must behave like a strict card (status words, MAC checks, session rules)."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from edge.devices import AccessKey
from edge.identity.emrtd import pace
from edge.identity.emrtd.apdu import CommandApdu, ResponseApdu
from edge.identity.emrtd.cardaccess import parse_security_infos
from edge.identity.emrtd.errors import SecureMessagingError
from edge.identity.emrtd.session import EmrtdSession
from edge.identity.emrtd.sm import SecureChannel
from firmware_bridge.sim import identity_builder
from firmware_bridge.sim import pki as sim_pki
from firmware_bridge.sim.vchip.card import CardGone, VirtualCccdChip, load_identity_card
from firmware_bridge.sim.vchip.channel import MemoryChannel
from firmware_bridge.sim.vchip.identity import identity_from_json

H = bytes.fromhex


@pytest.fixture(scope="module")
def face(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vchip") / "face.png"
    Image.new("RGB", (60, 80), (180, 140, 120)).save(path, "PNG")
    return path


@pytest.fixture(scope="module")
def document(face: Path) -> dict[str, Any]:
    pki = sim_pki.make_test_pki("VN")
    return identity_builder.build_identity(
        "Trần Thị Bình", "079301000123", dt.date(2001, 3, 9), dt.date(2041, 3, 9), "F", face, pki=pki
    )


@pytest.fixture
def card(document: dict[str, Any]) -> VirtualCccdChip:
    return VirtualCccdChip(identity_from_json(document))


def _sw(response: bytes) -> int:
    return ResponseApdu.parse(response).sw


def _pace_session(card: VirtualCccdChip) -> SecureChannel:
    channel = MemoryChannel(card)
    assert card.pace_info is not None
    sm = pace.perform_pace(channel, card.pace_info, pace.PacePassword.from_can(card.identity.can))
    return SecureChannel(channel, sm)


def test_builder_document_shape(document: dict[str, Any]) -> None:
    assert document["format"] == "examgate-identity/1"
    assert document["can"] == "000123"
    assert document["mrz"] == {"document_number": "301000123", "birth_date": "010309", "expiry_date": "410309"}
    assert set(document["files"]) == {"011C", "011E", "0101", "0102", "010D", "010E", "010F", "011D"}
    assert document["qr_text"].startswith("079301000123||Trần Thị Bình|09032001|Nữ|")
    assert document["uid_hex"].startswith("08") and len(document["uid_hex"]) == 8
    infos = parse_security_infos(identity_from_json(document).files[0x011C])
    assert [(p.parameter_id, p.cipher) for p in infos.pace] == [(13, "AES-128")]


def test_plain_read_before_access_control_is_refused(card: VirtualCccdChip) -> None:
    assert _sw(card.process_apdu(H("00A4040C07A0000002471001"))) == 0x9000
    assert _sw(card.process_apdu(H("00A4020C020101"))) == 0x6982
    assert _sw(card.process_apdu(H("00B0000004"))) == 0x6986  # nothing selected


def test_card_access_is_readable_without_authentication(card: VirtualCccdChip) -> None:
    assert _sw(card.process_apdu(H("00A4020C02011C"))) == 0x9000
    response = ResponseApdu.parse(card.process_apdu(H("00B0000004")))
    assert response.sw == 0x9000 and response.data[:1] == b"\x31"
    assert _sw(card.process_apdu(H("00B07FF001"))) == 0x6B00  # offset beyond the file


def test_plain_command_after_pace_ends_secure_messaging(card: VirtualCccdChip) -> None:
    secure = _pace_session(card)
    assert secure.transceive(CommandApdu(0, 0xA4, 4, 0x0C, H("A0000002471001"))).sw == 0x9000
    assert _sw(card.process_apdu(H("00A4020C020101"))) == 0x6987
    assert card.authenticated is None
    with pytest.raises(SecureMessagingError):  # the old session is gone on the card side
        secure.transceive(CommandApdu(0, 0xA4, 2, 0x0C, H("0101")))


def test_bad_command_mac_is_6988_and_ends_session(card: VirtualCccdChip) -> None:
    secure = _pace_session(card)
    protected = bytearray(secure.sm.wrap(CommandApdu(0, 0xA4, 4, 0x0C, H("A0000002471001"))).encode())
    protected[-3] ^= 0x01  # inside the DO'8E' checksum
    assert card.process_apdu(bytes(protected)) == H("6988")
    assert card.authenticated is None


def test_protected_command_without_session_is_6988(card: VirtualCccdChip) -> None:
    assert card.process_apdu(H("0CB000000D9701048E08ED6705417E96BA5500")) == H("6988")


def test_dg3_needs_eac_and_absent_files_are_6a82(card: VirtualCccdChip) -> None:
    secure = _pace_session(card)
    secure.transceive(CommandApdu(0, 0xA4, 4, 0x0C, H("A0000002471001")))
    assert secure.transceive(CommandApdu(0, 0xA4, 2, 0x0C, H("0103"))).sw == 0x9000
    assert secure.transceive(CommandApdu(0, 0xB0, 0, 0, b"", 4)).sw == 0x6982
    assert secure.transceive(CommandApdu(0, 0xA4, 2, 0x0C, H("0105"))).sw == 0x6A82
    assert secure.transceive(CommandApdu(0, 0xA4, 4, 0x0C, H("A0000002471002"))).sw == 0x6A82


def test_wrong_can_is_6300(card: VirtualCccdChip) -> None:
    channel = MemoryChannel(card)
    assert card.pace_info is not None
    with pytest.raises(Exception, match="6300"):
        pace.perform_pace(channel, card.pace_info, pace.PacePassword.from_can("111111"))
    assert card.authenticated is None


def test_general_authenticate_out_of_order(card: VirtualCccdChip) -> None:
    assert _sw(card.process_apdu(H("10860000027C0000"))) == 0x6985  # no MSE:Set AT first
    assert _sw(card.process_apdu(H("00CA000000"))) == 0x6D00  # unknown instruction
    assert _sw(card.process_apdu(H("00A4"))) == 0x6700  # truncated APDU


def test_bac_card_side(card: VirtualCccdChip) -> None:
    assert _sw(card.process_apdu(H("0082000028" + "00" * 40 + "28"))) == 0x6985  # no challenge, no app
    result = EmrtdSession(
        MemoryChannel(VirtualCccdChip(card.identity)),
        AccessKey(document_number="301000123", birth_date="010309", expiry_date="410309"),
    )
    result.card_access = None
    result._card_access_read = True  # skip PACE: go straight to BAC
    assert result.establish() == "BAC"


def test_remove_after_apdus_and_reset(card: VirtualCccdChip) -> None:
    card.remove_after_apdus = 2
    card.process_apdu(H("00A4020C02011C"))
    card.process_apdu(H("00B0000004"))
    with pytest.raises(CardGone):
        card.process_apdu(H("00B0000004"))
    card.reset()  # a new tap
    assert _sw(card.process_apdu(H("00A4020C02011C"))) == 0x9000


def test_corrupt_every_flips_a_byte(card: VirtualCccdChip, document: dict[str, Any]) -> None:
    clean = VirtualCccdChip(identity_from_json(document))
    card.corrupt_every = 2
    card.process_apdu(H("00A4020C02011C"))
    clean.process_apdu(H("00A4020C02011C"))
    assert card.process_apdu(H("00B0000008")) != clean.process_apdu(H("00B0000008"))


def test_load_identity_card_and_errors(tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "id.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    loaded = load_identity_card(path, remove_after_apdus=5)
    assert loaded.uid == H(document["uid_hex"]) and loaded.ats == H("0578807002")
    assert loaded.remove_after_apdus == 5
    bad = dict(document, format="other/1")
    with pytest.raises(ValueError, match="format"):
        identity_from_json(bad)
    with pytest.raises(KeyError):
        identity_from_json({k: v for k, v in document.items() if k != "mrz"})


def test_builder_cli(tmp_path: Path, face: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.json"
    argv = ["--name", "Lê Văn C", "--id", "001099012345", "--birth", "1999-01-01", "--expiry", "2039-01-01"]
    argv += ["--sex", "M", "--face", str(face), "--out", str(out), "--pace-cipher", "AES-256", "--active-auth", "none"]
    assert identity_builder.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["can"] == "012345"
    document = json.loads(out.read_text(encoding="utf-8"))
    assert "010F" not in document["files"]
    card = VirtualCccdChip(identity_from_json(document))
    assert card.pace_info is not None and card.pace_info.cipher == "AES-256"
    assert identity_builder.main([*argv[:3], "12345", *argv[4:]]) == 2  # not a 12-digit ID
    assert "E_SIM_IDENTITY_BUILD" in capsys.readouterr().err


def test_builder_rejects_unreadable_face(tmp_path: Path) -> None:
    bogus = tmp_path / "face.jpg"
    bogus.write_bytes(b"not an image")
    with pytest.raises(identity_builder.IdentityBuildError):
        identity_builder.build_identity("A B", "001099012345", dt.date(1999, 1, 1), dt.date(2039, 1, 1), "M", bogus)


def test_builder_keeps_jpeg_bytes(tmp_path: Path) -> None:
    path = tmp_path / "face.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 50), (10, 20, 30)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    document = identity_builder.build_identity(
        "A B", "001099012345", dt.date(1999, 1, 1), dt.date(2039, 1, 1), "M", path, chip_auth=None, active_auth=None
    )
    dg2 = identity_from_json(document).files[0x0102]
    assert buffer.getvalue() in dg2


def test_builder_module_entry_point(tmp_path: Path, face: Path) -> None:
    out = tmp_path / "module.json"
    argv = ["--name", "Phạm D", "--id", "001099012345", "--birth", "1999-01-01", "--expiry", "2039-01-01"]
    argv += ["--sex", "F", "--face", str(face), "--out", str(out), "--no-pace"]
    completed = subprocess.run(
        [sys.executable, "-m", "firmware_bridge.sim.identity_builder", *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert "011C" not in document["files"]  # BAC-only chip
    assert json.loads(completed.stdout)["can"] == "012345"
