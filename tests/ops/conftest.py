"""tests/ops reuses the lane helpers of tests/core (card fixtures, a gate on simulators, a tap): their folder goes on
sys.path, as tests/central does for tests/mqtt."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
