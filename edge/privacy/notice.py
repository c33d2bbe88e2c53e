"""The notice a candidate sees before any capture: what is processed, why, for how long, who receives it, their
rights. One versioned TOML file a centre adapts (``privacy.notice_file``; default: the bundled ``notice/vi.toml``).

A missing or malformed notice stops the gate before it captures anything (``E_PRIVACY_NOTICE_MISSING`` /
``E_PRIVACY_NOTICE_INVALID``): processing sensitive data without telling the person first is not an option.
Every decision event carries the notice version and the legal basis.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from edge.errors import error_factory
from edge.privacy.errors import PrivacyError
from edge.tomlfile import load_toml_model

DEFAULT_NOTICE = Path(__file__).resolve().parent / "notice" / "vi.toml"
REQUIRED_HEADINGS = 5  # processed, purpose, retention, recipients, rights


class NoticeItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    heading: str = Field(min_length=1, max_length=80)
    text: str = Field(min_length=1, max_length=600)


class Notice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
    language: str = Field(pattern=r"^[a-z]{2}$")
    legal_basis: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$", description="stable code, recorded in events")
    legal_basis_text: str = Field(min_length=1)
    controller: str = Field(min_length=1)
    title: str = Field(min_length=1)
    items: tuple[NoticeItem, ...] = Field(min_length=REQUIRED_HEADINGS)


notice_missing = error_factory(
    PrivacyError,
    code="E_PRIVACY_NOTICE_MISSING",
    remedy="restore the notice file or point privacy.notice_file at it; the gate does not capture faces without "
    "showing the notice (template: edge/privacy/notice/vi.toml)",
)
notice_invalid = error_factory(
    PrivacyError,
    code="E_PRIVACY_NOTICE_INVALID",
    remedy="fix the listed keys (compare with edge/privacy/notice/vi.toml) and raise its version",
)


def load_notice(path: Path | None = None) -> Notice:
    """The notice at ``path`` (default: the bundled Vietnamese one). Raises E_PRIVACY_NOTICE_…"""
    source = path or DEFAULT_NOTICE
    return load_toml_model(source, Notice, "notice", notice_missing, notice_invalid)
