"""Counts of one exam session, as JSON and as CSV."""

# No `from __future__ import annotations` here: FastAPI must see the guards in the handlers' annotations.

import csv
import io

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from edge.api.context import Ctx
from edge.api.models import SESSION_ID
from edge.api.queries import SessionReport
from edge.api.security import Staff

router = APIRouter()


@router.get("/api/reports/{session}", tags=["reports"], summary="counts of one exam session")
def report_json(session: SESSION_ID, _who: Staff, ctx: Ctx) -> dict[str, object]:
    report = ctx.queries.session_report(session)
    if report is None:
        raise HTTPException(404, "no such exam session")
    return report_dict(report)


@router.get(
    "/api/reports/{session}/csv",
    tags=["reports"],
    summary="counts of one exam session as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def report_csv(session: SESSION_ID, _who: Staff, ctx: Ctx) -> Response:
    report = ctx.queries.session_report(session)
    if report is None:
        raise HTTPException(404, "no such exam session")
    return Response(
        report_to_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="examgate-{session}.csv"'},
    )


def report_dict(report: SessionReport) -> dict[str, object]:
    return {
        "session_id": report.session_id,
        "name": report.name,
        "exam_date": report.exam_date,
        "roster_size": report.roster_size,
        "admitted": report.admitted,
        "rejected": report.rejected,
        "pending_review": report.pending_review,
        "reviewed": report.reviewed,
        "review_approved": report.review_approved,
        "review_denied": report.review_denied,
        "officer_assisted": report.officer_assisted,
        "by_credential": {
            k: {"admitted": c.admitted, "rejected": c.rejected, "pending": c.pending, "total": c.total}
            for k, c in report.by_credential.items()
        },
        "by_reason": report.by_reason,
    }


def report_to_csv(report: SessionReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["session_id", "section", "key", "count"])
    sid = report.session_id
    for key in (
        "roster_size",
        "admitted",
        "rejected",
        "pending_review",
        "reviewed",
        "review_approved",
        "review_denied",
    ):
        writer.writerow([sid, "total", key, getattr(report, key)])
    writer.writerow([sid, "total", "officer_assisted", report.officer_assisted])
    for credential, counts in report.by_credential.items():
        for key in ("admitted", "rejected", "pending"):
            writer.writerow([sid, f"credential:{credential}", key, getattr(counts, key)])
    for reason, count in report.by_reason.items():
        writer.writerow([sid, "reason", reason, count])
    return out.getvalue()
