"""The cost calculator: lanes follow the measured time, totals add up, a centre's own file is read or refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from edge.cli.main import main
from edge.report.cost import DEFAULT_INPUTS, compute, lane_hardware_vnd, load_inputs, template
from edge.report.errors import ReportError


def test_lanes_follow_the_measured_time_and_the_window() -> None:
    small = compute(DEFAULT_INPUTS, 374, 1.5)
    large = compute(DEFAULT_INPUTS, 1480, 1.5)
    busy_s = 1480 * (1.5 + DEFAULT_INPUTS.walk_through_s)
    expected = math.ceil(busy_s / (DEFAULT_INPUTS.admission_window_min * 60)) + DEFAULT_INPUTS.spare_lanes
    assert large.lanes == expected
    assert small.lanes <= large.lanes
    assert large.per_candidate_vnd < small.per_candidate_vnd  # fixed costs spread over more candidates
    checks = 1480 * DEFAULT_INPUTS.sessions_per_year * DEFAULT_INPUTS.years
    assert large.per_candidate_vnd == pytest.approx(large.total_vnd / checks)
    assert large.capex_vnd == large.lanes * (
        lane_hardware_vnd(DEFAULT_INPUTS) + DEFAULT_INPUTS.installation_vnd_per_lane
    )


def test_template_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "cost.toml"
    path.write_text(template(), encoding="utf-8")
    assert load_inputs(path) == DEFAULT_INPUTS


def test_a_centres_own_numbers_change_the_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cost.toml"
    path.write_text(template().replace("service_fee_vnd_per_check = 3000", "service_fee_vnd_per_check = 10000"))
    assert main(["report", "cost", "--inputs", str(path), "--candidates", "500", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["service_fee_total_vnd"] == 500 * DEFAULT_INPUTS.sessions_per_year * DEFAULT_INPUTS.years * 10000


@pytest.mark.parametrize(
    "text",
    ["not toml [", 'years = "five"', template().replace("price_vnd = 40000", "price_vnd = -1"), "surprise = 1"],
)
def test_bad_cost_file_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cost.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReportError) as err:
        load_inputs(path)
    assert err.value.code == "E_REPORT_COST_INVALID"


def test_missing_cost_file_and_bad_numbers_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReportError):
        load_inputs(tmp_path / "none.toml")
    with pytest.raises(ReportError):
        compute(DEFAULT_INPUTS, 0, 1.0)
    with pytest.raises(ReportError):
        compute(DEFAULT_INPUTS, 10, float("nan"))
