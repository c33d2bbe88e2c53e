"""Officer-assisted admission through the API, session reports (HTML + CSV), health and metrics."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest
from api_env import Env, csrf_headers
from prometheus_client.parser import text_string_to_metric_families


def assisted(env: Env, body: dict[str, object], scene: str = "high") -> tuple[int, dict[str, object]]:
    client, csrf = env.login("proctor1")
    env.gate.camera.set_folder(env.tmp / "camera" / scene)  # type: ignore[attr-defined]
    response = client.post("/api/assisted", json=body, headers=csrf_headers(csrf))
    return response.status_code, response.json()


def test_lost_card_with_signed_commitment_is_admitted_and_counted_by_credential(env: Env) -> None:
    status, body = assisted(
        env,
        {
            "credential": "manual_lost_card",
            "personal_id": "001099000444",
            "commitment_signed": True,
            "note": "police report shown",
        },
    )
    assert status == 200, body
    assert body["state"] == "done" and body["outcome"] == "pass" and body["passed"] is True
    assert body["candidate_id"] == "SBD-4"
    assert len(env.turnstile.pulses) == 1
    conn = sqlite3.connect(env.gate.store.path)
    assert conn.execute("SELECT officer, credential, commitment_signed FROM assisted_admissions").fetchall() == [
        ("proctor1", "manual_lost_card", 1)
    ]
    (details,) = conn.execute("SELECT details FROM audit_log WHERE action = 'api.assisted_admission'").fetchone()
    assert "0010******44" in details and "001099000444" not in details
    client, _ = env.login("view1")
    report = client.get("/api/reports/SES1").json()
    assert report["by_credential"]["manual_lost_card"] == {"admitted": 1, "rejected": 0, "pending": 0, "total": 1}
    assert report["officer_assisted"] == 1 and report["admitted"] == 1


def test_vneid_needs_the_officers_confirmation(env: Env) -> None:
    status, body = assisted(env, {"credential": "vneid_level2", "personal_id": "001099000444"})
    assert status == 422 and body["code"] == "E_API_VNEID_UNCONFIRMED"
    status, body = assisted(env, {"credential": "manual_old_cmnd", "personal_id": "001099000444"})
    assert status == 422 and body["code"] == "E_API_COMMITMENT_MISSING"
    assert env.turnstile.pulses == ()
    status, body = assisted(env, {"credential": "vneid_level2", "personal_id": "001099000444", "vneid_verified": True})
    assert status == 200 and body["outcome"] == "pass"
    (note,) = sqlite3.connect(env.gate.store.path).execute("SELECT note FROM assisted_admissions").fetchone()
    assert "VNeID level 2 verified by proctor1" in note


@pytest.mark.parametrize("personal_id", ["12345678901", "1234567890123", "00109900044a", "", " 001099000444"])
def test_the_id_must_be_twelve_digits(env: Env, personal_id: str) -> None:
    status, _ = assisted(env, {"credential": "manual_no_card", "personal_id": personal_id, "commitment_signed": True})
    assert status == 422


def test_someone_not_on_the_roster_is_rejected(env: Env) -> None:
    status, body = assisted(
        env, {"credential": "manual_no_card", "personal_id": "099999999999", "commitment_signed": True}
    )
    assert status == 200 and body["outcome"] == "fail" and body["reasons"] == ["E_NOT_ON_ROSTER"]
    assert env.turnstile.pulses == ()


def test_session_report_html_and_csv(env: Env) -> None:
    env.tap("an", "high")
    assert env.next_report().outcome == "pass"
    env.tap("stranger", "high")
    assert env.next_report().outcome == "fail"
    client, csrf = env.login("proctor1")
    env.tap("binh", "grey")
    attempt = env.wait_review()
    client.post(f"/api/reviews/{attempt}", json={"approved": False, "reason": "not him"}, headers=csrf_headers(csrf))
    env.next_report()
    page = client.get("/reports/SES1")
    assert page.status_code == 200 and "Báo cáo ca thi" in page.text
    assert 'id="r-admitted">1<' in page.text and 'id="r-rejected">2<' in page.text
    assert "Reports" in client.get("/reports/SES1?lang=en").text
    assert client.get("/reports/NOPE").status_code == 404
    response = client.get("/api/reports/SES1/csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = {(r["section"], r["key"]): int(r["count"]) for r in csv.DictReader(io.StringIO(response.text))}
    assert rows[("total", "admitted")] == 1 and rows[("total", "rejected")] == 2
    assert rows[("total", "reviewed")] == 1 and rows[("total", "review_denied")] == 1
    assert rows[("credential:chip", "rejected")] == 2
    assert rows[("reason", "E_NOT_ON_ROSTER")] == 1 and rows[("reason", "FACE_GREY_ZONE")] == 1


def test_metrics_count_decisions_and_time_each_stage(env: Env) -> None:
    env.tap("an", "high")
    env.next_report()
    env.tap("stranger", "high")
    env.next_report()
    client, _ = env.login("tech1")
    text = client.get("/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("examgate_decisions_total", (("credential", "chip"), ("outcome", "pass")))] == 1
    assert samples[("examgate_decisions_total", (("credential", "chip"), ("outcome", "fail")))] == 1
    key = ("examgate_decision_reasons_total", (("outcome", "fail"), ("reason", "E_NOT_ON_ROSTER")))
    assert samples[key] == 1
    assert samples[("examgate_stage_duration_seconds_count", (("stage", "total"),))] == 2
    assert samples[("examgate_stage_duration_seconds_count", (("stage", "gate_open"),))] == 1
    assert samples[("examgate_outbox_backlog", ())] == env.gate.store.outbox_backlog()
    assert samples[("examgate_reviews_pending", ())] == 0


def test_health_and_readiness(env: Env) -> None:
    assert env.client().get("/healthz").json() == {"status": "ok"}
    client, _ = env.login("view1")
    ready = client.get("/readyz")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert set(checks) >= {"store", "turnstile", "reader", "camera", "broker", "lane", "model"}
    assert checks["model"]["thresholds_version"] == "test"
    assert "model_files_version" not in checks["model"]  # the simulated matcher has no model files
    env.turnstile.set_fire_release(True)
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.json()["checks"]["turnstile"]["fire_release"] is True
    env.turnstile.set_fire_release(False)


def test_openapi_is_published_to_staff(env: Env) -> None:
    assert env.client().get("/openapi.json").status_code == 401
    client, _ = env.login("view1")
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/login", "/api/reviews/{attempt_id}", "/api/assisted", "/metrics", "/readyz"} <= set(spec["paths"])


def test_an_assisted_request_waits_for_the_candidate_in_progress(env: Env) -> None:
    client, csrf = env.login("proctor1")
    env.tap("binh", "grey")
    attempt = env.wait_review()  # the lane is busy with this candidate
    request = {"credential": "manual_no_card", "personal_id": "001099000444", "commitment_signed": True}
    busy = client.post("/api/assisted", json=request, headers=csrf_headers(csrf))
    assert busy.status_code == 409 and busy.json()["code"] == "E_API_LANE_BUSY"
    assert sqlite3.connect(env.gate.store.path).execute("SELECT COUNT(*) FROM assisted_admissions").fetchone()[0] == 0
    deny = {"approved": False, "reason": "not her"}
    denied = client.post(f"/api/reviews/{attempt}", json=deny, headers=csrf_headers(csrf))
    assert denied.status_code == 200, denied.text
    env.next_report()
    env.gate.camera.set_folder(env.tmp / "camera" / "high")  # type: ignore[attr-defined]
    done = client.post("/api/assisted", json=request, headers=csrf_headers(csrf))
    assert done.status_code == 200 and done.json()["outcome"] == "pass"
    again = client.post("/api/assisted", json={**request, "personal_id": "079301004567"}, headers=csrf_headers(csrf))
    assert again.status_code == 200  # released after the first finished
