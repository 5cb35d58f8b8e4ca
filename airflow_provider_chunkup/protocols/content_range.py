"""``Content-Range`` + ``upload_id`` chunk APIs: SelfCommunity's media upload, django-chunked-upload.

``POST <chunk path>`` with ``Content-Range: bytes start-end/total`` (end inclusive) and the chunk as
a multipart file field; the first answer names the ``upload_id`` every later chunk carries. Chunks go
strictly in order. ``POST <complete path>`` with ``upload_id`` and the whole file's ``md5`` ends it.

How the steps map: init sends the first chunk (it is what opens the upload, and so the
``upload_id`` is in XCom before any later task runs); append sends the rest in order; finalize sends
the complete request with the md5 computed while the chunks streamed. A retried task learns the
server's offset from django-chunked-upload's own answer (``400 {"detail": "Offsets do not match",
"offset": N}``) and continues from there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from airflow_provider_chunkup.errors import (
    ConfigurationError,
    MalformedResponse,
    RemoteError,
    RemoteRejected,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.base import Capabilities, Chunk, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import Limits, MiB, Segment
from airflow_provider_chunkup.protocols.http import (
    BODY_EXCERPT,
    NOT_THE_API,
    ApiClient,
    error_class,
    json_object,
    response_body,
)
from airflow_provider_chunkup.protocols.multipart import MultipartBody
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
    file_name,
)

CHUNK_PATH = "/api/v2/media/upload/chunk/"
COMPLETE_PATH = "/api/v2/media/upload/complete/"
SELFCOMMUNITY_CHUNK = 204800
# SelfCommunity's kinds: the multipart field, the complete step's ``type``, and the size limit.
KINDS: dict[str, dict[str, Any]] = {
    "image": {"field": "image", "type": "image", "limit": 5 * MiB},
    "document": {"field": "document", "type": "doc", "limit": 50 * MiB},
    "file": {"field": "file", "type": None, "limit": None},  # stock django-chunked-upload
}
MEDIA_FIELDS = ("id", "type", "title", "url", "image", "image_width", "image_height", "added_at")
OFFSETS_DO_NOT_MATCH = "Offsets do not match"


def kind_for(media_type: str | None) -> str:
    """SelfCommunity takes images as ``image`` and everything else (PDFs...) as ``document``."""
    return "image" if media_type and media_type.startswith("image/") else "document"


class ContentRangeUpload(UploadProtocol):
    """Chunk uploads with ``Content-Range`` and ``upload_id``, completed with an md5.

    :param auth: ``BearerAuth`` with the API's token.
    :param chunk_path, complete_path: the two endpoints (SelfCommunity's by default).
    :param file_field, complete_type: override the field and ``type`` the kind implies.
    :param size_limits: bytes per kind (``image``, ``document``, ``file``) replacing the defaults.
    :param max_chunk_bytes: the server's largest chunk (SelfCommunity: 204800).
    """

    api: ClassVar[str] = "content_range"
    display_name: ClassVar[str] = "Content-Range upload API"
    capabilities = Capabilities(parallel_segments=False, reports_committed=True, opens_with_first_segment=True,
                                in_order_because="the API takes chunks strictly in order")
    digests: ClassVar[tuple[str, ...]] = ("md5",)

    def __init__(self, *, auth: httpx.Auth | None, base_url: str, chunk_path: str = CHUNK_PATH,
                 complete_path: str = COMPLETE_PATH, file_field: str | None = None, complete_type: str | None = None,
                 size_limits: Mapping[str, int | None] | None = None, max_chunk_bytes: int = SELFCOMMUNITY_CHUNK,
                 default_chunk_bytes: int = SELFCOMMUNITY_CHUNK, retry: RetryPolicy | None = None,
                 timeout: float = 120.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.chunk_path = chunk_path
        self.complete_path = complete_path
        self.file_field = file_field
        self.complete_type = complete_type
        self.size_limits = {kind: spec["limit"] for kind, spec in KINDS.items()} | dict(size_limits or {})
        self.limits = Limits(default_chunk_bytes=min(default_chunk_bytes, max_chunk_bytes),
                             max_chunk_bytes=max_chunk_bytes, max_segments=10**9)
        super().__init__(ApiClient(base_url, auth=auth, timeout=timeout, retry=retry,
                                   error_factory=content_range_error, transport=transport))

    # -- validation ---------------------------------------------------------------------------

    def _kind(self, spec_or_session: UploadSpec | UploadSession) -> str:
        kind = spec_or_session.media_category or kind_for(spec_or_session.media_type)
        if kind not in KINDS:
            raise ConfigurationError(
                f"media_category {kind!r} is not a kind this API knows; use one of {', '.join(KINDS)} "
                "(image: 5 MB, document: 50 MB on SelfCommunity; file: stock django-chunked-upload)."
            )
        return kind

    def validate(self, spec: UploadSpec) -> None:
        kind = self._kind(spec)
        limit = self.size_limits.get(kind)
        if limit is not None and spec.total_bytes > limit:
            raise ConfigurationError(
                f"The source is {spec.total_bytes} bytes; this API takes {kind} uploads up to {limit} bytes. "
                f"Use a smaller file, or raise size_limits in the connection if the server allows more."
            )
        if spec.options:
            raise ConfigurationError(
                f"Chunk uploads take no options ({', '.join(sorted(spec.options))}); set the field and complete "
                "type in the connection (file_field, complete_type)."
            )

    # -- steps --------------------------------------------------------------------------------

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        kind = self._kind(spec)
        return UploadSession(api=self.api, media_id="", total_bytes=spec.total_bytes, chunk_size=plan.chunk_size,
                             source=spec.source, media_type=spec.media_type, media_category=kind,
                             remote={"field": self.file_field or KINDS[kind]["field"]})

    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        fields = {"upload_id": session.media_id} if session.media_id else {}
        content_range = f"bytes {segment.offset}-{segment.end}/{session.total_bytes}"
        step = f"chunk {content_range} of upload {session.media_id or '(new)'}"
        body = MultipartBody(fields, session.remote.get("field") or "file", data, filename=_filename(session),
                             content_type=session.media_type or "application/octet-stream")
        try:
            response = await self.client.request("POST", self.chunk_path, content=body,
                                                 headers={**body.headers, "Content-Range": content_range}, step=step)
        except RemoteRejected as e:
            server_offset = _int(e.body.get("offset")) if isinstance(e.body, dict) else None
            if server_offset is None or e.body.get("detail") != OFFSETS_DO_NOT_MATCH:  # type: ignore[union-attr]
                raise
            if server_offset > segment.end:
                return  # the server has this chunk already (an earlier try's answer was lost)
            raise RemoteRejected(
                f"{e}. The server holds {server_offset} bytes, fewer than the {segment.offset} this chunk follows: "
                "chunks go in order, so the upload cannot continue from here. Start a new upload.",
                status=e.status, body=e.body) from e
        finally:
            body.release()
        answer = json_object(response, step)
        upload_id = answer.get("upload_id")
        if not upload_id:
            raise MalformedResponse(f"{step} answered without an upload_id: {json.dumps(answer)[:300]}. "
                                    f"{NOT_THE_API}", status=response.status_code, body=answer)
        if session.media_id and str(upload_id) != session.media_id:
            raise MalformedResponse(f"{step} answered for upload {upload_id}, not {session.media_id}.",
                                    status=response.status_code, body=answer)
        session.media_id = str(upload_id)
        offset = _int(answer.get("offset"))
        if offset is not None and offset != segment.end + 1:
            raise MalformedResponse(
                f"{step}: the server's offset is {offset}, expected {segment.end + 1}; it did not store the chunk "
                "as sent.", status=response.status_code, body=answer)

    async def finalize(self, session: UploadSession) -> UploadResult:
        md5 = session.digests.get("md5")
        if not md5:
            raise ConfigurationError(
                f"Upload {session.media_id} has no md5: complete needs the whole file's md5, computed while append "
                "sends every chunk. Pass the append task's output to finalize."
            )
        fields = {"upload_id": session.media_id, "md5": md5}
        kind_type = self.complete_type or KINDS[session.media_category or "file"]["type"]
        if kind_type:
            fields["type"] = kind_type
        step = f"complete of upload {session.media_id}"
        try:
            response = await self.client.request("POST", self.complete_path, step=step,
                                                 files={k: (None, v) for k, v in fields.items()})
        except RemoteRejected as e:
            if e.status == 400 and "md5" in str(e.body).lower():
                raise RemoteRejected(
                    f"The server's md5 of upload {session.media_id} differs from the md5 of the file chunkup sent "
                    f"({md5}): {e}. The source changed during the upload or bytes were lost; upload it again.",
                    status=e.status, body=e.body) from e
            raise
        media = json_object(response, step)
        if media.get("id") is None:
            raise MalformedResponse(f"{step} answered without a media id: {json.dumps(media)[:300]}. {NOT_THE_API}",
                                    status=response.status_code, body=media)
        return UploadResult(
            api=self.api, media_id=str(media["id"]), size=session.total_bytes, conn_id=session.conn_id,
            sha256=session.digests.get("sha256"), md5=md5, processing=None,
            details={"upload_id": session.media_id, **{k: media[k] for k in MEDIA_FIELDS if k in media}},
            transfer_seconds=round(session.transfer_seconds, 3) or None,
        )

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        """Nothing to process: the media is ready once complete answers."""
        return ProcessingStatus(state="none")

    async def committed(self, session: UploadSession) -> set[int] | None:
        """The segments below the server's offset, asked without sending any of the file.

        A one-byte chunk claimed at an offset no upload can be at (past the end) draws
        django-chunked-upload's ``Offsets do not match`` answer, which carries the server's offset.
        """
        if not session.media_id:
            return None
        offset = await self._server_offset(session)
        if offset is None:
            return None
        if offset % session.chunk_size and offset != session.total_bytes:
            raise RemoteRejected(
                f"The server holds {offset} bytes of upload {session.media_id}, which is not a whole number of "
                f"{session.chunk_size}-byte chunks: it was started with another chunk size. Resume with that "
                "chunk size or start a new upload.", status=400)
        return {s.index for s in session.plan.segments() if s.end < offset}

    async def _server_offset(self, session: UploadSession) -> int | None:
        past_end = session.total_bytes + 1
        probe = MultipartBody({"upload_id": session.media_id}, session.remote.get("field") or "file", b"\0",
                              filename=_filename(session))
        try:
            await self.client.request(
                "POST", self.chunk_path, content=probe, step=f"offset probe of upload {session.media_id}",
                headers={**probe.headers, "Content-Range": f"bytes {past_end}-{past_end}/{session.total_bytes}"})
        except RemoteRejected as e:
            if isinstance(e.body, dict) and e.body.get("detail") == OFFSETS_DO_NOT_MATCH:
                return _int(e.body.get("offset"))
            if isinstance(e, UploadExpired):
                raise
            return None  # a server that checks differently: resume by trying, as before
        raise MalformedResponse(f"The server accepted a chunk past the end of upload {session.media_id}.")


HINTS = {
    401: "Check the token in the connection's password (Bearer).",
    403: "The token is missing or not allowed to upload media.",
    404: "The server does not know this upload_id: start a new upload (re-run init), or check the connection's "
         "chunk_path and complete_path.",
}


def content_range_error(response: httpx.Response, step: str) -> RemoteError:
    """Django REST framework's ``{"detail": ...}`` (or Django's HTML 404 page) in a clear message."""
    status = response.status_code
    body = response_body(response)
    if isinstance(body, dict) and body.get("detail"):
        summary = str(body["detail"])
        if body.get("offset") is not None:
            summary += f" (server offset {body['offset']})"
    elif isinstance(body, str) and "<html" in body.lower():
        summary = "an HTML error page"
    else:
        summary = (body if isinstance(body, str) else json.dumps(body))[:BODY_EXCERPT]
    message = f"{step} failed with HTTP {status}: {summary}"
    if status in HINTS:
        message = f"{message.rstrip('.')}. {HINTS[status]}"
    if status == 410:
        return UploadExpired(f"{message.rstrip('.')}. The upload expired on the server; start a new upload (re-run "
                             "init), or set restart_expired to let chunkup start over by itself.", status=status,
                             body=body)
    return error_class(status)(message, status=status, body=body)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _filename(session: UploadSession) -> str:
    return file_name(session.source, "upload")
