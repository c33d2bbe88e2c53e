"""Read a TOML file into a pydantic model, failing with the caller's own typed errors (missing, unreadable, invalid)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from edge.errors import ExamGateError

M = TypeVar("M", bound=BaseModel)


def validation_problems(exc: ValidationError) -> str:
    """``dotted.path: why`` of every field pydantic refused, joined with ``; ``."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def load_toml_model(
    path: Path,
    model: type[M],
    what: str,
    missing: Callable[[str], ExamGateError],
    invalid: Callable[[str], ExamGateError],
) -> M:
    """``model`` from the TOML file at ``path``; ``what`` names the file in messages ("notice", "cost")."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise missing(f"{what} file {path} does not exist") from None
    except IsADirectoryError:
        raise missing(f"{what} file {path} is a directory") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise invalid(f"{what} file {path} cannot be read: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(f"{what} file {path}: {validation_problems(exc)}") from None
