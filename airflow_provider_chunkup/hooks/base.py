"""What every chunkup hook shares: connection -> protocol, and the upload steps, sync and async.

An API's hook only says how its connection becomes a protocol (:meth:`ChunkUploadHook.build_protocol`); the steps
(init, append, finalize, status, and the one-call upload) are written once, here, async first,
with synchronous wrappers for operators and scripts.
"""

from __future__ import annotations

import asyncio
import mimetypes
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from airflow.sdk import BaseHook, Connection
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import ConfigurationError, UploadExpired
from airflow_provider_chunkup.hooks.connection import ConnectionOptions, undefined_connection
from airflow_provider_chunkup.hooks.sources import storage_options_for
from airflow_provider_chunkup.hooks.sources.worker import open_source, this_worker
from airflow_provider_chunkup.protocols.base import Capabilities, UploadProtocol
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint
from airflow_provider_chunkup.protocols.progress import ProgressCallback
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
)
from airflow_provider_chunkup.protocols.split import check_complete, merge_sessions, missing_segments, session_list
from airflow_provider_chunkup.protocols.transfer import (
    abort_unfinished,
    finish,
    held_back,
    open_upload,
    send_segments,
)
from airflow_provider_chunkup.protocols.transfer import upload as upload_all
from airflow_provider_chunkup.sources import SourceLike, url_secrets

T = TypeVar("T")

SessionInput = UploadSession | Mapping[str, Any] | str | Sequence[UploadSession | Mapping[str, Any] | str]
"""A session, its dict or text, or (for finalize) the list of sessions mapped append tasks returned."""

# Types Python's table lacks but media pipelines meet.
mimetypes.add_type("video/mp2t", ".ts")
mimetypes.add_type("video/quicktime", ".mov")
mimetypes.add_type("text/vtt", ".vtt")
mimetypes.add_type("text/srt", ".srt")
mimetypes.add_type("video/webm", ".webm")
mimetypes.add_type("image/webp", ".webp")


class ChunkUploadHook(BaseHook, ABC):
    """Base of the per-API hooks. Subclasses set the class attributes and :meth:`build_protocol`.

    :param conn_id: the Airflow connection of the API (its type must be :attr:`conn_type`).
    """

    api: ClassVar[str]
    conn_type: ClassVar[str]
    default_conn_name: ClassVar[str]
    default_max_in_flight: ClassVar[int] = 1

    def __init__(self, conn_id: str | None = None, logger_name: str | None = None) -> None:
        super().__init__(logger_name=logger_name)
        self.conn_id = conn_id or self.default_conn_name
        self._conn: Connection | None = None
        self._options: ConnectionOptions | None = None
        self._retry: dict[str, Any] = {}

    def with_retry(self, retry: Mapping[str, Any] | None) -> ChunkUploadHook:
        """Override the connection's retry policy for this hook (``max_attempts``, ``backoff_initial``,
        ``backoff_max``, ``max_elapsed``; the ``retry_`` prefix is optional)."""
        self._retry = {k if k.startswith("retry_") else f"retry_{k}": v for k, v in (retry or {}).items()}
        RetryPolicy.from_options(self._retry)  # a typo fails here, before any request
        self._conn = self._options = None
        return self

    # -- connection -> protocol -------------------------------------------------------------------

    @abstractmethod
    def build_protocol(self, conn: Connection, options: ConnectionOptions) -> UploadProtocol:
        """The configured protocol client for this connection."""

    def _check_type(self, conn: Connection) -> None:
        if conn.conn_type != self.conn_type:
            raise ConfigurationError(
                f"Connection {self.conn_id!r} has type {conn.conn_type!r}, but {type(self).__name__} needs "
                f"a {self.conn_type!r} connection. Point conn_id at a {self.conn_type} connection."
            )

    def _load(self, conn: Connection, extra: Mapping[str, Any]) -> None:
        self._check_type(conn)
        self._conn = conn
        self._options = ConnectionOptions(self.conn_id, conn.conn_type, {**extra, **self._retry})
        # Read the transfer settings now, so a typo fails before any request.
        self.chunk_size()
        self.max_in_flight()

    def get_conn(self) -> UploadProtocol:
        """A new protocol client for the connection (use it as ``async with``)."""
        if self._conn is None:
            try:
                conn = self.get_connection(self.conn_id)
            except AirflowNotFoundException:
                raise undefined_connection(self.conn_id, f"{self.conn_type}, for {type(self).__name__}") from None
            self._load(conn, conn.extra_dejson)
        assert self._conn is not None
        return self.build_protocol(self._conn, self.options)

    async def aget_conn(self) -> UploadProtocol:
        """:meth:`get_conn` for async callers (triggers): no blocking connection lookup."""
        if self._conn is None:
            try:
                conn = await self.aget_connection(self.conn_id)
            except AirflowNotFoundException:
                raise undefined_connection(self.conn_id, f"{self.conn_type}, for {type(self).__name__}") from None
            self._load(conn, await conn.aextra_dejson())
        return self.get_conn()

    @property
    def options(self) -> ConnectionOptions:
        """The connection's extra fields, typed (the connection is fetched on first use)."""
        if self._options is None:
            self.get_conn()
        assert self._options is not None
        return self._options

    def capabilities(self) -> Capabilities:
        """What the connection's API allows (parallel segments...), from its settings alone: no request."""
        return self._inspect(lambda p: p.capabilities)

    def api_base_url(self) -> str:
        """The base URL the connection's requests go to (the API's own, or an emulator's): no request."""
        return self._inspect(lambda p: p.client.base_url)

    def _inspect(self, read: Callable[[UploadProtocol], T]) -> T:
        """Read something off the configured protocol client, then close it unused."""
        protocol = self.get_conn()
        try:
            return read(protocol)
        finally:
            run_sync(protocol.client.aclose())

    def chunk_size(self, override: int | None = None) -> int | None:
        return override if override is not None else self.options.get_int("chunk_size")

    def max_in_flight(self, override: int | None = None) -> int:
        value = override if override is not None else self.options.get_int("max_in_flight", self.default_max_in_flight)
        if value is None or value < 1:
            raise ConfigurationError(f"max_in_flight must be at least 1, got {value!r} (connection {self.conn_id!r}).")
        return value

    # -- the steps, async ------------------------------------------------------------------------

    async def _using(self, protocol: UploadProtocol, step: Callable[[UploadProtocol], Awaitable[T]]) -> T:
        async with protocol:
            return await step(protocol)

    async def ainit(self, source: SourceLike, *, media_type: str | None = None,
                    media_category: str | None = None, chunk_size: int | None = None,
                    options: Mapping[str, Any] | None = None, storage_options: Mapping[str, Any] | None = None,
                    source_conn_id: str | None = None, checkpoint: Checkpoint | None = None) -> UploadSession:
        """Open a remote upload for ``source``; returns the session to append to.

        ``source_conn_id`` names the Airflow connection to read the source with (an ``aws``-style
        connection for ``s3://``, credentials or headers for ``https://``); ``storage_options`` go
        to its fsspec filesystem on top. With a ``checkpoint`` holding a session an earlier try
        opened, that session is returned: a retried init never opens a second remote upload.
        """
        if checkpoint is not None and (earlier := checkpoint.session()) is not None and earlier.api == self.api:
            self.log.info("Upload %s was opened by an earlier try; continuing with it.", earlier.media_id)
            return earlier
        protocol = await self.aget_conn()
        storage_options = await storage_options_for(source, source_conn_id, storage_options)
        spec = await self._spec(source, media_type, media_category, chunk_size, options, storage_options)
        session = await self._using(protocol, lambda p: self._init(p, spec, source, storage_options))
        session.source_conn_id = source_conn_id
        if checkpoint is not None:
            checkpoint.save_session(session)
        return session

    async def aappend(self, session: UploadSession | Mapping[str, Any] | str, *,
                      segments: Iterable[int] | None = None, max_in_flight: int | None = None,
                      progress: ProgressCallback | None = None,
                      storage_options: Mapping[str, Any] | None = None, checksum: bool = True,
                      checkpoint: Checkpoint | None = None) -> UploadSession:
        """Send ``segments`` (every one by default) of the session's source.

        With ``checksum`` (the default) the whole file's sha256 is computed as the chunks pass. With a
        ``checkpoint``, every acknowledged segment is recorded there, and segments an earlier try
        recorded are not sent again.
        """
        protocol = await self.aget_conn()
        record = UploadSession.from_dict(session)
        if checkpoint is not None and (earlier := checkpoint.session()) is not None \
                and earlier.media_id == record.media_id:
            for index in earlier.stored_segments():
                record.mark_stored(index)
            self.log.info("An earlier try stored %s of upload %s.", earlier.progress_text(), record.media_id)
        storage_options = await storage_options_for(record.source, record.source_conn_id, storage_options)
        return await self._using(protocol, lambda p: self._append(
            p, record, segments, max_in_flight, progress, storage_options, checksum, checkpoint))

    async def afinalize(self, session: SessionInput, storage_options: Mapping[str, Any] | None = None,
                        checkpoint: Checkpoint | None = None) -> UploadResult:
        """Close the upload (sending the last segment where the API completes on it).

        ``session`` may be the list of sessions that mapped append tasks returned, each having sent a
        range of one upload: they are merged, and every segment must be in one of them (else
        :class:`~airflow_provider_chunkup.protocols.split.SegmentsMissing`, before the finalize request).
        The result holds the media id and the processing state. With a ``checkpoint`` holding the
        result of an earlier try, that result is returned: an upload is never finalized twice.
        """
        if checkpoint is not None and (earlier := checkpoint.result()) is not None:
            self.log.info("Upload %s was finalized by an earlier try.", earlier.media_id)
            return earlier
        sessions = session_list(session)
        record = UploadSession.from_dict(session) if sessions is None else merge_sessions(sessions)
        protocol = await self.aget_conn()
        if protocol.capabilities.completes_with_last_segment:
            storage_options = await storage_options_for(record.source, record.source_conn_id, storage_options)

        async def complete_then_finalize(p: UploadProtocol) -> UploadResult:
            if sessions is not None:
                await self._check_complete(p, record, len(sessions))
            return await self._finalize(p, record, storage_options, checkpoint)

        return await self._using(protocol, complete_then_finalize)

    async def astatus(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        """Processing state of an uploaded media (``until``: what "done" means, where the API distinguishes)."""
        protocol = await self.aget_conn()
        return await self._using(protocol, lambda p: p.status(media_id, until))

    async def aupload(self, source: SourceLike, *, media_type: str | None = None,
                      media_category: str | None = None, chunk_size: int | None = None,
                      options: Mapping[str, Any] | None = None, max_in_flight: int | None = None,
                      progress: ProgressCallback | None = None,
                      storage_options: Mapping[str, Any] | None = None, checksum: bool = True,
                      source_conn_id: str | None = None, checkpoint: Checkpoint | None = None,
                      abort_on_failure: bool = True) -> UploadResult:
        """init, append every segment, finalize: one call for scripts and single tasks.

        With a ``checkpoint`` an interrupted earlier call (a killed task's try) is continued rather than
        started again. When the upload fails and ``abort_on_failure`` holds, the remote upload is
        aborted where the API allows it (operators leave it for the next try until the last one).
        """
        protocol = await self.aget_conn()
        storage_options = await storage_options_for(source, source_conn_id, storage_options)
        spec = await self._spec(source, media_type, media_category, chunk_size, options, storage_options)
        return await self._using(protocol, lambda p: self._upload(
            p, source, spec, max_in_flight, progress, storage_options, checksum, checkpoint, abort_on_failure))

    async def aabort(self, session: UploadSession | Mapping[str, Any] | str,
                     checkpoint: Checkpoint | None = None) -> bool:
        """Abort an unfinished upload where the API allows it (logged either way); ``True`` if aborted."""
        protocol = await self.aget_conn()
        record = UploadSession.from_dict(session)
        return await self._using(protocol, lambda p: abort_unfinished(p, record, checkpoint))

    # -- the steps, sync (the connection is fetched synchronously first) --------------------------

    def init(self, source: SourceLike, **kwargs: Any) -> UploadSession:
        """Synchronous :meth:`ainit`."""
        self.get_conn()
        return run_sync(self.ainit(source, **kwargs))

    def append(self, session: UploadSession | Mapping[str, Any] | str, **kwargs: Any) -> UploadSession:
        """Synchronous :meth:`aappend`."""
        self.get_conn()
        return run_sync(self.aappend(session, **kwargs))

    def finalize(self, session: SessionInput, storage_options: Mapping[str, Any] | None = None,
                 checkpoint: Checkpoint | None = None) -> UploadResult:
        """Synchronous :meth:`afinalize`."""
        self.get_conn()
        return run_sync(self.afinalize(session, storage_options, checkpoint))

    def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        """Synchronous :meth:`astatus`."""
        self.get_conn()
        return run_sync(self.astatus(media_id, until))

    def abort(self, session: UploadSession | Mapping[str, Any] | str, checkpoint: Checkpoint | None = None) -> bool:
        """Synchronous :meth:`aabort`."""
        self.get_conn()
        return run_sync(self.aabort(session, checkpoint))

    def upload(self, source: SourceLike, **kwargs: Any) -> UploadResult:
        """Synchronous :meth:`aupload`: upload ``source`` and return the :class:`UploadResult`."""
        self.get_conn()
        return run_sync(self.aupload(source, **kwargs))

    # -- shared step bodies ----------------------------------------------------------------------

    async def _spec(self, source: SourceLike, media_type: str | None, media_category: str | None,
                    chunk_size: int | None, options: Mapping[str, Any] | None,
                    storage_options: Mapping[str, Any] | None) -> UploadSpec:
        with open_source(source, storage_options) as src:
            _mask_url_secrets(src.location)
            size = await asyncio.to_thread(lambda: src.size)
            if size and src.is_local:  # an unreadable file fails now, before a remote upload is opened
                await asyncio.to_thread(src.read, 0, 1)
            return UploadSpec(
                total_bytes=size, media_type=media_type or guess_media_type(src.url),
                media_category=media_category or None, chunk_size=self.chunk_size(chunk_size),
                source=src.location, options=dict(options or {}),
            )

    async def _init(self, protocol: UploadProtocol, spec: UploadSpec, source: SourceLike,
                    storage_options: Mapping[str, Any] | None) -> UploadSession:
        with open_source(source, storage_options) as src:
            session = await open_upload(protocol, spec, src)
        session.conn_id = self.conn_id
        if src.is_local:  # so a task on another worker that cannot find the file can say where it was
            session.source_host = this_worker()
        self.log.info("%s upload %s opened for %s: %d bytes in %s", protocol.display_name, session.media_id,
                      src.url, session.total_bytes, session.layout())
        return session

    async def _append(self, protocol: UploadProtocol, session: UploadSession,
                      segments: Iterable[int] | None, max_in_flight: int | None,
                      progress: ProgressCallback | None,
                      storage_options: Mapping[str, Any] | None, checksum: bool,
                      checkpoint: Checkpoint | None = None) -> UploadSession:
        if not session.source:
            raise ConfigurationError(f"Upload {session.media_id} has no source to read from.")
        with open_source(session.source, storage_options, session.source_host) as src:
            try:
                return await send_segments(protocol, session, src, indexes=segments,
                                           max_in_flight=self.max_in_flight(max_in_flight), progress=progress,
                                           checksum=checksum, hold=held_back(protocol, session),
                                           checkpoint=checkpoint)
            except UploadExpired:
                if segments is not None or not self.options.get_bool("restart_expired"):
                    raise
            # The user allowed it (restart_expired): the same file, a new remote upload.
            self.log.warning("%s upload %s expired on the server; starting a new upload of %s.",
                             protocol.display_name, session.media_id, src.url)
            spec = UploadSpec(total_bytes=session.total_bytes, media_type=session.media_type,
                              media_category=session.media_category, chunk_size=session.chunk_size,
                              source=session.source, options=dict(session.remote.get("init_options") or {}))
            fresh = await open_upload(protocol, spec, src)
            fresh.conn_id = session.conn_id
            fresh.source_conn_id = session.source_conn_id
            if checkpoint is not None:
                checkpoint.save_session(fresh)
            return await send_segments(protocol, fresh, src, max_in_flight=self.max_in_flight(max_in_flight),
                                       progress=progress, checksum=checksum, hold=held_back(protocol, fresh),
                                       checkpoint=checkpoint)

    async def _check_complete(self, protocol: UploadProtocol, session: UploadSession, tasks: int) -> None:
        """Fail before finalizing when the split tasks' sessions lack a segment."""
        hold = held_back(protocol, session)
        missing = missing_segments(session, hold)
        if missing and protocol.capabilities.reports_committed:  # what the server holds counts too
            for index in (await protocol.committed(session) or set()).intersection(missing):
                session.mark_stored(index)
        check_complete(session, hold, api=protocol.display_name)
        self.log.info("%d append tasks stored the %d segments of upload %s.", tasks,
                      session.segment_count - len(hold), session.media_id)

    async def _finalize(self, protocol: UploadProtocol, session: UploadSession,
                        storage_options: Mapping[str, Any] | None = None,
                        checkpoint: Checkpoint | None = None) -> UploadResult:
        if protocol.capabilities.completes_with_last_segment and session.source:
            with open_source(session.source, storage_options, session.source_host) as src:
                result = await finish(protocol, session, src, checkpoint=checkpoint)
        else:
            result = await finish(protocol, session, None, checkpoint=checkpoint)
        result.conn_id = self.conn_id
        self.log.info("%s upload %s finalized: %d bytes, processing %s", protocol.display_name,
                      result.media_id, result.size, result.processing_status.state)
        return result

    async def _upload(self, protocol: UploadProtocol, source: SourceLike, spec: UploadSpec,
                      max_in_flight: int | None, progress: ProgressCallback | None,
                      storage_options: Mapping[str, Any] | None, checksum: bool,
                      checkpoint: Checkpoint | None = None, abort_on_failure: bool = True) -> UploadResult:
        with open_source(source, storage_options) as src:
            try:
                result = await upload_all(protocol, src, spec, max_in_flight=self.max_in_flight(max_in_flight),
                                          progress=progress, conn_id=self.conn_id, checksum=checksum,
                                          checkpoint=checkpoint, abort_on_failure=abort_on_failure)
            except UploadExpired:
                if checkpoint is None or not self.options.get_bool("restart_expired"):
                    raise
                # The user allowed it (restart_expired): forget the expired upload, send the file again.
                self.log.warning("The upload an earlier try opened has expired; starting a new upload of %s.",
                                 src.url)
                checkpoint.clear()
                result = await upload_all(protocol, src, spec, max_in_flight=self.max_in_flight(max_in_flight),
                                          progress=progress, conn_id=self.conn_id, checksum=checksum,
                                          checkpoint=checkpoint, abort_on_failure=abort_on_failure)
        result.conn_id = self.conn_id
        return result


def _mask_url_secrets(location: str) -> None:
    """Have Airflow's masker hide a password or presigned query carried in a source URL, wherever it is logged."""
    secrets = url_secrets(location)
    if secrets:
        from airflow.sdk.log import mask_secret

        for secret in secrets:
            mask_secret(secret)


def guess_media_type(name: str) -> str | None:
    """The media type a file name suggests (``.mp4`` -> ``video/mp4``), or ``None``."""
    media_type, _ = mimetypes.guess_type(name.split("?", 1)[0], strict=False)
    return media_type

