"""TikTok Content Posting API: a direct post or an inbox draft, its chunks PUT to the ``upload_url``.

Sources: developers.tiktok.com/doc/content-posting-api-{media-transfer-guide, reference-upload-video,
reference-direct-post, reference-get-video-status}; the notes in ``meta-tiktok-linkedin.md`` (section 4).

How the steps map: a direct post first asks ``creator_info/query`` (the creator's privacy levels and longest
video), then init (``/v2/post/publish/video/init/`` with ``post_info``, or ``/inbox/video/init/`` for a draft)
declares the chunk plan in ``source_info``: TikTok's own rule, ``floor(video_size / chunk_size)`` chunks with the
remainder merged into the last (plan kind ``merged``), which must match what is sent exactly. Append PUTs each
chunk, in order, to the ``upload_url`` with ``Content-Range`` and no Authorization: the URL is its own credential
(masked through ``on_secret``, kept only in the session, which never goes to XCom: ``secret_session``), valid one
hour. The last chunk's 201 starts the post; there is no finalize request. A 416 carries the server's progress
(``Content-Range: bytes 0-N/total``), and a resumed task asks ``status/fetch`` how many bytes TikTok holds.
TikTok publishes by itself: a direct post once processed (``PUBLISH_COMPLETE``), a draft waits in the creator's
inbox (``SEND_TO_USER_INBOX``) for them to finish in the app.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar

import httpx

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    RateLimited,
    RemoteError,
    RemoteRejected,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.base import Capabilities, Chunk, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import (
    GiB,
    Limits,
    Segment,
    SegmentPlan,
    plan_chunks,
    plan_floor_merged,
)
from airflow_provider_chunkup.protocols.http import BODY_EXCERPT, NOT_THE_API, ApiClient, error_class, response_body
from airflow_provider_chunkup.protocols.multipart import PIECE
from airflow_provider_chunkup.protocols.retry import RetryPolicy, announced_wait
from airflow_provider_chunkup.protocols.secret_urls import UrlMasker
from airflow_provider_chunkup.protocols.session import ProcessingStatus, UploadResult, UploadSession, UploadSpec

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://open.tiktokapis.com"
API = "/v2/post/publish"
DEFAULT_CHUNK = 10_000_000
MIN_CHUNK = 5 * 1024 * 1024
"""Smallest chunk ("5 MB"; MB being undefined, 5,242,880 bytes is safe either way)."""
MAX_CHUNK = 64_000_000
"""Largest chunk, and largest file sent in one request ("64 MB", read as the smaller)."""
MAX_CHUNKS = 1000
MAX_VIDEO = 4 * GiB
"""Largest video TikTok takes ("4 GB")."""
MAX_TITLE = 2200
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
MODES = ("direct", "inbox")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
FLAGS = ("disable_comment", "disable_duet", "disable_stitch", "brand_content_toggle", "brand_organic_toggle",
         "is_aigc")
POST_OPTIONS = ("title", "privacy_level", *FLAGS, "video_cover_timestamp_ms")
OPTIONS = ("mode", *POST_OPTIONS)
"""What ``upload_options`` may carry: ``mode`` and, for a direct post, the ``post_info`` fields."""
URL_LIFETIME = 3600
"""An ``upload_url`` works one hour from init."""
MAX_DURATION = 600
"""TikTok's longest video (10 min), unless the creator's ``max_video_post_duration_sec`` says otherwise."""
IN_PROGRESS = ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD")
SUCCEEDED = ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX")
CHECK_AFTER = 5.0
"""Seconds between status polls (TikTok allows 30 a minute per token)."""
RANGE_NOT_SATISFIABLE = 416
RATE_WINDOW = 60.0
"""TikTok's rate limits count per minute: a 429 without Retry-After waits this long before the next try."""
_HELD = re.compile(r"\s*bytes\s+(?:0-(\d+)|\*)/(\d+)\s*")


def tiktok_plan(total_bytes: int, chunk_size: int | None = None) -> SegmentPlan:
    """TikTok's chunks for a file (``merged``), checked against its rules before any request.

    A file under 5,242,880 bytes, or not larger than the chunk, is one chunk of its size; one over 64,000,000
    bytes that would still be one chunk (a chunk over half of it) is cut in two halves; above 1000 chunks
    the chunk size is too small.
    """
    chunk = chunk_size or DEFAULT_CHUNK
    if total_bytes <= 0 or (chunk != total_bytes and not MIN_CHUNK <= chunk <= MAX_CHUNK):
        # an empty file, a chunk size out of bounds: refused in the words every API uses
        plan_chunks(total_bytes, Limits(default_chunk_bytes=DEFAULT_CHUNK, max_chunk_bytes=MAX_CHUNK,
                                        max_segments=MAX_CHUNKS, min_chunk_bytes=MIN_CHUNK), chunk, api="TikTok")
    if total_bytes > MAX_VIDEO:
        raise ConfigurationError(f"The source is {total_bytes} bytes; TikTok takes videos up to {MAX_VIDEO} bytes "
                                 "(4 GB): re-encode or trim it.")
    if total_bytes < MIN_CHUNK or (total_bytes <= chunk and total_bytes <= MAX_CHUNK):
        return plan_floor_merged(total_bytes, total_bytes)
    if total_bytes // chunk < 2 and total_bytes > MAX_CHUNK:
        chunk = total_bytes // 2  # over 64,000,000 bytes TikTok wants chunks: two, each within the bounds
    if total_bytes // chunk > MAX_CHUNKS:
        need = -(-total_bytes // MAX_CHUNKS)
        raise ConfigurationError(f"A {total_bytes}-byte file in chunks of {chunk} bytes makes "
                                 f"{total_bytes // chunk} chunks; TikTok takes at most {MAX_CHUNKS}: set chunk_size to "
                                 f"at least {need}.")
    return plan_floor_merged(total_bytes, chunk)


class TikTokUpload(UploadProtocol):
    """Uploads a video to TikTok as a direct post or an inbox draft (``mode``).

    :param api_base: ``https://open.tiktokapis.com`` (or the emulator's ``http://127.0.0.1:PORT``).
    :param token: the user's access token (scope ``video.publish`` for direct posts, ``video.upload`` for drafts).
    :param mode: ``direct`` or ``inbox``, unless ``upload_options`` name one.
    :param on_secret: called with each ``upload_url``, so the caller can mask it in logs.
    """

    api: ClassVar[str] = "tiktok"
    display_name: ClassVar[str] = "TikTok"
    rate_limit_wait: float = RATE_WINDOW
    """Seconds a 429 without ``Retry-After`` waits (the window TikTok counts in), within ``retry_max_elapsed``."""

    def __init__(self, *, api_base: str = DEFAULT_BASE, token: str, mode: str = "direct",
                 default_chunk_bytes: int = DEFAULT_CHUNK, retry: RetryPolicy | None = None, timeout: float = 120.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 on_secret: Callable[[str], None] | None = None) -> None:
        if not token:
            raise ConfigurationError("TikTok needs the user's access token (scope video.publish or video.upload): set "
                                     "it as the connection's password.")
        check_mode(mode, "the connection's mode")
        if not MIN_CHUNK <= default_chunk_bytes <= MAX_CHUNK:
            raise ConfigurationError(f"The connection's chunk_size {default_chunk_bytes} is outside TikTok's chunk "
                                     f"sizes, {MIN_CHUNK} to {MAX_CHUNK} bytes: set chunk_size within them (default "
                                     f"{DEFAULT_CHUNK}).")
        self.mode = mode
        self.limits = Limits(default_chunk_bytes=default_chunk_bytes, max_chunk_bytes=MAX_CHUNK,
                             max_segments=MAX_CHUNKS, min_chunk_bytes=MIN_CHUNK)
        self.capabilities = Capabilities(
            parallel_segments=False, reports_committed=True, abortable=False, processes_media=True,
            secret_session=True, in_order_because="TikTok takes a video's chunks in order, one at a time")
        self._secret = UrlMasker(on_secret, ("upload_token",))
        self._opened: set[str] = set()
        policy = retry or RetryPolicy()
        headers = {"Content-Type": "application/json; charset=UTF-8"}
        super().__init__(ApiClient(api_base.rstrip("/"), auth=BearerAuth(token), timeout=timeout, retry=policy,
                                   error_factory=tiktok_error, headers=headers, transport=transport))
        self._uploads = ApiClient("", timeout=timeout, retry=policy, error_factory=tiktok_error, transport=transport)

    async def __aexit__(self, *exc: object) -> None:
        await self._uploads.aclose()
        await super().__aexit__(*exc)

    # -- validation ---------------------------------------------------------------------------

    def plan(self, spec: UploadSpec) -> SegmentPlan:  # type: ignore[override]
        self.validate(spec)
        return tiktok_plan(spec.total_bytes, spec.chunk_size or self.limits.default_chunk_bytes)

    def validate(self, spec: UploadSpec) -> None:
        options = spec.options
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(f"TikTok upload_options take {', '.join(OPTIONS)}, not {', '.join(unknown)}.")
        mode = self.mode_of(spec)
        kind = (spec.media_type or "video/mp4").lower()
        if kind not in VIDEO_TYPES:
            raise ConfigurationError(f"TikTok takes {', '.join(VIDEO_TYPES)} videos, not {spec.media_type}: pass the "
                                     "file's media_type (MP4, MOV or WebM).")
        if mode == "inbox":
            extra = sorted(set(options) & set(POST_OPTIONS))
            if extra:
                raise ConfigurationError(f"An inbox (draft) upload sends no post_info, so {', '.join(extra)} would be "
                                         "ignored: the creator sets them in the TikTok app. Drop them, or use "
                                         "mode 'direct'.")
            return
        title = options.get("title", "")
        if not isinstance(title, str) or len(title) > MAX_TITLE:
            got = f"{len(title)} characters" if isinstance(title, str) else type(title).__name__
            raise ConfigurationError(f"The TikTok title (caption) must be text of at most {MAX_TITLE} characters; "
                                     f"got {got}.")
        privacy = options.get("privacy_level")
        if privacy is None:
            raise ConfigurationError("A TikTok direct post needs privacy_level, one of the creator's options ("
                                     f"{', '.join(PRIVACY_LEVELS)}); unaudited apps may only post SELF_ONLY.")
        if privacy not in PRIVACY_LEVELS:
            raise ConfigurationError(f"privacy_level {privacy!r} is not one TikTok knows: use one of "
                                     f"{', '.join(PRIVACY_LEVELS)}.")
        for flag in FLAGS:
            if flag in options and not isinstance(options[flag], bool):
                raise ConfigurationError(f"upload_options {flag} must be true or false, not {options[flag]!r}.")
        cover = options.get("video_cover_timestamp_ms")
        if cover is not None and (not isinstance(cover, int) or isinstance(cover, bool) or cover < 0):
            raise ConfigurationError(f"video_cover_timestamp_ms must be a whole number of milliseconds >= 0, not "
                                     f"{cover!r}.")

    def mode_of(self, spec: UploadSpec) -> str:
        mode = spec.options.get("mode", self.mode)
        check_mode(mode, "upload_options mode")
        return str(mode)

    # -- steps --------------------------------------------------------------------------------

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        mode = self.mode_of(spec)
        source_info = {"source": "FILE_UPLOAD", "video_size": spec.total_bytes, "chunk_size": plan.chunk_size,
                       "total_chunk_count": plan.segment_count}
        body: dict[str, Any] = {"source_info": source_info}
        max_duration = None
        if mode == "direct":
            creator = await self.creator_info()
            options = creator.get("privacy_level_options")
            privacy = spec.options["privacy_level"]
            if isinstance(options, list) and privacy not in options:
                raise ConfigurationError(f"privacy_level {privacy} is not among this creator's options "
                                         f"({', '.join(map(str, options))}): TikTok would refuse the post "
                                         "(privacy_level_option_mismatch). Use one of them.")
            max_duration = creator.get("max_video_post_duration_sec")
            body["post_info"] = {k: spec.options[k] for k in POST_OPTIONS if k in spec.options}
            path = f"{API}/video/init/"
        else:
            path = f"{API}/inbox/video/init/"
        step = f"TikTok {'direct post' if mode == 'direct' else 'inbox'} init ({spec.total_bytes} bytes)"
        data = await self._call(path, body, step)
        publish_id, url = str(data.get("publish_id") or ""), str(data.get("upload_url") or "")
        if not publish_id or not url.startswith(("http://", "https://")):
            raise MalformedResponse(f"{step} answered without a publish_id and an upload_url: "
                                    f"{json.dumps(data)[:BODY_EXCERPT]}. {NOT_THE_API}")
        self._secret(url)
        self._opened.add(publish_id)
        session = UploadSession(
            api=self.api, media_id=publish_id, total_bytes=spec.total_bytes, chunk_size=plan.chunk_size,
            source=spec.source, media_type=(spec.media_type or "video/mp4").lower(),
            media_category=spec.media_category, expires_at=time.time() + URL_LIFETIME,
            remote={"upload_url": url, "mode": mode, "uploaded": 0,
                    "max_video_post_duration_sec": max_duration, "init_options": dict(spec.options)},
        )
        session.use_plan(plan)
        return session

    async def creator_info(self) -> dict[str, Any]:
        """The creator's ``privacy_level_options``, ``max_video_post_duration_sec`` and disable flags."""
        return await self._call(f"{API}/creator_info/query/", {}, "TikTok creator info query")

    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        url = self._url(session)
        self._opened.discard(session.media_id)
        if int(session.remote.get("uploaded") or 0) > segment.end:
            return  # TikTok holds it already (a 416 said so)
        total = session.total_bytes
        headers = {"Content-Type": session.media_type or "video/mp4", "Content-Length": str(segment.length),
                   "Content-Range": f"bytes {segment.offset}-{segment.end}/{total}"}
        step = f"TikTok PUT of chunk {segment.index} (bytes {segment.offset}-{segment.end}) of {session.media_id}"
        try:
            response = await self._uploads.request("PUT", url, content=_Body(memoryview(data)), headers=headers,
                                                   step=step, accept=(RANGE_NOT_SATISFIABLE,))
        except RemoteRejected as e:
            raise self._gone(e, session) from e
        held = server_progress(response.headers.get("Content-Range"))
        if response.status_code == RANGE_NOT_SATISFIABLE:
            if held is None:
                raise MalformedResponse(f"{step} answered 416 without a readable Content-Range "
                                        f"({response.headers.get('Content-Range')!r}). {NOT_THE_API}", status=416)
            session.remote["uploaded"] = held
            if held > segment.end:
                return  # an earlier try's request arrived: the server has this chunk
            raise RemoteRejected(f"{step}: TikTok holds {held} bytes of {total}, not the {segment.offset} this chunk "
                                 f"follows (416): send the chunks from byte {held} on, in order. Resume the upload "
                                 "(chunkup asks TikTok what it holds) rather than sending chunks out of order.",
                                 status=416, body=response_body(response))
        session.remote["uploaded"] = held if held is not None else segment.end + 1
        if response.status_code == 201 or session.remote["uploaded"] >= total:
            session.remote["complete"] = True

    async def finalize(self, session: UploadSession) -> UploadResult:
        """Nothing to send: the last chunk's 201 started the post. Checks TikTok has every byte, reads its status."""
        status, data = await self._fetch(session.media_id)
        complete = session.remote.get("complete") or status.state != "pending" or \
            int(data.get("uploaded_bytes") or 0) >= session.total_bytes
        if not complete:
            raise RemoteRejected(f"TikTok holds {data.get('uploaded_bytes')} of the {session.total_bytes} bytes of "
                                 f"{session.media_id}: append the missing chunks before finalizing.")
        details: dict[str, Any] = {"publish_id": session.media_id, "mode": session.remote.get("mode"),
                                   "status": data.get("status")}
        if session.remote.get("max_video_post_duration_sec") is not None:
            details["max_video_post_duration_sec"] = session.remote["max_video_post_duration_sec"]
        if data.get("publicaly_available_post_id") is not None:
            details["publicaly_available_post_id"] = data["publicaly_available_post_id"]
        return UploadResult(
            api=self.api, media_id=session.media_id, size=session.total_bytes, conn_id=session.conn_id,
            sha256=session.digests.get("sha256"), processing=status.to_dict(), details=details,
            transfer_seconds=session.transfer_seconds or None)

    async def committed(self, session: UploadSession) -> set[int] | None:
        """The chunks TikTok holds (``status/fetch``'s ``uploaded_bytes``; nothing right after init)."""
        if not session.media_id:
            return None
        if session.media_id in self._opened:  # opened here a moment ago: nothing sent yet
            return set()
        status, data = await self._fetch(session.media_id)
        held = session.total_bytes if status.state != "pending" else int(data.get("uploaded_bytes") or 0)
        session.remote["uploaded"] = held
        return {s.index for s in session.plan.segments() if s.end < held}

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        if until is not None:
            raise ConfigurationError(f"TikTok's sensor waits until the post is published (or the draft is in the "
                                     f"inbox): leave until unset, not {until!r}.")
        return (await self._fetch(media_id))[0]

    # -- helpers ------------------------------------------------------------------------------

    async def _fetch(self, publish_id: str) -> tuple[ProcessingStatus, dict[str, Any]]:
        data = await self._call(f"{API}/status/fetch/", {"publish_id": publish_id},
                                f"TikTok status of {publish_id}")
        return post_status(data), data

    async def _call(self, path: str, body: Mapping[str, Any], step: str) -> dict[str, Any]:
        """POST ``body`` to an API path; ``data`` of an answer whose ``error.code`` is ``ok``."""
        policy = self.client.retry
        once = dataclasses.replace(policy, statuses=policy.statuses - {429})  # 429s are waited out below
        started = time.monotonic()
        while True:
            try:
                response = await self.client.request("POST", path, json=dict(body), step=step, retry=once)
                break
            except RateLimited as e:
                wait = e.retry_after if e.retry_after is not None else self.rate_limit_wait
                if policy.max_attempts <= 1 or time.monotonic() - started + wait > policy.max_elapsed:
                    raise
                log.warning("%s; waiting %.0f s for TikTok's rate-limit window to pass", e, wait)
                self.client.retries += 1
                await asyncio.sleep(wait)
        answer = response_body(response)
        if not isinstance(answer, Mapping):
            raise MalformedResponse(f"{step} answered HTTP {response.status_code} without JSON. {NOT_THE_API}",
                                    status=response.status_code)
        error = answer.get("error") if isinstance(answer.get("error"), Mapping) else {}
        if error.get("code") not in (None, "ok"):
            raise tiktok_error(response, step)
        data = answer.get("data")
        return dict(data) if isinstance(data, Mapping) else {}

    def _url(self, session: UploadSession) -> str:
        url = session.remote.get("upload_url")
        if not url:
            raise ConfigurationError(f"TikTok upload {session.media_id or '(none)'} has no upload_url: TikTok uploads "
                                     "resume from the task state store of the one task that runs them "
                                     "(ChunkedUploadOperator).")
        self._secret(str(url))
        return str(url)

    @staticmethod
    def _gone(error: RemoteRejected, session: UploadSession) -> RemoteRejected:
        if error.status not in (403, 404) or isinstance(error, UploadExpired):
            return error
        return UploadExpired(
            f"TikTok no longer takes chunks of {session.media_id} (HTTP {error.status}): its upload_url works one hour "
            "from init. Start a new upload, or set restart_expired=true on the connection to let chunkup start over "
            f"by itself. ({error})", status=error.status, body=error.body)


class _Body:
    """A PUT body over a view of the chunk, in pieces, never copied whole (iterated again on a retry)."""

    def __init__(self, view: memoryview) -> None:
        self._view = view

    async def __aiter__(self) -> AsyncIterator[memoryview]:
        for start in range(0, len(self._view), PIECE):
            yield self._view[start:start + PIECE]


def check_mode(mode: Any, what: str) -> None:
    if mode not in MODES:
        raise ConfigurationError(f"{what} is {mode!r}: use 'direct' (TikTok publishes the post once processed) or "
                                 "'inbox' (a draft the creator finishes in the TikTok app).")


def server_progress(content_range: str | None) -> int | None:
    """Bytes TikTok holds from its ``Content-Range: bytes 0-N/total`` (N + 1; ``bytes */total``: 0)."""
    match = _HELD.fullmatch(content_range or "")
    if match is None:
        return None
    return int(match.group(1)) + 1 if match.group(1) is not None else 0


def post_status(data: Mapping[str, Any]) -> ProcessingStatus:
    """``status/fetch``'s ``data`` as a :class:`ProcessingStatus`; ``fail_reason`` verbatim."""
    state = data.get("status")
    if state in SUCCEEDED:
        return ProcessingStatus(state="succeeded", progress_percent=100)
    if state == "FAILED":
        reason = str(data.get("fail_reason") or "")
        text = f"TikTok failed the post: {reason}" if reason else "TikTok failed the post and gave no fail_reason"
        return ProcessingStatus(state="failed", error={"name": "fail_reason", "code": reason,
                                                       "message": FAIL_HINTS.get(reason, text)})
    if state == "PROCESSING_UPLOAD":
        return ProcessingStatus(state="pending", check_after_secs=CHECK_AFTER)
    if state == "PROCESSING_DOWNLOAD":
        return ProcessingStatus(state="in_progress", check_after_secs=CHECK_AFTER)
    raise MalformedResponse(f"TikTok answered status {state!r}, none of PROCESSING_UPLOAD, PROCESSING_DOWNLOAD, "
                            f"{', '.join(SUCCEEDED)} or FAILED. {NOT_THE_API}")


FAIL_HINTS = {
    "duration_check_failed": "TikTok failed the post: the video is longer than the creator may post (10 min, or "
                             "creator_info's max_video_post_duration_sec); chunkup does not decode videos, so only "
                             "TikTok can tell. Trim it and upload again.",
    "file_format_check_failed": "TikTok failed the post: it could not read the file as MP4, MOV or WebM "
                                "(H.264/H.265/VP8/VP9). Re-encode it.",
    "picture_size_check_failed": "TikTok failed the post: the picture is outside 360 to 4096 pixels a side.",
    "internal": "TikTok failed the post with an internal error: upload it again.",
}

HINTS = {
    "access_token_invalid": "Check the user access token in the connection's password: it may have expired (24 h) "
                            "and needs refreshing.",
    "scope_not_authorized": "The user did not grant the scope this needs: video.publish for direct posts, "
                            "video.upload for inbox drafts. Ask them to authorize it again.",
    "spam_risk_too_many_posts": "The creator reached TikTok's daily post cap: post again tomorrow.",
    "spam_risk_too_many_pending_share": "The creator has 5 drafts pending in the last 24 h: they must post or "
                                        "discard them in the TikTok app first.",
    "unaudited_client_can_only_post_to_private_accounts": "The TikTok app is not audited yet: post with "
                                                          "privacy_level SELF_ONLY, or have the app audited.",
    "privacy_level_option_mismatch": "Use one of the creator's privacy_level_options (creator_info).",
    "rate_limit_exceeded": "TikTok's rate limit (init 6, status 30 a minute per token).",
    "invalid_params": "The request does not fit TikTok's rules.",
}


def tiktok_error(response: httpx.Response, step: str) -> RemoteError:
    """TikTok's ``{"error": {"code", "message", "log_id"}}`` in words, with the fix where known."""
    status = response.status_code
    body = response_body(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        code, text = str(error.get("code") or ""), str(error.get("message") or "").strip()
        message = f"{step} failed with HTTP {status}: {code}" + (f": {text}" if text else "")
        if error.get("log_id"):
            message += f" (log_id {error['log_id']})"
    else:
        code = ""
        excerpt = (body if isinstance(body, str) else json.dumps(body))[:BODY_EXCERPT].strip()
        message = f"{step} failed with HTTP {status}" + (f": {excerpt}" if excerpt else "")
    hint = HINTS.get(code) or HINTS.get("spam_risk_too_many_posts" if code.startswith("spam_risk") else "")
    if hint:
        message = f"{message.rstrip('.')}. {hint}"
    kind = error_class(status)
    if status == 200:
        kind = RemoteRejected
    if status == 403 and code != "scope_not_authorized" and kind is AuthenticationFailed:
        kind = RemoteRejected  # spam caps, privacy, an expired URL: new credentials fix none of these
    if kind is RateLimited:
        return RateLimited(message, status=status, body=body, retry_after=announced_wait(response.headers))
    return kind(message, status=status, body=body)
