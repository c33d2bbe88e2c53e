"""Request and response bodies of the local API, and the one error shape every refusal answers with."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

ATTEMPT_ID = Annotated[str, PathParam(pattern=r"^[0-9a-fA-F-]{32,36}$", description="attempt id (UUIDv7)")]
SESSION_ID = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="exam session id")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginBody(_Body):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class ReviewBody(_Body):
    approved: bool
    reason: Annotated[str, Field(min_length=3, max_length=500, description="why; required, logged with the account")]


class AssistedBody(_Body):
    credential: Literal["vneid_level2", "manual_no_card", "manual_lost_card", "manual_old_cmnd"]
    personal_id: Annotated[str, Field(pattern=r"^[0-9]{12}$", description="12-digit personal ID number")]
    vneid_verified: bool = Field(default=False, description="the officer verified the VNeID level-2 app (vneid_level2)")
    commitment_signed: bool = Field(default=False, description="the candidate signed the commitment (manual_*)")
    note: Annotated[str, Field(max_length=500)] = ""


class Me(BaseModel):
    username: str
    role: str
    csrf_token: str


class ResolveResult(BaseModel):
    attempt_id: str
    approved: bool
    operator: str


class AssistedResult(BaseModel):
    state: Literal["done", "running"]
    attempt_id: str | None = None
    outcome: str | None = None
    passed: bool | None = None
    reasons: list[str] = Field(default_factory=list)
    reviewed_by: str | None = None
    full_name: str | None = None
    candidate_id: str | None = None


class Problem(BaseModel):
    code: str
    message: str
    remedy: str = ""


def problem(
    status: int, code: str, message: str, remedy: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(Problem(code=code, message=message, remedy=remedy).model_dump(), status, headers=headers)
