"""Verification metrics and the thresholds file: threshold rules, AUC/EER, TOML round trip and validation."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import numpy as np
import pytest

from edge.vision.calibrate import CalibrationError, PairScores, choose_thresholds, write_calibration
from edge.vision.metrics import as_scores, auc, eer, far_frr, tar_at_far, threshold_at_far, threshold_at_frr
from edge.vision.models import default_thresholds_path
from edge.vision.thresholds import ThresholdsError, load_thresholds, render_thresholds

CAL = {
    "target_far": 0.001,
    "pairs_file": "x/pairs.csv",
    "n_genuine": 3,
    "n_impostor": 4,
    "far_at_match": 0.0,
    "frr_at_match": 0.0,
    "created_at": "2026-01-02T03:04:05Z",
}


def test_threshold_at_far_counts_allowed_impostors() -> None:
    impostor = as_scores(np.linspace(0.0, 0.99, 100))
    # 1% of 100 = 1 impostor may pass: the threshold sits just above the second highest
    t = threshold_at_far(impostor, 0.01)
    assert far_frr(as_scores([1.0]), impostor, t)[0] == pytest.approx(0.01)
    assert 0.98 < t < 0.981
    # fewer impostors than 1/FAR: just above the highest, nothing passes
    t = threshold_at_far(as_scores([0.1, 0.5, 0.3]), 0.001)
    assert t > 0.5
    assert far_frr(as_scores([0.9]), as_scores([0.1, 0.5, 0.3]), t)[0] == 0.0


def test_threshold_at_frr() -> None:
    genuine = as_scores(np.linspace(0.5, 1.0, 101))
    t = threshold_at_frr(genuine, 0.1)
    assert far_frr(genuine, as_scores([0.0]), t)[1] <= 0.1
    assert far_frr(genuine, as_scores([0.0]), np.nextafter(t, 2.0))[1] > 0.1


def test_auc_and_eer() -> None:
    rng = np.random.default_rng(1)
    genuine, impostor = rng.normal(1.0, 1.0, 4000), rng.normal(-1.0, 1.0, 4000)
    # two unit normals 2 apart: AUC = Phi(2 / sqrt 2) = 0.9214, EER = Phi(-1) = 0.1587
    assert auc(genuine, impostor) == pytest.approx(0.9214, abs=0.01)
    assert eer(genuine, impostor) == pytest.approx(0.1587, abs=0.01)
    assert auc(as_scores([0.9, 0.8]), as_scores([0.1, 0.2])) == 1.0
    assert eer(as_scores([0.9, 0.8]), as_scores([0.1, 0.2])) == 0.0
    tar, t = tar_at_far(as_scores([0.9, 0.8, 0.3]), as_scores([0.1, 0.2, 0.5]), 0.001)
    assert tar == pytest.approx(2 / 3)
    assert t > 0.5
    with pytest.raises(ValueError):
        as_scores([0.1, float("nan")])


def test_review_rule() -> None:
    scores = PairScores(as_scores(np.linspace(0.80, 0.99, 100)), as_scores(np.linspace(0.3, 0.85, 1000)), 0)
    match, review = choose_thresholds(scores, target_far=0.001, target_frr=0.01)
    assert match == pytest.approx(np.sort(scores.impostor)[-2], abs=2e-6)
    assert review == pytest.approx(
        min(threshold_at_frr(scores.genuine, 0.01), threshold_at_far(scores.impostor, 0.01)), abs=2e-6
    )
    assert review <= match
    with pytest.raises(CalibrationError):
        choose_thresholds(PairScores(as_scores([0.9]), as_scores([]), 0), 0.001, 0.01)


def test_render_and_load_round_trip(tmp_path: Path) -> None:
    text = render_thresholds(
        match=0.93, review=0.9, model_version="m@1234abcd", calibration=dict(CAL), date_yyyymmdd="20260102"
    )
    path = tmp_path / "t.toml"
    path.write_text(text)
    loaded = load_thresholds(path)
    assert loaded.version.startswith("cal-20260102-")
    assert (loaded.match, loaded.review, loaded.metric) == (0.93, 0.9, "cosine")
    assert loaded.decide(0.95) == "match"
    assert loaded.decide(0.93) == "match"
    assert loaded.decide(0.92) == "review"
    assert loaded.decide(0.5) == "no_match"
    # the version id hashes the content: another threshold, another id
    other = render_thresholds(
        match=0.94, review=0.9, model_version="m@1234abcd", calibration=dict(CAL), date_yyyymmdd="20260102"
    )
    assert tomllib.loads(other)["version"] != loaded.version


@pytest.mark.parametrize(
    "text",
    [
        "not toml [",
        'version = "v1"\nmatch = 0.9\nreview = 0.8\nmetric = "cosine"\nmodel_version = "m"\n',
        'version = "cal-20260101-abcdef12"\nmatch = 0.8\nreview = 0.9\nmetric = "cosine"\nmodel_version = "m"\n',
    ],
    ids=["syntax", "bad-version-no-calibration", "review-above-match"],
)
def test_bad_thresholds_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(text)
    with pytest.raises(ThresholdsError) as info:
        load_thresholds(path)
    assert info.value.code == "E_THRESHOLDS_INVALID"
    with pytest.raises(ThresholdsError):
        load_thresholds(tmp_path / "absent.toml")


def test_write_calibration_without_plots(tmp_path: Path) -> None:
    scores = PairScores(as_scores([0.95, 0.96, 0.97]), as_scores([0.7, 0.8, 0.85, 0.9]), 1)
    outcome = write_calibration(
        scores,
        target_far=0.001,
        target_frr=0.01,
        pairs_file="p.csv",
        model_version="m@00000000",
        out=tmp_path / "t.toml",
        plots=False,
        now=dt.datetime(2026, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
    )
    t = outcome.thresholds
    assert t.version.startswith("cal-20260506-")
    assert 0.9 < t.match < 0.95
    assert t.calibration.created_at == "2026-05-06T07:08:09Z"
    assert (t.calibration.n_genuine, t.calibration.n_impostor) == (3, 4)
    assert outcome.plot_paths == ()
    with pytest.raises(CalibrationError):
        write_calibration(
            scores, target_far=2.0, target_frr=0.01, pairs_file="p", model_version="m", out=tmp_path / "x"
        )


def test_committed_default_thresholds_load() -> None:
    t = load_thresholds(default_thresholds_path())
    assert t.metric == "cosine"
    assert -1.0 < t.review <= t.match < 1.0
    assert t.calibration.n_impostor >= 1000
