"""Rebuild the Asian DEV face set (issue 13) from its public sources and verify it against the manifest.

    python bench/datasets/rebuild_asian_dev.py --out DIR     # fetch the sources (network, git), write and verify DIR
    python bench/datasets/rebuild_asian_dev.py --check DIR   # verify an existing folder only (no network)

LICENCE WARNING: evaluation use only. The images are third-party photos of public figures; no source repository
grants a licence for the photos themselves. Never redistribute them, never commit them to this repository, keep them
out of installed packages (wheels, Debian packages, device images).

Each image comes from one repository at one commit (``asian_dev_manifest.csv``): one ``git init`` per repository,
``git fetch --depth 1 origin COMMIT`` per commit, then the file's blob at ``COMMIT:PATH``. Most files are copied
byte-for-byte; the few the set's notes list as changed are converted as the notes say (``transform``: ``jpeg_q90``
= RGB, longest side capped at 1280 px with Lanczos, JPEG quality 90, no metadata; ``rgb_png`` = RGB PNG). The folder
also gets ``identities.csv`` (from the manifest) and ``pairs.csv`` (the set's pairs rule, below). Every file is then
compared with the manifest's sha256 (the CSVs with the bytes the manifest and the rule give); the exit code is 1 and
each mismatch is listed when any file differs or is missing.

Pairs rule (the set's notes): every genuine pair (same identity, members in file-name order), then per population
group in sorted order (``cn`` = cn+tw, ``jp``, ``kr``, ``sea`` = vn+th) ``rng.sample(sorted(candidates), 3 x the
group's genuine pairs)`` with one ``random.Random(7)``, candidates being pairs of different identities of the group;
then ``rng.shuffle`` of all rows (genuine first, then impostor).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import random
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "asian_dev_manifest.csv"
FIELDS = ("image", "identity", "population", "source_repo", "commit", "source_path", "licence", "transform", "sha256")
TRANSFORMS = ("copy", "jpeg_q90", "rgb_png")
LICENCE_WARNING = (
    "LICENCE: evaluation use only. These are third-party photos of public figures with no licence for the photos; "
    "never redistribute them, never commit them, keep them out of installed packages."
)
DEFAULT_REMOTE = "https://github.com/{repo}.git"
MAX_SIDE_PX = 1280
JPEG_QUALITY = 90
PAIRS_SEED = 7
IMPOSTORS_PER_GENUINE = 3
PAIR_GROUP = {"cn": "cn", "tw": "cn", "jp": "jp", "kr": "kr", "vn": "sea", "th": "sea"}


@dataclass(frozen=True)
class Entry:
    """One manifest row: where one image of the set comes from and what its bytes must hash to."""

    image: str
    identity: str
    population: str
    source_repo: str
    commit: str
    source_path: str
    licence: str
    transform: str
    sha256: str


def read_manifest(path: Path = MANIFEST) -> list[Entry]:
    with path.open(encoding="utf-8", newline="") as f:
        return [Entry(**{k: row[k] for k in FIELDS}) for row in csv.DictReader(f)]


def _csv_bytes(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def identities_csv(entries: Sequence[Entry]) -> bytes:
    return _csv_bytes(("image", "identity"), [(e.image, e.identity) for e in sorted(entries, key=lambda e: e.image)])


def pair_rows(identity_of: dict[str, str]) -> list[tuple[str, str, str]]:
    """The set's pairs, by the rule in this module's docstring (same rows, same order as the shared pairs.csv)."""
    images = sorted(identity_of)

    def group(image: str) -> str:
        return PAIR_GROUP[identity_of[image].split("_", 1)[0]]

    genuine = [(a, b, "1") for a, b in itertools.combinations(images, 2) if identity_of[a] == identity_of[b]]
    rng = random.Random(PAIRS_SEED)  # the set's rule, not a security use
    impostor: list[tuple[str, str, str]] = []
    for g in sorted({group(i) for i in images}):
        n_genuine = sum(1 for a, _, _ in genuine if group(a) == g)
        candidates = sorted(
            (a, b)
            for a, b in itertools.combinations(images, 2)
            if identity_of[a] != identity_of[b] and group(a) == g == group(b)
        )
        impostor += [(a, b, "0") for a, b in rng.sample(candidates, IMPOSTORS_PER_GENUINE * n_genuine)]
    rows = genuine + impostor
    rng.shuffle(rows)
    return rows


def pairs_csv(entries: Sequence[Entry]) -> bytes:
    return _csv_bytes(("image_a", "image_b", "same"), pair_rows({e.image: e.identity for e in entries}))


def transform(data: bytes, how: str) -> bytes:
    """The source bytes as the set holds them (``copy``, ``jpeg_q90`` or ``rgb_png``, see the module docstring)."""
    if how == "copy":
        return data
    from PIL import Image  # noqa: PLC0415  (only the converted files need Pillow)

    with Image.open(io.BytesIO(data)) as src:
        img = src.convert("RGB")
    if how == "jpeg_q90" and max(img.size) > MAX_SIDE_PX:
        scale = MAX_SIDE_PX / max(img.size)
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if how == "jpeg_q90":
        img.save(out, "JPEG", quality=JPEG_QUALITY)
    elif how == "rgb_png":
        img.save(out, "PNG")
    else:
        raise ValueError(f"unknown transform {how!r} (known: {', '.join(TRANSFORMS)})")
    return out.getvalue()


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(git_dir), *args], capture_output=True, check=True).stdout


def fetch_sources(entries: Sequence[Entry], work: Path, remote: str) -> dict[str, bytes]:
    """Source bytes per image: one shallow fetch per (repository, commit), then ``git cat-file blob COMMIT:PATH``."""
    blobs: dict[str, bytes] = {}
    fetched: set[tuple[str, str]] = set()
    for e in entries:
        owner, name = e.source_repo.split("/", 1)
        git_dir = work / f"{owner}+{name}"
        if not git_dir.exists():
            git_dir.mkdir(parents=True)
            _git(git_dir, "init", "-q")
            _git(git_dir, "remote", "add", "origin", remote.format(repo=e.source_repo, owner=owner, name=name))
        if (e.source_repo, e.commit) not in fetched:
            print(f"fetching {e.source_repo} {e.commit[:12]}", flush=True)
            _git(git_dir, "fetch", "-q", "--depth", "1", "origin", e.commit)
            fetched.add((e.source_repo, e.commit))
        blobs[e.image] = _git(git_dir, "cat-file", "blob", f"{e.commit}:{e.source_path}")
    return blobs


def verify(folder: Path, entries: Sequence[Entry]) -> list[str]:
    """Every mismatch between ``folder`` and the manifest, one readable line each (empty: the folder is the set)."""
    problems: list[str] = []
    for e in entries:
        path = folder / e.image
        if not path.is_file():
            problems.append(f"{e.image}: missing ({e.source_repo} {e.source_path})")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != e.sha256:
            problems.append(f"{e.image}: sha256 {digest} != manifest {e.sha256} ({e.source_repo} {e.source_path})")
    for name, want in (("identities.csv", identities_csv(entries)), ("pairs.csv", pairs_csv(entries))):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif path.read_bytes() != want:
            problems.append(f"{name}: differs from what the manifest and the pairs rule give")
    return problems


def rebuild(out: Path, entries: Sequence[Entry], remote: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="asian_dev_sources_") as tmp:
        blobs = fetch_sources(entries, Path(tmp), remote)
    for e in entries:
        (out / e.image).write_bytes(transform(blobs[e.image], e.transform))
    (out / "identities.csv").write_bytes(identities_csv(entries))
    (out / "pairs.csv").write_bytes(pairs_csv(entries))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=LICENCE_WARNING)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", type=Path, help="rebuild the set into this folder from the public sources (network)")
    mode.add_argument("--check", type=Path, help="verify an existing folder against the manifest (no network)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="the manifest CSV (default: %(default)s)")
    parser.add_argument(
        "--remote",
        default=DEFAULT_REMOTE,
        help="git URL template per source, with {repo}, {owner}, {name} (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    print(LICENCE_WARNING, flush=True)
    entries = read_manifest(args.manifest)
    folder: Path = args.check or args.out
    if args.out is not None:
        try:
            rebuild(args.out, entries, args.remote)
        except subprocess.CalledProcessError as exc:
            stderr = exc.stderr.decode(errors="replace").strip() if exc.stderr else ""
            print(f"git {' '.join(exc.cmd[3:])} failed: {stderr}", file=sys.stderr)
            return 2
    problems = verify(folder, entries)
    for line in problems:
        print(f"MISMATCH {line}")
    bad_images = {line.split(":", 1)[0] for line in problems} & {e.image for e in entries}
    print(f"{folder}: {len(entries) - len(bad_images)}/{len(entries)} images verified, {len(problems)} mismatch(es)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
