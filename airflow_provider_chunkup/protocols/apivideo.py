"""api.video video upload: a container, then chunks by ``Content-Range``, or a delegated upload token.

api.video's OpenAPI spec is the authority: ``POST /videos`` creates the container,
``POST /videos/{videoId}/source`` takes multipart ``file`` chunks with ``Content-Range: part N/M``
(parts may arrive in any order and concurrently) or ``bytes a-b/total``, and
``GET /videos/{videoId}/status`` reports what was received and how encoding goes. With a delegated
upload token, ``POST /upload?token=`` creates the container on the first chunk, whose response
gives the ``videoId`` every later chunk must carry (the detail api.video's own clients miss).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, ClassVar

import httpx

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    RemoteError,
    RemoteRejected,
)
from airflow_provider_chunkup.protocols.base import Capabilities, Chunk, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import GiB, Limits, MiB, Segment, ShortTailPlan
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

PRODUCTION = "https://ws.api.video"
SANDBOX = "https://sandbox.api.video"
PART = "part"
BYTES = "bytes"
MODES = (PART, BYTES)
PLAYABLE = "playable"
ENCODED = "encoded"
UNTIL = (PLAYABLE, ENCODED)

# api.video's documented rules: every chunk but the last >= 5 MiB, <= 200 MiB per request, <= 10,000
# parts; 50 MiB is its own clients' default chunk (large chunks spare the 100 uploads/minute limit).
LIMITS = Limits(default_chunk_bytes=50 * MiB, max_chunk_bytes=200 * MiB, max_segments=10_000,
                min_chunk_bytes=5 * MiB)
MAX_VIDEO_BYTES = 30 * GiB
# Fields of the spec's video-creation-payload that an upload may set.
VIDEO_FIELDS = ("title", "description", "public", "panoramic", "mp4Support", "playerId", "tags", "metadata",
                "language", "transcript", "transcriptSummary", "transcriptSummaryAttributes", "watermark", "clip")
RESULT_ASSETS = ("player", "hls", "mp4", "thumbnail")


class ApiVideoUpload(UploadProtocol):
    """api.video uploads, to a container this protocol creates or with a delegated upload token.

    :param auth: ``httpx.BasicAuth(api_key, "")`` or :class:`ApiVideoBearerAuth`; may be ``None``
        with ``upload_token`` (token uploads need no key, but status and resume do).
    :param mode: ``"part"`` (``Content-Range: part N/M``, parallel) or ``"bytes"`` (ranges, in order).
    :param upload_token: a delegated upload token: chunks go to ``/upload?token=``.
    :param until: when processing is done: ``"playable"`` (default) or ``"encoded"`` (every quality).
    """

    api: ClassVar[str] = "apivideo"
    display_name: ClassVar[str] = "api.video"
    limits = LIMITS

    def __init__(self, *, auth: httpx.Auth | None, base_url: str = PRODUCTION, mode: str = PART,
                 upload_token: str | None = None, until: str = PLAYABLE, max_video_bytes: int = MAX_VIDEO_BYTES,
                 retry: RetryPolicy | None = None, timeout: float = 300.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if mode not in MODES:
            raise ConfigurationError(f"api.video upload_mode must be one of {', '.join(MODES)}, got {mode!r}.")
        if until not in UNTIL:
            raise ConfigurationError(f"api.video 'until' must be one of {', '.join(UNTIL)}, got {until!r}.")
        self.mode = mode
        self.has_api_key = auth is not None
        """Whether requests carry the API key (an upload token alone can only upload)."""
        self.upload_token = upload_token
        self.until = until
        self.max_video_bytes = max_video_bytes
        self.capabilities = Capabilities(
            # Part numbers let the server place parts that arrive in any order; byte ranges go in order.
            parallel_segments=mode == PART,
            reports_committed=auth is not None,
            abortable=upload_token is None and auth is not None,
            processes_media=True,
            opens_with_first_segment=upload_token is not None,
            completes_with_last_segment=True,
            in_order_because="" if mode == PART else (
                "it uses upload_mode=bytes, and byte ranges must arrive in order. Set upload_mode=part on the "
                "connection (parts may arrive in any order) before init"),
        )
        super().__init__(ApiClient(base_url, auth=auth, timeout=timeout, retry=retry,
                                   error_factory=apivideo_error, transport=transport))

    # -- validation ---------------------------------------------------------------------------

    def validate(self, spec: UploadSpec) -> None:
        if spec.total_bytes > self.max_video_bytes:
            raise ConfigurationError(
                f"The source is {spec.total_bytes} bytes; api.video takes videos up to {self.max_video_bytes} "
                "bytes (30 GiB). Split or re-encode the file."
            )
        unknown = sorted(set(spec.options) - set(VIDEO_FIELDS))
        if unknown:
            raise ConfigurationError(
                f"api.video videos have no field {', '.join(unknown)}; upload_options may set: "
                f"{', '.join(VIDEO_FIELDS)}."
            )
        if self.upload_token and spec.options:
            raise ConfigurationError(
                "With a delegated upload token api.video creates the video itself: upload_options cannot be "
                "applied. Remove them, or upload with an API key."
            )

    # -- steps --------------------------------------------------------------------------------

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        remote: dict[str, Any] = {"mode": self.mode, "token": self.upload_token is not None}
        video_id = ""
        if self.upload_token is None:
            body = self._video_payload(spec)
            response = await self.client.request("POST", "/videos", json=body, step="api.video create video")
            video = json_object(response, "api.video create video")
            video_id = _video_id(video, response, "api.video create video")
        session = UploadSession(api=self.api, media_id=video_id, total_bytes=spec.total_bytes,
                                chunk_size=plan.chunk_size, source=spec.source, media_type=spec.media_type,
                                remote=remote)
        short_tail = ShortTailPlan(spec.total_bytes, plan.chunk_size)
        if self.mode == PART and short_tail.split and short_tail.segment_count <= self.limits.max_segments:
            # The last part completes the video, so it goes alone after the others: keep it short.
            session.use_plan(short_tail)
        return session

    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        self._check_session(session)
        total_parts = session.segment_count
        if session.remote.get("mode", PART) == PART:
            content_range = f"part {segment.index + 1}/{total_parts}"
        else:
            content_range = f"bytes {segment.offset}-{segment.end}/{session.total_bytes}"
        fields: dict[str, str] = {}
        if self.upload_token:
            url, params = "/upload", {"token": self.upload_token}
            if session.media_id:
                fields["videoId"] = session.media_id
        else:
            url, params = f"/videos/{session.media_id}/source", {}
        step = f"api.video upload of {content_range} to {session.media_id or 'a new video'}"
        body = MultipartBody(fields, "file", data, filename=_filename(session))
        try:
            response = await self.client.request("POST", url, params=params, content=body,
                                                 headers={**body.headers, "Content-Range": content_range}, step=step)
        except RemoteRejected as e:
            if not await self._already_received(session, segment, e):
                raise
            return
        finally:
            body.release()
        answer = json_object(response, step)
        if not session.media_id:
            session.media_id = _video_id(answer, response, step)
        if "assets" in answer or segment.index == total_parts - 1:
            session.remote["video"] = _video_summary(answer)

    async def finalize(self, session: UploadSession) -> UploadResult:
        self._check_session(session)
        video = session.remote.get("video")
        if not video or "assets" not in video:
            if self.capabilities.reports_committed:
                response = await self.client.request("GET", f"/videos/{session.media_id}",
                                                     step=f"api.video get video {session.media_id}")
                video = _video_summary(json_object(response, "api.video get video"))
            else:
                video = video or {"videoId": session.media_id}
        return UploadResult(
            api=self.api, media_id=session.media_id, size=session.total_bytes, conn_id=session.conn_id,
            sha256=session.digests.get("sha256"), md5=session.digests.get("md5"),
            processing=ProcessingStatus(state="pending").to_dict(),
            details=video, transfer_seconds=round(session.transfer_seconds, 3) or None,
        )

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        if not self.has_api_key:
            raise ConfigurationError(
                f"api.video status of video {media_id} needs the API key: an upload token can only upload. Put the "
                "API key in the password of the connection the sensor uses (a connection with the key and no "
                "upload_token extra), or give the sensor conn_id of such a connection."
            )
        until = until or self.until
        if until not in UNTIL:
            raise ConfigurationError(f"api.video 'until' must be one of {', '.join(UNTIL)}, got {until!r}.")
        return encoding_status(await self._status(media_id), until)

    async def committed(self, session: UploadSession) -> set[int] | None:
        if not session.media_id or not self.capabilities.reports_committed:
            return None
        ingest = (await self._status(session.media_id)).get("ingest") or {}
        plan = session.plan
        if session.remote.get("mode", PART) == PART:
            parts = (ingest.get("receivedParts") or {}).get("parts") or []
            return {int(p) - 1 for p in parts if 1 <= int(p) <= plan.segment_count}
        ranges = [(int(r["from"]), int(r["to"])) for r in ingest.get("receivedBytes") or []]
        return {s.index for s in plan.segments() if any(a <= s.offset and s.end <= b for a, b in ranges)}

    async def abort(self, session: UploadSession) -> bool:
        if not session.media_id or not self.capabilities.abortable:
            return False
        await self.client.request("DELETE", f"/videos/{session.media_id}",
                                  step=f"api.video delete video {session.media_id}")
        return True

    # -- helpers ------------------------------------------------------------------------------

    async def _status(self, video_id: str) -> dict[str, Any]:
        step = f"api.video status of {video_id}"
        response = await self.client.request("GET", f"/videos/{video_id}/status", step=step)
        return json_object(response, step)

    async def _already_received(self, session: UploadSession, segment: Segment, error: RemoteRejected) -> bool:
        """A re-sent part the server already holds (its first answer was lost) is not an error.

        With the API key, ``/status`` says which parts the video holds. With an upload token alone it cannot be
        asked, so api.video's own refusal decides: "part already sent" (or, in bytes mode, "range overlap"; or
        "source already uploaded" once the last part completed the video) for this video means an earlier
        attempt of ours delivered it.
        """
        if error.status != 400 or not session.media_id:
            return False
        if self.capabilities.reports_committed:
            have = await self.committed(session)
            return bool(have) and segment.index in have  # type: ignore[operator]
        kind = str(error.body.get("type", "")) if isinstance(error.body, Mapping) else ""
        return kind.rsplit("/", 1)[-1] in ALREADY_HELD

    def _video_payload(self, spec: UploadSpec) -> dict[str, Any]:
        body = {k: v for k, v in spec.options.items() if v is not None}
        body.setdefault("title", (spec.source or "video").rstrip("/").rsplit("/", 1)[-1])
        metadata = body.get("metadata")
        if isinstance(metadata, Mapping):  # {"k": "v"} is friendlier to write than [{"key","value"}]
            body["metadata"] = [{"key": str(k), "value": str(v)} for k, v in metadata.items()]
        return body

    def _check_session(self, session: UploadSession) -> None:
        if bool(session.remote.get("token")) != (self.upload_token is not None):
            raise ConfigurationError(
                f"Upload {session.media_id or '(not started)'} was opened "
                f"{'with' if session.remote.get('token') else 'without'} an upload token but the connection now "
                f"{'has' if self.upload_token else 'has none'}; finish it with the same connection."
            )
        if session.remote.get("mode", PART) != self.mode:
            raise ConfigurationError(
                f"Upload {session.media_id} was opened in {session.remote.get('mode')} mode but the connection now "
                f"uses {self.mode}; api.video refuses mixed modes. Finish it with the same upload_mode."
            )


ALREADY_HELD = frozenset({"video-content-range-by-part-part-already-sent", "video-content-range-by-bytes-range-overlap",
                          "video-source-already-uploaded"})
"""api.video's error types (the ``type`` URL's last part) that say the part sent again is already there."""


def encoding_status(status: Mapping[str, Any], until: str = PLAYABLE) -> ProcessingStatus:
    """api.video's ``/status`` as a :class:`ProcessingStatus`."""
    ingest = status.get("ingest") or {}
    encoding = status.get("encoding") or {}
    qualities = [q for q in encoding.get("qualities") or [] if isinstance(q, Mapping)]
    failed = [q for q in qualities if q.get("status") == "failed"]
    encoded = [q for q in qualities if q.get("status") == "encoded"]
    percent = round(100 * len(encoded) / len(qualities)) if qualities else None
    if failed:
        names = ", ".join(f"{q.get('type', '?')} {q.get('quality', '?')}" for q in failed)
        return ProcessingStatus(state="failed", progress_percent=percent, error={
            "name": "encoding-failed", "message": f"api.video failed to encode {names}", "qualities": failed})
    if until == ENCODED and qualities and len(encoded) == len(qualities):
        return ProcessingStatus(state="succeeded", progress_percent=100)
    if until == PLAYABLE and encoding.get("playable"):
        return ProcessingStatus(state="succeeded", progress_percent=percent)
    state = "in_progress" if ingest.get("status") in ("uploaded", "ingested") else "pending"
    return ProcessingStatus(state=state, progress_percent=percent)


class ApiVideoBearerAuth(httpx.Auth):
    """api.video's bearer flow: ``/auth/api-key`` once, ``/auth/refresh`` before expiry or on a 401.

    :param on_token: called with every access token obtained, so the caller can mask it in logs.
    """

    requires_response_body = True
    REFRESH_MARGIN = 60.0

    def __init__(self, api_key: str, on_token: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._api_key = api_key
        self._on_token = on_token
        self._clock = clock
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires = 0.0

    def __repr__(self) -> str:
        return "ApiVideoBearerAuth(***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._access is None or self._clock() >= self._expires - self.REFRESH_MARGIN:
            yield from self._renew(request)
        request.headers["Authorization"] = f"Bearer {self._access}"
        response = yield request
        if response.status_code == 401:
            yield from self._renew(request, force_refresh=True)
            request.headers["Authorization"] = f"Bearer {self._access}"
            yield request

    def _renew(self, request: httpx.Request,
               force_refresh: bool = False) -> Generator[httpx.Request, httpx.Response, None]:
        base = request.url.copy_with(path="/", query=None, fragment=None)
        if self._refresh and (force_refresh or self._access is not None):
            response = yield httpx.Request("POST", base.join("/auth/refresh"), json={"refreshToken": self._refresh})
            if response.status_code == 200:
                self._store(response)
                return
        response = yield httpx.Request("POST", base.join("/auth/api-key"), json={"apiKey": self._api_key})
        if response.status_code != 200:
            error = apivideo_error(response, "api.video authentication (/auth/api-key)")
            if response.status_code in (400, 401, 403):  # api.video answers a wrong key with 400
                message = str(error)
                if response.status_code != 401:  # apivideo_error adds the API-key hint to 401s only
                    message = f"{message.rstrip('.')}. {HINTS[401]}"
                raise AuthenticationFailed(message, status=error.status, body=error.body)
            raise error
        self._store(response)

    def _store(self, response: httpx.Response) -> None:
        body = response_body(response)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise MalformedResponse(f"api.video /auth answered without an access_token. {NOT_THE_API}",
                                    status=response.status_code)
        self._access = str(body["access_token"])
        self._refresh = body.get("refresh_token") or self._refresh
        self._expires = self._clock() + float(body.get("expires_in") or 3600)
        if self._on_token is not None:
            self._on_token(self._access)
            if self._refresh:
                self._on_token(self._refresh)


HINTS = {
    401: "Check the API key in the connection's password (production and sandbox keys differ), or the "
         "delegated upload token.",
    403: "The api.video account is suspended or not allowed to do this.",
    404: "api.video has no such video: it was deleted, or it belongs to another account or environment "
         "(production and sandbox differ). Start a new upload (re-run the init task) with the same connection.",
    429: "api.video's rate limit is exhausted (uploads: 100 a minute in production); larger chunks need "
         "fewer requests.",
}


def apivideo_error(response: httpx.Response, step: str) -> RemoteError:
    """api.video's error in its own words: ``title``, ``type``, ``name``, ``detail``, ``problems``."""
    status = response.status_code
    body = response_body(response)
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    summary = text[:BODY_EXCERPT]
    if isinstance(body, dict) and (body.get("title") or body.get("type")):
        kind = str(body.get("type") or "").rsplit("/", 1)[-1]
        summary = str(body.get("title") or kind)
        if kind:
            summary += f" ({kind})"
        if body.get("name"):
            summary += f" [{body['name']}]"
        if body.get("detail"):
            summary += f": {body['detail']}"
    message = f"{step} failed with HTTP {status}: {summary}"
    if text != summary:
        message += f" | api.video answered: {text[:BODY_EXCERPT]}"
    if status in HINTS:
        message = f"{message.rstrip('.')}. {HINTS[status]}"
    return error_class(status)(message, status=status, body=body)


def _video_id(body: Mapping[str, Any], response: httpx.Response, step: str) -> str:
    video_id = body.get("videoId")
    if not video_id:
        raise MalformedResponse(f"{step} answered without a videoId: {json.dumps(body)[:300]}. {NOT_THE_API}",
                                status=response.status_code, body=body)
    return str(video_id)


def _video_summary(video: Mapping[str, Any]) -> dict[str, Any]:
    """The few Video fields worth keeping in XCom: ids and the asset URLs to publish."""
    summary: dict[str, Any] = {k: video[k] for k in ("videoId", "title", "playerId", "public") if k in video}
    assets = video.get("assets")
    if isinstance(assets, Mapping):
        summary["assets"] = {k: assets[k] for k in RESULT_ASSETS if assets.get(k)}
    return summary


def _filename(session: UploadSession) -> str:
    return file_name(session.source, "video")
