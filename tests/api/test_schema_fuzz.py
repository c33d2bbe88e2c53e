"""schemathesis over the published OpenAPI document: generated requests (authenticated as a proctor, with the CSRF
token) for every operation; none may answer 5xx. Bounded: 30 examples per operation, no shrinking database."""

from __future__ import annotations

from collections import Counter

import pytest
from api_env import Env
from hypothesis import HealthCheck, Phase, given, settings

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis (pip install schemathesis) is not installed")

MAX_EXAMPLES = 30


def fuzz(operation: object, headers: dict[str, str], seen: Counter[int]) -> None:
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: object) -> None:
        response = case.call(headers=headers)  # type: ignore[attr-defined]
        seen[response.status_code] += 1
        assert response.status_code < 500, (case, response.status_code, response.text)

    check()


def test_no_generated_request_gets_a_server_error(env: Env) -> None:
    client, csrf = env.login("proctor1")
    headers = {"Cookie": f"eg_session={client.cookies['eg_session']}", "X-CSRF-Token": csrf}
    schema = schemathesis.openapi.from_asgi("/openapi.json", env.app, headers=headers)
    statuses: dict[str, Counter[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        if label == "POST /api/logout":
            continue  # would end the session the other operations run under (tested in test_auth)
        seen: Counter[int] = Counter()
        statuses[label] = seen

        fuzz(operation, headers, seen)
    # the requests ran authenticated: every guarded operation answered something other than 401
    for label, seen in statuses.items():
        if label != "POST /api/login":
            assert set(seen) - {401}, (label, seen)
    assert env.gate.store.verify_audit().ok
