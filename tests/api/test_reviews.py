"""The proctor console against a running lane: review queue, images, approve/deny, races, bad input."""

from __future__ import annotations

import concurrent.futures
import json
import os
import sqlite3

import pytest
from api_env import Env, csrf_headers
from fastapi.testclient import TestClient

from edge.privacy.evidence import EvidenceVault
from edge.privacy.keys import key_id_of


def audit_count(env: Env) -> int:
    return int(sqlite3.connect(env.gate.store.path).execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])


def review_status(env: Env, attempt_id: str) -> tuple[str, str | None]:
    row = sqlite3.connect(env.gate.store.path).execute(
        "SELECT status, resolved_by FROM reviews WHERE attempt_id = ?", (attempt_id,)
    )
    status, by = row.fetchone()
    return str(status), by


def answered_review(env: Env, approved: bool, reason: str) -> tuple[TestClient, str, str]:
    """proctor1 answers the grey-zone review of binh's tap and the lane reports; returns client, CSRF, attempt."""
    client, csrf = env.login("proctor1")
    env.tap("binh", "grey")
    attempt = env.wait_review()
    body = {"approved": approved, "reason": reason}
    assert client.post(f"/api/reviews/{attempt}", json=body, headers=csrf_headers(csrf)).status_code == 200
    env.next_report()
    return client, csrf, attempt


def test_grey_zone_review_shows_details_and_images_then_approval_opens_the_gate(env: Env) -> None:
    client, csrf = env.login("proctor1")
    env.tap("binh", "grey")
    attempt = env.wait_review()
    listing = client.get("/api/reviews").json()
    (item,) = listing["items"]
    assert item["attempt_id"] == attempt and item["resolvable"] is True
    assert item["full_name"] == "Trần Thị Bình" and item["candidate_id"] == "SBD-2"
    assert item["id_masked"] == "0793******67" and item["birth_date"] == "1999-01-01"
    assert item["face_score"] == pytest.approx(0.55) and item["reasons"] == ["FACE_GREY_ZONE"]
    assert (item["match_threshold"], item["review_threshold"], item["thresholds_version"]) == (0.6, 0.5, "test")
    text = json.dumps(listing, ensure_ascii=False)
    assert "079301004567" not in text  # never the full ID number
    for kind in ("live", "chip", "roster"):
        image = client.get(f"/api/reviews/{attempt}/images/{kind}")
        assert image.status_code == 200, kind
        assert image.headers["content-type"] == "image/jpeg" and image.content[:3] == b"\xff\xd8\xff"
        assert image.headers["cache-control"] == "no-store"
    assert env.turnstile.pulses == ()
    answer = client.post(
        f"/api/reviews/{attempt}",
        json={"approved": True, "reason": "checked the card by hand"},
        headers=csrf_headers(csrf),
    )
    assert answer.status_code == 200 and answer.json()["operator"] == "proctor1"
    report = env.next_report()
    assert report.outcome == "pass" and report.reviewed_by == "proctor1"
    assert len(env.turnstile.pulses) == 1
    assert review_status(env, attempt) == ("approved", "proctor1")
    # the images of a finished candidate are gone from memory (no evidence vault in this gate)
    assert client.get(f"/api/reviews/{attempt}/images/live").status_code == 404
    recent = client.get("/api/reviews").json()
    assert recent["items"] == [] and recent["recent"][-1]["reviewed_by"] == "proctor1"
    actions = [
        r[0] for r in sqlite3.connect(env.gate.store.path).execute("SELECT actor || ' ' || action FROM audit_log")
    ]
    assert "proctor1 api.review_answer" in actions and "proctor1 review.approved" in actions


def test_deny_keeps_the_gate_shut(env: Env) -> None:
    client, csrf = env.login("proctor1")
    env.tap("binh", "grey")
    attempt = env.wait_review()
    answer = client.post(
        f"/api/reviews/{attempt}", json={"approved": False, "reason": "not the same person"}, headers=csrf_headers(csrf)
    )
    assert answer.status_code == 200
    report = env.next_report()
    assert report.passed is not True and report.outcome != "pass" and report.reviewed_by == "proctor1"
    assert env.turnstile.pulses == ()
    assert review_status(env, attempt) == ("denied", "proctor1")
    assert client.get("/api/reviews").json()["recent"][-1]["outcome"] == "fail"


def test_answering_a_resolved_review_is_409_and_changes_nothing(env: Env) -> None:
    client, csrf, attempt = answered_review(env, approved=True, reason="checked the card by hand")
    before = (audit_count(env), env.gate.store.outbox_backlog(), len(env.turnstile.pulses))
    again = client.post(
        f"/api/reviews/{attempt}", json={"approved": False, "reason": "changed my mind"}, headers=csrf_headers(csrf)
    )
    assert again.status_code == 409 and again.json()["code"] == "E_API_REVIEW_NOT_PENDING"
    assert (audit_count(env), env.gate.store.outbox_backlog(), len(env.turnstile.pulses)) == before
    assert review_status(env, attempt) == ("approved", "proctor1")


def test_two_proctors_answering_at_once_exactly_one_wins(env: Env) -> None:
    first, csrf1 = env.login("proctor1")
    second, csrf2 = env.login("proctor2")
    env.tap("binh", "grey")
    attempt = env.wait_review()

    def answer(client_and_csrf: tuple[TestClient, str], approved: bool) -> int:
        client, csrf = client_and_csrf
        body = {"approved": approved, "reason": "looked closely"}
        return int(client.post(f"/api/reviews/{attempt}", json=body, headers=csrf_headers(csrf)).status_code)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(answer, [(first, csrf1), (second, csrf2)], [True, False]))
    assert sorted(results) == [200, 409]
    report = env.next_report()
    status, by = review_status(env, attempt)
    winner = "proctor1" if results[0] == 200 else "proctor2"
    assert by == winner == report.reviewed_by
    assert status == ("approved" if winner == "proctor1" else "denied")
    assert len(env.turnstile.pulses) == (1 if winner == "proctor1" else 0)


@pytest.mark.parametrize(
    "body",
    [
        {"approved": True},
        {"approved": True, "reason": ""},
        {"approved": True, "reason": "  "},
        {"approved": "maybe", "reason": "checked"},
        {"approved": True, "reason": "checked", "extra": 1},
        {"approved": True, "reason": "x" * 501},
    ],
)
def test_a_reason_is_required_and_bodies_are_validated(env: Env, body: dict[str, object]) -> None:
    client, csrf = env.login("proctor1")
    response = client.post("/api/reviews/01a2122d-99a9-7269-b38b-5c3518ce4bc7", json=body, headers=csrf_headers(csrf))
    assert response.status_code == 422


def test_malformed_and_oversized_bodies_are_4xx(env: Env) -> None:
    client, csrf = env.login("proctor1")
    headers = {**csrf_headers(csrf), "content-type": "application/json"}
    path = "/api/reviews/01a2122d-99a9-7269-b38b-5c3518ce4bc7"
    for raw in (b"{", b"null", b"[]", b"\xff\xfe", b'{"approved": tru'):
        assert client.post(path, content=raw, headers=headers).status_code == 422, raw
    huge = json.dumps({"approved": True, "reason": "x" * 100_000}).encode()
    assert client.post(path, content=huge, headers=headers).status_code == 413

    def chunks() -> object:
        for _ in range(100):
            yield b" " * 1024  # streamed without Content-Length

    assert client.post(path, content=chunks(), headers=headers).status_code == 413  # type: ignore[arg-type]
    login = client.post("/api/login", content=b'{"username": "' + b"a" * 50_000 + b'"}')
    assert login.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/api/reviews/..%2F..%2Fetc%2Fpasswd/images/live",
        "/api/reviews/01a2122d-99a9-7269-b38b-5c3518ce4bc7/images/..%2F..%2Fexamgate.db",
        "/api/reviews/01a2122d-99a9-7269-b38b-5c3518ce4bc7/images/passwd",
        "/static/../app.py",
        "/static/..%2Fapp.py",
        "/static/%2e%2e/%2e%2e/examgate.db",
        "/static/....//app.py",
        "/reports/..%2F..%2Fetc",
        "/api/reports/..%2Fx/csv",
    ],
)
def test_path_traversal_is_refused(env: Env, path: str) -> None:
    client, _ = env.login("proctor1")
    response = client.get(path)
    assert response.status_code in (400, 404, 422), (path, response.status_code)
    assert b"import" not in response.content and b"SQLite" not in response.content


def test_static_assets_are_served(env: Env) -> None:
    response = env.client().get("/static/console.js")
    assert response.status_code == 200 and "EventSource" in response.text


def test_after_the_candidate_images_come_from_the_encrypted_vault(env: Env) -> None:
    key = os.urandom(32)
    vault = EvidenceVault(env.gate.store, key, retention_days=30, key_id=key_id_of(key))
    env.gate.evidence = vault
    env.gate.lane.evidence = vault
    client, _, attempt = answered_review(env, approved=False, reason="face does not match")
    assert env.app.state.hub.item(attempt) is None  # gone from memory
    for kind in ("live", "chip", "roster"):
        image = client.get(f"/api/reviews/{attempt}/images/{kind}")
        assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff", kind
        assert image.content == vault.load(attempt, kind)
    stored = sqlite3.connect(env.gate.store.path).execute("SELECT ciphertext FROM face_evidence").fetchall()
    assert len(stored) == 3 and all(not row[0].startswith(b"\xff\xd8") for row in stored)  # sealed at rest
    viewer, _ = env.login("view1")
    assert viewer.get(f"/api/reviews/{attempt}/images/live").status_code == 403


def test_a_review_left_pending_by_a_restart_is_listed_but_cannot_be_answered(env: Env) -> None:
    attempt = "01a2122d-0000-7000-8000-000000000001"
    conn = sqlite3.connect(env.gate.store.path)
    with conn:
        conn.execute(
            "INSERT INTO attempts (attempt_id, session_id, candidate_id, credential, started_at) "
            "VALUES (?, 'SES1', 'SBD-2', 'chip', '2026-01-01T00:00:00.000Z')",
            (attempt,),
        )
        conn.execute(
            "INSERT INTO reviews (attempt_id, reasons, requested_at) VALUES (?, '[\"FACE_GREY_ZONE\"]', "
            "'2026-01-01T00:00:00.000Z')",
            (attempt,),
        )
    client, csrf = env.login("proctor1")
    listing = client.get("/api/reviews").json()
    assert listing["items"] == [] and [s["attempt_id"] for s in listing["stale"]] == [attempt]
    body = {"approved": True, "reason": "checked"}
    assert client.post(f"/api/reviews/{attempt}", json=body, headers=csrf_headers(csrf)).status_code == 409
    assert review_status(env, attempt) == ("pending", None)
    assert env.turnstile.pulses == ()
