"""What the operators add to a failing or retried upload: checkpoints in the task state store,
and failing without a retry when no retry can help."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_chunkup.errors import (
    ConfigurationError,
    ProcessingFailed,
    RemoteRejected,
    SourceMissing,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint


class UploadFailedForGood(AirflowFailException):
    """A chunkup error that a retry of the task cannot fix (bad input, a rejection): no retry is attempted.

    The original error (a :class:`~airflow_provider_chunkup.errors.ChunkupError`) is its ``__cause__``.
    """


def checkpoint_for(context: Context | Mapping[str, Any] | None, identity: Mapping[str, Any]) -> Checkpoint | None:
    """A checkpoint in the task state store (Airflow 3.3+), or ``None`` where there is none."""
    store = context.get("task_state_store") if context else None
    return Checkpoint(store, identity=identity) if store is not None else None


def last_try(context: Context | Mapping[str, Any] | None, operator: BaseOperator) -> bool:
    """Whether Airflow will not retry the task after this try (no context: a direct call, no retry)."""
    ti = context.get("ti") if context else None
    try_number = getattr(ti, "try_number", None)
    return not isinstance(try_number, int) or try_number > (operator.retries or 0)


def failing_for_good(error: BaseException) -> UploadFailedForGood | None:
    """The no-retry failure for an error that will recur on every try, else ``None``.

    Bad settings or input, and 4xx answers the platform will keep giving, recur; an expired remote upload
    too (unless the connection allows restarting it, which the hook already did). Server errors,
    rate limits, network failures and source read errors may pass: Airflow retries those. A missing source
    does not: a retry landing on another worker would find it only by luck.
    """
    if isinstance(error, (ConfigurationError, RemoteRejected, ProcessingFailed, UploadExpired, SourceMissing)):
        return UploadFailedForGood(f"{error} (not retried: a retry of the task cannot fix this)")
    return None
