"""Meta's rupload byte transfer, shared by Instagram Reels and Facebook Page Reels.

Sources: ``meta-tiktok-linkedin.md`` (section 3), Meta's resumable-upload guide for Instagram and the Reels
publishing guide. A container (Instagram) or reel (Facebook) is opened on Graph, which answers with an upload
URL on ``rupload.facebook.com``; the bytes go there as ``POST uri`` with ``Authorization: OAuth <token>``,
``offset`` (the first byte of the body, which must equal what the server holds) and ``file_size`` (the same on
every request), raw body. chunkup cuts the file in ``fixed`` chunks sent in order, one request each; a body that
breaks off keeps what arrived, so before sending again the server is asked what it holds
(``uploading_phase.bytes_transferred`` of the object's status) and only the rest goes.

Errors: Graph's ``{"error": {"message", "type", "code", "error_subcode", "is_transient", "error_user_msg",
"fbtrace_id"}}`` and rupload's ``{"debug_info": {"retriable", "type", "message"}}``, both put in words.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from abc import abstractmethod
from collections.abc import Mapping
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
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSession, UploadSpec

DEFAULT_BASE = "https://graph.facebook.com"
DEFAULT_VERSION = "v23.0"
DEFAULT_CHUNK = 16 * MiB
"""Meta's samples send the whole file in one POST; 16 MiB requests keep memory small and a cut cheap."""
MAX_CHUNK = 1 * GiB
REELS_MAX_BYTES = 1 * GiB
"""Reels: at most 1 GB (Instagram's and Facebook's Reels specs)."""
DECODE_LIMITS = ("3 s to 15 min long and 23 to 60 fps: chunkup does not decode the video, so Meta checks these "
                 "after the upload and reports a failure in the processing status")
"""The Reels specs' limits that need the video decoded: said in docs and errors, not checked before upload."""


class OAuthHeader(httpx.Auth):
    """``Authorization: OAuth <token>``: what rupload needs, and Graph takes too (the token stays out of URLs)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "OAuthHeader(token=***)"

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"OAuth {self._token}"
        yield request


class RuploadUpload(UploadProtocol):
    """The shared part of the Reels uploads: Graph client, rupload transfer, resume from ``bytes_transferred``.

    Subclasses open the object (``init``), read how many bytes it holds (:meth:`bytes_held`), finalize and
    report status.
    """

    display_name: ClassVar[str]

    def __init__(self, *, api_base: str = DEFAULT_BASE, token: str, graph_version: str = DEFAULT_VERSION,
                 default_chunk_bytes: int = DEFAULT_CHUNK, max_chunk_bytes: int = MAX_CHUNK,
                 retry: RetryPolicy | None = None, timeout: float = 120.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not token:
            raise ConfigurationError(f"{self.display_name} needs a Graph access token: set it as the connection's "
                                     "password.")
        if not graph_version.startswith("v") or not graph_version[1:].replace(".", "").isdigit():
            raise ConfigurationError(f"graph_version must look like 'v23.0', got {graph_version!r}.")
        super().__init__(ApiClient(api_base.rstrip("/"), auth=OAuthHeader(token), timeout=timeout, retry=retry,
                                   error_factory=meta_error, transport=transport, retry_when=_transient))
        self.version = graph_version
        self.limits = Limits(default_chunk_bytes=min(default_chunk_bytes, max_chunk_bytes),
                             max_chunk_bytes=max_chunk_bytes, max_segments=100_000)
        self.capabilities = Capabilities(
            parallel_segments=False, reports_committed=True, processes_media=True,
            in_order_because=f"{self.display_name} takes bytes over rupload in order: each request's offset must "
                             "equal the bytes the server holds")
        self._held: dict[str, int] = {}

    # -- validation shared by both Reels flows ---------------------------------------------------

    def check_size(self, spec: UploadSpec) -> None:
        if spec.total_bytes > REELS_MAX_BYTES:  # an empty file is the plan's to refuse, as for every API
            raise ConfigurationError(
                f"The file has {spec.total_bytes} bytes; {self.display_name} takes at most {REELS_MAX_BYTES} "
                "(1 GiB): shorten or re-encode it at a lower bitrate.")

    # -- the transfer ------------------------------------------------------------------------------

    @abstractmethod
    async def bytes_held(self, session: UploadSession) -> int:
        """The bytes the server holds (``uploading_phase.bytes_transferred``)."""

    async def committed(self, session: UploadSession) -> set[int] | None:
        if not session.media_id:
            return None
        held = await self._refresh(session)
        return {s.index for s in session.plan.segments() if s.end < held}

    async def _refresh(self, session: UploadSession) -> int:
        held = await self.bytes_held(session)
        self._held[session.media_id] = held
        return held

    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        """POST the segment's bytes from what the server holds; after a failure ask again and send the rest."""
        url = str(session.remote.get("upload_uri") or "")
        if not url:
            raise ConfigurationError(f"Upload {session.media_id} has no rupload URL in its session: pass the XCom "
                                     "of the init task.")
        view = memoryview(data)
        held = self._held.get(session.media_id)
        if held is None:
            held = await self._refresh(session)
        once = dataclasses.replace(self.client.retry, max_attempts=1)
        failures = 0
        while True:
            if held > segment.end:
                return  # the server holds this segment (an earlier answer was lost)
            if held < segment.offset:
                raise RemoteRejected(
                    f"{self.display_name} holds {held} bytes of upload {session.media_id}, fewer than the "
                    f"{segment.offset} segment {segment.index} starts at: rupload takes bytes in order. Send the "
                    "segments before it first (or all of them: the server's bytes_transferred is where they resume).",
                    status=409)
            body = bytes(view[held - segment.offset:])
            headers = {"offset": str(held), "file_size": str(session.total_bytes),
                       "Content-Type": "application/octet-stream"}
            step = f"{self.display_name} rupload of bytes {held}-{segment.end} of upload {session.media_id}"
            try:
                response = await self.client.request("POST", url, content=body, headers=headers, step=step,
                                                     retry=once)
            except (RetryExhausted, RateLimited, ServerError, RemoteRejected) as e:
                if not _worth_resending(e):
                    raise
                failures += 1
                policy = self.client.retry
                cause = e.__cause__ if isinstance(e, RetryExhausted) and e.__cause__ is not None else e
                if failures >= policy.max_attempts:
                    raise RetryExhausted(f"{cause} (gave up after {failures} tries; the server holds what arrived, "
                                         "so a retried task sends only the rest)", status=e.status,
                                         body=e.body) from e
                self.client.retries += 1
                await asyncio.sleep(policy.wait_after(e, failures))
                held = await self._refresh(session)  # the broken body may have left some bytes there
                continue
            answer = response_body(response)
            if isinstance(answer, Mapping) and answer.get("success") is False:
                raise RemoteRejected(f"{step} answered success false: {json.dumps(answer)[:BODY_EXCERPT]}",
                                     status=response.status_code, body=answer)
            if not isinstance(answer, Mapping):
                raise MalformedResponse(f"{step} answered a body that is not rupload's JSON: {str(answer)[:200]!r}. "
                                        f"{NOT_THE_API}", status=response.status_code, body=answer)
            held = segment.end + 1
            self._held[session.media_id] = held
            return

    def graph_path(self, *parts: str) -> str:
        return "/" + "/".join((self.version, *parts))


def uploading_bytes(video_status: Any) -> int:
    """``uploading_phase.bytes_transferred`` of a ``video_status`` (or a Page video's ``status``); 0 when absent."""
    phase = video_status.get("uploading_phase") if isinstance(video_status, Mapping) else None
    value = phase.get("bytes_transferred") if isinstance(phase, Mapping) else None
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def _worth_resending(error: RemoteError) -> bool:
    """Network errors, 5xx, 429 and rupload refusals marked retriable (a wrong offset, a concurrent writer)."""
    if isinstance(error, (RetryExhausted, RateLimited, ServerError)):
        return True
    body = error.body
    info = body.get("debug_info") if isinstance(body, Mapping) else None
    return isinstance(info, Mapping) and bool(info.get("retriable"))


def _transient(response: httpx.Response) -> bool:
    """Graph's ``is_transient: true`` (throttling, a hiccup): worth retrying the same request."""
    body = response_body(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    return isinstance(error, Mapping) and bool(error.get("is_transient"))


GRAPH_HINTS: dict[int, str] = {
    190: "Check the access token in the connection's password: it is invalid or expired.",
    200: "The token lacks a permission this needs (instagram_content_publish, or pages_manage_posts and "
         "pages_read_engagement for Page Reels).",
    10: "The token lacks a permission this needs (instagram_content_publish, or pages_manage_posts).",
    4: "The app's rate limit (X-App-Usage) is used up: wait, or make fewer calls.",
    17: "The user's rate limit is used up: wait, or make fewer calls.",
    32: "The Page's rate limit is used up (X-Business-Use-Case-Usage tells how long): wait.",
    613: "A rate limit is used up: wait, or make fewer calls.",
    100: "A parameter is invalid or the object does not exist: check the ids and options named above.",
    9007: "The container is not ready to publish: wait until its status_code is FINISHED (the sensor does).",
}
SUBCODE_HINTS: dict[int, str] = {
    1363042: "The token may not upload to this Page: check the page id and the token's Page permissions.",
    1363045: "Not every byte arrived: resume the append, then finish again.",
    1363030: "The upload session was lost: start a new upload.",
    2207027: "Wait until the container's status_code is FINISHED, then publish.",
}


def meta_error(response: httpx.Response, step: str) -> RemoteError:
    """Graph's error JSON or rupload's ``debug_info`` in words, with the fix where chunkup knows it."""
    body = response_body(response)
    status = response.status_code
    error = body.get("error") if isinstance(body, Mapping) else None
    info = body.get("debug_info") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        code, subcode = error.get("code"), error.get("error_subcode")
        parts = [str(error.get("message") or "").strip()]
        if error.get("error_user_msg"):
            parts.append(str(error["error_user_msg"]).strip())
        where = f"Graph error {code}" + (f"/{subcode}" if subcode is not None else "")
        message = f"{step} failed with HTTP {status}: {' '.join(p for p in parts if p)} ({where}" + (
            f", fbtrace_id {error['fbtrace_id']})" if error.get("fbtrace_id") else ")")
        hint = SUBCODE_HINTS.get(subcode) if isinstance(subcode, int) else None
        hint = hint or (GRAPH_HINTS.get(code) if isinstance(code, int) else None)
        if hint:
            message = f"{message}. {hint}"
        if code in (4, 17, 32, 613):
            return RateLimited(message, status=status, body=body)
        if code == 190:
            return error_class(401)(message, status=status, body=body)
        if subcode == 1363030:
            return UploadExpired(message, status=status, body=body)
        return error_class(status)(message, status=status, body=body)
    if isinstance(info, Mapping):
        kind = info.get("type") or "rupload error"
        retriable = "retriable" if info.get("retriable") else "not retriable"
        message = (f"{step} failed with HTTP {status}: {kind}: {str(info.get('message') or '').strip()} "
                   f"({retriable})")
        if status == 401 or kind == "AuthError":
            message += ". Check the access token in the connection's password."
        elif status == 404:
            message += ". The upload URL is unknown: the container or reel may have expired; start a new upload."
        return error_class(status)(message, status=status, body=body)
    text = body if isinstance(body, str) else json.dumps(body)
    return error_class(status)(f"{step} failed with HTTP {status}: {text[:BODY_EXCERPT]}", status=status, body=body)
