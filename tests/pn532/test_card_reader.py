"""Pn532CardReader (the lane's CardReader, kind "pn532") against the virtual PN532 + virtual CCCD chip on a pty."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from chip_helpers import PERSONAL_ID, identity_set
from cryptography import x509

from edge.device_config import Pn532ReaderConfig
from edge.devices import AccessKey, CardReader, CardTap
from edge.identity.chip_read import NoCardError
from edge.identity.emrtd.errors import AccessDeniedError, CardRemovedError, ChipTimeoutError, MalformedResponseError
from edge.identity.trust_store import TrustStore
from firmware_bridge.pn532.errors import Pn532Error
from firmware_bridge.pn532.reader import Pn532CardReader
from firmware_bridge.sim.vchip.card import load_identity_card
from firmware_bridge.sim.virtual_pn532 import VirtualPn532

pytestmark = pytest.mark.timeout(60)

CAN = "012345"
FULL_NAME = "Nguyễn Văn An"


@pytest.fixture(scope="module")
def identity_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return identity_set(tmp_path_factory.mktemp("identity"), FULL_NAME, "M")


@pytest.fixture
def trust(identity_files: dict[str, Path]) -> TrustStore:
    pem = (identity_files["csca"].parent / "csca.pem").read_bytes()
    return TrustStore.from_certificates([x509.load_pem_x509_certificate(pem)])


def make_virtual(identity: Path, **kwargs: object) -> VirtualPn532:
    return VirtualPn532(load_identity_card(identity), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def virtual(identity_files: dict[str, Path]) -> Iterator[VirtualPn532]:
    with make_virtual(identity_files["pace"]) as sim:
        yield sim


def make_reader(virtual: VirtualPn532, trust: TrustStore | None = None, **config: object) -> Pn532CardReader:
    return Pn532CardReader(Pn532ReaderConfig(port=virtual.slave_path, **config), trust=trust)  # type: ignore[arg-type]


def tapped(virtual: VirtualPn532, trust: TrustStore | None = None, **config: object) -> tuple[Pn532CardReader, CardTap]:
    """A reader on the virtual PN532 and the tap of the card lying in its field."""
    reader = make_reader(virtual, trust, **config)
    tap = reader.poll(2.0)
    assert tap is not None
    return reader, tap


def test_full_read_with_can(virtual: VirtualPn532, trust: TrustStore, identity_files: dict[str, Path]) -> None:
    reader = make_reader(virtual, trust)
    assert isinstance(reader, CardReader)
    tap = reader.poll(2.0)
    assert tap is not None
    assert tap.uid == virtual.card.uid  # type: ignore[union-attr]
    identity = reader.read(tap, AccessKey(can=CAN))
    assert identity.personal_id == PERSONAL_ID
    assert identity.document_number == PERSONAL_ID[-9:]
    assert identity.full_name == FULL_NAME  # DG13 field 2, with diacritics
    assert identity.birth_date == dt.date(1999, 1, 1)
    assert identity.expiry_date == dt.date(2039, 1, 1)
    assert identity.sex == "M"
    assert identity.face_image == identity_files["face"].read_bytes()
    assert identity.face_format == "jpeg"
    assert identity.access_protocol == "PACE"
    assert identity.passive_auth == "valid"
    assert identity.clone_check == "valid"
    assert {"access_control", "read_DG2", "passive_auth", "total"} <= set(identity.timings_ms)
    assert virtual.baud == 921600  # the reader switched to its target speed
    reader.close()


def test_card_left_on_the_reader_is_read_once(virtual: VirtualPn532) -> None:
    reader, tap = tapped(virtual)
    reader.read(tap, AccessKey(can=CAN))
    assert reader.poll(0.3) is None  # still in the field, already read
    card = virtual.card
    assert card is not None
    virtual.remove()
    assert reader.poll(0.1) is None  # the field is empty: the next card counts as new
    virtual.insert(card)
    again = reader.poll(2.0)
    assert again is not None
    assert again.uid == tap.uid
    reader.close()


def test_failed_read_does_not_hide_the_card(virtual: VirtualPn532) -> None:
    reader, tap = tapped(virtual)
    with pytest.raises(AccessDeniedError):
        reader.read(tap, AccessKey(can="999999"))
    assert reader.poll(1.0) is not None
    reader.close()


def test_read_without_trust_anchor(virtual: VirtualPn532) -> None:
    reader, tap = tapped(virtual)
    verified = reader.read_verified(tap, AccessKey(can=CAN))
    assert verified.passive_auth.status == "no_trust_anchor"
    assert verified.dg13 is not None
    reader.close()


def test_name_falls_back_to_dg1_and_id_is_required(virtual: VirtualPn532) -> None:
    reader, tap = tapped(virtual)
    verified = reader.read_verified(tap, AccessKey(can=CAN))
    reader.close()
    without_dg13 = dataclasses.replace(verified, dg13=None)
    assert without_dg13.full_name == "NGUYEN VAN AN"  # DG1, MRZ letters
    assert without_dg13.personal_id == PERSONAL_ID  # from the MRZ optional data
    no_id = dataclasses.replace(without_dg13, mrz=dataclasses.replace(verified.mrz, personal_id=None))
    with pytest.raises(MalformedResponseError):
        no_id.to_chip_identity()


def test_unparsable_dg13_falls_back_and_fails_passive_auth(
    identity_files: dict[str, Path], trust: TrustStore, tmp_path: Path
) -> None:
    document = json.loads(identity_files["pace"].read_text())
    document["files"]["010D"] = base64.b64encode(bytes.fromhex("6d03020101")).decode()
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    with make_virtual(tampered) as sim:
        reader, tap = tapped(sim, trust)
        verified = reader.read_verified(tap, AccessKey(can=CAN))
        reader.close()
    assert verified.dg13 is None
    assert verified.full_name == "NGUYEN VAN AN"
    assert verified.passive_auth.status == "invalid"
    assert (verified.passive_auth.failed_check, verified.passive_auth.failed_dg) == ("dg_hash", 13)


def test_csca_dir_from_config(virtual: VirtualPn532, identity_files: dict[str, Path]) -> None:
    reader, tap = tapped(virtual, csca_dir=identity_files["csca"])
    assert reader.read(tap, AccessKey(can=CAN)).passive_auth == "valid"
    reader.close()


def test_bac_with_mrz(identity_files: dict[str, Path], trust: TrustStore) -> None:
    with make_virtual(identity_files["bac"]) as sim:
        reader, tap = tapped(sim, trust, target_baud=115200)
        key = AccessKey(document_number=PERSONAL_ID[-9:], birth_date="990101", expiry_date="390101")
        identity = reader.read(tap, key)
        assert identity.access_protocol == "BAC"
        assert identity.full_name == FULL_NAME
        assert sim.baud == 115200
        reader.close()


def test_wrong_can_is_access_denied(virtual: VirtualPn532) -> None:
    reader, tap = tapped(virtual)
    with pytest.raises(AccessDeniedError) as info:
        reader.read(tap, AccessKey(can="999999"))
    assert info.value.code == "E_CHIP_ACCESS_DENIED"
    reader.close()


def test_poll_without_card_returns_none_in_time(identity_files: dict[str, Path]) -> None:
    with make_virtual(identity_files["pace"]) as sim:
        sim.remove()
        reader = make_reader(sim)
        started = time.monotonic()
        assert reader.poll(0.4) is None
        assert time.monotonic() - started < 3.0
        with pytest.raises(NoCardError):
            reader.read_verified(CardTap(uid=b"\x08\x01\x02\x03"), AccessKey(can=CAN))
        reader.close()


def test_card_removed_mid_dg2_fails_cleanly(identity_files: dict[str, Path]) -> None:
    with make_virtual(identity_files["pace"]) as sim:
        reader, tap = tapped(sim)
        full = reader.read_verified(tap, AccessKey(can=CAN)).session
        reader.close()
    after_dg2 = sum(full.reads[name].apdus for name in ("DG2", "DG13", "DG15", "SOD"))
    inside_dg2 = full.apdus - after_dg2 - 3 + full.reads["DG2"].apdus // 2  # about the middle of DG2
    assert full.reads["DG2"].apdus > 20
    with make_virtual(identity_files["pace"], remove_after_apdus=inside_dg2) as sim:
        reader, tap = tapped(sim)
        started = time.monotonic()
        with pytest.raises(CardRemovedError) as info:
            reader.read(tap, AccessKey(can=CAN))
        assert time.monotonic() - started < 10
        assert info.value.code == "E_CHIP_CARD_REMOVED"
        assert info.value.remedy
        assert sim.stats.apdus == inside_dg2
        assert reader.poll(0.2) is None  # the card stays gone
        reader.close()


def test_noisy_line_still_reads(identity_files: dict[str, Path], trust: TrustStore) -> None:
    with make_virtual(identity_files["pace"], corrupt_every=9) as sim:
        reader, tap = tapped(sim, trust)
        assert reader.read(tap, AccessKey(can=CAN)).passive_auth == "valid"
        assert sim.stats.corrupted_frames > 5
        assert sim.stats.nacks_received > 0
        reader.close()


def test_read_deadline_is_a_typed_timeout(virtual: VirtualPn532) -> None:
    reader, tap = tapped(virtual, read_timeout_s=0.001)
    time.sleep(0.01)
    with pytest.raises(ChipTimeoutError) as info:
        reader.read(tap, AccessKey(can=CAN))
    assert info.value.code == "E_CHIP_TIMEOUT"
    reader.close()


def test_reconnects_to_a_pn532_left_at_the_target_speed(virtual: VirtualPn532) -> None:
    first = make_reader(virtual)
    assert first.poll(1.0) is not None
    first.close()  # process restart: the PN532 stays at 921600
    assert virtual.baud == 921600
    second = make_reader(virtual)
    assert second.poll(1.0) is not None
    assert second.connect().transport.baud == 921600
    second.close()


def test_missing_port_is_a_device_error() -> None:
    reader = Pn532CardReader(Pn532ReaderConfig(port="/dev/does-not-exist-pn532"))
    with pytest.raises(Pn532Error) as info:
        reader.poll(0.1)
    assert info.value.code == "E_PN532_FAULT"
