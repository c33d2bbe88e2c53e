"""Typed report failures (codes E_REPORT_…)."""

from __future__ import annotations

from edge.errors import ExamGateError, error_factory


class ReportError(ExamGateError):
    code = "E_REPORT_FAILED"
    remedy = "read the message; see docs/operations.md (the authority's brief)"


db_missing = error_factory(
    ReportError, code="E_REPORT_DB_MISSING", remedy="pass the gate's database: --db /var/lib/examgate/examgate.db"
)
empty_db = error_factory(
    ReportError,
    code="E_REPORT_EMPTY_DB",
    remedy="this database holds no decisions yet: run a session (or `examgate demo --workdir DIR`) first",
)
unknown_session = error_factory(
    ReportError,
    code="E_REPORT_UNKNOWN_SESSION",
    remedy="use one of the session ids listed by `examgate session list`",
)
no_decisions = error_factory(
    ReportError,
    code="E_REPORT_NO_DECISIONS",
    remedy="choose a period (--from/--to, UTC dates) or a session that had candidates; the message lists when "
    "decisions exist",
)
bad_period = error_factory(
    ReportError, code="E_REPORT_PERIOD_INVALID", remedy="dates are YYYY-MM-DD and --from <= --to"
)
bad_cost_input = error_factory(
    ReportError, code="E_REPORT_COST_INVALID", remedy="pass a TOML file shaped like docs/cost.md (all prices >= 0)"
)
