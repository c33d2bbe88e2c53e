"""Device checks: camera (a frame with a face in it), card reader (firmware + a poll), turnstile (status, relay)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from edge.errors import ExamGateError
from edge.selftest.model import CheckResult, SelftestContext, failed, passed


def check_camera(ctx: SelftestContext) -> CheckResult:
    """One frame from the configured camera, then the face pipeline on it: a face must be found and embedded.
    Quality-gate reasons (blur, pose, light) are reported but do not fail the check: the technician is not a
    candidate standing at the mark."""
    from edge.vision.pipeline import FacePipeline  # noqa: PLC0415 - the vision stack loads only when checked
    from edge.vision.quality import GateProfile  # noqa: PLC0415
    from firmware_bridge.camera import open_camera  # noqa: PLC0415

    camera = open_camera(ctx.cfg.camera)
    try:
        started = time.perf_counter()
        frame = camera.capture()
        capture_ms = (time.perf_counter() - started) * 1000
    finally:
        camera.close()
    height, width = frame.image.shape[:2]
    pipeline = FacePipeline.shared(ctx.cfg.vision)
    started = time.perf_counter()
    analysis = pipeline.analyse(frame.image, GateProfile.LIVE)
    detect_ms = (time.perf_counter() - started) * 1000
    seen = f"{ctx.cfg.camera.kind} camera: {width}x{height} frame in {capture_ms:.0f} ms"
    if analysis.face is None:
        return failed(
            "camera",
            f"{seen}, no face found ({detect_ms:.0f} ms)",
            "stand in front of the camera at the candidate position during the self-test; check lighting, "
            "focus and that the lens is clean and pointed at the candidate position",
        )
    # The embedder runs too: proves the whole face pipeline (LiteRT included) works on this machine.
    _vector, embed_ms = pipeline.embed(analysis)
    gates = f"; quality: {', '.join(analysis.reasons)}" if analysis.reasons else "; quality gates passed"
    return passed(
        "camera",
        f"{seen}; {len(analysis.detections)} face(s), score {analysis.face.score:.2f} ({detect_ms:.0f} ms), "
        f"embedding {embed_ms:.0f} ms{gates}",
    )


def check_reader(ctx: SelftestContext) -> CheckResult:
    """The configured reader, opened as the daemon opens it: fixtures readable, or the PN532 answers and polls."""
    from firmware_bridge.reader import open_reader  # noqa: PLC0415 - the serial stack only when configured

    reader = open_reader(ctx.cfg.reader)  # a missing fixture folder is refused here (E_SIM_FIXTURE_INVALID)
    try:
        return passed("reader", reader.self_check())
    finally:
        with contextlib.suppress(ExamGateError):
            reader.close()


def _describe(turnstile: object) -> dict[str, Any]:
    describe = getattr(turnstile, "describe", None)
    return dict(describe()) if callable(describe) else {}


def check_turnstile(ctx: SelftestContext) -> CheckResult:
    """Status, fire loop and failure mode; with ``actuate`` one entry pulse (the arm releases once)."""
    from firmware_bridge.turnstile import open_turnstile  # noqa: PLC0415 - gpiozero only on the Pi

    turnstile = open_turnstile(ctx.cfg.turnstile)
    try:
        info = _describe(turnstile)
        status = turnstile.status()
        mode = str(info.get("failure_mode", getattr(ctx.cfg.turnstile, "failure_mode", "unknown")))
        seen = f"{ctx.cfg.turnstile.kind} turnstile, failure mode {mode}, pulse {ctx.cfg.turnstile.pulse_ms} ms"
        if status.fault:
            return failed("turnstile", f"{seen}: fault {status.fault}", "check the relay board's power and wiring")
        if status.fire_release:
            return failed(
                "turnstile",
                f"{seen}: fire loop OPEN (lane freed, admissions stopped)",
                "if there is no fire: check the fire panel's normally-closed contact and its connector on GPIO "
                f"{info.get('fire_release_pin', '?')}",
            )
        if status.alarm:
            return failed(
                "turnstile",
                f"{seen}: the controller reports an alarm (forcing / tailgating)",
                "clear the alarm on the turnstile controller, then run the self-test again",
            )
        if not ctx.actuate:
            return passed("turnstile", f"{seen}; relay not clicked (--actuate pulses it once)")
        engaged = getattr(turnstile, "relay_engaged", None)
        turnstile.release("entry")
        closed_seen = bool(engaged("entry")) if callable(engaged) else None
        time.sleep(ctx.cfg.turnstile.pulse_ms / 1000 + 0.1)
        if callable(engaged) and engaged("entry"):
            return failed(
                "turnstile",
                f"{seen}: the entry relay stayed engaged after its {ctx.cfg.turnstile.pulse_ms} ms pulse",
                "power the lane down and check the relay board (stuck relay or wrong relay_active_high)",
            )
        confirm = "" if closed_seen is None else (" (relay engaged, then released)" if closed_seen else "")
        return passed("turnstile", f"{seen}; entry relay pulsed once{confirm}: check the arm released")
    finally:
        with contextlib.suppress(ExamGateError):
            turnstile.close()
