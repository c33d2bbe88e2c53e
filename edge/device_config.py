"""Configuration of each device port: a discriminated union per port, keyed by ``kind``.

``simulated``/``folder`` kinds run anywhere; ``pn532``/``gpio``/``picamera2``/``opencv`` drive real hardware.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---------------------------------------------------------------- card reader
class SimulatedReaderConfig(_Section):
    """Yields chip reads from identity files in a folder (one JSON file per card), in the order tapped."""

    kind: Literal["simulated"] = "simulated"
    cards_dir: Path = Field(description="folder of card identity files (*.json)")


class Pn532ReaderConfig(_Section):
    """A PN532 module on a serial UART (HSU) or USB serial adapter."""

    kind: Literal["pn532"] = "pn532"
    port: str = "/dev/serial0"
    baud: Annotated[int, Field(gt=0)] = 115200
    target_baud: Annotated[int, Field(gt=0)] = 921600  # switched to with SetSerialBaudRate after wake-up
    poll_timeout_s: Annotated[float, Field(gt=0)] = 0.5
    read_timeout_s: Annotated[float, Field(gt=0)] = 8.0
    max_read_bytes: Annotated[int, Field(gt=0, le=0xFF)] = 0xE0
    csca_dir: Path | None = Field(
        default=None, description="CSCA trust store: PEM/DER certificates or ICAO master lists"
    )


ReaderConfig = Annotated[SimulatedReaderConfig | Pn532ReaderConfig, Field(discriminator="kind")]


# --------------------------------------------------------------------- camera
class FolderCameraConfig(_Section):
    """Serves the images of a folder in name order, looping; the demo points it at one candidate's folder at a time."""

    kind: Literal["folder"] = "folder"
    path: Path
    fps: Annotated[float, Field(gt=0, le=120)] = 15.0


class OpenCvCameraConfig(_Section):
    """A USB/V4L2 camera through OpenCV: ``device`` is an index (0 = /dev/video0) or a path."""

    kind: Literal["opencv"] = "opencv"
    device: int | str = 0
    width: Annotated[int, Field(gt=0)] = 1280
    height: Annotated[int, Field(gt=0)] = 720
    fourcc: Annotated[str, Field(min_length=4, max_length=4)] | None = Field(
        default="MJPG", description="pixel format asked of a V4L2 camera; MJPG reaches 720p at full rate on USB"
    )


class Picamera2CameraConfig(_Section):
    """The Pi's CSI camera module through Picamera2/libcamera (needs the ``pi`` extra)."""

    kind: Literal["picamera2"] = "picamera2"
    width: Annotated[int, Field(gt=0)] = 1280
    height: Annotated[int, Field(gt=0)] = 720
    camera_num: Annotated[int, Field(ge=0)] = 0


CameraConfig = Annotated[FolderCameraConfig | OpenCvCameraConfig | Picamera2CameraConfig, Field(discriminator="kind")]


# ------------------------------------------------------------------ turnstile
class SimulatedTurnstileConfig(_Section):
    """Records pulses; a virtual candidate walks through ``passage_after_s`` after a release (None: nobody)."""

    kind: Literal["simulated"] = "simulated"
    pulse_ms: Annotated[int, Field(gt=0, le=5000)] = 300
    passage_after_s: Annotated[float, Field(ge=0)] | None = 0.05


class GpioTurnstileConfig(_Section):
    """Relay outputs and sensor inputs on the Pi's GPIO header (BCM numbering)."""

    kind: Literal["gpio"] = "gpio"
    pulse_ms: Annotated[int, Field(gt=0, le=5000)] = 300
    entry_relay_pin: int = 17
    exit_relay_pin: int | None = 27
    relay_active_high: bool = True
    passage_sensor_pin: int | None = 22
    alarm_pin: int | None = 23
    fire_release_pin: int | None = 24  # normally closed: open circuit = fire alarm
    inputs_pull_up: bool = Field(
        default=True, description="inputs are dry contacts to GND with the Pi's pull-up: closed contact = active"
    )
    debounce_ms: Annotated[int, Field(ge=0, le=1000)] = 20
    failure_mode: Literal["fail_safe", "fail_secure"] = Field(
        default="fail_secure",
        description="the turnstile's own behaviour on power loss (unlocks / stays locked); stated in self-test",
    )

    @model_validator(mode="after")
    def _distinct_pins(self) -> GpioTurnstileConfig:
        pins = [
            p
            for p in (
                self.entry_relay_pin,
                self.exit_relay_pin,
                self.passage_sensor_pin,
                self.alarm_pin,
                self.fire_release_pin,
            )
            if p is not None
        ]
        if len(pins) != len(set(pins)):
            raise ValueError(f"each turnstile pin must be used once, got {pins}")
        return self


TurnstileConfig = Annotated[SimulatedTurnstileConfig | GpioTurnstileConfig, Field(discriminator="kind")]
