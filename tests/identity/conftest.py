"""tests/identity builds its chip identity files with tests/pn532's chip helpers: their folder goes on sys.path, as
tests/central does for tests/mqtt."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pn532"))
