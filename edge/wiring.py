"""All wiring in one place: configuration in, a running gate out. Nothing else constructs devices or the store."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from edge.config import AppConfig, SimulatedMatcherConfig, Thresholds
from edge.degraded import (
    Reopening,
    ReopeningCamera,
    ReopeningReader,
    ReopeningTurnstile,
    ReopeningVerifier,
    open_or_degrade,
)
from edge.devices import Camera, CardReader, FaceVerifier, Turnstile
from edge.errors import ConfigError, ExamGateError
from edge.gate_commands import GateCommands, load_centre_lock, load_centre_thresholds
from edge.keys import CameraQrKeySource, TapQrKeySource
from edge.lane import Lane, LaneSettings, on_done
from edge.lane.records import LanePad
from edge.policy import PolicyParams
from edge.privacy.evidence import EvidenceVault, open_vault
from edge.privacy.notice import load_notice
from edge.reviews import ReviewBroker
from edge.store import Store, open_store
from edge.vision.pad.settings import DEFAULT_ATTACK_THRESHOLD, DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from edge.mqtt.link import GateLink

log = logging.getLogger("examgate.wiring")
T = TypeVar("T")


def resolve_thresholds(cfg: AppConfig) -> Thresholds:
    """Inline thresholds, or the file written by ``examgate face calibrate``."""
    if cfg.policy.thresholds is not None:
        return cfg.policy.thresholds
    from edge.vision.thresholds import load_thresholds  # noqa: PLC0415 - vision stack loads only when used

    assert cfg.policy.thresholds_file is not None  # PolicyConfig guarantees one of the two
    loaded = load_thresholds(cfg.policy.thresholds_file)
    return Thresholds(version=loaded.version, match=loaded.match, review=loaded.review)


def policy_params(cfg: AppConfig, thresholds: Thresholds, pad: LanePad | None = None) -> PolicyParams:
    """The policy's parameters; the PAD thresholds are the lane PAD's operating point (thresholds_pad.toml with the
    config's overrides) and, when it has none (PAD off or unavailable), the config's values or the defaults."""
    pa = cfg.policy.passive_auth
    pad_thresholds = getattr(pad, "thresholds", None)
    pad_threshold, pad_attack = (
        (pad_thresholds.threshold, pad_thresholds.attack_threshold)
        if pad_thresholds is not None
        else (
            DEFAULT_THRESHOLD if cfg.pad.threshold is None else cfg.pad.threshold,
            DEFAULT_ATTACK_THRESHOLD if cfg.pad.attack_threshold is None else cfg.pad.attack_threshold,
        )
    )
    cc = cfg.policy.clone_check
    return PolicyParams(
        match_threshold=thresholds.match,
        review_threshold=thresholds.review,
        thresholds_version=thresholds.version,
        max_face_attempts=cfg.policy.max_face_attempts,
        max_chip_attempts=cfg.lane.chip_read_attempts,
        passive_auth=tuple((name, getattr(pa, name)) for name in type(pa).model_fields),
        clone_check=tuple((name, getattr(cc, name)) for name in type(cc).model_fields),
        pad_mode=cfg.pad.mode,
        pad_threshold=pad_threshold,
        pad_attack_threshold=min(pad_attack, pad_threshold),
        pad_challenge=cfg.pad.challenge,
        pad_motion_rule=cfg.pad.motion_rule,
        pad_min_nonrigid=cfg.pad.min_nonrigid_motion,
        pad_min_planar=cfg.pad.min_planar_residual,
    )


def _gate_pad(cfg: AppConfig) -> LanePad | None:
    """PAD of the lane (issue 12); None with ``[pad] mode = "off"``. Missing models: it reports unavailable."""
    if cfg.pad.mode == "off":
        return None
    from edge.vision.pad.gate import GatePad  # noqa: PLC0415 - vision stack only when PAD runs

    return GatePad(cfg.vision, cfg.pad)


def build_reader(cfg: AppConfig) -> CardReader:
    from firmware_bridge.reader import open_reader  # noqa: PLC0415

    return open_reader(cfg.reader)


def build_camera(cfg: AppConfig) -> Camera:
    from firmware_bridge.camera import open_camera  # noqa: PLC0415

    return open_camera(cfg.camera)


def build_turnstile(cfg: AppConfig, pin_factory: object | None = None) -> Turnstile:
    from firmware_bridge.turnstile import open_turnstile  # noqa: PLC0415

    return open_turnstile(cfg.turnstile, pin_factory=pin_factory)


def build_verifier(cfg: AppConfig, thresholds: Thresholds) -> FaceVerifier:
    if isinstance(cfg.matcher, SimulatedMatcherConfig):
        from firmware_bridge.sim.score_verifier import ScoreTableVerifier  # noqa: PLC0415

        try:
            table = json.loads(cfg.matcher.scores_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"matcher.scores_file unreadable: {exc}", [("matcher.scores_file", "a JSON object {stem: score}")]
            ) from None
        return ScoreTableVerifier({str(k): (None if v is None else float(v)) for k, v in table.items()})
    from edge.vision.thresholds import Thresholds as VisionThresholds  # noqa: PLC0415
    from edge.vision.thresholds import load_thresholds  # noqa: PLC0415
    from edge.vision.verifier import TfliteFaceVerifier  # noqa: PLC0415

    if cfg.policy.thresholds_file is not None and thresholds.version == resolve_thresholds(cfg).version:
        # the calibrated file: the verifier checks it was made for the model it loads
        vision_thresholds = load_thresholds(cfg.policy.thresholds_file)
    else:
        # inline or centre-pushed thresholds carry no calibration record; the verifier reads only `review`
        values: dict[str, Any] = {**thresholds.model_dump(), "model_version": ""}
        vision_thresholds = VisionThresholds.model_construct(**values)
    return TfliteFaceVerifier(vision_thresholds, cfg.vision)


@dataclass
class Gate:
    """One lane's parts, built from config. ``close()`` releases them in reverse order of creation."""

    cfg: AppConfig
    thresholds: Thresholds
    store: Store
    reader: CardReader
    camera: Camera
    turnstile: Turnstile
    verifier: FaceVerifier
    lane: Lane
    reviews: ReviewBroker
    closers: list[object] = field(default_factory=list)
    evidence: EvidenceVault | None = None

    def close(self) -> None:
        for part in (self.turnstile, self.camera, self.reader):
            try:
                part.close()
            except Exception as exc:  # noqa: BLE001 - one device failing to close must not keep the store open
                code = exc.code if isinstance(exc, ExamGateError) else type(exc).__name__
                log.warning("close failed part=%s code=%s", type(part).__name__, code)
        self.store.close()


def open_gate_store(cfg: AppConfig) -> Store:
    return open_store(cfg.store.path, synchronous=cfg.store.synchronous)


def build_gate(
    cfg: AppConfig,
    *,
    session_id: str | None = None,
    store: Store | None = None,
    reader: CardReader | None = None,
    camera: Camera | None = None,
    turnstile: Turnstile | None = None,
    verifier: FaceVerifier | None = None,
) -> Gate:
    """Build the lane. Parts passed in (tests, demo) are used as they are; the rest come from ``cfg``."""
    store = store or open_gate_store(cfg)
    thresholds = load_centre_thresholds(store.path) or resolve_thresholds(cfg)
    evidence = open_vault(cfg.privacy, store)  # face images of review/fail cases, encrypted; None without a key
    notice = load_notice(cfg.privacy.notice_file)  # no capture without a valid notice (E_PRIVACY_NOTICE_*)
    session = session_id or cfg.lane.session_id or store.open_session_id()
    if session is None:
        raise ConfigError(
            "no exam session to admit for",
            [("lane.session_id", "set it, or import a roster with `examgate roster import FILE --session ID`")],
        )
    # A device that cannot be opened does not stop the gate: it starts degraded, reports it, and retries.
    slots: list[Reopening[Any]] = []

    def degradable(name: str, given: T | None, factory: Callable[[], T], proxy: Callable[[Reopening[T]], T]) -> T:
        if given is not None:
            return given
        device, slot = open_or_degrade(name, factory)
        if slot is None:
            assert device is not None
            return device
        log.warning("device unavailable at start device=%s code=%s", name, slot.error.code if slot.error else "?")
        slots.append(slot)
        return proxy(slot)

    reader = degradable("reader", reader, lambda: build_reader(cfg), ReopeningReader)
    camera = degradable("camera", camera, lambda: build_camera(cfg), ReopeningCamera)
    turnstile = degradable("turnstile", turnstile, lambda: build_turnstile(cfg), ReopeningTurnstile)
    verifier = degradable("model", verifier, lambda: build_verifier(cfg, thresholds), ReopeningVerifier)
    reviews = ReviewBroker()
    settings = LaneSettings(
        site_id=cfg.site.site_id,
        gate_id=cfg.site.gate_id,
        session_id=session,
        thresholds_version=thresholds.version,
        poll_timeout_s=cfg.lane.poll_timeout_s,
        capture_window_s=cfg.vision.frame_window_s,
        frames_per_attempt=cfg.lane.frames_per_attempt,
        passage_timeout_s=cfg.lane.passage_timeout_s,
        pulse_ms=cfg.turnstile.pulse_ms,
        anti_passback=cfg.policy.anti_passback,
        notice_version=notice.version,
        legal_basis=notice.legal_basis,
    )
    pad = _gate_pad(cfg)
    keys = CameraQrKeySource(camera, cfg.lane.qr_timeout_s) if cfg.lane.qr_timeout_s > 0 else TapQrKeySource()
    lane = Lane(
        settings,
        keys=keys,
        evidence=evidence,
        params=policy_params(cfg, thresholds, pad),
        reader=reader,
        camera=camera,
        turnstile=turnstile,
        verifier=verifier,
        store=store,
        reviews=reviews,
        pad=pad,
    )
    lane.startup_faults = [(slot.name, slot.error) for slot in slots if slot.error is not None]
    pad_error = getattr(pad, "error", None)
    if isinstance(pad_error, ExamGateError):  # PAD models, thresholds or face mesh: candidates go to review
        lane.startup_faults.append(("model", pad_error))
    lane.centre_lock = load_centre_lock(store.path)
    return Gate(cfg, thresholds, store, reader, camera, turnstile, verifier, lane, reviews, evidence=evidence)


def build_link(gate: Gate) -> GateLink | None:
    """The MQTT link (presence, outbox publisher, commands, site anti-passback), when ``[mqtt]`` is configured."""
    from edge.mqtt.link import link_from_config  # noqa: PLC0415 - paho only when publishing

    versions = {"model": gate.verifier.model_version, "thresholds": gate.thresholds.version}
    pad_model = getattr(gate.lane.pad, "model_version", None)
    if pad_model:
        versions["pad_model"] = pad_model
    target = GateCommands(gate.lane, gate.store, gate.cfg.digest())
    link = link_from_config(gate.cfg, gate.store, target, versions=versions)  # the centre's gates table shows them
    if link is None:
        return None
    gate.lane.listen(on_done(lambda _report: link.wake()))  # a decision was written: publish it now
    return link


def repo_root() -> Path:
    """The checkout this package runs from (editable installs, `make demo`)."""
    return Path(__file__).resolve().parents[1]
