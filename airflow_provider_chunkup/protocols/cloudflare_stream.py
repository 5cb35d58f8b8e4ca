"""Cloudflare Stream uploads: tus creation on the account's ``/stream`` endpoint, or a direct creator upload URL.

Sources: ``cloudflare/cloudflare-docs`` (``stream/uploading-videos/resumable-uploads.mdx``,
``direct-creator-uploads.mdx``, ``stream/faq.mdx``), ``cloudflare/api-schemas`` and the Python SDK's
``types/stream/video.py``; the notes in ``tus-vimeo-cloudflare.md`` (section 5).

How the steps map: init creates the upload with a tus POST to ``/accounts/{account_id}/stream``
(``Upload-Length``, ``Upload-Metadata`` with the video's settings) and takes the video's uid from the
``stream-media-id`` header, not from the ``Location``. Append PATCHes the ``Location`` in order with the
API token, as :class:`TusUpload` does for any tus server. Chunks follow Cloudflare's rule: every chunk but
the last a multiple of 256 KiB, from 5 MiB to 200 MiB. With a direct creator upload URL (one a backend
made with ``?direct_user=true``, see :meth:`CloudflareStreamUpload.create_direct_upload`) there is no
creation: the bytes go to that one-time URL, without the token. The sensor polls
``GET /accounts/{account_id}/stream/{uid}`` (``result.status.state``, ``pctComplete``,
``readyToStream``); abort deletes the video.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx

from airflow_provider_chunkup.errors import ConfigurationError, MalformedResponse, RemoteError, RemoteRejected
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.base import Capabilities
from airflow_provider_chunkup.protocols.chunking import Limits, MiB
from airflow_provider_chunkup.protocols.http import NOT_THE_API, error_class, json_object, response_body
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.secret_urls import UrlMasker
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
    file_name,
)
from airflow_provider_chunkup.protocols.tus import TUS_VERSION, TusUpload, encode_metadata, tus_error

DEFAULT_BASE = "https://api.cloudflare.com/client/v4"
CHUNK_MULTIPLE = 256 * 1024
MIN_CHUNK = 5 * MiB
MAX_CHUNK = 200 * MiB
DEFAULT_CHUNK = 50 * MiB
"""Cloudflare's recommended chunk size."""
MAX_VIDEO = 30 * 1000**3
"""Largest video Stream takes (30 GB)."""
SERVER = {"versions": [TUS_VERSION], "extensions": ["creation", "expiration", "termination"], "max_size": MAX_VIDEO,
          "checksum_algorithms": []}
"""What Stream's tus endpoint supports (its docs name no checksum and no concatenation)."""
FLAGS = ("requiresignedurls",)
"""Metadata keys sent as bare flags (present = true)."""
SETTINGS = ("name", "requiresignedurls", "scheduleddeletion", "allowedorigins", "thumbnailtimestamppct", "watermark",
            "maxdurationseconds", "expiry")
"""Video settings Stream reads from ``Upload-Metadata``."""
OPTIONS = (*SETTINGS, "meta", "upload_url", "creator")
STATES = ("pendingupload", "downloading", "queued", "inprogress", "ready", "error", "live-inprogress")
UNTIL = ("ready", "playable")
CHECK_AFTER = 5.0


class CloudflareStreamUpload(TusUpload):
    """Uploads a video to Cloudflare Stream over tus.

    :param api_base: ``https://api.cloudflare.com/client/v4`` (or the emulator's ``http://127.0.0.1:PORT/client/v4``).
    :param account_id: the Cloudflare account the video belongs to.
    :param token: an API token with Stream Edit; ``None`` where only direct creator upload URLs are used
        (they need none, but status and abort do).
    :param until: what the sensor waits for: ``ready`` (every quality encoded) or ``playable``
        (``readyToStream``: the first quality plays).
    :param on_secret: called with each one-time upload URL, so the caller can mask it in logs.
    """

    api: ClassVar[str] = "cloudflare_stream"
    display_name: ClassVar[str] = "Cloudflare Stream"
    known_server: ClassVar[dict[str, Any] | None] = SERVER

    def __init__(self, *, account_id: str, token: str | None, api_base: str = DEFAULT_BASE,
                 headers: Mapping[str, str] | None = None, default_chunk_bytes: int = DEFAULT_CHUNK,
                 until: str = "ready", retry: RetryPolicy | None = None, timeout: float = 120.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 on_secret: Callable[[str], None] | None = None) -> None:
        if not account_id or "/" in account_id:
            raise ConfigurationError("Cloudflare Stream needs the account id (the 32-hex id in the dashboard's URL) "
                                     "in the connection's login.")
        if until not in UNTIL:
            raise ConfigurationError(f"until must be one of {', '.join(UNTIL)}, got {until!r}.")
        check_chunk_size(default_chunk_bytes, "the connection's chunk_size")
        self.api_base = api_base.rstrip("/")
        self.account_id = account_id
        self.has_token = bool(token)
        self.until = until
        super().__init__(endpoint=f"{self.api_base}/accounts/{account_id}/stream",
                         auth=BearerAuth(token) if token else None, headers=headers, checksum="none",
                         default_chunk_bytes=default_chunk_bytes, max_chunk_bytes=MAX_CHUNK, retry=retry,
                         timeout=timeout, transport=transport, error_factory=cloudflare_error)
        self.limits = Limits(default_chunk_bytes=default_chunk_bytes, max_chunk_bytes=MAX_CHUNK, max_segments=10**9,
                             min_chunk_bytes=MIN_CHUNK)
        self.capabilities = Capabilities(
            parallel_segments=False, reports_committed=True, abortable=self.has_token, processes_media=True,
            in_order_because="Cloudflare Stream takes a video's bytes over tus, in order, one PATCH at a time")
        self._secret = UrlMasker(on_secret)

    # -- validation ---------------------------------------------------------------------------

    def validate(self, spec: UploadSpec) -> None:
        unknown = sorted(set(spec.options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(
                f"Cloudflare Stream upload_options take {', '.join(OPTIONS)}, not {', '.join(unknown)}: put your own "
                "keys under 'meta' (a mapping Stream keeps with the video).")
        if spec.total_bytes > MAX_VIDEO:
            raise ConfigurationError(f"The source is {spec.total_bytes} bytes; Cloudflare Stream takes videos up to "
                                     f"{MAX_VIDEO} bytes (30 GB).")
        if spec.chunk_size is not None and self.limits.min_chunk_bytes <= spec.chunk_size <= MAX_CHUNK:
            check_chunk_size(spec.chunk_size, "chunk_size")  # the bounds themselves are the plan's to check
        upload_url = spec.options.get("upload_url")
        if upload_url is not None and urlsplit(str(upload_url)).scheme not in ("http", "https"):
            raise ConfigurationError(f"upload_url must be the http(s) URL a direct creator upload returned, got "
                                     f"{str(upload_url)[:40]!r}.")
        if upload_url is not None and set(spec.options) - {"upload_url"}:
            raise ConfigurationError(
                "With upload_url (a direct creator upload) the video's settings were fixed when the URL was made: "
                f"pass only upload_url, not {', '.join(sorted(set(spec.options) - {'upload_url'}))}.")
        metadata_of(spec.options)  # its own checks

    # -- steps --------------------------------------------------------------------------------

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        upload_url = spec.options.get("upload_url")
        if upload_url:
            url, uid, link_only = str(upload_url), _uid_of(str(upload_url)), True
            self._secret(url)
        else:
            if not self.has_token:
                raise ConfigurationError("Creating a Cloudflare Stream upload needs an API token (Stream Edit) in the "
                                         "connection's password; without one, pass upload_options={'upload_url': ...} "
                                         "with a direct creator upload URL.")
            metadata = metadata_of(spec.options, default_name=file_name(spec.source))
            url, uid = await self._create(spec.total_bytes, metadata, direct_user=False)
            link_only = False
            self._opened.add(uid)  # created here: nothing sent yet (a direct upload URL may have been used before)
        return UploadSession(
            api=self.api, media_id=uid, total_bytes=spec.total_bytes, chunk_size=plan.chunk_size, source=spec.source,
            media_type=spec.media_type, media_category=spec.media_category,
            remote={"url": url, "offset": 0, "server": dict(SERVER), "checksum": None, "link_only": link_only,
                    "init_options": dict(spec.options)},
        )

    async def create_direct_upload(self, total_bytes: int, options: Mapping[str, Any] | None = None,
                                   creator: str | None = None) -> dict[str, str]:
        """A one-time tus upload URL for someone without the token (``?direct_user=true``).

        Returns ``{"uid": ..., "upload_url": ...}``; hand ``upload_url`` to the uploader (chunkup takes it as
        ``upload_options={"upload_url": ...}``). ``options`` are the video's settings (``name``,
        ``maxdurationseconds``, ``expiry``...), fixed now.
        """
        if total_bytes <= 0 or total_bytes > MAX_VIDEO:
            raise ConfigurationError(f"total_bytes must be from 1 to {MAX_VIDEO} (30 GB), got {total_bytes}.")
        url, uid = await self._create(total_bytes, metadata_of(options or {}), direct_user=True, creator=creator)
        return {"uid": uid, "upload_url": url}

    async def finalize(self, session: UploadSession) -> UploadResult:
        result = await super().finalize(session)
        processing = (await self.status(session.media_id)).to_dict() if self.has_token else None
        return UploadResult(
            api=self.api, media_id=session.media_id, size=session.total_bytes, conn_id=session.conn_id,
            sha256=result.sha256, processing=processing, details={"uid": session.media_id},
            transfer_seconds=result.transfer_seconds,
        )

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        until = until or self.until
        if until not in UNTIL:
            raise ConfigurationError(f"Cloudflare Stream 'until' must be one of {', '.join(UNTIL)}, got {until!r}.")
        if not self.has_token:
            raise ConfigurationError(f"Cloudflare Stream status of video {media_id} needs an API token: put one in "
                                     "the password of the connection the sensor uses.")
        step = f"Cloudflare Stream status of video {media_id}"
        response = await self.client.request("GET", f"{self.endpoint}/{media_id}", step=step)
        return stream_status(json_object(response, step).get("result") or {}, until)

    async def abort(self, session: UploadSession) -> bool:
        """Delete the video (API token needed); one already gone counts as deleted."""
        if not session.media_id or not self.has_token:
            return False
        try:
            await self.client.request("DELETE", f"{self.endpoint}/{session.media_id}",
                                      step=f"Cloudflare Stream delete video {session.media_id}")
        except RemoteRejected as e:
            if e.status not in (404, 410):
                raise
        return True

    # -- helpers ------------------------------------------------------------------------------

    async def _create(self, total_bytes: int, metadata: Mapping[str, str], *, direct_user: bool,
                      creator: str | None = None) -> tuple[str, str]:
        headers = {"Tus-Resumable": TUS_VERSION, "Upload-Length": str(total_bytes)}
        if metadata:
            headers["Upload-Metadata"] = encode_metadata(metadata)
        if creator:
            headers["Upload-Creator"] = creator
        step = f"Cloudflare Stream creation of a {total_bytes}-byte upload"
        response = await self.client.request("POST", self.endpoint, headers=headers, step=step,
                                             params={"direct_user": "true"} if direct_user else None)
        location, uid = response.headers.get("Location"), response.headers.get("stream-media-id")
        if not location or not uid:
            raise MalformedResponse(f"{step} answered HTTP {response.status_code} without a Location and a "
                                    f"stream-media-id. {NOT_THE_API}", status=response.status_code)
        url = urljoin(str(response.url), location)
        if direct_user:
            self._secret(url)
        return url, uid


def check_chunk_size(size: int, what: str) -> None:
    """Cloudflare's rule for every chunk but the last: a multiple of 256 KiB, from 5 MiB to 200 MiB."""
    if size % CHUNK_MULTIPLE or not MIN_CHUNK <= size <= MAX_CHUNK:
        raise ConfigurationError(
            f"{what} is {size} bytes; Cloudflare Stream takes chunks that are multiples of 262144 bytes (256 KiB) "
            f"from {MIN_CHUNK} (5 MiB) to {MAX_CHUNK} (200 MiB), e.g. 52428800 (50 MiB, its recommendation).")


def metadata_of(options: Mapping[str, Any], default_name: str = "") -> dict[str, str]:
    """The video's settings as ``Upload-Metadata`` pairs, checked (flags as bare keys, ``meta`` kept as keys)."""
    metadata: dict[str, str] = {}
    name = options.get("name") or default_name
    if name:
        metadata["name"] = str(name)
    if options.get("requiresignedurls"):
        metadata["requiresignedurls"] = ""
    duration = options.get("maxdurationseconds")
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 36000:
            raise ConfigurationError(f"maxdurationseconds must be a whole number of seconds from 1 to 36000 (10 "
                                     f"hours), got {duration!r}.")
        metadata["maxdurationseconds"] = str(duration)
    pct = options.get("thumbnailtimestamppct")
    if pct is not None:
        if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 <= pct <= 1:
            raise ConfigurationError(f"thumbnailtimestamppct must be a fraction from 0 to 1, got {pct!r}.")
        metadata["thumbnailtimestamppct"] = str(pct)
    for key in ("scheduleddeletion", "expiry"):
        if options.get(key) is not None:
            metadata[key] = _rfc3339(options[key], key)
    origins = options.get("allowedorigins")
    if origins is not None:
        metadata["allowedorigins"] = ",".join(origins) if isinstance(origins, list | tuple) else str(origins)
    if options.get("watermark"):
        metadata["watermark"] = str(options["watermark"])
    meta = options.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise ConfigurationError("upload_options 'meta' must be a mapping of your own keys to text.")
    for key, value in meta.items():
        if str(key) in SETTINGS or not str(key) or any(c.isspace() or c == "," for c in str(key)):
            raise ConfigurationError(f"meta key {key!r} is not usable: keys must be non-empty, without spaces or "
                                     "commas, and not one of Stream's own settings.")
        metadata[str(key)] = "" if value is None else str(value)
    return metadata


def stream_status(video: Mapping[str, Any], until: str = "ready") -> ProcessingStatus:
    """A Stream video's ``status`` as a :class:`ProcessingStatus` (``pctComplete`` is a string in the API)."""
    status = video.get("status") if isinstance(video.get("status"), Mapping) else {}
    state = str(status.get("state") or "")
    try:
        percent: float | None = float(status.get("pctComplete"))
    except (TypeError, ValueError):
        percent = None
    if state == "error":
        code = status.get("errorReasonCode") or status.get("errReasonCode") or "ERR_UNKNOWN"
        return ProcessingStatus(state="failed", progress_percent=percent, error={
            "name": "error", "code": code,
            "message": status.get("errorReasonText") or f"Cloudflare Stream could not encode the video ({code})"})
    if state == "ready" and (until == "playable" or percent is None or percent >= 100):
        return ProcessingStatus(state="succeeded", progress_percent=percent)
    if until == "playable" and video.get("readyToStream"):
        return ProcessingStatus(state="succeeded", progress_percent=percent)
    return ProcessingStatus(state="pending" if state in ("pendingupload", "downloading", "") else "in_progress",
                            progress_percent=percent, check_after_secs=CHECK_AFTER)


def cloudflare_error(response: httpx.Response, step: str) -> RemoteError:
    """Cloudflare's envelope errors (``errors[].code``, ``message``) in words; other answers as tus does."""
    body = response_body(response)
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(errors, list) or not errors:
        return tus_error(response, step)
    status = response.status_code
    said = "; ".join(f"{e.get('message', '')} (code {e.get('code')})" if isinstance(e, Mapping) else str(e)
                     for e in errors)
    message = f"{step} failed with HTTP {status}: {said}"
    if status in HINTS:
        message = f"{message}. {HINTS[status]}"
    return error_class(status)(message, status=status, body=body)


HINTS = {
    401: "Check the API token in the connection's password (it needs the Stream Edit permission).",
    403: "Check the API token's permissions (Stream Edit) and the account id (the connection's login): this token may "
         "not use Stream on this account.",
    413: "Too many videos are queued or encoding (Stream allows 120): wait for some to finish.",
    429: "Cloudflare's rate limit (1200 requests per 5 minutes per token): wait for retry-after.",
}


def _uid_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def _rfc3339(value: Any, key: str) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ConfigurationError(f"{key} must carry a time zone (e.g. UTC).")
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = str(value)
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(f"{key} must be an RFC 3339 time such as 2026-12-31T23:59:59Z, got {text!r}.") \
            from None
    return text
