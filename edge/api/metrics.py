"""``/metrics`` in the Prometheus text format (prometheus-client, a registry of our own).

Decision and fault counts are read from the store at scrape time, so they survive restarts; stage latencies are
histograms over the candidates seen since the process started (from ``CandidateReport.timings_ms``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from edge.api.queries import Queries
from edge.lane import CandidateReport

# Seconds. The budget is 5 s per candidate; the goal 3 s.
BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0, 30.0)


class _StoreCollector(Collector):
    def __init__(
        self, queries: Queries, session_id: str, outbox_backlog: Callable[[], int], pending: Callable[[], int]
    ):
        self.queries = queries
        self.session_id = session_id
        self.outbox_backlog = outbox_backlog
        self.pending = pending

    def collect(self) -> Iterator[Metric]:
        decisions = CounterMetricFamily(
            "examgate_decisions",
            "Decisions of the current exam session by outcome and credential",
            labels=["outcome", "credential"],
        )
        reasons = CounterMetricFamily(
            "examgate_decision_reasons", "Reason codes of the current session's decisions", labels=["outcome", "reason"]
        )
        for outcome, reason, count in self.queries.decision_reasons(self.session_id):
            reasons.add_metric([outcome, reason], count)
        seen = {(o, c): n for o, c, n in self.queries.decision_outcomes(self.session_id)}
        for outcome in ("pass", "review", "fail"):
            seen.setdefault((outcome, "chip"), 0)
        for (outcome, credential), count in sorted(seen.items()):
            decisions.add_metric([outcome, credential], count)
        yield decisions
        yield reasons
        faults = CounterMetricFamily(
            "examgate_device_faults", "Device faults still in the outbox", labels=["device", "code"]
        )
        for device, code, count in self.queries.device_faults():
            faults.add_metric([device, code], count)
        yield faults
        yield GaugeMetricFamily(
            "examgate_outbox_backlog", "Events not yet acknowledged by the broker", self.outbox_backlog()
        )
        yield GaugeMetricFamily("examgate_reviews_pending", "Reviews waiting for a proctor", self.pending())


class Metrics:
    def __init__(
        self, queries: Queries, session_id: str, outbox_backlog: Callable[[], int], pending: Callable[[], int]
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.stage = Histogram(
            "examgate_stage_duration_seconds",
            "Time per lane stage (chip, roster, face, decision, gate_open, total) since the process started",
            ["stage"],
            buckets=BUCKETS_S,
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(queries, session_id, outbox_backlog, pending))

    def observe(self, report: CandidateReport) -> None:
        for key, value_ms in report.timings_ms.items():
            self.stage.labels(key.removesuffix("_ms")).observe(value_ms / 1000.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
