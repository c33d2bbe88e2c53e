"""CPU time the reader spends on eMRTD crypto (PACE, secure messaging, CA, AA) for one full chip read.

A full read (EF.CardAccess, PACE-CAN, EF.COM, DG1, DG2, DG3 refused, DG13, DG14 + Chip Authentication, DG15 + Active
Authentication, EF.SOD) runs against the virtual CCCD chip through an in-memory channel. The card's own CPU time is
measured separately and subtracted, so the figure is the reader side only. Baseline in the same run: one EC scalar
multiplication in pure Python (``ecdsa``, needed for the PACE mapping) against one OpenSSL ECDH.

Run: .venv/bin/python bench/emrtd_crypto.py [--reads 20] [--dg2-kib 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import secrets
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from PIL import Image

from edge.devices import AccessKey
from edge.identity.emrtd import ec
from edge.identity.emrtd.session import EmrtdSession
from firmware_bridge.sim.identity_builder import build_identity
from firmware_bridge.sim.vchip.card import VirtualCccdChip
from firmware_bridge.sim.vchip.identity import identity_from_json

CAN_KEY = AccessKey(can="012345")
MRZ_KEY = AccessKey(document_number="099012345", birth_date="990101", expiry_date="390101")


class TimedChannel:
    """Passes APDUs to the card and adds up the card's CPU time."""

    def __init__(self, card: VirtualCccdChip) -> None:
        self.card = card
        self.card_cpu_s = 0.0
        self.apdus = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.apdus += 1
        started = time.process_time()
        try:
            return self.card.process_apdu(apdu)
        finally:
            self.card_cpu_s += time.process_time() - started


def face_jpeg(dg2_kib: int, folder: Path) -> Path:
    path = folder / "face.jpg"
    side = 120
    while True:
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=75)
        if len(buffer.getvalue()) >= dg2_kib * 1024 or side > 600:
            path.write_bytes(buffer.getvalue())
            return path
        side += 20


def run(label: str, document: dict[str, object], key: AccessKey, reads: int) -> None:
    reader_cpu, apdus, size = [], 0, 0
    for _ in range(reads):
        channel = TimedChannel(VirtualCccdChip(identity_from_json(document)))
        started = time.process_time()
        result = EmrtdSession(channel, key).read(("COM", "DG1", "DG2", "DG3", "DG13", "DG14", "DG15", "SOD"))
        total = time.process_time() - started
        reader_cpu.append(total - channel.card_cpu_s)
        apdus, size = channel.apdus, sum(len(v) for v in result.files.values())
        if (result.chip_auth, result.active_auth) != ("valid", "valid"):
            raise SystemExit(f"{label}: CA {result.chip_auth}, AA {result.active_auth}")
    reader_cpu.sort()
    median = reader_cpu[len(reader_cpu) // 2]
    print(
        f"{label:<40} reader CPU median {median * 1000:7.1f} ms  min {reader_cpu[0] * 1000:7.1f} ms"
        f"  ({apdus} APDUs, {size / 1024:.1f} KiB)"
    )


def baseline(reads: int) -> tuple[float, float]:
    """One EC scalar multiplication on brainpoolP256r1: pure Python (what PACE mapping needs) vs OpenSSL ECDH."""
    curve = ec.STANDARD_CURVES[13]
    g = ec.generator(curve)
    private = crypto_ec.generate_private_key(crypto_ec.BrainpoolP256R1())
    peer = crypto_ec.generate_private_key(crypto_ec.BrainpoolP256R1()).public_key()
    python_s, openssl_s = [], []
    for _ in range(reads):
        started = time.process_time()
        g * secrets.randbelow(int(curve.order))
        python_s.append(time.process_time() - started)
        started = time.process_time()
        private.exchange(crypto_ec.ECDH(), peer)
        openssl_s.append(time.process_time() - started)
    return sorted(python_s)[reads // 2], sorted(openssl_s)[reads // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--dg2-kib", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        face = face_jpeg(args.dg2_kib, Path(folder))
        birth, expiry = dt.date(1999, 1, 1), dt.date(2039, 1, 1)
        variants = {
            "PACE-CAN brainpoolP256r1 AES-128 (CCCD)": {"pace": ("brainpoolP256r1", "AES-128")},
            "PACE-CAN P-256 AES-128": {"pace": ("P-256", "AES-128")},
            "PACE-CAN brainpoolP512r1 AES-256": {"pace": ("brainpoolP512r1", "AES-256")},
            "PACE-CAN DH MODP-2048-256 AES-128": {"pace": ("MODP-2048-256", "AES-128")},
        }
        for label, options in variants.items():
            document = build_identity("Nguyễn Văn An", "001099012345", birth, expiry, "M", face, **options)  # type: ignore[arg-type]
            run(label, document, CAN_KEY, args.reads)
        bac_doc = build_identity("Nguyễn Văn An", "001099012345", birth, expiry, "M", face, pace=None)
        run("BAC 3DES (no PACE)", bac_doc, MRZ_KEY, args.reads)
        python_s, openssl_s = baseline(max(args.reads, 50))
        print(f"{'baseline: 1 scalar mult bP256, ecdsa':<40} CPU median {python_s * 1000:7.2f} ms")
        print(f"{'baseline: 1 ECDH bP256, OpenSSL':<40} CPU median {openssl_s * 1000:7.2f} ms")


if __name__ == "__main__":
    main()
