"""Chip read bench: bytes on the wire and APDU round trips of one full CCCD read through the PN532 stack,
the time they imply at 115200 / 921600 baud and over the 106 kbit/s RF link, and our CPU time per read.

    python bench/chip.py [--dg2-kb 16] [--runs 3] [--no-timed]

The read (PACE-CAN + EF.COM + DG1 + DG2 + DG13 + EF.SOD + passive authentication) runs against the virtual
PN532 on a real pty, backed by the virtual CCCD chip; a second row adds what the gate also reads (DG14 + chip
authentication, DG15 + active authentication). Baseline, same run: the same files read as plain
READ BINARY (no access control, no secure messaging) through the same stack, from a bare file card.

Time models (printed with their assumptions):
  UART   = wire bytes × 10 bits / baud (8N1), both directions, ACK frames included.
  RF     = per ISO 14443-4 I-block: (INF + PCB + CRC) bytes × 9 bits (8 + parity) / 106 kbit/s
           + frame delay ~86 µs + SOF/EOF; blocks of at most FSC = 256 bytes (ATS TA/TB/TC byte 0x78: FSCI 8).
  series = UART + RF (the PN532 stores a whole frame before forwarding it). Card-side compute is not modelled.
"Timed" runs let the virtual PN532 sleep 10 bits per byte at the baud, so they show UART time + our CPU.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cryptography import x509
from PIL import Image

from edge.devices import AccessKey
from edge.identity.chip_read import READ_FILES, verify_read
from edge.identity.emrtd.apdu import CommandApdu, ResponseApdu, raise_for_status, transceive
from edge.identity.emrtd.session import FILE_IDS, EmrtdSession, ReadResult
from edge.identity.trust_store import TrustStore
from firmware_bridge.pn532.channel import Pn532ApduChannel
from firmware_bridge.pn532.driver import Pn532
from firmware_bridge.pn532.transport import Pn532Transport, open_serial
from firmware_bridge.sim.identity_builder import build_identity
from firmware_bridge.sim.vchip.card import VirtualCard, load_identity_card
from firmware_bridge.sim.vchip.identity import load_identity
from firmware_bridge.sim.virtual_pn532 import VirtualPn532

FILES = ("COM", "DG1", "DG2", "DG13", "SOD")
CHUNK = 0xE0
RF_BPS = 106_000
RF_FSC = 256
RF_FDT_S = 86e-6
RF_SOF_EOF_BITS = 2
CAN = "012345"


# ----------------------------------------------------------------------------- test data
def face_jpeg(target_bytes: int) -> bytes:
    """A noise JPEG near ``target_bytes`` (noise compresses badly, so the size follows the pixel count)."""
    rng = np.random.default_rng(5)
    best = b""
    for side in range(40, 800, 8):
        buffer = io.BytesIO()
        pixels = rng.integers(0, 255, (side * 5 // 4, side, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(buffer, "JPEG", quality=50)
        best = buffer.getvalue()
        if len(best) >= target_bytes:
            break
    return best


# ----------------------------------------------------------------------------- measurement
class RecordingChannel:
    """Counts APDUs and their sizes (command, response) on top of the PN532 channel."""

    def __init__(self, inner: Pn532ApduChannel) -> None:
        self.inner = inner
        self.sizes: list[tuple[int, int]] = []

    def transmit(self, apdu: bytes) -> bytes:
        response = self.inner.transmit(apdu)
        self.sizes.append((len(apdu), len(response)))
        return response


@dataclass
class ReadFigures:
    label: str
    wire_bytes: int = 0
    wire_out: int = 0
    wire_in: int = 0
    apdus: int = 0
    exchanges: int = 0
    apdu_bytes: int = 0
    rf_s: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    files_bytes: int = 0


def rf_time_s(sizes: Sequence[tuple[int, int]]) -> float:
    total = 0.0
    for command, response in sizes:
        for length in (command, response):
            inf = max(length, 1)
            blocks = -(-inf // (RF_FSC - 3))
            frame_bytes = inf + blocks * 3  # PCB + CRC per block
            bits = frame_bytes * 9 + blocks * RF_SOF_EOF_BITS
            # each chained block is answered by an R(ACK) block (PCB + CRC)
            ack_bits = (blocks - 1) * (3 * 9 + RF_SOF_EOF_BITS)
            total += (bits + ack_bits) / RF_BPS + (2 * blocks - 1) * RF_FDT_S
    return total


def _connect(virtual: VirtualPn532, target_baud: int) -> tuple[Pn532, RecordingChannel]:
    driver = Pn532(Pn532Transport(open_serial(virtual.slave_path, virtual.baud)))
    driver.wake_up()
    driver.set_max_retries(passive_activation=1)
    if target_baud != virtual.baud:
        driver.set_serial_baud_rate(target_baud)
    target = driver.poll()
    if target is None:
        raise RuntimeError("the virtual card was not found")
    return driver, RecordingChannel(Pn532ApduChannel(driver, target))


def secure_read(
    card: VirtualCard, trust: TrustStore, *, target_baud: int, timed: bool, label: str, gate_files: bool = False
) -> ReadFigures:
    """One full read with PACE + SM + passive auth; CPU = this thread's CPU (our side only).

    ``gate_files``: read what the gate reads (``READ_FILES``: + DG14 with chip authentication, DG15 with
    active authentication) instead of ``FILES``."""
    with VirtualPn532(card, uart_timing=timed) as virtual:
        driver, channel = _connect(virtual, target_baud)
        out0, in0 = driver.transport.bytes_out, driver.transport.bytes_in
        exchanges0 = driver.exchanges
        figures = ReadFigures(label)
        wall0 = time.perf_counter()
        session = EmrtdSession(channel, AccessKey(can=CAN), max_chunk_bytes=CHUNK)
        cpu = time.thread_time()
        session.establish()
        figures.cpu_s["pace"] = time.thread_time() - cpu
        cpu = time.thread_time()
        if gate_files:
            result = session.read(READ_FILES)
        else:
            result = ReadResult("PACE", "CAN", None)
            for name in FILES:
                result.files[name] = session.read_file(name).data
        figures.cpu_s["read_sm"] = time.thread_time() - cpu
        cpu = time.thread_time()
        verified = verify_read(result, trust, dt.datetime.now(dt.UTC))
        figures.cpu_s["parse_pa"] = time.thread_time() - cpu
        figures.wall_s = time.perf_counter() - wall0
        if verified.passive_auth.status != "valid":
            raise RuntimeError(f"passive auth {verified.passive_auth.status}: {verified.passive_auth.details}")
        _fill(figures, driver, channel, out0, in0, exchanges0)
        figures.files_bytes = sum(len(data) for data in result.files.values())
        driver.transport.close()
    return figures


class PlainFileCard:
    """Baseline card: the same files, SELECT by FID and READ BINARY in the clear (no access control)."""

    def __init__(self, files: dict[int, bytes], uid: bytes, ats: bytes) -> None:
        self.files, self.uid, self.ats = files, uid, ats
        self.current: bytes | None = None

    def reset(self) -> None:
        self.current = None

    def process_apdu(self, apdu: bytes) -> bytes:
        command = CommandApdu.parse(apdu)
        if command.ins == 0xA4:
            self.current = self.files.get(int.from_bytes(command.data, "big"))
            return b"\x90\x00" if self.current is not None else b"\x6a\x82"
        if command.ins == 0xB0 and self.current is not None:
            offset = command.p1 << 8 | command.p2
            return self.current[offset : offset + command.ne] + b"\x90\x00"
        return b"\x6d\x00"


def plain_read(card: PlainFileCard, *, target_baud: int, timed: bool) -> ReadFigures:
    with VirtualPn532(card, uart_timing=timed) as virtual:
        driver, channel = _connect(virtual, target_baud)
        out0, in0, exchanges0 = driver.transport.bytes_out, driver.transport.bytes_in, driver.exchanges
        figures = ReadFigures("plain (no SM)")
        wall0, cpu = time.perf_counter(), time.thread_time()
        total = 0
        for name in FILES:
            fid = FILE_IDS[name].to_bytes(2, "big")
            raise_for_status(transceive(channel, CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid)), "SELECT")
            data = bytearray()
            size = len(card.files[FILE_IDS[name]])
            while len(data) < size:
                want = min(CHUNK, size - len(data))
                command = CommandApdu(0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, b"", want)
                response: ResponseApdu = raise_for_status(transceive(channel, command), "READ BINARY")
                data += response.data
            total += len(data)
        figures.cpu_s["read_plain"] = time.thread_time() - cpu
        figures.wall_s = time.perf_counter() - wall0
        _fill(figures, driver, channel, out0, in0, exchanges0)
        figures.files_bytes = total
        driver.transport.close()
    return figures


def _fill(figures: ReadFigures, driver: Pn532, channel: RecordingChannel, out0: int, in0: int, ex0: int) -> None:
    figures.wire_out = driver.transport.bytes_out - out0
    figures.wire_in = driver.transport.bytes_in - in0
    figures.wire_bytes = figures.wire_out + figures.wire_in
    figures.apdus = len(channel.sizes)
    figures.exchanges = driver.exchanges - ex0
    figures.apdu_bytes = sum(c + r for c, r in channel.sizes)
    figures.rf_s = rf_time_s(channel.sizes)


# ----------------------------------------------------------------------------- report
def uart_s(wire_bytes: int, baud: int) -> float:
    return wire_bytes * 10 / baud


def report(rows: list[ReadFigures], timed: dict[str, float], runs: int) -> None:
    print(
        f"\n{'read':<16} {'APDUs':>6} {'frames':>7} {'APDU B':>8} {'wire B':>8} {'file B':>7} "
        f"{'UART@115k2':>11} {'UART@921k6':>11} {'RF 106k':>8} {'series@921k6':>13}"
    )
    for r in rows:
        print(
            f"{r.label:<16} {r.apdus:>6} {r.exchanges:>7} {r.apdu_bytes:>8} {r.wire_bytes:>8} {r.files_bytes:>7} "
            f"{uart_s(r.wire_bytes, 115200):>10.2f}s {uart_s(r.wire_bytes, 921600):>10.2f}s {r.rf_s:>7.2f}s "
            f"{uart_s(r.wire_bytes, 921600) + r.rf_s:>12.2f}s"
        )
    secure, plain = rows[0], rows[-1]
    print(
        f"\nSM overhead vs plain: x{secure.wire_bytes / plain.wire_bytes:.2f} wire bytes, "
        f"+{secure.apdus - plain.apdus} APDUs"
    )
    print(
        f"series model @115200: {uart_s(secure.wire_bytes, 115200) + secure.rf_s:.2f} s; "
        f"@921600: {uart_s(secure.wire_bytes, 921600) + secure.rf_s:.2f} s (goal <= 3 s)"
    )
    print(f"\nour CPU per secure read (median of {runs}, this thread only):")
    for key in rows[0].cpu_s:
        print(f"  {key:<10} {rows[0].cpu_s[key] * 1000:8.1f} ms")
    print(f"  {'plain read':<10} {plain.cpu_s['read_plain'] * 1000:8.1f} ms  (baseline: same files, no SM)")
    crypto_ms = (rows[0].cpu_s["pace"] + rows[0].cpu_s["read_sm"] - plain.cpu_s["read_plain"]) * 1000
    crypto_ms += rows[0].cpu_s["parse_pa"] * 1000
    print(f"  => our crypto per read ~ {crypto_ms:.1f} ms (PACE + SM overhead over the plain read + parse/PA)")
    if timed:
        print("\nwall time with simulated UART (virtual PN532 sleeps 10 bits/byte; RF and card compute not included):")
        for key, value in timed.items():
            print(f"  {key:<28} {value:6.2f} s")


def median_figures(samples: list[ReadFigures]) -> ReadFigures:
    first = samples[0]
    first.cpu_s = {key: statistics.median(s.cpu_s[key] for s in samples) for key in first.cpu_s}
    first.wall_s = statistics.median(s.wall_s for s in samples)
    return first


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dg2-kb", type=float, default=16.0, help="face image size in KB (default 16)")
    parser.add_argument("--runs", type=int, default=3, help="untimed runs for CPU medians (default 3)")
    parser.add_argument("--no-timed", action="store_true", help="skip the runs with simulated UART timing")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        face = Path(tmp) / "face.jpg"
        face.write_bytes(face_jpeg(int(args.dg2_kb * 1024)))
        path = Path(tmp) / "identity.json"
        document = build_identity(
            "Nguyễn Văn An", "001099012345", dt.date(1999, 1, 1), dt.date(2039, 1, 1), "M", face, path
        )
        trust = TrustStore.from_certificates(
            [x509.load_pem_x509_certificate(document["csca_certificate_pem"].encode())]
        )
        identity = load_identity(path)
        print(
            f"identity: face {face.stat().st_size} B, DG2 {len(identity.files[0x0102])} B, "
            f"SOD {len(identity.files[0x011D])} B, DG13 {len(identity.files[0x010D])} B; chunk {CHUNK} B"
        )

        secure = median_figures(
            [
                secure_read(load_identity_card(path), trust, target_baud=921600, timed=False, label="PACE+SM+PA")
                for _ in range(args.runs)
            ]
        )

        def plain_card() -> PlainFileCard:
            return PlainFileCard(identity.files, identity.uid, bytes.fromhex("0578807002"))

        gate = secure_read(
            load_identity_card(path), trust, target_baud=921600, timed=False, label="gate (+CA+AA)", gate_files=True
        )
        plain = median_figures([plain_read(plain_card(), target_baud=921600, timed=False) for _ in range(args.runs)])
        timed: dict[str, float] = {}
        if not args.no_timed:
            for baud in (115200, 921600):
                read = secure_read(load_identity_card(path), trust, target_baud=baud, timed=True, label="timed")
                timed[f"PACE+SM+PA @ {baud}"] = read.wall_s
                timed[f"plain (no SM) @ {baud}"] = plain_read(plain_card(), target_baud=baud, timed=True).wall_s
        report([secure, gate, plain], timed, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
