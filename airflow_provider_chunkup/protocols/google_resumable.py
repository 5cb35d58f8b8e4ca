"""Google's resumable upload protocol, shared by YouTube (``videos.insert``) and Cloud Storage's JSON API.

Sources: developers.google.com/youtube/v3/guides/using_resumable_upload_protocol,
cloud.google.com/storage/docs/performing-resumable-uploads, google-api-python-client ``http.py``
(``MediaUpload``, ``next_chunk``) and google-resumable-media (``_upload.py``); the notes in
``google-resumable-youtube.md``.

How the steps map: init POSTs the resource (the video's snippet and status, the object's metadata) with
``X-Upload-Content-Type``/``-Length`` and receives the **session URI** in ``Location``. Append PUTs each
chunk with ``Content-Range: bytes a-b/total`` (every chunk but the last a multiple of 256 KiB); a ``308``
answer's ``Range: bytes=0-N`` says what the server **persisted**, which may be less than was sent, and the
next bytes go from N+1, from inside the chunk if need be. No ``Range`` means nothing persisted. Before any
re-send (a network error, 5xx, 408, 429, a rate-limit 403, the 503 for a start past the persisted offset)
the server is asked with a status query (``PUT`` of nothing, ``Content-Range: bytes */total``), which also
recovers a final answer that was lost. ``404``/``410`` mean the session is gone: ``UploadExpired``.

The session URI is a credential (anyone holding it can write the upload): it is masked in logs, kept in
the session for resume from the task state store, and the session never goes to XCom: the upload runs in
one task (``Capabilities.secret_session``). The protocol is sequential by nature: one session, its bytes in
order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import re
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar

import httpx

from airflow_provider_chunkup.errors import (
    ConfigurationError,
    MalformedResponse,
    RateLimited,
    RemoteError,
    RemoteRejected,
    RetryExhausted,
    ServerError,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.base import Capabilities, Chunk, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import GiB, Limits, MiB, Segment
from airflow_provider_chunkup.protocols.http import BODY_EXCERPT, NOT_THE_API, ApiClient, error_class, response_body
from airflow_provider_chunkup.protocols.multipart import PIECE
from airflow_provider_chunkup.protocols.retry import RETRYABLE_STATUSES, RetryPolicy
from airflow_provider_chunkup.protocols.secret_urls import UrlMasker
from airflow_provider_chunkup.protocols.session import UploadResult, UploadSession, UploadSpec

log = logging.getLogger(__name__)

RESUME_INCOMPLETE = 308
CHUNK_MULTIPLE = 256 * 1024
"""Every chunk but the last is a multiple of this (Google: 256 KiB)."""
DEFAULT_CHUNK = 16 * MiB
MAX_CHUNK = 1 * GiB
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
"""403 reasons that pass with time: retried like a 429 (google-api-python-client ``_should_retry_response``)."""
STALLS = 5
"""Answers in a row that persist nothing of a chunk before the upload fails (a server that keeps nothing)."""


class GoogleResumableUpload(UploadProtocol):
    """The resumable protocol; subclasses give the initiation URL, the resource, and the result.

    :param api_base: where the API lives (``https://www.googleapis.com``, or the emulator's URL).
    :param auth: a :class:`~airflow_provider_chunkup.protocols.google_auth.GoogleOAuth` or a ``BearerAuth``.
    :param on_secret: called with each session URI, so the caller can mask it in logs.
    """

    api: ClassVar[str]
    display_name: ClassVar[str]
    abortable: ClassVar[bool] = False
    processes_media: ClassVar[bool] = False
    complete_statuses: ClassVar[tuple[int, ...]] = (200, 201)
    """A chunk that completes the upload answers 200 (Cloud Storage) or 201 (YouTube): both are taken."""

    def __init__(self, *, api_base: str, auth: httpx.Auth | None, default_chunk_bytes: int = DEFAULT_CHUNK,
                 max_chunk_bytes: int = MAX_CHUNK, retry: RetryPolicy | None = None, timeout: float = 120.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 on_secret: Callable[[str], None] | None = None) -> None:
        for what, size in (("chunk_size", default_chunk_bytes), ("max_chunk_size", max_chunk_bytes)):
            check_chunk_multiple(size, f"the connection's {what}")
        self.api_base = api_base.rstrip("/")
        self.limits = Limits(default_chunk_bytes=min(default_chunk_bytes, max_chunk_bytes),
                             max_chunk_bytes=max_chunk_bytes, max_segments=10**9, min_chunk_bytes=CHUNK_MULTIPLE)
        self.capabilities = Capabilities(
            parallel_segments=False, reports_committed=True, abortable=self.abortable,
            processes_media=self.processes_media, secret_session=True,
            in_order_because=f"{self.display_name} takes one resumable session's bytes in order (Google's resumable "
                             "protocol is sequential)")
        self._secret = UrlMasker(on_secret, ("upload_id",))  # Google echoes it in X-GUploader-UploadID
        super().__init__(ApiClient(self.api_base, auth=auth, timeout=timeout, retry=retry or RetryPolicy(),
                                   error_factory=google_error, transport=transport, retry_when=rate_limit_403))

    # -- what a subclass gives -----------------------------------------------------------------

    @abstractmethod
    def initiate(self, spec: UploadSpec) -> tuple[str, dict[str, str], dict[str, Any] | None]:
        """The initiation URL, its query parameters, and the resource (JSON body) for ``spec``."""

    @abstractmethod
    async def result(self, session: UploadSession, resource: Mapping[str, Any]) -> UploadResult:
        """The upload's result from the resource the completing answer carried."""

    # -- validation ---------------------------------------------------------------------------

    def validate(self, spec: UploadSpec) -> None:
        size, limits = spec.chunk_size, self.limits
        if size is not None and limits.min_chunk_bytes <= size <= limits.max_chunk_bytes:  # bounds: the plan's
            check_chunk_multiple(size, "chunk_size")

    # -- steps --------------------------------------------------------------------------------

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        url, params, resource = self.initiate(spec)
        headers = {"X-Upload-Content-Length": str(spec.total_bytes)}
        if spec.media_type:
            headers["X-Upload-Content-Type"] = spec.media_type
        step = f"{self.display_name} start of a {spec.total_bytes}-byte resumable upload"
        response = await self.client.request("POST", url, params={**params, "uploadType": "resumable"},
                                             json=resource if resource is not None else None, headers=headers,
                                             step=step)
        location = response.headers.get("Location")
        if not location:
            raise MalformedResponse(f"{step} answered HTTP {response.status_code} without a Location (the session "
                                    f"URI). {NOT_THE_API}", status=response.status_code)
        uri = str(response.url.join(location))
        self._secret(uri)
        return UploadSession(
            api=self.api, media_id=session_handle(uri), total_bytes=spec.total_bytes, chunk_size=plan.chunk_size,
            source=spec.source, media_type=spec.media_type, media_category=spec.media_category,
            remote={"session_uri": uri, "offset": 0, "init_options": dict(spec.options)},
        )

    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        self._secret(self._uri(session))
        offset = int(session.remote.get("offset") or 0)
        once = dataclasses.replace(self.client.retry, max_attempts=1)  # retried below, after a status query
        failures = stalls = 0
        view = memoryview(data)
        while True:
            if offset > segment.end:
                return  # the server holds this segment
            if offset < segment.offset:
                offset = await self._query(session)
                if offset < segment.offset:
                    raise RemoteRejected(
                        f"{self.display_name} holds {offset} bytes of upload {session.media_id}, fewer than the "
                        f"{segment.offset} segment {segment.index} follows: the resumable protocol takes bytes in "
                        "order. Send the segments before it first.", status=RESUME_INCOMPLETE)
                continue
            body = view[offset - segment.offset:]
            last = segment.end == session.total_bytes - 1
            headers = {"Content-Range": f"bytes {offset}-{segment.end}/{session.total_bytes}",
                       "Content-Length": str(len(body)), **(self.final_headers(session) if last else {})}
            step = f"{self.display_name} PUT of bytes {offset}-{segment.end} of upload {session.media_id}"
            try:
                response = await self.client.request("PUT", self._uri(session), content=_Body(body), headers=headers,
                                                     step=step, retry=once, accept=(RESUME_INCOMPLETE,))
            except (RetryExhausted, RateLimited, ServerError) as e:
                failures += 1
                policy = self.client.retry
                if failures >= policy.max_attempts:
                    raise RetryExhausted(f"{e} (gave up after {failures} tries)", status=e.status, body=e.body) from e
                wait = policy.wait_after(e, failures)
                self.client.retries += 1
                log.warning("%s; asking %s what it holds, then retry %d of %d in %.1f s", e, self.display_name,
                            failures, policy.max_attempts - 1, wait)
                await asyncio.sleep(wait)
                offset = await self._query(session)
                continue
            except RemoteRejected as e:
                raise self._gone(e, session) from e
            before = offset
            offset = self._take(session, response, step)
            if offset <= before:
                stalls += 1
                if stalls >= STALLS:
                    raise ServerError(f"{step}: {self.display_name} persisted nothing of the chunk {stalls} times in a "
                                      "row; the upload stops rather than send it forever.",
                                      status=response.status_code)
            else:
                stalls = 0
            if before <= offset <= segment.end:
                log.info("%s: the server persisted up to byte %d; sending the rest.", step, offset - 1)

    async def finalize(self, session: UploadSession) -> UploadResult:
        resource = session.remote.get("resource")
        if not isinstance(resource, Mapping):
            offset = await self._query(session)
            resource = session.remote.get("resource")
            if not isinstance(resource, Mapping):
                raise RemoteRejected(
                    f"{self.display_name} holds {offset} of the {session.total_bytes} bytes of upload "
                    f"{session.media_id}: append the missing segments before finalizing.", status=RESUME_INCOMPLETE)
        return await self.result(session, resource)

    async def committed(self, session: UploadSession) -> set[int] | None:
        """The segments the server persisted whole (a status query); a partial one is finished by append."""
        if not session.remote.get("session_uri"):
            return None
        offset = await self._query(session)
        return {s.index for s in session.plan.segments() if s.end < offset}

    async def abort(self, session: UploadSession) -> bool:
        return False

    def final_headers(self, session: UploadSession) -> dict[str, str]:
        """Headers of the chunk that completes the upload (Cloud Storage: ``X-Goog-Hash``)."""
        return {}

    # -- helpers ------------------------------------------------------------------------------

    async def _query(self, session: UploadSession) -> int:
        """Ask what the server persisted (``bytes */total``); records the resource if the upload completed."""
        step = f"{self.display_name} status of upload {session.media_id}"
        try:
            response = await self.client.request(
                "PUT", self._uri(session), content=b"", step=step, accept=(RESUME_INCOMPLETE,),
                headers={"Content-Range": f"bytes */{session.total_bytes}", "Content-Length": "0"})
        except RemoteRejected as e:
            raise self._gone(e, session) from e
        return self._take(session, response, step)

    def _take(self, session: UploadSession, response: httpx.Response, step: str) -> int:
        """The persisted offset an answer gives (308 ``Range``; completion: the total, resource kept)."""
        if response.status_code in self.complete_statuses and response.status_code != RESUME_INCOMPLETE:
            body = response_body(response)
            if not isinstance(body, dict):
                raise MalformedResponse(f"{step} completed the upload (HTTP {response.status_code}) without the "
                                        f"resource in JSON. {NOT_THE_API}", status=response.status_code)
            session.remote["resource"] = body
            session.remote["offset"] = session.total_bytes
            return session.total_bytes
        if response.status_code != RESUME_INCOMPLETE:
            raise MalformedResponse(f"{step} answered HTTP {response.status_code}, neither 308 nor the completed "
                                    f"resource. {NOT_THE_API}", status=response.status_code)
        offset = persisted(response.headers.get("Range"))
        if offset is None:
            raise MalformedResponse(f"{step} answered 308 with an unreadable Range "
                                    f"{response.headers.get('Range')!r}. {NOT_THE_API}", status=RESUME_INCOMPLETE)
        session.remote["offset"] = offset
        return offset

    def _uri(self, session: UploadSession) -> str:
        uri = session.remote.get("session_uri")
        if not uri:
            raise ConfigurationError(f"Upload {session.media_id or '(none)'} has no session URI: {self.display_name} "
                                     "uploads resume from the task state store of the one task that runs them "
                                     "(ChunkedUploadOperator).")
        return str(uri)

    def _gone(self, error: RemoteRejected, session: UploadSession) -> RemoteRejected:
        if error.status not in (404, 410) or isinstance(error, UploadExpired):
            return error
        why = "expired" if error.status == 404 else "was ended by the server (bad data or a service error)"
        return UploadExpired(
            f"{self.display_name} no longer has upload {session.media_id} (HTTP {error.status}): the session {why}. "
            "Start a new upload, or set restart_expired=true on the connection to let chunkup start over by itself.",
            status=error.status, body=error.body)


class _Body:
    """A PUT body over a view of the chunk, in pieces, never copied whole."""

    def __init__(self, view: memoryview) -> None:
        self._view = view

    async def __aiter__(self) -> AsyncIterator[memoryview]:
        for start in range(0, len(self._view), PIECE):
            yield self._view[start:start + PIECE]


def persisted(range_header: str | None) -> int | None:
    """Bytes persisted from a 308's ``Range: bytes=0-N`` (N + 1); no header: 0; ``None`` if unreadable."""
    if not range_header:
        return 0
    match = re.fullmatch(r"\s*bytes=0-(\d+)\s*", range_header)
    return int(match.group(1)) + 1 if match else None


def session_handle(uri: str) -> str:
    """A name for the session in logs and ids that gives nothing of the URI away."""
    return "session-" + hashlib.sha256(uri.encode()).hexdigest()[:16]


def check_chunk_multiple(size: int, what: str) -> None:
    if size <= 0 or size % CHUNK_MULTIPLE:
        raise ConfigurationError(
            f"{what} is {size} bytes; Google's resumable uploads take chunks that are multiples of 262144 bytes "
            f"(256 KiB), e.g. {DEFAULT_CHUNK} (16 MiB): a misaligned chunk is only partly kept by the server.")


def google_reasons(body: Any) -> list[str]:
    """The ``reason`` of each error in Google's JSON error shape."""
    error = body.get("error") if isinstance(body, Mapping) else None
    errors = error.get("errors") if isinstance(error, Mapping) else None
    return [str(e.get("reason")) for e in errors or [] if isinstance(e, Mapping) and e.get("reason")]


def rate_limit_403(response: httpx.Response) -> bool:
    """A 403 that passes with time (``rateLimitExceeded``), unlike ``quotaExceeded`` or a missing permission."""
    return response.status_code == 403 and bool(RATE_LIMIT_REASONS & set(google_reasons(response_body(response))))


HINTS = {
    "quotaExceeded": "The project's daily API quota is used up; it resets at midnight Pacific time. Ask Google for "
                     "more quota, or upload fewer videos a day. Not retried.",
    "uploadLimitExceeded": "The channel has uploaded as many videos as YouTube allows for now. Not retried.",
    "insufficientPermissions": "The token lacks a scope this call needs (videos.list needs youtube.readonly, "
                               "youtube or youtube.force-ssl; upload needs youtube.upload).",
    "authError": "Check the connection's credentials (refresh token, client id and secret, or access token).",
    "forbiddenPrivacySetting": "The privacy setting is not allowed for this video or channel.",
}


def google_error(response: httpx.Response, step: str) -> RemoteError:
    """Google's JSON error (``error.code``, ``message``, ``errors[].reason``) in words, with the fix where known."""
    status = response.status_code
    body = response_body(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    reasons = google_reasons(body)
    if isinstance(error, Mapping):
        text = str(error.get("message") or "")
    else:
        text = (body if isinstance(body, str) else json.dumps(body))[:BODY_EXCERPT].strip()
    message = f"{step} failed with HTTP {status}" + (f": {text}" if text else "")
    if reasons:
        message += f" (reason: {', '.join(reasons)})"
    hint = next((HINTS[r] for r in reasons if r in HINTS), None)
    if hint is None and status == 401:
        hint = HINTS["authError"]
    if hint:
        message = f"{message.rstrip('.')}. {hint}"
    kind = error_class(status)
    if status == 403 and RATE_LIMIT_REASONS & set(reasons):
        kind = RateLimited
    elif status == 403 and {"quotaExceeded", "insufficientPermissions"} & set(reasons):
        kind = RemoteRejected  # no new credentials fix these
    return kind(message, status=status, body=body)


RETRYABLE = RETRYABLE_STATUSES
