"""Typed errors of the local API and its account commands."""

from __future__ import annotations

from edge.errors import ExamGateError, error_factory


class ApiError(ExamGateError):
    code = "E_API"
    remedy = "see the message; the console shows what to do"


class AccountError(ApiError):
    code = "E_ACCOUNT_INVALID"
    remedy = "check the username (3-32 letters, digits, . _ -), the role (proctor, technician, viewer) and the password"


unknown_user = error_factory(
    AccountError,
    code="E_ACCOUNT_UNKNOWN",
    remedy="list the accounts with `examgate users list`, or create one with `examgate users add`",
    message="no account named {!r}",
)
weak_password = error_factory(
    AccountError,
    code="E_ACCOUNT_WEAK_PASSWORD",
    remedy="choose at least 10 characters that are not the username",
    message="password refused: {}",
)
token_file_error = error_factory(
    ApiError,
    code="E_API_TOKEN_FILE",
    remedy="write a random token of at least 24 characters into the file and `chmod 600` it",
    message="token file {}: {}",
)
