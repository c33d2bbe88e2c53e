"""One chip read, parsed and verified: what a card reader hands on after an ``EmrtdSession`` has read the files.

``verify_read`` parses DG1, DG2, DG13 and EF.SOD and runs passive authentication against the CSCA trust store;
``VerifiedRead`` holds everything (for ``examgate chip read``) and maps it onto the lane's ``ChipIdentity``.
The full name comes from DG13 field 2 (Vietnamese, with diacritics) when the card has it, else from DG1.
No driver code here: the readers that talk to hardware live in ``firmware_bridge``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from edge.devices import ChipIdentity, CloneCheckStatus
from edge.identity.dg2 import FaceImage, parse_dg2
from edge.identity.dg13 import Dg13, Dg13Error, parse_dg13
from edge.identity.emrtd.errors import ChipError, MalformedResponseError
from edge.identity.emrtd.session import FILE_IDS, ReadResult
from edge.identity.mrz import Mrz, parse_dg1
from edge.identity.passive_auth import PassiveAuthResult, verify_passive
from edge.identity.sod import parse_sod
from edge.identity.tlv import TlvError
from edge.identity.trust_store import TrustStore

log = logging.getLogger(__name__)

READ_FILES = ("COM", "DG1", "DG2", "DG13", "DG14", "DG15", "SOD")


class NoCardError(ChipError):
    code = "E_CHIP_NO_CARD"
    remedy = "place the card flat on the reader and hold it there until the gate beeps"


@dataclass(frozen=True)
class VerifiedRead:
    """One chip read, parsed and verified (``dg13`` is None when the card has no usable DG13)."""

    session: ReadResult
    mrz: Mrz
    dg13: Dg13 | None
    face: FaceImage
    passive_auth: PassiveAuthResult
    timings_ms: dict[str, float]

    @property
    def full_name(self) -> str:
        if self.dg13 is not None and self.dg13.full_name:
            return self.dg13.full_name
        return self.mrz.full_name

    @property
    def personal_id(self) -> str:
        for candidate in (self.mrz.personal_id, self.dg13.id_number if self.dg13 else None):
            if candidate and candidate.isdigit() and len(candidate) == 12:
                return candidate
        raise MalformedResponseError("the chip holds no 12-digit personal ID (neither in DG1 nor in DG13)")

    @property
    def clone_check(self) -> CloneCheckStatus:
        statuses = (self.session.chip_auth, self.session.active_auth)
        if "failed" in statuses:
            return "failed"
        if "valid" in statuses:
            return "valid"
        return "not_supported"

    def to_chip_identity(self) -> ChipIdentity:
        return ChipIdentity(
            personal_id=self.personal_id,
            document_number=self.mrz.document_number,
            full_name=self.full_name,
            birth_date=self.mrz.birth_date,
            sex=self.mrz.sex,
            expiry_date=self.mrz.expiry_date,
            face_image=self.face.data,
            face_format=self.face.format,
            access_protocol=self.session.access_protocol,
            passive_auth=self.passive_auth.status,
            clone_check=self.clone_check,
            timings_ms=dict(self.timings_ms),
        )


def verify_read(session: ReadResult, trust: TrustStore, at: dt.datetime) -> VerifiedRead:
    """Parse DG1/DG2/DG13/SOD of a session read and run passive authentication over every DG read."""
    started = time.perf_counter()
    files = session.files
    mrz = parse_dg1(files["DG1"], today=at.date())
    face = parse_dg2(files["DG2"])
    dg13 = None
    if "DG13" in files:
        try:
            dg13 = parse_dg13(files["DG13"])
        except (Dg13Error, TlvError) as exc:
            log.warning("DG13 unusable, using DG1 for the name: %s", exc.code)
    parsed_ms = (time.perf_counter() - started) * 1000
    sod = parse_sod(files["SOD"])
    dg_bytes = {FILE_IDS[name] - 0x0100: data for name, data in files.items() if name.startswith("DG")}
    passive = verify_passive(sod, dg_bytes, trust, at)
    timings = dict(session.timings_ms)
    timings["session"] = timings.pop("total", 0.0)
    timings["parse"] = parsed_ms
    timings["passive_auth"] = (time.perf_counter() - started) * 1000 - parsed_ms
    return VerifiedRead(session, mrz, dg13, face, passive, timings)
