"""Typed errors of the centre's side (codes documented in docs/central.md)."""

from __future__ import annotations

from edge.errors import ExamGateError


class CentralError(ExamGateError):
    code = "E_CENTRAL_FAILED"
    remedy = "check the PostgreSQL DSN and that the server is up (pg_isready), then the server's log"


class CentralDbError(CentralError):
    code = "E_CENTRAL_DB"
    remedy = "check the --postgres DSN (host, port, user, dbname), the password and that the server accepts connections"


class CentralSchemaError(CentralError):
    code = "E_CENTRAL_SCHEMA"
    remedy = "the database holds a newer schema than this ExamGate knows: upgrade the ingest workers"


class ExportError(CentralError):
    code = "E_CENTRAL_EXPORT"
    remedy = "check the session id (examgate central sessions) and that the output folder is writable"
