"""Typed errors of the local API and its account commands."""

from __future__ import annotations

from edge.errors import ExamGateError


class ApiError(ExamGateError):
    code = "E_API"
    remedy = "see the message; the console shows what to do"


class AccountError(ApiError):
    code = "E_ACCOUNT_INVALID"
    remedy = "check the username (3-32 letters, digits, . _ -), the role (proctor, technician, viewer) and the password"


def unknown_user(username: str) -> AccountError:
    return AccountError(
        f"no account named {username!r}",
        code="E_ACCOUNT_UNKNOWN",
        remedy="list the accounts with `examgate users list`, or create one with `examgate users add`",
    )


def weak_password(why: str) -> AccountError:
    return AccountError(
        f"password refused: {why}",
        code="E_ACCOUNT_WEAK_PASSWORD",
        remedy="choose at least 10 characters that are not the username",
    )


def token_file_error(path: str, why: str) -> ApiError:
    return ApiError(
        f"token file {path}: {why}",
        code="E_API_TOKEN_FILE",
        remedy="write a random token of at least 24 characters into the file and `chmod 600` it",
    )
