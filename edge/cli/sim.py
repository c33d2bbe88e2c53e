"""``examgate sim reader``: a virtual PN532 with a virtual CCCD chip on a pseudo-terminal.

With several ``--identity`` files (or ``--tap-interval-s``), each read ends with the card leaving the field and
the next card arriving a little later, so a daemon on the real PN532 stack sees candidates one after another.

Prints ``PTY /dev/pts/N`` as its first line, then serves until SIGTERM/SIGINT (exit 0). Point
``examgate chip read --port /dev/pts/N`` or the daemon's ``reader.port`` at that path.

Exit codes: 0 stopped cleanly, 2 usage or unreadable identity file.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from edge.cmdline import EXIT_OK, EXIT_USAGE, pn532_baud, positive_float, run_group
from edge.errors import ExamGateError
from firmware_bridge.sim.vchip.card import VirtualCard, load_identity_card
from firmware_bridge.sim.virtual_pn532 import VirtualPn532


class IdentityFileError(ExamGateError):
    code = "E_SIM_IDENTITY_INVALID"
    remedy = "pass an identity file made by the identity builder (format examgate-identity/1)"


def load_card(path: Path) -> VirtualCard:
    """The virtual chip described by an identity file."""
    try:
        return load_identity_card(path)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise IdentityFileError(f"cannot load identity file {path}: {exc}") from exc


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


class TapSequence:
    """After each read (the host's InRelease) the card leaves the field; ``interval_s`` later the next one arrives."""

    def __init__(self, cards: list[VirtualCard], interval_s: float) -> None:
        self.cards = cards
        self.interval_s = interval_s
        self.index = 0
        self._timer: threading.Timer | None = None

    def __call__(self, virtual: VirtualPn532) -> None:
        if not virtual.present or (self._timer is not None and self._timer.is_alive()):
            return
        virtual.remove()
        self.index = (self.index + 1) % len(self.cards)
        self._timer = threading.Timer(self.interval_s, virtual.insert, args=(self.cards[self.index],))
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _reader(args: argparse.Namespace) -> int:
    try:
        cards = [load_card(path) for path in args.identity]
    except ExamGateError as exc:
        print(f"{exc}\nremedy: {exc.remedy}", file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    interval_s = args.tap_interval_s if args.tap_interval_s is not None else (2.0 if len(cards) > 1 else None)
    taps = TapSequence(cards, interval_s) if interval_s is not None else None
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    virtual = VirtualPn532(
        None if args.no_card else cards[0],
        baud=args.baud,
        uart_timing=not args.no_uart_timing,
        remove_after_apdus=args.remove_after_apdus,
        corrupt_every=args.corrupt_every,
        corrupt_mode=args.corrupt_mode,
        on_release=taps,
        unplug_after_apdus=args.unplug_after_apdus,
    )
    try:
        path = virtual.start()
        print(f"PTY {path}", flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        if taps is not None:
            taps.cancel()
        virtual.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stats = virtual.stats
    print(
        f"stopped: {stats.apdus} APDUs, {stats.bytes_in} bytes in, {stats.bytes_out} bytes out, "
        f"{stats.corrupted_frames} corrupted frames",
        file=sys.stderr,
    )
    return EXIT_OK


def _sim_group(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The ``sim`` group's sub-commands, shared with other simulators that register under ``sim``."""
    existing = sub.choices.get("sim")
    if existing is not None:
        for action in existing._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action
    sim = existing or sub.add_parser("sim", help="simulated gate hardware for development and tests")
    return sim.add_subparsers(dest="sim_command", required=True)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sim reader``."""
    reader = _sim_group(sub).add_parser(
        "reader",
        help="virtual PN532 + CCCD chip on a pseudo-terminal",
        description="Prints 'PTY /dev/pts/N' first, then serves until SIGTERM/SIGINT.",
    )
    reader.add_argument(
        "--identity",
        type=Path,
        action="append",
        required=True,
        help="identity file (examgate-identity/1 JSON); repeat for several cards, tapped in turn",
    )
    reader.add_argument(
        "--tap-interval-s",
        type=positive_float,
        help="after each read the card leaves and the next arrives this much later (default 2 with several cards; "
        "with one card and no value it stays on the reader)",
    )
    reader.add_argument("--baud", type=pn532_baud, default=115200, help="initial UART speed (default 115200)")
    reader.add_argument("--no-card", action="store_true", help="no card on the reader: every poll finds nothing")
    reader.add_argument("--remove-after-apdus", type=_positive, help="the card leaves the field after N APDUs")
    reader.add_argument(
        "--unplug-after-apdus", type=_positive, help="the USB adapter is pulled after N APDUs: the pty closes"
    )
    reader.add_argument("--corrupt-every", type=_positive, help="corrupt every Nth answer frame on the wire")
    reader.add_argument(
        "--corrupt-mode",
        choices=("alternate", "dcs", "noise"),
        default="alternate",
        help="how to corrupt: bad checksum, noise before the frame, or alternately (default)",
    )
    reader.add_argument("--no-uart-timing", action="store_true", help="do not simulate the time bytes take at --baud")
    reader.set_defaults(func=_reader)


if __name__ == "__main__":  # stand-alone: ``python -m edge.cli.sim sim reader …``
    sys.exit(run_group(register, None))
