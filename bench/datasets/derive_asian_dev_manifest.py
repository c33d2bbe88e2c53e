"""Derive ``asian_dev_manifest.csv`` from the Asian DEV set's own notes (issue 13).

    python bench/datasets/derive_asian_dev_manifest.py [--set ../shared/data/faces/asian_dev] [--out MANIFEST]

Reads the set's ``LICENSE-NOTES.md`` (the per-image provenance table, and the "Changes" list of files that were
converted rather than copied) and ``identities.csv``, hashes each image of the folder, and writes one manifest row
per image: image, identity, population (from the identity's prefix, as the notes define it), source repository,
commit, path, licence as the notes state it, transform and sha256. An image the notes do not map to a source is
written with ``UNMAPPED`` in its source columns and listed; the exit code is then 1.

LICENCE WARNING: the images are third-party photos for evaluation use only; never redistribute them, never commit them.
The manifest holds no image data, only where each image comes from and its hash.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from rebuild_asian_dev import FIELDS, LICENCE_WARNING, MANIFEST  # noqa: E402

DEFAULT_SET = HERE.parents[2] / "shared" / "data" / "faces" / "asian_dev"
UNMAPPED = "UNMAPPED"
POPULATION = {  # the notes: "Labels are prefixed with the population"
    "cn": "chinese",
    "tw": "taiwanese",
    "kr": "korean",
    "jp": "japanese",
    "th": "thai",
    "vn": "vietnamese",
}
TABLE_HEADER = "| image | identity | name / source label | source repo | commit | path | licence |"
CHANGE_LINE = re.compile(r"^- `(?P<image>[^`]+)` \(`(?P<path>[^`]+)`\): (?P<what>.+)$")


def provenance_table(notes: str) -> dict[str, list[str]]:
    """image -> [identity, label, repo, commit, path, licence] from the notes' per-image table."""
    rows: dict[str, list[str]] = {}
    in_table = False
    for line in notes.splitlines():
        if line.strip() == TABLE_HEADER:
            in_table = True
            continue
        if in_table and line.startswith("| ") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[cells[0]] = [c.strip("`") for c in cells[1:]]
        elif in_table and not line.startswith("|"):
            in_table = False
    return rows


def changed_files(notes: str) -> dict[str, str]:
    """image -> transform for the files the notes' "Changes" list says were converted (all others are copies)."""
    changes: dict[str, str] = {}
    for line in notes.splitlines():
        m = CHANGE_LINE.match(line)
        if m is None:
            continue
        changes[m["image"]] = "rgb_png" if "to RGB PNG" in m["what"] else "jpeg_q90"
    return changes


def derive(set_dir: Path) -> tuple[list[dict[str, str]], list[str]]:
    """The manifest rows of the set in ``set_dir`` and the images that could not be mapped to a source."""
    notes = (set_dir / "LICENSE-NOTES.md").read_text(encoding="utf-8")
    table = provenance_table(notes)
    changes = changed_files(notes)
    with (set_dir / "identities.csv").open(encoding="utf-8", newline="") as f:
        identities = [(r["image"], r["identity"]) for r in csv.DictReader(f)]
    rows: list[dict[str, str]] = []
    unmapped: list[str] = []
    for image, identity in identities:
        cells = table.get(image)
        if cells is None or cells[0] != identity or not all(cells[2:6]):
            unmapped.append(image)
            repo = commit = path = licence = UNMAPPED
        else:
            _, _, repo, commit, path, licence = cells
        rows.append(
            {
                "image": image,
                "identity": identity,
                "population": POPULATION.get(identity.split("_", 1)[0], ""),
                "source_repo": repo,
                "commit": commit,
                "source_path": path,
                "licence": licence,
                "transform": changes.get(image, "copy"),
                "sha256": hashlib.sha256((set_dir / image).read_bytes()).hexdigest(),
            }
        )
    return rows, unmapped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=LICENCE_WARNING)
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="the set folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=MANIFEST, help="manifest to write (default: %(default)s)")
    args = parser.parse_args()
    rows, unmapped = derive(args.set)
    with args.out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{args.out}: {len(rows)} images, {len(unmapped)} without a source")
    for image in unmapped:
        print(f"{UNMAPPED} {image}: the notes give no source for it (or a different identity)")
    return 1 if unmapped else 0


if __name__ == "__main__":
    sys.exit(main())
