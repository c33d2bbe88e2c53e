"""`examgate selftest`: every part of the lane checked in one go, each result with a remedy."""

from edge.selftest.model import CheckResult, SelftestContext
from edge.selftest.runner import run_checks

__all__ = ["CheckResult", "SelftestContext", "run_checks"]
