"""Decisions per second of the pure admission policy on one core, against a bare if/else baseline in the same run.

Run: .venv/bin/python bench/policy.py [--candidates 200000]
Goal (issue #3): >= 50,000 decisions/s. Times are CPU time of this process (one core), so other load on the machine
does not distort them.
"""

from __future__ import annotations

import argparse
import random
import time

from edge.policy import machine as m

GOAL_PER_S = 50_000


def candidate_inputs(rng: random.Random) -> list[m.Input]:
    score = rng.random()
    seq: list[m.Input] = [m.CardPresented("a"), m.ChipRead("valid", "valid"), m.RosterFound(already_admitted=False)]
    seq.append(m.FaceCaptured(score))
    if score >= 0.6:
        seq.append(m.PassageConfirmed())
    elif score >= 0.5:
        seq += [m.FaceCaptured(score), m.FaceCaptured(score), m.ReviewResolved(True, "p", "ok"), m.PassageConfirmed()]
    return seq


def run_policy(sequences: list[list[m.Input]], params: m.PolicyParams) -> int:
    """Each sequence is one candidate and ends in exactly one decision (checked by ``count_decisions``)."""
    step = m.step
    for seq in sequences:
        state = m.initial_state()
        for event in seq:
            state, _ = step(state, event, params)
    return len(sequences)


def count_decisions(sequences: list[list[m.Input]], params: m.PolicyParams) -> int:
    decisions = 0
    for seq in sequences:
        state = m.initial_state()
        for event in seq:
            state, actions = m.step(state, event, params)
            decisions += sum(1 for a in actions if isinstance(a, m.RecordDecision))
    return decisions


def run_baseline(scores: list[float]) -> int:
    decisions = 0
    for score in scores:
        outcome = "pass" if score >= 0.6 else "review" if score >= 0.5 else "fail"
        decisions += outcome != ""
    return decisions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(7)
    sequences = [candidate_inputs(rng) for _ in range(args.candidates)]
    scores = [next(e.similarity for e in s if isinstance(e, m.FaceCaptured)) or 0.0 for s in sequences]
    params = m.PolicyParams(match_threshold=0.6, review_threshold=0.5)
    if count_decisions(sequences[:1000], params) != min(1000, len(sequences)):
        raise SystemExit("a candidate sequence did not end in exactly one decision")

    t0 = time.process_time()
    decided = run_policy(sequences, params)
    policy_s = time.process_time() - t0
    t0 = time.process_time()
    run_baseline(scores)
    base_s = time.process_time() - t0

    steps = sum(len(s) for s in sequences)
    rate = decided / policy_s
    print(f"policy state machine: {decided} decisions ({steps} transitions) in {policy_s:.2f} s")
    print(f"  {rate:,.0f} decisions/s, {steps / policy_s:,.0f} transitions/s (goal >= {GOAL_PER_S:,}/s)")
    print(f"baseline bare if/else: {args.candidates / base_s:,.0f} decisions/s")
    print(f"ratio state machine / baseline time per decision: {(policy_s / decided) / (base_s / args.candidates):.0f}x")
    print("goal met" if rate >= GOAL_PER_S else "GOAL NOT MET")


if __name__ == "__main__":
    main()
