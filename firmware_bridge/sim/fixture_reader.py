"""A simulated card reader: each card is a small JSON fixture; a "tap" queues one of them.

Fixture format (``examgate-card-fixture/1``)::

    {"format": "examgate-card-fixture/1", "personal_id": "001099012345", "document_number": "099012345",
     "full_name": "Nguyễn Văn An", "birth_date": "1999-01-01", "sex": "M", "expiry_date": "2039-01-01",
     "face_image": "faces/an.jpg", "passive_auth": "valid", "clone_check": "valid", "qr_text": null,
     "fail_code": null}

``face_image`` is relative to the fixture. ``fail_code`` makes every read fail with that chip error code (e.g.
``E_CHIP_CARD_REMOVED``) to rehearse faults. For a byte-faithful chip use the virtual PN532 instead (kind ``pn532``).
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import time
from pathlib import Path
from typing import Any, cast

from edge.devices import AccessKey, CardTap, ChipIdentity, FaceImageFormat
from edge.errors import DeviceError, ExamGateError

FORMAT = "examgate-card-fixture/1"

_REMEDIES = {
    "E_CHIP_CARD_REMOVED": "hold the card still on the reader until the gate beeps",
    "E_CHIP_ACCESS_DENIED": "the access key does not match this card; rescan the card's QR code",
}


class FixtureError(DeviceError):
    code = "E_SIM_FIXTURE_INVALID"
    remedy = "fix the card fixture file (see firmware_bridge/sim/fixture_reader.py for the format)"


def _image_format(data: bytes) -> FaceImageFormat:
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data.startswith((b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51")):
        return "jpeg2000"
    if data.startswith(b"\x89PNG"):
        return "png"
    raise FixtureError("face_image is not a JPEG, JPEG 2000 or PNG image")


def load_fixture(path: Path) -> tuple[ChipIdentity, str | None, str | None]:
    """Return (identity, qr_text, fail_code) from a fixture file."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixtureError(f"card fixture {path.name} not found") from None
    except (OSError, ValueError) as exc:
        raise FixtureError(f"card fixture {path.name} is not readable JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise FixtureError(f"{path.name}: not a {FORMAT} file")
    data = cast(dict[str, Any], raw)
    try:
        face = (path.parent / str(data["face_image"])).read_bytes()
        identity = ChipIdentity(
            personal_id=str(data["personal_id"]),
            document_number=str(data.get("document_number") or str(data["personal_id"])[-9:]),
            full_name=str(data["full_name"]),
            birth_date=dt.date.fromisoformat(str(data["birth_date"])),
            sex=str(data.get("sex", "X")),
            expiry_date=dt.date.fromisoformat(str(data["expiry_date"])) if data.get("expiry_date") else None,
            face_image=face,
            face_format=_image_format(face),
            access_protocol="SIMULATED",
            passive_auth=data.get("passive_auth", "valid"),
            clone_check=data.get("clone_check", "valid"),
        )
    except KeyError as exc:
        raise FixtureError(f"{path.name}: missing key {exc.args[0]}") from None
    except (OSError, ValueError) as exc:
        raise FixtureError(f"{path.name}: {exc}") from None
    qr = data.get("qr_text")
    fail = data.get("fail_code")
    return identity, (str(qr) if qr else None), (str(fail) if fail else None)


class FixtureCardReader:
    """Implements ``edge.devices.CheckableReader``. ``tap(name)`` puts a card on the reader (tests, demo, bring-up)."""

    def __init__(self, cards_dir: Path, *, read_delay_s: float = 0.0) -> None:
        if not cards_dir.is_dir():
            raise FixtureError(f"cards folder {cards_dir} does not exist")
        self.cards_dir = cards_dir
        self.read_delay_s = read_delay_s
        self._taps: queue.Queue[Path] = queue.Queue()
        self._current: dict[bytes, Path] = {}
        self.reads = 0

    def card_names(self) -> list[str]:
        return sorted(p.stem for p in self.cards_dir.glob("*.json"))

    def self_check(self) -> str:
        """Every fixture in the folder loads (``E_SIM_FIXTURE_INVALID`` names the first that does not)."""
        names = self.card_names()
        for name in names:
            load_fixture(self.cards_dir / f"{name}.json")
        return f"simulated reader: {len(names)} card fixture(s) readable in {self.cards_dir}"

    def tap(self, name: str) -> None:
        path = self.cards_dir / f"{name}.json"
        if not path.is_file():
            raise FixtureError(f"no card fixture named {name!r} in {self.cards_dir}")
        self._taps.put(path)

    def poll(self, timeout_s: float) -> CardTap | None:
        try:
            path = self._taps.get(timeout=timeout_s)
        except queue.Empty:
            return None
        _, qr_text, _ = load_fixture(path)
        uid = b"\x08" + (abs(hash(path.name)) % (1 << 24)).to_bytes(3, "big")
        self._current[uid] = path
        return CardTap(uid=uid, qr_text=qr_text)

    def read(self, tap: CardTap, key: AccessKey | None) -> ChipIdentity:
        path = self._current.get(tap.uid)
        if path is None:
            raise ExamGateError(
                "no card in the field", code="E_CHIP_CARD_REMOVED", remedy=_REMEDIES["E_CHIP_CARD_REMOVED"]
            )
        identity, _, fail_code = load_fixture(path)
        self.reads += 1
        if self.read_delay_s:
            time.sleep(self.read_delay_s)
        if fail_code:
            raise ExamGateError(
                f"simulated chip fault {fail_code}",
                code=fail_code,
                remedy=_REMEDIES.get(fail_code, "tap the card again; if it repeats, send the candidate to the proctor"),
            )
        if key is not None and key.can is not None and key.can != identity.personal_id[-6:]:
            raise ExamGateError(
                "PACE failed: wrong CAN", code="E_CHIP_ACCESS_DENIED", remedy=_REMEDIES["E_CHIP_ACCESS_DENIED"]
            )
        return identity

    def close(self) -> None:
        self._current.clear()
