"""One frozen, typed configuration: a TOML file plus ``EXAMGATE_…`` environment overrides.

Env overrides use ``__`` between levels: ``EXAMGATE_TURNSTILE__PULSE_MS=200`` sets ``turnstile.pulse_ms``.
Values are parsed as TOML values when they parse (numbers, booleans, arrays) and taken as strings otherwise.
Relative paths in the file are resolved against the file's folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.api.settings import ApiSettings
from edge.device_config import (
    CameraConfig,
    FolderCameraConfig,
    ReaderConfig,
    SimulatedReaderConfig,
    SimulatedTurnstileConfig,
    TurnstileConfig,
)
from edge.errors import ConfigError, StoreError
from edge.mqtt.settings import MqttSettings
from edge.policy.settings import CloneCheckPolicy, PassiveAuthPolicy, PolicyConfig, Thresholds
from edge.privacy.settings import PrivacyConfig
from edge.settings_types import NonEmptyPath
from edge.store.store import check_session_id
from edge.vision.pad.settings import PadSettings
from edge.vision.settings import VisionSettings

# Policy and privacy sections live with their capability (like mqtt, api, vision); they are composed here.
__all__ = [
    "ENV_PREFIX",
    "AppConfig",
    "CloneCheckPolicy",
    "LaneConfig",
    "LoggingConfig",
    "MatcherConfig",
    "PassiveAuthPolicy",
    "PolicyConfig",
    "PrivacyConfig",
    "SimulatedMatcherConfig",
    "SiteConfig",
    "StoreConfig",
    "TfliteMatcherConfig",
    "Thresholds",
    "apply_env",
    "env_overrides",
    "load_config",
    "masked_dump",
    "name_env_sources",
    "problems_from",
    "sample_config",
]

ENV_PREFIX = "EXAMGATE_"
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SiteConfig(_Section):
    site_id: Annotated[str, Field(pattern=_ID_PATTERN, description="exam centre id; used in MQTT topics")]
    gate_id: Annotated[str, Field(pattern=_ID_PATTERN, description="lane id within the site")]


def _session_id(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_session_id(value)
    except StoreError as exc:  # pydantic lists ValueErrors with the key
        raise ValueError(f"{exc.message}: {exc.remedy}") from None


class StoreConfig(_Section):
    path: NonEmptyPath = Field(description="SQLite database file (WAL mode); its folder must be writable")
    synchronous: Literal["NORMAL", "FULL"] = Field(
        default="FULL",
        description="FULL: a committed decision survives a power cut; NORMAL: may lose the last ones",
    )
    min_free_mb: Annotated[int, Field(ge=0)] = 200


class LaneConfig(_Section):
    session_id: Annotated[str | None, AfterValidator(_session_id)] = Field(
        default=None, description="exam session to admit for; default: the open one"
    )
    poll_timeout_s: Annotated[float, Field(gt=0, le=10)] = 0.5
    frames_per_attempt: Annotated[int, Field(ge=1, le=30)] = 5
    qr_timeout_s: Annotated[float, Field(ge=0, le=30)] = Field(
        default=3.0, description="how long the camera looks for the card's QR (the CAN); 0 = only a scanner's QR"
    )
    passage_timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0
    chip_read_attempts: Annotated[int, Field(ge=1, le=5)] = 2


class SimulatedMatcherConfig(_Section):
    """Stand-in matcher for lane tests and bring-up: never looks at pixels; scores come from a JSON table
    ``{"<live image file stem>": score}``. The gate says so in its output when it is in use."""

    kind: Literal["simulated"] = "simulated"
    scores_file: Path


class TfliteMatcherConfig(_Section):
    """The real matcher: MediaPipe detection + alignment + TFLite embedding; tuned in the [vision] section."""

    kind: Literal["tflite"] = "tflite"


MatcherConfig = Annotated[SimulatedMatcherConfig | TfliteMatcherConfig, Field(discriminator="kind")]


class LoggingConfig(_Section):
    format: Literal["kv", "json"] = "kv"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class AppConfig(_Section):
    site: SiteConfig
    store: StoreConfig
    policy: PolicyConfig
    lane: LaneConfig = LaneConfig()
    reader: ReaderConfig
    camera: CameraConfig
    turnstile: TurnstileConfig = SimulatedTurnstileConfig()
    matcher: MatcherConfig = TfliteMatcherConfig()
    vision: VisionSettings = VisionSettings()
    pad: PadSettings = PadSettings()
    mqtt: MqttSettings | None = Field(default=None, description="central broker; absent = no publishing (events queue)")
    logging: LoggingConfig = LoggingConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    api: ApiSettings | None = Field(default=None, description="local console/kiosk/metrics API; absent = not served")

    @model_validator(mode="after")
    def _pad_motion_needs_frames(self) -> AppConfig:
        if self.pad.motion_rule and self.pad.mode == "enforce" and self.lane.frames_per_attempt < 2:
            raise ValueError(
                "pad.motion_rule needs lane.frames_per_attempt >= 2 (motion is measured across the frames of an "
                f"attempt), got {self.lane.frames_per_attempt}"
            )
        return self

    def digest(self) -> str:
        """Short hash of the effective config (published in the gate's status)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# ----------------------------------------------------------------- loading
_UNION_TAGS = {"simulated", "pn532", "gpio", "picamera2", "opencv", "folder", "tflite"}
_SECRET_KEYS = re.compile(r"(password|secret|token|key)$", re.IGNORECASE)


def _remedy(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    given = err.get("input")
    if kind == "missing":
        return "required: add this key"
    if kind == "extra_forbidden":
        return "unknown key: remove it or check its spelling"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values())) if ctx else "?"
        return f"must be {sign} {bound}, got {given!r}"
    if kind == "union_tag_invalid":
        return f"kind must be one of {ctx.get('expected_tags', '?')}, got {ctx.get('tag', given)!r}"
    if kind == "union_tag_not_found":
        return 'add `kind = "…"` to choose the device backend'
    return f"{str(err.get('msg', 'invalid')).removeprefix('Value error, ')}, got {given!r}"


def _dotted(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p in _UNION_TAGS)]
    return ".".join(parts) if parts else "(top level)"


def problems_from(exc: ValidationError) -> list[tuple[str, str]]:
    return [(_dotted(tuple(e["loc"])), _remedy(e)) for e in exc.errors()]


def _parse_env_value(raw: str) -> Any:
    """Arrays and inline tables are read as TOML; everything else stays a string that pydantic converts to the
    field's type (so ``EXAMGATE_LANE__SESSION_ID=20240601`` stays the string it is)."""
    if raw.strip().startswith(("[", "{")):
        try:
            return tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            return raw
    return raw


def apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(data, default=str))
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not path or path[0].startswith(("test_", "hw_")):
            continue  # EXAMGATE_TEST_* / EXAMGATE_HW_* switch test modes; they are not config keys
        node = out
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[path[-1]] = _parse_env_value(raw)
    return out


def env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """dotted key -> the ``EXAMGATE_…`` variable that overrides it."""
    found: dict[str, str] = {}
    for name in environ:
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if path and not path[0].startswith(("test_", "hw_")):
            found[".".join(path)] = name
    return found


def name_env_sources(problems: list[tuple[str, str]], environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Add "(from environment variable X)" to each problem an environment override is at fault for."""
    overrides = env_overrides(environ)
    named: list[tuple[str, str]] = []
    for dotted, why in problems:
        culprits = [
            name for key, name in sorted(overrides.items()) if dotted == key or dotted.startswith(f"{key}.")
        ] or [name for key, name in sorted(overrides.items()) if key.startswith(f"{dotted}.")]
        named.append((dotted, f"{why} (from environment variable {', '.join(culprits)})" if culprits else why))
    return named


def _resolve_paths(value: Any, base: Path) -> Any:
    if isinstance(value, BaseModel):
        updates = {}
        for name in type(value).model_fields:
            field_value = getattr(value, name)
            resolved = _resolve_paths(field_value, base)
            if resolved is not field_value:
                updates[name] = resolved
        return value.model_copy(update=updates) if updates else value
    if isinstance(value, Path) and not value.is_absolute():
        return (base / value).resolve()
    return value


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> AppConfig:
    """Load, override from the environment, validate. Raises ConfigError listing every problem."""
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found", [(str(path), "create it from config/examgate.example.toml")]
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"config file {path} is a directory", [(str(path), "is a directory: give the config file inside it")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}", [(str(path), "check its permissions")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", [("(file)", f"TOML syntax error: {exc}")]) from None
    data = apply_env(data, env)
    try:
        cfg = AppConfig.model_validate(data)
    except ValidationError as exc:
        problems = name_env_sources(problems_from(exc), env)
        raise ConfigError(f"{path}: {len(problems)} problem(s)", problems) from None
    resolved = _resolve_paths(cfg, path.parent.resolve())
    assert isinstance(resolved, AppConfig)
    return resolved


def masked_dump(cfg: AppConfig) -> dict[str, Any]:
    """The effective config as plain data, secrets replaced by ``***``."""

    def mask(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: ("***" if _SECRET_KEYS.search(k) and v not in (None, "") else mask(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [mask(v) for v in node]
        return node

    return dict(mask(cfg.model_dump(mode="json")))


def sample_config(root: Path) -> AppConfig:
    """A valid config for tests and the demo, rooted at ``root``."""
    return AppConfig(
        site=SiteConfig(site_id="demo-site", gate_id="lane-1"),
        store=StoreConfig(path=root / "examgate.db"),
        policy=PolicyConfig(thresholds=Thresholds(version="test", match=0.6, review=0.5)),
        reader=SimulatedReaderConfig(cards_dir=root / "cards"),
        camera=FolderCameraConfig(path=root / "camera"),
        lane=LaneConfig(qr_timeout_s=0.0),
    )
