"""Reason codes carried by decisions. Stable: integrators and reports key on them."""

from __future__ import annotations

OK = "OK"
FACE_MATCH = "FACE_MATCH"
FACE_GREY_ZONE = "FACE_GREY_ZONE"
FACE_NO_MATCH = "E_FACE_NO_MATCH"
FACE_CAPTURE_FAILED = "E_FACE_CAPTURE_FAILED"
NOT_ON_ROSTER = "E_NOT_ON_ROSTER"
ANTI_PASSBACK = "E_ANTI_PASSBACK"
CHIP_READ_FAILED = "E_CHIP_READ_FAILED"
PASSIVE_AUTH_PREFIX = "PA_"  # + status, e.g. PA_NO_TRUST_ANCHOR
CLONE_CHECK_PREFIX = "CLONE_"  # + status, e.g. CLONE_FAILED
REVIEW_APPROVED = "REVIEW_APPROVED"
REVIEW_DENIED = "REVIEW_DENIED"
LANE_ABORTED = "E_LANE_ABORTED"
PAD_SUSPECTED = "PAD_SUSPECTED"  # presentation attack suspected: proctor review (issue 12)
PAD_ATTACK = "E_PAD_ATTACK"  # confident presentation attack: fail
PAD_UNAVAILABLE = "PAD_UNAVAILABLE"  # PAD on but its models could not run: review, never pass unchecked
PAD_CHALLENGE_FAILED = "PAD_CHALLENGE_FAILED"  # the asked action (turn, blink) was not seen in time: review
PAD_NOT_SCORED = "PAD_NOT_SCORED"  # PAD ran but could not score this face (cut by the border, too small): review


def passive_auth_reason(status: str) -> str:
    return PASSIVE_AUTH_PREFIX + status.upper()


def clone_check_reason(status: str) -> str:
    return CLONE_CHECK_PREFIX + status.upper()
