"""Privacy at rest: encrypted face evidence of review/fail cases, its key, retention and data-subject deletion."""

from edge.privacy.errors import PrivacyError
from edge.privacy.evidence import EvidenceVault
from edge.privacy.keys import load_key

__all__ = ["EvidenceVault", "PrivacyError", "load_key"]
