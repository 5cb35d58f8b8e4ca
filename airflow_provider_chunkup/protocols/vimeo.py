"""Vimeo uploads (API 3.4): a video created by ``POST /me/videos``, its bytes sent over tus.

Sources: ``vimeo/openapi`` (``api.yaml``), the official clients (``vimeo/vimeo.py`` ``vimeo/upload.py``,
``vimeo/vimeo.php`` ``src/Vimeo/Upload/TusClient.php``) and Vimeo's upload guide; the notes in
``tus-vimeo-cloudflare.md`` (section 4).

How the steps map: init creates the video with ``upload.approach = tus`` and the file's size (name,
description, privacy from ``upload_options``); Vimeo answers with the video's ``uri`` and a pre-created tus
upload, its ``upload_link``. Append PATCHes the bytes there, in order, exactly as :class:`TusUpload` does for
any tus server (resume from the server's offset, HEAD before any re-send), but **without the
Authorization header**: the link carries its own authority. So it is a secret: masked through
``on_secret``, and kept out of the session (which travels in XCom): a task that was not handed it in
memory asks Vimeo for it (``GET /videos/{id}?fields=upload.upload_link``). Finalize HEADs the link and
checks every byte arrived, then reads the first processing state. The sensor polls
``GET /videos/{id}?fields=upload.status,transcode.status``; abort deletes the video.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import httpx

from airflow_provider_chunkup.errors import (
    ConfigurationError,
    MalformedResponse,
    RemoteError,
    RemoteRejected,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.base import Capabilities
from airflow_provider_chunkup.protocols.chunking import GiB, MiB
from airflow_provider_chunkup.protocols.http import BODY_EXCERPT, NOT_THE_API, error_class, json_object, response_body
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.secret_urls import UrlMasker
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
    file_name,
)
from airflow_provider_chunkup.protocols.tus import TUS_VERSION, TusUpload, tus_error

API_VERSION = "3.4"
DEFAULT_BASE = "https://api.vimeo.com"
DEFAULT_CHUNK = 64 * MiB
"""Vimeo's own clients send 200 MB PATCHes; 64 MiB keeps memory modest and a broken request cheap."""
MAX_CHUNK = 1 * GiB
MAX_NAME = 128
"""Longest video name Vimeo takes (error 2204 beyond)."""
PRIVACY_VIEWS = ("anybody", "contacts", "disable", "nobody", "password", "unlisted", "users")
"""``privacy.view`` values the API documents."""
OPTIONS = ("name", "description", "privacy", "password", "folder_uri", "fields")
"""What ``upload_options`` may carry: the video's fields chunkup checks, plus ``fields`` for any other."""
STATUS_FIELDS = "uri,status,upload.status,transcode.status"
LINK_SERVER = {"versions": [TUS_VERSION], "extensions": [], "max_size": None, "checksum_algorithms": []}
"""What chunkup assumes of a Vimeo upload link: plain tus 1.0.0 (Vimeo documents no extension there)."""
CHECK_AFTER = 10.0
"""Seconds between status polls while Vimeo transcodes (it sends no transcode webhook)."""


class VimeoUpload(TusUpload):
    """Uploads a video to Vimeo over its tus approach.

    :param api_base: ``https://api.vimeo.com`` (or the emulator's ``http://127.0.0.1:PORT/vimeo``).
    :param token: an access token with the ``upload`` scope (``delete`` too, for abort).
    :param on_secret: called with each upload link, so the caller can mask it in logs.
    """

    api: ClassVar[str] = "vimeo"
    display_name: ClassVar[str] = "Vimeo"
    known_server: ClassVar[dict[str, Any] | None] = LINK_SERVER

    def __init__(self, *, api_base: str = DEFAULT_BASE, token: str, headers: Mapping[str, str] | None = None,
                 default_chunk_bytes: int = DEFAULT_CHUNK, max_chunk_bytes: int = MAX_CHUNK,
                 retry: RetryPolicy | None = None, timeout: float = 120.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 on_secret: Callable[[str], None] | None = None) -> None:
        if not token:
            raise ConfigurationError("Vimeo needs an access token with the upload scope: set it as the connection's "
                                     "password.")
        accept = {"Accept": f"application/vnd.vimeo.*+json;version={API_VERSION}"}
        super().__init__(endpoint=api_base.rstrip("/"), auth=BearerAuth(token), headers={**accept, **(headers or {})},
                         checksum="none", default_chunk_bytes=default_chunk_bytes, max_chunk_bytes=max_chunk_bytes,
                         retry=retry, timeout=timeout, transport=transport, error_factory=vimeo_error)
        self.capabilities = Capabilities(
            parallel_segments=False, reports_committed=True, abortable=True, processes_media=True,
            in_order_because="Vimeo takes a video's bytes over tus, in order, one PATCH at a time")
        self._secret = UrlMasker(on_secret)
        self._links: dict[str, str] = {}

    # -- validation ---------------------------------------------------------------------------

    def validate(self, spec: UploadSpec) -> None:
        unknown = sorted(set(spec.options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(
                f"Vimeo upload_options take {', '.join(OPTIONS)}, not {', '.join(unknown)}: put any other video "
                "field under 'fields' (a mapping sent as is in the create request).")
        name = spec.options.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            raise ConfigurationError(f"The Vimeo video name must be text of at most {MAX_NAME} characters; got "
                                     f"{len(name) if isinstance(name, str) else type(name).__name__}.")
        view = _privacy(spec.options).get("view")
        if view is not None and view not in PRIVACY_VIEWS:
            raise ConfigurationError(f"privacy view {view!r} is not one Vimeo knows: use one of "
                                     f"{', '.join(PRIVACY_VIEWS)}.")
        if view == "password" and not spec.options.get("password"):
            raise ConfigurationError("privacy view 'password' needs a password option (the video's password).")
        fields = spec.options.get("fields")
        if fields is not None and not isinstance(fields, Mapping):
            raise ConfigurationError("upload_options 'fields' must be a mapping of Vimeo video fields.")

    # -- steps --------------------------------------------------------------------------------

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        body: dict[str, Any] = {**(spec.options.get("fields") or {}),
                                "upload": {"approach": "tus", "size": str(spec.total_bytes)}}
        for key in ("name", "description", "password", "folder_uri"):
            if spec.options.get(key) is not None:
                body[key] = spec.options[key]
        if body.get("name") is None:
            name = file_name(spec.source)
            if name:
                body["name"] = name[:MAX_NAME]
        privacy = _privacy(spec.options)
        if privacy:
            body["privacy"] = privacy
        step = f"Vimeo create video ({spec.total_bytes} bytes)"
        response = await self.client.request("POST", "/me/videos", params={"fields": "uri,link,upload"}, json=body,
                                             step=step)
        video = json_object(response, step)
        uri = str(video.get("uri") or "")
        upload = video.get("upload") if isinstance(video.get("upload"), Mapping) else {}
        link = str(upload.get("upload_link") or "")
        if not re.fullmatch(r"/videos/[^/]+", uri) or not link:
            raise MalformedResponse(f"{step} answered without a video uri and an upload_link: "
                                    f"{json.dumps(video)[:BODY_EXCERPT]}. {NOT_THE_API}", status=response.status_code)
        if upload.get("approach") not in (None, "tus"):
            raise MalformedResponse(f"{step}: Vimeo answered with upload approach {upload.get('approach')!r}, not "
                                    "tus.", status=response.status_code)
        media_id = uri.rsplit("/", 1)[-1]
        self._keep_link(media_id, link)
        self._opened.add(media_id)
        return UploadSession(
            api=self.api, media_id=media_id, total_bytes=spec.total_bytes, chunk_size=plan.chunk_size,
            source=spec.source, media_type=spec.media_type, media_category=spec.media_category,
            remote={"offset": 0, "server": dict(LINK_SERVER), "checksum": None, "link_only": True,
                    "video_uri": uri, "link": video.get("link"), "init_options": dict(spec.options)},
        )

    async def append(self, session: UploadSession, segment: Any, data: Any) -> None:
        await self._find_link(session)
        await super().append(session, segment, data)

    async def finalize(self, session: UploadSession) -> UploadResult:
        await self._find_link(session)
        result = await super().finalize(session)
        return UploadResult(
            api=self.api, media_id=session.media_id, size=session.total_bytes, conn_id=session.conn_id,
            sha256=result.sha256, processing=(await self.status(session.media_id)).to_dict(),
            details={"uri": session.remote.get("video_uri"), "url": session.remote.get("link")},
            transfer_seconds=result.transfer_seconds,
        )

    async def committed(self, session: UploadSession) -> set[int] | None:
        """The segments Vimeo holds whole (HEAD on the upload link)."""
        if not session.media_id:
            return None
        if session.media_id in self._opened:  # created here a moment ago: nothing sent yet
            return set()
        await self._find_link(session)
        offset = await self._head_offset(session)
        return {s.index for s in session.plan.segments() if s.end < offset}

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        if until not in (None, "transcoded"):
            raise ConfigurationError(f"Vimeo's sensor waits until the video is transcoded: until must be unset or "
                                     f"'transcoded', got {until!r}.")
        step = f"Vimeo status of video {media_id}"
        response = await self.client.request("GET", f"/videos/{media_id}", params={"fields": STATUS_FIELDS},
                                             step=step)
        return transcode_status(json_object(response, step))

    async def abort(self, session: UploadSession) -> bool:
        """Delete the video (needs the token's ``delete`` scope); a video already gone counts as deleted."""
        if not session.media_id:
            return False
        try:
            await self.client.request("DELETE", f"/videos/{session.media_id}",
                                      step=f"Vimeo delete video {session.media_id}")
        except RemoteRejected as e:
            if e.status not in (404, 410):
                raise
        return True

    # -- the upload link: a secret, never in the session ----------------------------------------

    def _keep_link(self, media_id: str, link: str) -> None:
        self._secret(link)
        self._links[media_id] = link

    def _url(self, session: UploadSession) -> str:
        link = self._links.get(session.media_id)
        if link is None:
            raise ConfigurationError(f"No upload link known for Vimeo video {session.media_id}: ask Vimeo first "
                                     "(_find_link).")
        return link

    async def _find_link(self, session: UploadSession) -> None:
        """The video's upload link: from init in this process, else asked of Vimeo (one GET per task).

        The link takes bytes without a token, so it stays out of the session (XCom, the task state store) and
        every task that needs it asks Vimeo with the token.
        """
        if session.media_id in self._links:
            return
        step = f"Vimeo upload link of video {session.media_id}"
        try:
            response = await self.client.request("GET", f"/videos/{session.media_id}",
                                                 params={"fields": "upload.upload_link,upload.status"}, step=step)
        except RemoteRejected as e:
            if e.status in (404, 410):
                raise UploadExpired(f"Vimeo has no video {session.media_id} any more (HTTP {e.status}): it was "
                                    "deleted. Start a new upload (re-run init), or set restart_expired=true on the "
                                    "connection.", status=e.status, body=e.body) from e
            raise
        upload = _section(json_object(response, step), "upload")
        link = str(upload.get("upload_link") or "")
        if not link:
            raise RemoteRejected(f"{step}: Vimeo answered without an upload link (upload.status "
                                 f"{upload.get('status')!r}); the upload may be finished or abandoned. Start a new "
                                 "upload.", status=response.status_code)
        self._keep_link(session.media_id, link)


def transcode_status(video: Mapping[str, Any]) -> ProcessingStatus:
    """A Vimeo video's ``upload.status`` and ``transcode.status`` as a :class:`ProcessingStatus`."""
    upload = _section(video, "upload")
    transcode = _section(video, "transcode")
    upload_state, transcode_state = upload.get("status"), transcode.get("status")
    if upload_state == "error" or transcode_state == "error":
        which = "upload" if upload_state == "error" else "transcode"
        return ProcessingStatus(state="failed", error={
            "name": f"{which}.status", "code": "error",
            "message": f"Vimeo reports {which}.status 'error' (video status {video.get('status')!r}): the file may not "
                       "be a video Vimeo can read; see the video's page on vimeo.com."})
    if transcode_state == "complete":
        return ProcessingStatus(state="succeeded", progress_percent=100)
    state = "in_progress" if upload_state == "complete" else "pending"
    return ProcessingStatus(state=state, check_after_secs=CHECK_AFTER)


def vimeo_error(response: httpx.Response, step: str) -> RemoteError:
    """Vimeo's error JSON (``error``, ``developer_message``, ``error_code``) in words; tus answers as tus does."""
    body = response_body(response)
    if not isinstance(body, Mapping) or not ("error" in body or "developer_message" in body):
        return tus_error(response, step)
    status = response.status_code
    text = str(body.get("developer_message") or body.get("error") or "").strip()
    code = body.get("error_code")
    message = f"{step} failed with HTTP {status}: {text}" + (f" (Vimeo error {code})" if code is not None else "")
    hint = HINTS.get(code) or HINTS.get(status)
    if hint:
        message = f"{message}. {hint}"
    return error_class(status)(message, status=status, body=body)


HINTS: dict[int | None, str] = {
    401: "Check the access token in the connection's password: it must be valid and have the upload scope.",
    8002: "Check the access token in the connection's password: it must be valid and have the upload scope.",
    403: "The token is not allowed to do this (scopes upload, and delete for abort).",
    4101: "The Vimeo account has no space left for this file: free space or upgrade the plan.",
    4102: "The Vimeo account's weekly upload quota is used up: wait for it to reset or upgrade the plan.",
    429: "Vimeo's rate limit: wait until X-RateLimit-Reset, or upload fewer videos at once.",
}


def _privacy(options: Mapping[str, Any]) -> dict[str, Any]:
    privacy = options.get("privacy")
    if privacy is None:
        return {}
    if isinstance(privacy, str):
        return {"view": privacy}
    if not isinstance(privacy, Mapping):
        raise ConfigurationError("The privacy option must be a view name ('unlisted') or a mapping "
                                 "({'view': 'unlisted', 'embed': 'public'}).")
    return dict(privacy)


def _section(video: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = video.get(name)
    return value if isinstance(value, Mapping) else {}
