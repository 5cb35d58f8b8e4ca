"""Operators for chunked uploads: init, append and finalize as separate tasks, or all in one.

The session passes between tasks through XCom as a small JSON dict (ids, sizes, checksums; never
a secret). Every operator is thin: the work is in the hooks and the protocol layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.registry import hook_for_api, hook_for_connection
from airflow_provider_chunkup.links import URL_ATTRIBUTE, UploadedMediaLink
from airflow_provider_chunkup.operators.orphan import stop_if_orphaned
from airflow_provider_chunkup.operators.resume import (
    UploadFailedForGood,
    checkpoint_for,
    failing_for_good,
    last_try,
)
from airflow_provider_chunkup.protocols.links import media_url
from airflow_provider_chunkup.protocols.progress import ProgressLog
from airflow_provider_chunkup.protocols.session import UploadResult, UploadSession
from airflow_provider_chunkup.protocols.split import SegmentsMissing, merge_sessions, session_list
from airflow_provider_chunkup.sources import describe_source

SessionLike = UploadSession | Mapping[str, Any] | str
"""An ``UploadSession``, its dict (an upstream task's XCom), or that dict rendered as text."""


def _segments(value: Sequence[int] | str | None) -> list[int] | None:
    """``[0, 1, 5]`` or ``"10:20"`` (a half-open range, for mapped appends) or ``None`` (all)."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            start, _, stop = value.partition(":")
            return list(range(int(start), int(stop))) if stop else [int(start)]
        return [int(i) for i in value]
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"segments={value!r} is not a list of segment numbers nor 'start:stop'. Pass for example [0, 1] or "
            "'0:10', or leave it unset to send every segment."
        ) from None


def _whole_number(value: int | str | None, name: str) -> int | None:
    """A templated number (``"{{ params.chunk_size }}"`` renders as text) as an int; ``None``/``""`` as unset."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        return value if isinstance(value, int) else int(str(value).strip())
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name}={value!r} is not a whole number. Pass a number of bytes, or leave it unset."
                                 ) from None


def abort_quietly(operator: BaseOperator, hook: ChunkUploadHook, session: UploadSession,
                  checkpoint: Any) -> None:
    """Abort the remote upload, logging (not raising) when even that fails: the task's own error matters more."""
    try:
        hook.abort(session, checkpoint)
    except Exception as e:
        operator.log.warning("Could not abort upload %s: %s", session.media_id, e)


def is_session_data(value: Any) -> bool:
    """An upload session or result as a dict (or a list of them, from mapped tasks)."""
    if isinstance(value, Mapping):
        return "api" in value and "media_id" in value
    return isinstance(value, (list, tuple)) and bool(value) and all(is_session_data(v) for v in value)


class _SessionOperator(BaseOperator):
    """Shared by the operators that continue an upload opened by an init task."""

    def __init__(self, *, session: SessionLike, conn_id: str | None = None, retry: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.conn_id = conn_id
        self.retry = retry

    def render_template(self, content: Any, context: Context, jinja_env: Any = None,
                        seen_oids: set[int] | None = None) -> Any:
        """Leave upload sessions (an upstream task's XCom) as they are: they are data, not templates.

        ``expand_kwargs`` hands each mapped task a session dict that Airflow would otherwise render string by
        string; with ``render_template_as_native_obj`` that turns ids into numbers (X's media key
        ``"7_2128..."`` reads as the int 72128..., too large to serialize, and the task fails).
        """
        if is_session_data(content):
            return content
        return super().render_template(content, context, jinja_env, seen_oids)

    def _session_and_hook(self, sessions: Sequence[Any] | None = None) -> tuple[UploadSession, ChunkUploadHook]:
        """The session (``sessions`` merged, when given) and the hook of its API."""
        try:
            session = UploadSession.from_dict(self.session) if sessions is None else merge_sessions(sessions)
            return session, hook_for_api(session.api, self.conn_id or session.conn_id).with_retry(self.retry)
        except Exception as e:
            if (final := failing_for_good(e)) is None:
                raise
            raise final from e

    def _give_up(self, context: Context, error: Exception, hook: ChunkUploadHook,
                 session: UploadSession) -> Exception | None:
        """When no later try will continue the upload, abort it; the no-retry failure for ``error``, if any."""
        final = failing_for_good(error)
        if final is not None or last_try(context, self):
            abort_quietly(self, hook, session, checkpoint_for(context, self._identity(session)))
        return final

    @staticmethod
    def _identity(session: UploadSession) -> dict[str, Any]:
        return {"api": session.api, "media_id": session.media_id}


class ChunkUploadInitOperator(BaseOperator):
    """Open a remote upload for ``source``; returns the session (XCom) for the append task.

    On Airflow 3.3+ the opened session is kept in the task state store: a retried init returns it
    instead of opening a second remote upload.

    :param source: local path, fsspec URL (``s3://``, ``file://``, ``memory://``...) or
        ``ObjectStoragePath``. Templated.
    :param conn_id: connection of the upload API (its type picks the API). Templated.
    :param media_type: MIME type; guessed from the file name when unset. Templated.
    :param media_category: the platform's category (X: ``tweet_video``, ``amplify_video``...). Templated.
    :param chunk_size: bytes per segment; the connection's or the API's default when unset. Templated.
    :param upload_options: API-specific init fields (X: ``shared``, ``additional_owners``). Templated.
    :param source_conn_id: the Airflow connection to read the source with: an ``aws``-style connection
        for ``s3://`` (key/secret, region, ``endpoint_url`` for MinIO or Ceph), or credentials or
        headers for ``https://``. Later tasks read the source with it too. Templated.
    :param storage_options: fsspec options for the source's filesystem (on top of the connection's).
    :param retry: this task's retry policy for each request, over the connection's: ``max_attempts``,
        ``backoff_initial``, ``backoff_max``, ``max_elapsed`` (seconds).
    """

    template_fields: Sequence[str] = ("source", "conn_id", "media_type", "media_category", "upload_options",
                                      "source_conn_id", "chunk_size")
    ui_color = "#d6eaf8"

    def __init__(self, *, source: Any, conn_id: str = "chunkup_x_default", media_type: str | None = None,
                 media_category: str | None = None, chunk_size: int | None = None,
                 upload_options: Mapping[str, Any] | None = None, source_conn_id: str | None = None,
                 storage_options: Mapping[str, Any] | None = None, retry: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retry = retry
        self.source = source
        self.source_conn_id = source_conn_id
        self.conn_id = conn_id
        self.media_type = media_type
        self.media_category = media_category
        self.chunk_size = chunk_size
        self.upload_options = upload_options
        self.storage_options = storage_options

    def _hook(self) -> ChunkUploadHook:
        return hook_for_connection(self.conn_id).with_retry(self.retry)

    def _identity(self) -> dict[str, Any]:
        return {"source": describe_source(self.source), "conn_id": self.conn_id}

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            hook = self._hook()
            refuse_secret_session(hook)
            with stop_if_orphaned(self.log):  # a retry may own the upload once our supervisor is gone
                session = hook.init(
                    self.source, media_type=self.media_type, media_category=self.media_category,
                    chunk_size=_whole_number(self.chunk_size, "chunk_size"), options=self.upload_options,
                    storage_options=self.storage_options, source_conn_id=self.source_conn_id,
                    checkpoint=checkpoint_for(context, self._identity()))
        except Exception as e:
            if (final := failing_for_good(e)) is None:
                raise
            raise final from e
        return session.to_dict()


def refuse_secret_session(hook: ChunkUploadHook) -> None:
    """The split steps hand the session over in XCom: refused where the session itself is a credential."""
    if hook.capabilities().secret_session:
        raise ConfigurationError(
            f"{hook.hook_name.removeprefix('chunkup: ')} uploads are addressed by URLs that are themselves "
            "credentials (a session URI, signed upload URLs), so their session never goes to XCom and cannot pass "
            "from an init task to an append task. Upload in one task with ChunkedUploadOperator: it keeps the "
            "session in the task state store, and a retry resumes it.")


class ChunkUploadAppendOperator(_SessionOperator):
    """Send the session's segments; returns the session with the file's checksums (XCom).

    :param session: the init task's output (``init.output``, or a template of it). Templated.
    :param segments: which segments to send: ``None`` for all, a list, or ``"start:stop"``, so
        several mapped tasks can share one upload where the API accepts segments in any order.
        Templated.
    :param max_in_flight: segments on the wire at once; the connection's setting when unset.
    :param progress_interval: seconds between progress lines in the task log.
    :param checksum: compute the file's sha256 as the chunks pass (reported by finalize).
    :param storage_options: fsspec options for the source's filesystem (on top of the source connection's).
    :param conn_id: the upload API's connection; the one that opened the session when unset. Templated.
    """

    template_fields: Sequence[str] = ("session", "conn_id", "segments")
    ui_color = "#aed6f1"

    def __init__(self, *, session: SessionLike, segments: Sequence[int] | str | None = None,
                 max_in_flight: int | None = None, storage_options: Mapping[str, Any] | None = None,
                 progress_interval: float = 10.0, checksum: bool = True, conn_id: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(session=session, conn_id=conn_id, **kwargs)
        self.segments = segments
        self.max_in_flight = max_in_flight
        self.storage_options = storage_options
        self.progress_interval = progress_interval
        self.checksum = checksum

    def execute(self, context: Context) -> dict[str, Any]:
        session, hook = self._session_and_hook()
        progress = ProgressLog(self.log, f"upload {session.media_id}", self.progress_interval)
        try:
            with stop_if_orphaned(self.log):  # a retry may own the upload once our supervisor is gone
                session = hook.append(session, segments=_segments(self.segments), max_in_flight=self.max_in_flight,
                                      progress=progress, storage_options=self.storage_options, checksum=self.checksum,
                                      checkpoint=checkpoint_for(context, self._identity(session)))
        except Exception as e:
            if (final := self._give_up(context, e, hook, session)) is None:
                raise
            raise final from e
        return session.to_dict()


class ChunkUploadFinalizeOperator(_SessionOperator):
    """Close the upload; returns the result (media id, size, sha256, processing) as XCom.

    The result of a split upload has no whole-file ``sha256`` (no task read the whole file) but
    ``range_digests``: the sha256 of each range, with its offset and length.

    :param session: the append task's output: one session, or the list that mapped append tasks return
        (each sent a range of the same upload). A list is merged, and a segment that none of them
        stored fails the task before the finalize request, naming the segments. Templated.
    :param conn_id: the upload API's connection; the one that opened the session when unset. Templated.
    :param retry: this task's retry policy for each request, as for the init task.
    """

    template_fields: Sequence[str] = ("session", "conn_id")
    ui_color = "#85c1e9"
    operator_extra_links = (UploadedMediaLink(),)

    def execute(self, context: Context) -> dict[str, Any]:
        sessions = session_list(self.session)
        session, hook = self._session_and_hook(sessions)
        try:
            with stop_if_orphaned(self.log):  # a retry may own the upload once our supervisor is gone
                result = hook.finalize(session if sessions is None else sessions,
                                       checkpoint=checkpoint_for(context, self._identity(session)))
        except SegmentsMissing as e:  # the upload is kept (not aborted): the missing ranges can still be sent
            raise UploadFailedForGood(f"{e} (not retried: finalize alone cannot send them)") from e
        except Exception as e:
            if (final := self._give_up(context, e, hook, session)) is None:
                raise
            raise final from e
        return _report(self, result, hook)


class ChunkedUploadOperator(ChunkUploadInitOperator):
    """init, append and finalize in one task: the common case. Returns the result as XCom.

    Takes :class:`ChunkUploadInitOperator`'s arguments plus ``max_in_flight``,
    ``progress_interval`` and ``checksum`` (see :class:`ChunkUploadAppendOperator`).
    """

    ui_color = "#5dade2"
    operator_extra_links = (UploadedMediaLink(),)

    def __init__(self, *, max_in_flight: int | None = None, progress_interval: float = 10.0,
                 checksum: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_in_flight = max_in_flight
        self.progress_interval = progress_interval
        self.checksum = checksum

    def execute(self, context: Context) -> dict[str, Any]:
        progress = ProgressLog(self.log, f"upload of {describe_source(self.source)}", self.progress_interval)
        checkpoint = checkpoint_for(context, self._identity())
        try:
            with stop_if_orphaned(self.log):  # a retry may own the upload once our supervisor is gone
                hook = self._hook()
                result = hook.upload(self.source, media_type=self.media_type, media_category=self.media_category,
                                     chunk_size=_whole_number(self.chunk_size, "chunk_size"),
                                     options=self.upload_options,
                                     max_in_flight=self.max_in_flight, progress=progress, checksum=self.checksum,
                                     storage_options=self.storage_options, source_conn_id=self.source_conn_id,
                                     checkpoint=checkpoint,
                                     # Without a checkpoint no retry can continue this upload; with one, the
                                     # next try does, unless this is the last try.
                                     abort_on_failure=checkpoint is None or last_try(context, self))
        except Exception as e:
            final = failing_for_good(e)
            if final is not None and checkpoint is not None and (session := checkpoint.session()) is not None:
                abort_quietly(self, self._hook(), session, checkpoint)  # no retry will come for it
            if final is None:
                raise
            raise final from e
        return _report(self, result, hook)


def _report(operator: BaseOperator, result: UploadResult, hook: ChunkUploadHook) -> dict[str, Any]:
    """Log the result, and keep the media's link for the "Uploaded media" button (never failing the task)."""
    try:
        url = media_url(result, hook.api_base_url())
    except Exception as e:
        operator.log.debug("No link to media %s: %s", result.media_id, e)
        url = None
    setattr(operator, URL_ATTRIBUTE, url)
    if url:
        operator.log.info("Uploaded media: %s", url)
    rate = result.mib_per_second
    operator.log.info("Media %s (%s): %d bytes, sha256 %s%s, processing: %s", result.media_id,
                      result.media_key or "no media key", result.size, result.sha256 or "not computed",
                      f", sent at {rate:.1f} MiB/s" if rate else "", result.processing_status.state)
    return result.to_dict()
