"""Property tests: random bytes into response parsing, SM unwrap, SecurityInfos and a whole session give only typed
errors (ChipError subclasses), never another exception or a hang."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from edge.devices import AccessKey
from edge.identity.emrtd import crypto
from edge.identity.emrtd.apdu import CommandApdu, ResponseApdu
from edge.identity.emrtd.cardaccess import parse_security_infos
from edge.identity.emrtd.crypto import SUITES
from edge.identity.emrtd.errors import ChipError
from edge.identity.emrtd.session import EmrtdSession
from edge.identity.emrtd.sm import SecureMessaging
from firmware_bridge.sim.identity_builder import build_identity
from firmware_bridge.sim.vchip.card import VirtualCccdChip
from firmware_bridge.sim.vchip.channel import MemoryChannel
from firmware_bridge.sim.vchip.identity import identity_from_json

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _sm(name: str) -> SecureMessaging:
    suite = SUITES[name]  # type: ignore[index]
    return SecureMessaging(suite, crypto.kdf(b"k", 1, suite), crypto.kdf(b"k", 2, suite), 7)


@FUZZ
@given(raw=st.binary(max_size=300), cipher=st.sampled_from(["3DES", "AES-128", "AES-256"]))
def test_sm_unwrap_random_bytes(raw: bytes, cipher: str) -> None:
    sm = _sm(cipher)
    with contextlib.suppress(ChipError):
        sm.unwrap(ResponseApdu.parse(raw))


@FUZZ
@given(
    body=st.binary(max_size=64),
    sw=st.sampled_from([b"\x90\x00", b"\x62\x82", b"\x6a\x82"]),
    mac=st.binary(min_size=8, max_size=8),
    cipher=st.sampled_from(["3DES", "AES-128"]),
)
def test_sm_unwrap_structured_garbage(body: bytes, sw: bytes, mac: bytes, cipher: str) -> None:
    """Well-formed DO'87'/DO'99'/DO'8E' with wrong contents: the MAC check must reject every one."""
    do87 = b"\x87" + bytes((len(body) + 1,)) + b"\x01" + body if len(body) < 127 else b""
    raw = do87 + b"\x99\x02" + sw + b"\x8e\x08" + mac + sw
    with pytest.raises(ChipError):
        _sm(cipher).unwrap(ResponseApdu.parse(raw))


@FUZZ
@given(raw=st.binary(max_size=40))
def test_command_parse_random(raw: bytes) -> None:
    try:
        command = CommandApdu.parse(raw)
    except ChipError:
        return
    assert CommandApdu.parse(command.encode()) == command


@FUZZ
@given(
    data=st.binary(max_size=400),
    ne=st.integers(min_value=0, max_value=65536),
    ins=st.integers(min_value=0, max_value=255),
)
def test_command_encode_parse_roundtrip(data: bytes, ne: int, ins: int) -> None:
    command = CommandApdu(0x00, ins, 0x01, 0x02, data, ne)
    assert CommandApdu.parse(command.encode()) == command


@FUZZ
@given(raw=st.binary(max_size=200))
def test_security_infos_random(raw: bytes) -> None:
    with contextlib.suppress(ChipError):
        parse_security_infos(raw)


@FUZZ
@given(raw=st.binary(max_size=120).map(lambda b: b"\x31" + bytes((len(b),)) + b if len(b) < 128 else b"\x31\x00"))
def test_security_infos_random_set(raw: bytes) -> None:
    with contextlib.suppress(ChipError):
        parse_security_infos(raw)


class _RandomCard:
    """Answers each APDU with the next scripted random response (then 6F00 forever)."""

    def __init__(self, responses: list[bytes]) -> None:
        self.responses = responses
        self.count = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.count += 1
        assert self.count < 500, "session does not terminate"
        return self.responses.pop(0) if self.responses else b"\x6f\x00"


@FUZZ
@given(responses=st.lists(st.binary(max_size=60), max_size=12))
def test_session_against_random_card(responses: list[bytes]) -> None:
    channel = _RandomCard(responses)
    with pytest.raises(ChipError):
        EmrtdSession(
            channel, AccessKey(can="123456", document_number="X", birth_date="990101", expiry_date="390101")
        ).read()


@pytest.fixture(scope="module")
def card_document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    face = tmp_path_factory.mktemp("fuzz") / "f.png"
    Image.new("RGB", (20, 20)).save(face, "PNG")
    return build_identity("A B", "001099012345", dt.date(1999, 1, 1), dt.date(2039, 1, 1), "M", Path(face))


@FUZZ
@given(raw=st.binary(max_size=80))
def test_virtual_card_answers_any_bytes(card_document: dict[str, object], raw: bytes) -> None:
    card = VirtualCccdChip(identity_from_json(card_document))
    response = card.process_apdu(raw)
    assert len(response) >= 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=80), protect=st.booleans())
def test_virtual_card_in_session_answers_any_bytes(card_document: dict[str, object], raw: bytes, protect: bool) -> None:
    """After PACE: random (or randomly SM-flagged) commands get a status word and end the session cleanly."""
    card = VirtualCccdChip(identity_from_json(card_document))
    session = EmrtdSession(MemoryChannel(card), AccessKey(can="012345"))
    session.establish()
    if protect and len(raw) >= 4:
        raw = bytes((raw[0] | 0x0C,)) + raw[1:]
    response = card.process_apdu(raw)
    assert len(response) >= 2
