"""X (Twitter) chunked media upload: API v2 and the legacy v1.1 ``command=`` flow.

v2 (X's OpenAPI spec is the authority): ``POST /2/media/upload/initialize`` (JSON),
``POST /2/media/upload/{id}/append`` (multipart ``media`` + ``segment_index``),
``POST /2/media/upload/{id}/finalize``, ``GET /2/media/upload?command=STATUS&media_id=``.
v1.1: ``/1.1/media/upload.json`` with ``command=INIT|APPEND|FINALIZE|STATUS``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from airflow_provider_chunkup.errors import (
    ConfigurationError,
    MalformedResponse,
    RemoteError,
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
)

V2 = "v2"
V1_1 = "v1.1"
DIALECTS = (V2, V1_1)
DEFAULT_BASE_URLS = {V2: "https://api.x.com", V1_1: "https://upload.twitter.com"}

# Enums from X's OpenAPI spec (InitializeMediaUploadRequest).
MEDIA_TYPES = (
    "video/mp4", "video/webm", "video/mp2t", "video/quicktime", "text/srt", "text/vtt",
    "image/jpeg", "image/gif", "image/bmp", "image/png", "image/webp", "image/pjpeg", "image/tiff",
    "model/gltf-binary", "model/vnd.usdz+zip",
)
MEDIA_CATEGORIES = (
    "amplify_video", "tweet_gif", "tweet_image", "tweet_video", "dm_gif", "dm_image", "dm_video",
    "subtitles",
)
CATEGORY_FAMILY = {
    "tweet_image": "image", "dm_image": "image",
    "tweet_gif": "gif", "dm_gif": "gif",
    "tweet_video": "video", "dm_video": "video", "amplify_video": "video",
    "subtitles": "subtitles",
}
# X's documented per-upload size limits (x-api/media/introduction); overridable per connection.
DEFAULT_SIZE_LIMITS = {"image": 5 * MiB, "gif": 15 * MiB, "video": 512 * MiB}
# Categories X processes asynchronously after FINALIZE (a status to poll).
PROCESSED_FAMILIES = ("video", "gif")
INIT_OPTIONS = ("shared", "additional_owners")

LIMITS = Limits(default_chunk_bytes=4 * MiB, max_chunk_bytes=5 * MiB, max_segments=1000)


def media_family(media_type: str) -> str:
    """image, gif, video, subtitles or model: what X's category rules key on."""
    if media_type == "image/gif":
        return "gif"
    if media_type.startswith("text/"):
        return "subtitles"
    return media_type.split("/", 1)[0]


def default_category(media_type: str) -> str | None:
    """The category X would infer, sent explicitly so large videos finalize asynchronously."""
    return {"image": "tweet_image", "gif": "tweet_gif", "video": "tweet_video",
            "subtitles": "subtitles"}.get(media_family(media_type))


class XMediaUpload(UploadProtocol):
    """X media upload, v2 or v1.1, over OAuth 2.0 user or OAuth 1.0a user auth.

    :param auth: ``BearerAuth`` (OAuth 2.0 user token with ``media.write``) or ``OAuth1Auth``.
    :param dialect: ``"v2"`` (default) or ``"v1.1"``.
    :param base_url: X's host by default; the local emulator's URL in tests and demos.
    :param size_limits: bytes per family (``image``, ``gif``, ``video``...) replacing X's defaults.
    """

    api: ClassVar[str] = "x"
    display_name: ClassVar[str] = "X"
    capabilities = Capabilities(parallel_segments=True, processes_media=True)
    limits = LIMITS

    def __init__(self, *, auth: httpx.Auth | None, dialect: str = V2, base_url: str | None = None,
                 size_limits: Mapping[str, int] | None = None, retry: RetryPolicy | None = None,
                 timeout: float = 120.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if dialect not in DIALECTS:
            raise ConfigurationError(f"X api_version must be one of {', '.join(DIALECTS)}, got {dialect!r}.")
        self.dialect = dialect
        self.size_limits = {**DEFAULT_SIZE_LIMITS, **dict(size_limits or {})}
        super().__init__(ApiClient(base_url or DEFAULT_BASE_URLS[dialect], auth=auth, timeout=timeout,
                                   retry=retry, error_factory=x_error, transport=transport))

    # -- validation ---------------------------------------------------------------------------

    def validate(self, spec: UploadSpec) -> None:
        if not spec.media_type:
            raise ConfigurationError(
                "X needs a media_type (for example video/mp4); set media_type, or use a source whose "
                "file name ends in a known extension."
            )
        if spec.media_type not in MEDIA_TYPES:
            raise ConfigurationError(
                f"X does not accept media_type {spec.media_type!r}. Use one of: {', '.join(MEDIA_TYPES)}."
            )
        category = spec.media_category
        if category is not None and category not in MEDIA_CATEGORIES:
            raise ConfigurationError(
                f"X does not know media_category {category!r}. Use one of: {', '.join(MEDIA_CATEGORIES)}."
            )
        family = media_family(spec.media_type)
        if category is not None and CATEGORY_FAMILY[category] != family:
            raise ConfigurationError(
                f"media_category {category!r} is for {CATEGORY_FAMILY[category]} media but media_type "
                f"{spec.media_type!r} is {family}. Pick a matching category, or leave it unset."
            )
        limit = self.size_limits.get(CATEGORY_FAMILY[category] if category else family)
        if limit is not None and spec.total_bytes > limit:
            key = CATEGORY_FAMILY[category] if category else family
            raise ConfigurationError(
                f"The source is {spec.total_bytes} bytes; X takes at most {limit} bytes of {family} "
                f"media{f' in {category}' if category else ''}. Use a smaller (or re-encoded) file, or raise the "
                f"limit in the connection's size_limits (e.g. {{\"{key}\": {spec.total_bytes}}}) if your "
                "account allows more."
            )
        unknown = sorted(set(spec.options) - set(INIT_OPTIONS))
        if unknown:
            raise ConfigurationError(
                f"X initialize does not take {', '.join(unknown)}; "
                f"allowed options: {', '.join(INIT_OPTIONS)}."
            )
        owners = spec.options.get("additional_owners")
        if owners is not None and (isinstance(owners, str) or not all(str(o).isdigit() for o in owners)):
            raise ConfigurationError("additional_owners must be a list of numeric X user ids.")

    # -- steps --------------------------------------------------------------------------------

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        assert spec.media_type is not None  # validate() ensured it
        category = spec.media_category or default_category(spec.media_type)
        if self.dialect == V2:
            body: dict[str, Any] = {"media_type": spec.media_type, "total_bytes": spec.total_bytes}
            if category:
                body["media_category"] = category
            if "shared" in spec.options:
                body["shared"] = bool(spec.options["shared"])
            if spec.options.get("additional_owners"):
                body["additional_owners"] = [str(o) for o in spec.options["additional_owners"]]
            response = await self.client.request("POST", "/2/media/upload/initialize", json=body,
                                                 step="X initialize")
            data = _data(response, "X initialize")
        else:
            form = {"command": "INIT", "media_type": spec.media_type, "total_bytes": str(spec.total_bytes)}
            if category:
                form["media_category"] = category
            if spec.options.get("additional_owners"):
                form["additional_owners"] = ",".join(str(o) for o in spec.options["additional_owners"])
            response = await self.client.request("POST", "/1.1/media/upload.json", data=form,
                                                 step="X INIT")
            data = json_object(response, "X INIT")
        media_id = str(data.get("id") or data.get("media_id_string") or data.get("media_id") or "")
        if not media_id:
            raise MalformedResponse(
                f"X initialize answered without a media id: {json.dumps(data)[:300]}. {NOT_THE_API}",
                status=response.status_code, body=data)
        expires = data.get("expires_after_secs")
        return UploadSession(
            api=self.api, media_id=media_id, total_bytes=spec.total_bytes, chunk_size=plan.chunk_size,
            source=spec.source, media_type=spec.media_type, media_category=category,
            media_key=data.get("media_key"),
            expires_at=time.time() + float(expires) if expires is not None else None,
            remote={"dialect": self.dialect},
        )

    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        self._check_alive(session)
        step = f"X append of segment {segment.index} to media {session.media_id}"
        if self._dialect(session) == V2:
            path, fields = f"/2/media/upload/{session.media_id}/append", {"segment_index": str(segment.index)}
        else:
            path = "/1.1/media/upload.json"
            fields = {"command": "APPEND", "media_id": session.media_id, "segment_index": str(segment.index)}
        body = MultipartBody(fields, "media", data)
        try:
            await self.client.request("POST", path, content=body, headers=body.headers, step=step)
        finally:
            body.release()

    async def finalize(self, session: UploadSession) -> UploadResult:
        self._check_alive(session)
        step = f"X finalize of media {session.media_id}"
        if self._dialect(session) == V2:
            response = await self.client.request("POST", f"/2/media/upload/{session.media_id}/finalize",
                                                 step=step)
            data = _data(response, step)
        else:
            response = await self.client.request(
                "POST", "/1.1/media/upload.json", step=step,
                data={"command": "FINALIZE", "media_id": session.media_id},
            )
            data = json_object(response, step)
        processing = data.get("processing_info")
        status = _processing_status(processing) if processing else None
        return UploadResult(
            api=self.api, media_id=str(data.get("id") or data.get("media_id_string") or session.media_id),
            size=int(data.get("size") or session.total_bytes), conn_id=session.conn_id,
            media_key=data.get("media_key") or session.media_key,
            sha256=session.digests.get("sha256"), md5=session.digests.get("md5"),
            processing=status.to_dict() if status else None,
            expires_after_secs=data.get("expires_after_secs"),
            details={**{k: data[k] for k in ("video", "image") if isinstance(data.get(k), dict)},
                     **({"media_category": session.media_category} if session.media_category else {})},
            transfer_seconds=round(session.transfer_seconds, 3) or None,
        )

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        return (await self.describe(media_id)).status

    async def describe(self, media_id: str) -> MediaInfo:
        """One STATUS call: the media's key (what kind of media it is) and its processing state."""
        path = "/2/media/upload" if self.dialect == V2 else "/1.1/media/upload.json"
        step = f"X status of media {media_id}"
        response = await self.client.request("GET", path, params={"command": "STATUS", "media_id": media_id},
                                             step=step)
        data = _data(response, step) if self.dialect == V2 else json_object(response, step)
        processing = data.get("processing_info")
        status = _processing_status(processing) if processing else ProcessingStatus(state="succeeded")
        key = data.get("media_key")
        return MediaInfo(media_id=media_id, media_key=key if isinstance(key, str) else None, status=status)

    # -- helpers ------------------------------------------------------------------------------

    def _dialect(self, session: UploadSession) -> str:
        dialect = session.remote.get("dialect", self.dialect)
        if dialect != self.dialect:
            raise ConfigurationError(
                f"Upload {session.media_id} was opened with X API {dialect} but the connection now uses "
                f"{self.dialect}; finish it with the same api_version."
            )
        return dialect

    @staticmethod
    def _check_alive(session: UploadSession) -> None:
        if session.expired():
            raise UploadExpired(
                f"X upload session {session.media_id} expired at "
                f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(session.expires_at))}; X forgets "
                "unfinished uploads after expires_after_secs. Start a new upload (re-run the init task)."
            )


@dataclass(frozen=True)
class MediaInfo:
    """What X's STATUS says of a media: its key (``7_...`` is a video) and its processing state."""

    media_id: str
    media_key: str | None
    status: ProcessingStatus


def _data(response: httpx.Response, step: str) -> dict[str, Any]:
    body = json_object(response, step)
    data = body.get("data")
    if not isinstance(data, dict):
        if body.get("errors"):
            raise x_error(response, step)
        raise MalformedResponse(f"{step} answered without a data object: {json.dumps(body)[:300]}. {NOT_THE_API}",
                                status=response.status_code, body=body)
    return data


def _processing_status(info: Mapping[str, Any]) -> ProcessingStatus:
    error = info.get("error")
    return ProcessingStatus(
        state=str(info.get("state") or "pending"),
        check_after_secs=info.get("check_after_secs"),
        progress_percent=info.get("progress_percent"),
        error=dict(error) if isinstance(error, Mapping) else None,
    )


HINTS = {
    404: "X has no media with this id: it was never opened with these credentials, or X forgot it "
         "(unfinished uploads expire after expires_after_secs). Start a new upload (re-run the init task).",
    401: "Check the connection's credentials: an OAuth 2.0 user access token in the password, or "
         "OAuth 1.0a consumer key/secret in login/password with access_token and access_token_secret.",
    403: "The token is not allowed to upload media: OAuth 2.0 tokens need the media.write scope "
         "(re-authorize the user with it); app-only bearer tokens cannot upload.",
    429: "X's rate limit is exhausted; it resets at x-rate-limit-reset. Upload less often, or raise "
         "retry_max_elapsed to wait it out.",
}


def x_error(response: httpx.Response, step: str, hints: Mapping[int, str] = HINTS) -> RemoteError:
    """X's error in X's own words: problem details, ``errors[]`` or ``{code, message}``, verbatim.

    ``hints`` name the likely fix per status (the upload's by default).
    """
    status = response.status_code
    body = response_body(response)
    text = json.dumps(body, separators=(",", ":")) if not isinstance(body, str) else body
    summary = text[:BODY_EXCERPT]
    if isinstance(body, dict):
        if body.get("detail") or body.get("title"):
            summary = " - ".join(str(body[k]) for k in ("title", "detail") if body.get(k))
            extras = [f"{k}={body[k]}" for k in ("parameter", "value") if body.get(k) is not None]
            if extras:
                summary += f" ({', '.join(extras)})"
            if isinstance(body.get("errors"), list) and body["errors"]:  # v2 validation: the fields' own messages
                summary += ": " + _error_list(body["errors"])
        elif isinstance(body.get("errors"), list) and body["errors"]:
            summary = _error_list(body["errors"])
        elif body.get("message"):
            summary = f"{body.get('code', '')} {body['message']}".strip()
    message = f"{step} failed with HTTP {status}: {summary}"
    if text != summary:
        message += f" | X answered: {text[:BODY_EXCERPT]}"
    hint = hints.get(status)
    if hint:
        message = f"{message.rstrip('.')}. {hint}"
    cls = error_class(status)
    if status in (400, 404, 410) and "expire" in text.lower():
        cls = UploadExpired
        if "Start a new upload" not in message:
            message = f"{message.rstrip('.')}. Start a new upload (re-run the init task)."
    return cls(message, status=status, body=body)


def _error_list(errors: list[Any]) -> str:
    return "; ".join(
        f"{e.get('code', '')} {e.get('message') or e.get('detail') or e.get('title') or ''}".strip()
        for e in errors if isinstance(e, dict)
    )
