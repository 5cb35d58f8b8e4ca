"""Errors chunkup raises, one hierarchy for every API, easy to catch precisely.

``ChunkupError`` is the root. Errors a user can cause say what is wrong and how to fix it.
This module imports nothing from Airflow.
"""

from __future__ import annotations

from typing import Any


class ChunkupError(Exception):
    """Root of every error chunkup raises."""


class ConfigurationError(ChunkupError, ValueError):
    """A setting is wrong: connection, operator argument, media type or category."""


class PlanError(ConfigurationError):
    """The file cannot be cut into chunks the API accepts (too large, too many segments...)."""


class SourceError(ChunkupError):
    """The source file cannot be read, or changed while it was read."""


class SourceMissing(SourceError):
    """The source does not exist (or no longer does) where this task looks for it."""


class RemoteError(ChunkupError):
    """The platform answered with an error.

    ``status`` is the HTTP status (``None`` for a transport failure), ``body`` the parsed JSON body
    (or the start of the text when it is not JSON), so the platform's own words are never lost.
    """

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class RemoteRejected(RemoteError):
    """A 4xx the platform will keep answering: retrying cannot help."""


class AuthenticationFailed(RemoteRejected):
    """401/403: the credentials are missing, wrong, or lack a scope."""


class DuplicatePost(RemoteRejected):
    """X refused a post whose text repeats one the account posted recently."""


class MediaNotReady(ConfigurationError):
    """Media is still processing (or was never finalized) where it must be ready: wait for it first."""


class UploadExpired(RemoteRejected):
    """The remote upload session expired; a new upload must be started."""


class RateLimited(RemoteError):
    """429 that could not be waited out within the retry budget."""

    def __init__(self, message: str, *, status: int | None = 429, body: Any = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class ServerError(RemoteError):
    """5xx or a transport failure (connection reset, timeout)."""


class MalformedResponse(RemoteError):
    """The platform answered 2xx with a body we cannot use (not JSON, missing fields)."""


class RetryExhausted(RemoteError):
    """A retryable failure persisted through every attempt the retry policy allows."""


class ProcessingFailed(ChunkupError):
    """The platform accepted the upload but failed to process it; ``error`` is its own reason."""

    def __init__(self, message: str, *, error: Any = None) -> None:
        super().__init__(message)
        self.error = error
