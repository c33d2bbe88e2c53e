"""Field types shared by the settings models of several capabilities (ground floor: imports nothing of edge)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator


def _not_empty(value: Any) -> Any:
    """An empty string would become ``Path('.')``, i.e. the config's folder: refuse it instead."""
    if isinstance(value, str) and not value.strip():
        raise ValueError("is empty: give a file path")
    return value


NonEmptyPath = Annotated[Path, BeforeValidator(_not_empty)]
"""A path that may not be given as ``""`` (e.g. an empty ``EXAMGATE_STORE__PATH``)."""
