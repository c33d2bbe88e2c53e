"""Typed report failures (codes E_REPORT_…)."""

from __future__ import annotations

from edge.errors import ExamGateError


class ReportError(ExamGateError):
    code = "E_REPORT_FAILED"
    remedy = "read the message; see docs/operations.md (the authority's brief)"


def db_missing(message: str) -> ReportError:
    return ReportError(
        message, code="E_REPORT_DB_MISSING", remedy="pass the gate's database: --db /var/lib/examgate/examgate.db"
    )


def empty_db(message: str) -> ReportError:
    return ReportError(
        message,
        code="E_REPORT_EMPTY_DB",
        remedy="this database holds no decisions yet: run a session (or `examgate demo --workdir DIR`) first",
    )


def unknown_session(message: str) -> ReportError:
    return ReportError(
        message, code="E_REPORT_UNKNOWN_SESSION", remedy="use one of the session ids listed by `examgate session list`"
    )


def no_decisions(message: str) -> ReportError:
    return ReportError(
        message,
        code="E_REPORT_NO_DECISIONS",
        remedy="choose a period (--from/--to, UTC dates) or a session that had candidates; the message lists when "
        "decisions exist",
    )


def bad_period(message: str) -> ReportError:
    return ReportError(message, code="E_REPORT_PERIOD_INVALID", remedy="dates are YYYY-MM-DD and --from <= --to")


def bad_cost_input(message: str) -> ReportError:
    return ReportError(
        message, code="E_REPORT_COST_INVALID", remedy="pass a TOML file shaped like docs/cost.md (all prices >= 0)"
    )
