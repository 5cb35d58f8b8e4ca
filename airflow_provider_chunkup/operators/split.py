"""Spread one upload over mapped append tasks: the split operator.

    init -> split -> append (mapped, one range each) -> finalize

Only where the API takes segments in any order and several at a time (X, api.video in ``part``
mode, a tus upload opened as partial uploads); elsewhere the split refuses before any append runs, naming
the fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.registry import hook_for_api
from airflow_provider_chunkup.operators.resume import failing_for_good
from airflow_provider_chunkup.protocols.base import Capabilities
from airflow_provider_chunkup.protocols.session import UploadSession
from airflow_provider_chunkup.protocols.split import refuse_windows, segment_ranges

SessionLike = UploadSession | Mapping[str, Any] | str


class ChunkUploadSplitOperator(BaseOperator):
    """Cut an opened upload into ``parts`` segment ranges, one per mapped append task.

    Returns (XCom) a list of ``{"session": <the session>, "segments": "a:b"}``, ready for
    ``ChunkUploadAppendOperator.partial(task_id="append").expand_kwargs(split.output)``; the appends'
    outputs, a list, go to ``ChunkUploadFinalizeOperator(session=append.output)``. The ranges are
    contiguous and as even as possible; fewer than ``parts`` when the file has fewer segments. For
    api.video the last segment is in no range: finalize sends it, completing the upload.

    No request is sent: the API's capabilities come from the session's connection settings. Where the
    API needs segments in order (Content-Range APIs, api.video ``upload_mode=bytes``) the task fails
    at once, without retries, saying so.

    :param session: the init task's output. Templated.
    :param parts: how many append tasks to spread the upload over (at least 1). Templated.
    :param conn_id: the upload connection, when not the one the session was opened with. Templated.
    """

    template_fields: Sequence[str] = ("session", "parts", "conn_id")
    ui_color = "#d4e6f1"

    def __init__(self, *, session: SessionLike, parts: int | str = 4, conn_id: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.parts = parts
        self.conn_id = conn_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        try:
            return self._split()
        except Exception as e:
            if (final := failing_for_good(e)) is None:
                raise
            raise final from e

    def _split(self) -> list[dict[str, Any]]:
        session = UploadSession.from_dict(self.session)
        refuse_windows(session)  # before any connection is looked up: the session alone says so
        hook = hook_for_api(session.api, self.conn_id or session.conn_id)
        capabilities = upload_capabilities(hook, session)
        if not capabilities.parallel_segments:
            raise ConfigurationError(refusal(session.api, hook.conn_id, capabilities))
        ranges = segment_ranges(session, _parts(self.parts), hold_last=capabilities.completes_with_last_segment)
        self.log.info("Upload %s: %d segments in %d ranges (%s)%s.", session.media_id, session.segment_count,
                      len(ranges), ", ".join(ranges),
                      "; finalize sends the last segment" if capabilities.completes_with_last_segment
                      and session.segment_count > 1 else "")
        record = session.to_dict()
        return [{"session": record, "segments": r} for r in ranges]


def upload_capabilities(hook: ChunkUploadHook, session: UploadSession) -> Capabilities:
    """What the opened upload allows: the connection's capabilities, or the session's where the hook can tell
    (tus: an upload opened as partial uploads takes segments in parallel, one opened as a single upload does not)."""
    for_session = getattr(hook, "session_capabilities", None)
    return for_session(session) if callable(for_session) else hook.capabilities()


def refusal(api: str, conn_id: str, capabilities: Capabilities) -> str:
    """Why the upload of ``api`` on ``conn_id`` cannot be split, and what to do instead."""
    because = capabilities.in_order_because or "it takes segments only in order"
    return (f"The {api} upload on connection {conn_id!r} cannot be split over parallel append tasks: {because}. "
            "Or send every segment from one append task (drop the split: init -> append -> finalize).")


def _parts(value: int | str) -> int:
    """``parts`` as rendered from a template (text) or given (an int)."""
    try:
        if isinstance(value, bool):
            raise ValueError
        parts = int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"parts={value!r} is not a whole number. Pass the number of append tasks, "
                                 "for example 4.") from None
    return parts
