"""Split by identity (issue 13): every image of one person lands in one half, halves are disjoint and stable."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from edge.vision.compare import PairsFileError, identity_half, pairs_from_identities


def _write(tmp_path: Path, people: int, per_person: int) -> Path:
    rows = ["image,identity"] + [f"p{i}_{k}.jpg,person_{i}" for i in range(people) for k in range(per_person)]
    path = tmp_path / "identities.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_identity_half_is_sha256_parity() -> None:
    for label in ("cn_a_bao", "vn_x", "person_0", "Ảnh Việt"):
        expected = "A" if hashlib.sha256(label.encode("utf-8")).digest()[0] % 2 == 0 else "B"
        assert identity_half(label) == expected


def test_halves_are_disjoint_by_identity_and_cover_all_pairs(tmp_path: Path) -> None:
    path = _write(tmp_path, people=20, per_person=3)
    halves = {h: pairs_from_identities(path, h) for h in ("A", "B")}
    ids = {
        h: {p.image_a.split("_")[0] for p in pairs} | {p.image_b.split("_")[0] for p in pairs}
        for h, pairs in halves.items()
    }
    assert ids["A"] and ids["B"]
    assert not ids["A"] & ids["B"]
    for h, pairs in halves.items():
        assert all(identity_half("person_" + p.image_a.split("_")[0][1:]) == h for p in pairs)
        n = sum(identity_half(f"person_{i}") == h for i in range(20)) * 3
        assert len(pairs) == n * (n - 1) // 2
        assert sum(p.same is True for p in pairs) == (n // 3) * 3
    # no pair straddles the halves: together they are fewer than all pairs
    assert len(halves["A"]) + len(halves["B"]) < len(pairs_from_identities(path))


def test_unknown_half_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(PairsFileError) as err:
        pairs_from_identities(_write(tmp_path, 2, 2), "C")
    assert err.value.code == "E_PAIRS_INVALID"
    assert "--half" in err.value.remedy


def test_embeddings_of_other_sizes_are_refused() -> None:
    import numpy as np  # noqa: PLC0415

    from edge.vision.match import EmbeddingMismatchError, RosterIndex, cosine_similarity  # noqa: PLC0415

    rng = np.random.default_rng(1)
    a, b512 = rng.normal(size=128).astype(np.float32), rng.normal(size=512).astype(np.float32)
    assert -1.0 <= cosine_similarity(a, a[::-1].copy()) <= 1.0
    with pytest.raises(EmbeddingMismatchError) as err:
        cosine_similarity(a, b512)
    assert err.value.code == "E_EMBEDDING_MISMATCH" and "re-enrol" in err.value.remedy
    index = RosterIndex(["x", "y"], rng.normal(size=(2, 128)).astype(np.float32))
    assert [i for i, _ in index.search(a, top_k=2)] != []
    with pytest.raises(EmbeddingMismatchError):
        index.search(b512)
