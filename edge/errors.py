"""Typed errors: every failure the gate can meet carries a stable code and a remedy an operator can act on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, overload


class ExamGateError(Exception):
    """Base class. ``code`` is stable (documented, used in events and exit JSON); ``remedy`` says what to do."""

    code: str = "E_INTERNAL"
    remedy: str = "report this to the ExamGate maintainers with the log around it"

    def __init__(self, message: str, *, code: str | None = None, remedy: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if remedy is not None:
            self.remedy = remedy

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "remedy": self.remedy}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ConfigError(ExamGateError):
    code = "E_CONFIG_INVALID"
    remedy = "fix the listed keys in the config file, then run `examgate config check FILE`"

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        # (dotted.path, what is wrong and how to fix it)
        self.problems: list[tuple[str, str]] = problems or []


class StoreError(ExamGateError):
    code = "E_STORE_FAILED"
    remedy = "check the data directory: it must exist, be writable by the examgate user and have free space"


class RosterError(ExamGateError):
    code = "E_ROSTER_INVALID"
    remedy = "fix the listed rows in the roster file and import it again; nothing was imported"

    def __init__(self, message: str, problems: list[tuple[int, str, str]] | None = None) -> None:
        super().__init__(message)
        # (line number, field, why)
        self.problems: list[tuple[int, str, str]] = problems or []


class DeviceError(ExamGateError):
    code = "E_DEVICE_FAULT"
    remedy = "run `examgate selftest` and check the device's cable and power"


class PolicyError(ExamGateError):
    code = "E_POLICY_ILLEGAL_TRANSITION"
    remedy = "this is a bug in the lane logic; the candidate is sent to the proctor, report the log"


class ImageError(ExamGateError):
    code = "E_IMAGE_INVALID"
    remedy = "use a readable JPEG, PNG or JPEG 2000 image"


E = TypeVar("E", bound=ExamGateError)


@overload
def error_factory(cls: type[E], *, code: str, remedy: str) -> Callable[[str], E]: ...
@overload
def error_factory(cls: type[E], *, code: str, remedy: str, message: str) -> Callable[..., E]: ...
def error_factory(cls: type[E], *, code: str, remedy: str, message: str = "{}") -> Callable[..., E]:
    """One named failure of an error family, declared once: ``make(*parts)`` returns
    ``cls(message.format(*parts), code=code, remedy=remedy)``. ``message`` is a ``str.format`` template of the
    string parts the caller passes; by default the caller passes the whole message."""

    def make(*parts: str) -> E:
        return cls(message.format(*parts), code=code, remedy=remedy)

    return make
