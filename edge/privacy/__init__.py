"""Privacy at rest: encrypted face evidence of review/fail cases, its key, retention and data-subject deletion.

Exports load lazily so that `examgate` commands which never touch images do not import Pillow and cryptography.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge.privacy.errors import PrivacyError
    from edge.privacy.evidence import EvidenceVault
    from edge.privacy.keys import load_key

_EXPORTS = {
    "EvidenceVault": "edge.privacy.evidence",
    "PrivacyError": "edge.privacy.errors",
    "load_key": "edge.privacy.keys",
}

__all__ = ["EvidenceVault", "PrivacyError", "load_key"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'edge.privacy' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
