"""Cost per lane and per candidate over the gate's life, against a per-check service fee (docs/cost.md).

The defaults are the bill of materials of docs/cost.md; a centre puts in its own numbers with a TOML file of the
same shape (``examgate report cost --template`` prints one). Lanes needed follow from the measured time per
candidate: ``ceil(candidates × seconds per candidate / admission window)``.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from edge.report.errors import bad_cost_input
from edge.tomlfile import load_toml_model


class Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    price_vnd: int = Field(ge=0)
    quantity: int = Field(default=1, ge=0)
    source: str
    estimate: bool = True


class CostInputs(BaseModel):
    """Everything the calculator needs; prices in VND."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lane_items: tuple[Item, ...]
    installation_vnd_per_lane: int = Field(ge=0)
    maintenance_vnd_per_lane_year: int = Field(ge=0)
    central_vm_vnd_per_month: int = Field(ge=0)
    years: int = Field(default=5, ge=1, le=20)
    sessions_per_year: int = Field(ge=1)
    admission_window_min: float = Field(gt=0)
    walk_through_s: float = Field(ge=0, description="time at the gate that the lane does not measure (walking)")
    spare_lanes: int = Field(default=1, ge=0)
    service_fee_vnd_per_check: int = Field(ge=0)
    service_fee_source: str


# Keep in step with the table in docs/cost.md.
DEFAULT_INPUTS = CostInputs(
    lane_items=(
        Item(
            name="Raspberry Pi 5, 4 GB",
            price_vnd=1_600_000,
            source="raspberrypi.com list price USD 60 (2023) × 26,000 VND/USD + import margin",
        ),
        Item(
            name="Raspberry Pi Camera Module 3",
            price_vnd=700_000,
            source="raspberrypi.com list price USD 25 × 26,000 VND/USD + import margin",
        ),
        Item(
            name="PN532 NFC module (v3)",
            price_vnd=150_000,
            source="about EUR 3.5 on marketplaces (luisllamas.es, Arduino NFC PN532) + local resale margin",
        ),
        Item(
            name="Relay board, 1 channel, opto-isolated", price_vnd=40_000, source="estimate: hobby electronics shops"
        ),
        Item(
            name="Enclosure, kiosk stand and 7-inch display",
            price_vnd=2_500_000,
            source="estimate: local sheet-metal shop quote range",
        ),
        Item(
            name="Power: official 27 W USB-C supply + small UPS",
            price_vnd=1_200_000,
            source="raspberrypi.com list price USD 12 for the supply; UPS estimate",
        ),
        Item(
            name="Storage: 64 GB high-endurance microSD (or 256 GB NVMe)",
            price_vnd=350_000,
            source="estimate: retail range",
        ),
        Item(name="Cabling, PoE/Ethernet run, mounting", price_vnd=500_000, source="estimate"),
    ),
    installation_vnd_per_lane=1_500_000,
    maintenance_vnd_per_lane_year=1_000_000,
    central_vm_vnd_per_month=500_000,
    years=5,
    sessions_per_year=48,
    admission_window_min=30.0,
    walk_through_s=4.0,
    spare_lanes=1,
    service_fee_vnd_per_check=3_000,
    service_fee_source="ASSUMED (no published tariff found): 3,000 VND per eKYC check; replace with the quote of the "
    "provider",
)


class CostResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    candidates_per_session: int
    seconds_per_candidate: float
    lanes: int
    lane_hardware_vnd: int
    capex_vnd: int
    opex_vnd: int
    total_vnd: int
    per_lane_vnd: int
    per_candidate_vnd: float
    service_fee_total_vnd: int
    years: int


def lane_hardware_vnd(inputs: CostInputs) -> int:
    return sum(item.price_vnd * item.quantity for item in inputs.lane_items)


def lanes_needed(inputs: CostInputs, candidates: int, seconds_per_candidate: float) -> int:
    busy_s = candidates * (seconds_per_candidate + inputs.walk_through_s)
    return max(1, math.ceil(busy_s / (inputs.admission_window_min * 60.0))) + inputs.spare_lanes


def compute(inputs: CostInputs, candidates: int, seconds_per_candidate: float) -> CostResult:
    if candidates < 1:
        raise bad_cost_input(f"candidates per session must be >= 1, got {candidates}")
    if not math.isfinite(seconds_per_candidate) or seconds_per_candidate < 0:
        raise bad_cost_input(f"seconds per candidate must be >= 0, got {seconds_per_candidate}")
    lanes = lanes_needed(inputs, candidates, seconds_per_candidate)
    hardware = lane_hardware_vnd(inputs)
    capex = lanes * (hardware + inputs.installation_vnd_per_lane)
    opex = inputs.years * (lanes * inputs.maintenance_vnd_per_lane_year + 12 * inputs.central_vm_vnd_per_month)
    checks = candidates * inputs.sessions_per_year * inputs.years
    total = capex + opex
    return CostResult(
        candidates_per_session=candidates,
        seconds_per_candidate=seconds_per_candidate,
        lanes=lanes,
        lane_hardware_vnd=hardware,
        capex_vnd=capex,
        opex_vnd=opex,
        total_vnd=total,
        per_lane_vnd=round(total / lanes),
        per_candidate_vnd=total / checks,
        service_fee_total_vnd=checks * inputs.service_fee_vnd_per_check,
        years=inputs.years,
    )


def load_inputs(path: Path | None) -> CostInputs:
    """``DEFAULT_INPUTS``, or a TOML file shaped like ``template()``. Raises E_REPORT_COST_INVALID."""
    if path is None:
        return DEFAULT_INPUTS
    return load_toml_model(path, CostInputs, "cost", bad_cost_input, bad_cost_input)


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def template(inputs: CostInputs = DEFAULT_INPUTS) -> str:
    """The inputs as a TOML file a centre edits."""
    lines = ["# ExamGate cost inputs (VND). See docs/cost.md for where each default comes from."]
    for key, value in inputs.model_dump(exclude={"lane_items"}).items():
        lines.append(f"{key} = {_toml_str(value) if isinstance(value, str) else value}")
    for item in inputs.lane_items:
        lines += ["", "[[lane_items]]"]
        for key, value in item.model_dump().items():
            text = (
                _toml_str(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else value
            )
            lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"
