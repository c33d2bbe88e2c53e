"""End-to-end: EmrtdSession against the virtual CCCD chip through an in-memory APDU channel."""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509

from edge.devices import AccessKey
from edge.identity import tlv
from edge.identity.emrtd.errors import (
    AccessDeniedError,
    CardRemovedError,
    ChipError,
    FileNotFoundOnChipError,
    UnsupportedError,
)
from edge.identity.emrtd.session import EmrtdSession, ReadResult
from edge.identity.mrz import parse_dg1
from edge.identity.passive_auth import verify_passive
from edge.identity.sod import parse_sod
from edge.identity.trust_store import TrustStore
from firmware_bridge.sim.vchip.card import VirtualCccdChip
from firmware_bridge.sim.vchip.channel import MemoryChannel

CAN_KEY = AccessKey(can="012345")
MRZ_KEY = AccessKey(document_number="099012345", birth_date="990101", expiry_date="390101")
ALL_FILES = ("COM", "DG1", "DG2", "DG3", "DG13", "DG14", "DG15", "SOD")
FIDS = {"COM": "011E", "DG1": "0101", "DG2": "0102", "DG13": "010D", "DG14": "010E", "DG15": "010F", "SOD": "011D"}

MakeCard = Callable[..., VirtualCccdChip]


def _expected(card: VirtualCccdChip, name: str) -> bytes:
    return card.identity.files[int(FIDS[name], 16)]


def _assert_files_intact(card: VirtualCccdChip, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert data == _expected(card, name), name


def _tamper(card: VirtualCccdChip, change: Callable[[bytes, bytes], bytes]) -> None:
    """Every answer of the card passes through ``change(apdu, response)`` on its way to the reader."""
    original = card.process_apdu

    def process(apdu: bytes) -> bytes:
        return change(apdu, original(apdu))

    card.process_apdu = process  # type: ignore[method-assign]


def test_pace_can_full_read(make_card: MakeCard, make_document: Callable[..., dict[str, Any]]) -> None:
    card = make_card()
    channel = MemoryChannel(card)
    result = EmrtdSession(channel, CAN_KEY).read(ALL_FILES)
    assert (result.access_protocol, result.password) == ("PACE", "CAN")
    assert result.pace_oid == "0.4.0.127.0.7.2.2.4.2.2"
    assert set(result.files) == set(FIDS)
    _assert_files_intact(card, result.files)
    assert result.skipped == {"DG3": "E_CHIP_SECURITY_STATUS"}
    assert (result.chip_auth, result.active_auth) == ("valid", "valid")
    assert card.chip_authenticated
    assert result.recoveries == 0
    # EF.CardAccess is read with 00 A4 02 0C 02 01 1C before the application is selected
    assert channel.sent[0] == bytes.fromhex("00A4020C02011C")
    assert channel.sent[1][:2] == bytes.fromhex("00B0")  # plain READ BINARY of EF.CardAccess
    first_mse = next(i for i, apdu in enumerate(channel.sent) if apdu[1] == 0x22)
    assert all(apdu[:2] in (bytes.fromhex("00A4"), bytes.fromhex("00B0")) for apdu in channel.sent[:first_mse])
    # the data is what LDS can parse and passive authentication accepts
    assert parse_dg1(result.files["DG1"]).personal_id == "001099012345"
    document = make_document()
    trust = TrustStore.from_certificates([x509.load_pem_x509_certificate(document["csca_certificate_pem"].encode())])
    dgs = {int(FIDS[n], 16) - 0x0100: result.files[n] for n in ("DG1", "DG2", "DG13", "DG14", "DG15")}
    verdict = verify_passive(parse_sod(result.files["SOD"]), dgs, trust, dt.datetime.now(dt.UTC))
    assert verdict.status == "valid", verdict.details


@pytest.mark.parametrize("pace", [("brainpoolP256r1", "AES-128"), ("MODP-2048-256", "AES-128")])
def test_pace_mrz_password(make_card: MakeCard, pace: tuple[str, str]) -> None:
    card = make_card(pace=pace)
    result = EmrtdSession(MemoryChannel(card), MRZ_KEY).read()
    assert (result.access_protocol, result.password) == ("PACE", "MRZ")
    _assert_files_intact(card, result.files)


def test_bac_when_no_card_access(make_card: MakeCard) -> None:
    card = make_card(pace=None)
    channel = MemoryChannel(card)
    result = EmrtdSession(channel, MRZ_KEY).read()
    assert result.access_protocol == "BAC"
    assert 0x011C not in card.identity.files
    _assert_files_intact(card, result.files)
    assert result.chip_auth == "valid"  # CA with AES-128 after BAC (3DES SM) works too


@pytest.mark.parametrize(
    ("parameters", "cipher"),
    [
        ("brainpoolP256r1", "3DES"),
        ("brainpoolP256r1", "AES-192"),
        ("brainpoolP256r1", "AES-256"),
        ("P-192", "AES-128"),
        ("brainpoolP192r1", "AES-128"),
        ("P-224", "AES-128"),
        ("brainpoolP224r1", "AES-128"),
        ("P-256", "AES-128"),
        ("brainpoolP320r1", "AES-256"),
        ("P-384", "AES-192"),
        ("brainpoolP384r1", "AES-256"),
        ("brainpoolP512r1", "AES-256"),
        ("P-521", "AES-256"),
        ("MODP-1024-160", "AES-128"),
        ("MODP-2048-224", "3DES"),
        ("MODP-2048-256", "AES-256"),
    ],
)
def test_pace_variants(make_card: MakeCard, parameters: str, cipher: str) -> None:
    card = make_card(pace=(parameters, cipher))
    result = EmrtdSession(MemoryChannel(card), CAN_KEY).read(("DG1", "DG14", "SOD"))
    assert result.access_protocol == "PACE"
    assert result.chip_auth == "valid"
    _assert_files_intact(card, result.files)


@pytest.mark.parametrize("ca_cipher", ["3DES", "AES-256"])
def test_chip_auth_ciphers(make_card: MakeCard, ca_cipher: str) -> None:
    card = make_card(chip_auth=("P-256", ca_cipher))
    result = EmrtdSession(MemoryChannel(card), CAN_KEY).read(("DG14", "DG1"))
    assert result.chip_auth == "valid"
    _assert_files_intact(card, result.files)


def test_active_auth_rsa(make_card: MakeCard) -> None:
    card = make_card(active_auth="rsa")
    result = EmrtdSession(MemoryChannel(card), CAN_KEY).read(("DG14", "DG15", "DG1"))
    assert result.active_auth == "valid"


def test_active_auth_detects_wrong_key(make_card: MakeCard, make_document: Callable[..., dict[str, Any]]) -> None:
    card = make_card()
    other = make_document(active_auth="ecdsa", aa_hash="sha384")  # a different AA key
    card.identity.files[0x010F] = base64.b64decode(other["files"]["010F"])
    result = EmrtdSession(MemoryChannel(card), CAN_KEY).read(("DG14", "DG15", "DG1"))
    assert result.active_auth == "failed"


def test_no_chip_auth_key_means_not_supported(make_card: MakeCard) -> None:
    card = make_card(chip_auth=None, active_auth=None)
    result = EmrtdSession(MemoryChannel(card), CAN_KEY).read()
    assert (result.chip_auth, result.active_auth) == ("not_supported", "not_supported")
    assert result.skipped == {"DG14": "E_CHIP_FILE_NOT_FOUND", "DG15": "E_CHIP_FILE_NOT_FOUND"}


def test_wrong_can_fails_at_once(make_card: MakeCard) -> None:
    card = make_card()
    channel = MemoryChannel(card)
    with pytest.raises(AccessDeniedError) as info:
        EmrtdSession(channel, AccessKey(can="999999")).read()
    assert info.value.code == "E_CHIP_ACCESS_DENIED"
    assert info.value.sw == 0x6300
    # one PACE attempt only: SELECT + READs of EF.CardAccess, MSE:Set AT and four GENERAL AUTHENTICATE
    assert sum(1 for apdu in channel.sent if apdu[1] == 0x86) == 4
    assert sum(1 for apdu in channel.sent if apdu[1] == 0x22) == 1


def test_wrong_mrz_with_bac(make_card: MakeCard) -> None:
    card = make_card(pace=None)
    bad = AccessKey(document_number="099012346", birth_date="990101", expiry_date="390101")
    with pytest.raises(AccessDeniedError):
        EmrtdSession(MemoryChannel(card), bad).read()


def test_bac_without_mrz_is_access_denied(make_card: MakeCard) -> None:
    with pytest.raises(AccessDeniedError):
        EmrtdSession(MemoryChannel(make_card(pace=None)), CAN_KEY).read()


@pytest.mark.parametrize("after", [0, 1, 3, 8, 20, 40])
def test_card_removed_mid_read(make_card: MakeCard, after: int) -> None:
    card = make_card(faults={"remove_after_apdus": after})
    with pytest.raises(CardRemovedError) as info:
        EmrtdSession(MemoryChannel(card), CAN_KEY).read()
    assert info.value.code == "E_CHIP_CARD_REMOVED"


@pytest.mark.parametrize("every", [2, 3, 5, 7, 11, 17, 29])
def test_corrupt_answers_give_typed_error_or_intact_data(make_card: MakeCard, every: int) -> None:
    card = make_card(faults={"corrupt_every": every})
    outcome: ChipError | ReadResult
    try:
        outcome = EmrtdSession(MemoryChannel(card), CAN_KEY, max_recoveries=4).read()
    except ChipError as exc:
        outcome = exc
    if isinstance(outcome, ChipError):
        assert outcome.code.startswith("E_CHIP_")
        assert outcome.remedy
    else:
        _assert_files_intact(card, outcome.files)  # never silently corrupted data
        assert outcome.recoveries >= 1


def test_single_mac_failure_is_recovered(make_card: MakeCard) -> None:
    card = make_card()
    state = {"n": 0}

    def flaky(apdu: bytes, response: bytes) -> bytes:
        state["n"] += 1
        if state["n"] == 25:  # somewhere inside DG2, under secure messaging
            response = bytes((response[0] ^ 1,)) + response[1:]
        return response

    _tamper(card, flaky)
    result = EmrtdSession(MemoryChannel(card), CAN_KEY).read()
    assert result.recoveries == 1
    _assert_files_intact(card, result.files)


def test_6700_shrinks_chunks(make_card: MakeCard) -> None:
    card = make_card(faults={"max_read_bytes": 0x60})
    session = EmrtdSession(MemoryChannel(card), CAN_KEY)
    result = session.read()
    _assert_files_intact(card, result.files)
    assert session._chunk <= 0x60


def test_6700_below_minimum_is_typed(make_card: MakeCard) -> None:
    card = make_card(faults={"max_read_bytes": 2})
    with pytest.raises(ChipError) as info:
        EmrtdSession(MemoryChannel(card), CAN_KEY, min_chunk_bytes=8).read()
    assert info.value.code == "E_CHIP_WRONG_LENGTH"


def test_missing_required_file(make_card: MakeCard) -> None:
    card = make_card()
    del card.identity.files[0x0102]
    with pytest.raises(FileNotFoundOnChipError):
        EmrtdSession(MemoryChannel(card), CAN_KEY).read()


def test_large_file_uses_odd_ins_and_extended_length(make_card: MakeCard) -> None:
    card = make_card()
    big = tlv.encode(0x75, os.urandom(40000))
    card.identity.files[0x0102] = big
    channel = MemoryChannel(card)
    result = EmrtdSession(channel, CAN_KEY, max_chunk_bytes=0x400).read(("DG2",), chip_authentication=False)
    assert result.files["DG2"] == big
    assert any(apdu[1] == 0xB1 for apdu in channel.sent)  # offsets beyond 32767
    assert result.reads["DG2"].apdus < 60  # 1 KiB extended reads, not 0xE0 chunks


def test_unsupported_pace_without_mrz(make_card: MakeCard) -> None:
    card = make_card()
    # replace EF.CardAccess by an integrated-mapping announcement (id-PACE-ECDH-IM-AES-CBC-CMAC-128)
    card.identity.files[0x011C] = bytes.fromhex("3114" + "3012060A04007F00070202040402" + "020102" + "02010D")
    with pytest.raises(UnsupportedError):
        EmrtdSession(MemoryChannel(card), CAN_KEY).read()


def test_file_timings_reported(make_card: MakeCard) -> None:
    result = EmrtdSession(MemoryChannel(make_card()), CAN_KEY).read()
    assert all(read.elapsed_s > 0 and read.apdus >= 2 for read in result.reads.values())
    assert result.timings_ms["total"] >= result.timings_ms["access_control"] > 0


def test_chip_auth_detects_clone(make_card: MakeCard, make_document: Callable[..., dict[str, Any]]) -> None:
    """DG14 announces a CA key the chip does not hold (copied data on another chip): CA must fail."""
    card = make_card()
    other = make_document(chip_auth=("brainpoolP256r1", "AES-128"), aa_hash="sha512")
    card.identity.files[0x010E] = base64.b64decode(other["files"]["010E"])
    result = EmrtdSession(MemoryChannel(card), CAN_KEY).read()
    assert result.chip_auth == "failed"
    assert result.recoveries == 2  # two attempts, each followed by a fresh PACE
    assert result.files["DG1"] == card.identity.files[0x0101]  # the read itself still completes


def test_persistent_mac_failure_gives_sm_error_after_bounded_retries(make_card: MakeCard) -> None:
    card = make_card()
    pace_runs = {"n": 0}

    def bad_macs(apdu: bytes, response: bytes) -> bytes:
        if apdu[1] == 0x22:
            pace_runs["n"] += 1
        if b"\x8e\x08" in response and len(response) > 12:  # every protected answer: break its checksum
            response = response[:-3] + bytes((response[-3] ^ 0x01,)) + response[-2:]
        return response

    _tamper(card, bad_macs)
    with pytest.raises(ChipError) as info:
        EmrtdSession(MemoryChannel(card), CAN_KEY, max_recoveries=2).read()
    assert info.value.code == "E_CHIP_SM_FAILED"
    assert pace_runs["n"] == 3  # the first PACE and two recoveries, then it gives up


def test_absurd_file_length_is_rejected(make_card: MakeCard) -> None:
    card = make_card()
    card.identity.files[0x0101] = bytes.fromhex("618480000000") + bytes(64)  # DG1 claiming 2 GiB
    with pytest.raises(ChipError) as info:
        EmrtdSession(MemoryChannel(card), CAN_KEY).read(("DG1",))
    assert info.value.code == "E_CHIP_DATA_MALFORMED"


def test_no_access_key_at_all(make_card: MakeCard) -> None:
    channel = MemoryChannel(make_card())
    with pytest.raises(AccessDeniedError, match="no access key"):
        EmrtdSession(channel, AccessKey()).read()
    assert channel.sent == []  # nothing sent to the card
