"""Devices that are missing at start-up: the daemon still starts, reports them, and retries opening them.

Each proxy implements its port; while its device cannot be opened every call raises the error that opening gave
(a typed E_CAMERA_…/E_PN532_…/E_MODEL_… error with its remedy), and a new attempt to open is made at most every
``retry_s``. The lane turns those errors into ``device.fault`` events and safe outcomes (no card read, face → review,
gate not opened → proctor), so a gate with a broken camera still answers officer-assisted admissions and its API.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, Literal, Protocol, TypeVar

from edge.devices import (
    AccessKey,
    Camera,
    CardReader,
    CardTap,
    ChipIdentity,
    FaceResult,
    FaceVerifier,
    Frame,
    ReferenceImage,
    Turnstile,
    TurnstileStatus,
)
from edge.errors import ExamGateError

T = TypeVar("T")


class Reopening(Generic[T]):
    """The device when it could be opened, else the error that opening it gave (retried at most every ``retry_s``)."""

    def __init__(self, name: str, factory: Callable[[], T], error: ExamGateError, retry_s: float = 5.0) -> None:
        self.name = name
        self._factory = factory
        self._device: T | None = None
        self.error: ExamGateError | None = error
        self._retry_s = retry_s
        self._next_try = time.monotonic() + retry_s
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._device is not None:
                return self._device
            if time.monotonic() >= self._next_try:
                self._next_try = time.monotonic() + self._retry_s
                try:
                    self._device = self._factory()
                except ExamGateError as err:
                    self.error = err
                else:
                    self.error = None
                    return self._device
            assert self.error is not None
            raise self.error

    def opened(self) -> T | None:
        with self._lock:
            return self._device


class _Closable(Protocol):
    def close(self) -> None: ...


D = TypeVar("D", bound=_Closable)


class _Proxy(Generic[D]):
    """A port backed by a ``Reopening`` slot; closing it closes the device if it was ever opened."""

    def __init__(self, slot: Reopening[D]) -> None:
        self.slot = slot

    def close(self) -> None:
        device = self.slot.opened()
        if device is not None:
            device.close()


class ReopeningReader(_Proxy[CardReader]):
    def poll(self, timeout_s: float) -> CardTap | None:
        try:
            reader = self.slot.get()
        except ExamGateError:
            time.sleep(timeout_s)  # keep the lane's polling pace while the reader is away
            raise
        return reader.poll(timeout_s)

    def read(self, tap: CardTap, key: AccessKey | None) -> ChipIdentity:
        return self.slot.get().read(tap, key)


class ReopeningCamera(_Proxy[Camera]):
    def capture(self) -> Frame:
        return self.slot.get().capture()


class ReopeningTurnstile(_Proxy[Turnstile]):
    def release(self, direction: Literal["entry", "exit"] = "entry") -> None:
        self.slot.get().release(direction)

    def wait_passage(self, timeout_s: float) -> bool:
        return self.slot.get().wait_passage(timeout_s)

    def status(self) -> TurnstileStatus:
        try:
            return self.slot.get().status()
        except ExamGateError as err:
            return TurnstileStatus(fault=err.code)


class ReopeningVerifier:
    def __init__(self, slot: Reopening[FaceVerifier]) -> None:
        self.slot = slot

    @property
    def model_version(self) -> str:
        device = self.slot.opened()
        return device.model_version if device is not None else "unavailable"

    def verify(self, live: Sequence[Frame], references: Sequence[ReferenceImage]) -> FaceResult:
        return self.slot.get().verify(live, references)


def open_or_degrade(name: str, factory: Callable[[], T], retry_s: float = 5.0) -> tuple[T | None, Reopening[T] | None]:
    """(device, None) when it opens now; (None, slot) when it does not (the slot retries later)."""
    try:
        return factory(), None
    except ExamGateError as err:
        return None, Reopening(name, factory, err, retry_s)
