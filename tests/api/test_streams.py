"""Server-sent events over a real socket: the console's live queue and the kiosk's states (never a score)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from api_env import KIOSK_TOKEN, PASSWORDS, Env, LiveServer, csrf_headers


def collect(client: httpx.Client, path: str, into: queue.Queue[dict[str, object]], stop: threading.Event) -> None:
    with client.stream("GET", path, timeout=httpx.Timeout(10.0, read=30.0)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                into.put(json.loads(line[6:]))
            if stop.is_set():
                return


def wait_subscribed(env: Env) -> None:
    deadline = time.monotonic() + 10
    while env.app.state.hub.console.count == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def until(
    messages: queue.Queue[dict[str, object]], wanted: str, timeout_s: float = 10.0
) -> Iterator[dict[str, object]]:
    """Messages up to and including the first whose type or state is ``wanted``."""
    while True:
        message = messages.get(timeout=timeout_s)
        yield message
        if wanted in (message.get("type"), message.get("state")):
            return


def test_gate_opened_names_the_candidate_it_opened_for(env: Env, live: LiveServer) -> None:
    """Two plain passes in a row: each gate_opened carries that candidate's attempt id, not the previous one's."""
    client = httpx.Client(base_url=live.url)
    client.post("/api/login", json={"username": "proctor1", "password": PASSWORDS["proctor1"]})
    messages: queue.Queue[dict[str, object]] = queue.Queue()
    stop = threading.Event()
    reader = threading.Thread(target=collect, args=(client, "/api/events", messages, stop), daemon=True)
    reader.start()
    wait_subscribed(env)
    pairs = []
    for card in ("an", "binh"):
        env.tap(card, "high")
        seen = list(until(messages, "decision"))
        opened = [m for m in seen if m["type"] == "gate_opened"]
        assert len(opened) == 1 and seen[-1]["outcome"] == "pass"
        pairs.append((opened[0]["attempt_id"], seen[-1]["attempt_id"]))
    assert all(opened_for == decided for opened_for, decided in pairs), pairs
    assert pairs[0][1] != pairs[1][1]
    stop.set()
    env.tap("an", "high")  # one more message lets the reader thread notice
    reader.join(10)


def test_console_stream_shows_review_decision_and_gate_opening(env: Env, live: LiveServer) -> None:
    client = httpx.Client(base_url=live.url)
    login = client.post("/api/login", json={"username": "proctor1", "password": PASSWORDS["proctor1"]})
    csrf = login.json()["csrf_token"]
    messages: queue.Queue[dict[str, object]] = queue.Queue()
    stop = threading.Event()
    reader = threading.Thread(target=collect, args=(client, "/api/events", messages, stop), daemon=True)
    reader.start()
    wait_subscribed(env)
    env.tap("binh", "grey")
    review = list(until(messages, "review"))[-1]
    attempt = review["item"]["attempt_id"]  # type: ignore[index]
    answer = httpx.post(
        f"{live.url}/api/reviews/{attempt}",
        json={"approved": True, "reason": "seen by hand"},
        headers=csrf_headers(csrf),
        cookies=client.cookies,
    )
    assert answer.status_code == 200
    seen = list(until(messages, "decision"))
    types = [m["type"] for m in seen]
    assert "gate_opened" in types and types[-1] == "decision"
    assert seen[-1]["outcome"] == "pass" and seen[-1]["reviewed_by"] == "proctor1"
    stop.set()
    env.tap("an", "high")  # one more message lets the reader thread notice
    reader.join(10)


def test_kiosk_needs_its_token_or_a_login_and_never_shows_scores(env: Env, live: LiveServer) -> None:
    anonymous = httpx.Client(base_url=live.url)
    assert anonymous.get("/kiosk").status_code == 303
    assert anonymous.get("/kiosk/events").status_code == 303
    assert anonymous.get("/kiosk", params={"token": "wrong" * 6}).status_code == 303
    kiosk = httpx.Client(base_url=live.url)
    paired = kiosk.get("/kiosk", params={"token": KIOSK_TOKEN})
    assert paired.status_code == 303 and paired.headers["location"] == "/kiosk"
    assert "HttpOnly" in paired.headers["set-cookie"]
    page = kiosk.get("/kiosk")
    assert page.status_code == 200 and "Chạm thẻ CCCD vào đầu đọc" in page.text
    assert kiosk.get("/api/reviews").status_code == 401  # the kiosk token opens the kiosk only
    messages: queue.Queue[dict[str, object]] = queue.Queue()
    stop = threading.Event()
    reader = threading.Thread(target=collect, args=(kiosk, "/kiosk/events", messages, stop), daemon=True)
    reader.start()
    assert messages.get(timeout=10)["state"] == "idle"
    env.tap("an", "high")
    states = list(until(messages, "pass"))
    assert [m["state"] for m in states] == ["camera", "pass"]
    assert states[-1]["name"] == "Nguyễn Văn An"  # the roster's spelling
    env.tap("stranger", "high")
    states += list(until(messages, "see_proctor"))
    for message in states:
        assert set(message) <= {"type", "state", "name", "hold_s"}, message
        assert "score" not in json.dumps(message)
    stop.set()
    env.tap("binh", "high")
    reader.join(10)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_screens_speak_vietnamese_first_and_english_on_request(env: Env, lang: str) -> None:
    client, _ = env.login("proctor1")
    page = client.get("/console", params={"lang": lang} if lang == "en" else None)
    expected = "Hàng đợi duyệt của giám thị" if lang == "vi" else "Proctor review queue"
    assert expected in page.text
    if lang == "en":
        assert "eg_lang=en" in page.headers["set-cookie"]
        assert "Proctor review queue" in client.get("/console").text  # remembered


def test_a_staff_session_also_opens_the_kiosk(env: Env) -> None:
    client, _ = env.login("view1")
    page = client.get("/kiosk")
    assert page.status_code == 200 and 'id="kiosk"' in page.text
    assert "score" not in page.text.split('id="boot">', 1)[1].split("</script>", 1)[0]
