"""Facebook video uploads through the Graph API's start / transfer / finish phases (Pages and ad accounts).

Source: ``/work/shared/api/meta-tiktok-linkedin.md`` (section 1: developers.facebook.com/docs/graph-api/video-uploads,
/docs/video-api/reference/error-codes) and the official ``facebook-business`` client's ``video_uploader.py``.

How the steps map: init posts ``upload_phase=start`` with the file's size; Graph answers with the upload session,
the video id and the first window (``start_offset``/``end_offset``, JSON strings). The server dictates every
window (plan kind ``windows``): append posts ``upload_phase=transfer`` with the window's bytes as the multipart
file ``video_file_chunk`` and keeps the next window Graph answers in ``session.remote``, so a checkpoint carries
it and a killed task resumes from what Graph last said. A wrong offset (1363037) names the window to send in its
``error_data``: it becomes the next window. Errors Graph marks ``is_transient`` are sent again with backoff;
throttling (codes 4, 17, 32, 613) is waited out; a lost session (1363030) is :class:`UploadExpired`. Finalize
posts ``upload_phase=finish`` with the title, description and ``published``; the sensor polls
``GET /{ver}/{video-id}?fields=status`` on ``graph.facebook.com``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    RateLimited,
    RemoteError,
    RemoteRejected,
    RetryExhausted,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.base import Capabilities, Chunk, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import GiB, KiB, Limits, MiB, Segment, WindowPlan, plan_chunks
from airflow_provider_chunkup.protocols.http import (
    BODY_EXCERPT,
    NOT_THE_API,
    ApiClient,
    error_class,
    generic_error,
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

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://graph-video.facebook.com"
"""Where video bytes go; the status of a video is read on :data:`STATUS_BASE`."""
STATUS_BASE = "https://graph.facebook.com"
DEFAULT_VERSION = "v23.0"
DEFAULT_CHUNK = 64 * MiB
"""The buffer that holds one window: Graph's windows are 50 MiB (the notes' first window), so 64 MiB fits them."""
MAX_CHUNK = 1 * GiB
MIN_FILE = 1 * KiB
"""Graph refuses smaller files (1363022)."""
MAX_FILE = 10 * GiB
"""Graph's largest video (10 GB; 1363023 beyond). Its 4 hour duration limit needs the video decoded: chunkup does
not check it, Graph refuses the video while processing (the sensor reports its reason)."""
MAX_TITLE = 255
"""Longest title chunkup sends (not in the notes: Graph's usual limit for a video's name)."""
MAX_DESCRIPTION = 5000
"""Longest description chunkup sends (not in the notes: a Page post's usual limit)."""
OPTIONS = ("title", "description", "published")
"""What ``upload_options`` may carry: the fields of ``upload_phase=finish``."""
THROTTLING = (4, 17, 32, 613)
"""Graph's rate-limit codes: application, user, Page, custom."""
WRONG_OFFSET = 1363037
SESSION_LOST = 1363030
CHECK_AFTER = 10.0
"""Seconds between status polls while Facebook processes a video."""


class MetaGraphVideoUpload(UploadProtocol):
    """Uploads a video to a Facebook Page or an ad account in the windows Graph dictates.

    :param api_base: ``https://graph-video.facebook.com`` (or the emulator's ``http://127.0.0.1:PORT``).
    :param status_base: where ``fields=status`` is read; default ``https://graph.facebook.com`` for the default
        ``api_base``, else ``api_base`` (an emulator serves both).
    :param token: the Page (or user, for an ad account) access token.
    :param target: ``page:<id>`` (``/{page-id}/videos``) or ``act_<id>`` (``/act_{id}/advideos``).
    :param app_secret: when set, every request carries ``appsecret_proof`` (HMAC-SHA256 of the token).
    """

    api: ClassVar[str] = "facebook"
    display_name: ClassVar[str] = "Facebook"

    def __init__(self, *, api_base: str = DEFAULT_BASE, status_base: str | None = None, token: str, target: str,
                 graph_version: str = DEFAULT_VERSION, app_secret: str | None = None,
                 default_chunk_bytes: int = DEFAULT_CHUNK, max_chunk_bytes: int = MAX_CHUNK,
                 retry: RetryPolicy | None = None, timeout: float = 120.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not token:
            raise ConfigurationError("Facebook needs a Page (or user) access token: set it as the connection's "
                                     "password.")
        if not re.fullmatch(r"v\d+\.\d+", graph_version or ""):
            raise ConfigurationError(f"graph_version must look like 'v23.0', got {graph_version!r}.")
        self.target_path = target_path(target, graph_version)
        self.target = target
        self.version = graph_version
        api_base = api_base.rstrip("/")
        super().__init__(ApiClient(api_base, timeout=timeout, retry=retry, error_factory=graph_error,
                                   transport=transport, retry_when=is_transient))
        self.status_base = (status_base or (STATUS_BASE if api_base == DEFAULT_BASE else api_base)).rstrip("/")
        self._token = token
        self.proof = (hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
                       if app_secret else None)
        if default_chunk_bytes > max_chunk_bytes:
            default_chunk_bytes = max_chunk_bytes
        self.limits = Limits(default_chunk_bytes=default_chunk_bytes, max_chunk_bytes=max_chunk_bytes,
                             max_segments=10**9)
        self.capabilities = Capabilities(
            parallel_segments=False, reports_committed=False, abortable=False, processes_media=True,
            server_windows=True,
            in_order_because="Graph names each window in its answer to the previous one: one at a time, in order")

    # -- validation ---------------------------------------------------------------------------

    def plan(self, spec: UploadSpec) -> WindowPlan:  # type: ignore[override]
        """Windows of at most ``chunk_size`` bytes (the buffer); an empty file or a buffer out of bounds is refused
        in the words every API uses, then Facebook's own rules."""
        plan_chunks(spec.total_bytes, self.limits, spec.chunk_size, api=self.display_name)
        self.validate(spec)
        return WindowPlan(spec.total_bytes, spec.chunk_size or self.limits.default_chunk_bytes)

    def validate(self, spec: UploadSpec) -> None:
        if spec.total_bytes < MIN_FILE:
            raise ConfigurationError(f"Facebook takes videos of at least {MIN_FILE} bytes; this file is "
                                     f"{spec.total_bytes} bytes. Upload the whole video, not a fragment.")
        if spec.total_bytes > MAX_FILE:
            raise ConfigurationError(f"Facebook takes videos of at most {MAX_FILE} bytes (10 GB); this file is "
                                     f"{spec.total_bytes} bytes. Compress or shorten it first.")
        unknown = sorted(set(spec.options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(f"Facebook upload_options take {', '.join(OPTIONS)}, not "
                                     f"{', '.join(unknown)}.")
        for key, longest in (("title", MAX_TITLE), ("description", MAX_DESCRIPTION)):
            value = spec.options.get(key)
            if value is not None and (not isinstance(value, str) or len(value) > longest):
                got = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
                raise ConfigurationError(f"The Facebook video {key} must be text of at most {longest} characters; "
                                         f"got {got}.")
        published = spec.options.get("published")
        if published is not None and not isinstance(published, bool):
            raise ConfigurationError(f"upload_options 'published' must be true or false, got {published!r}.")

    # -- steps --------------------------------------------------------------------------------

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        step = f"Facebook upload start ({spec.total_bytes} bytes to {self.target})"
        answer = await self._post({"upload_phase": "start", "file_size": str(spec.total_bytes)}, step)
        session_id = str(answer.get("upload_session_id") or "")
        video_id = str(answer.get("video_id") or "")
        if not session_id or not video_id:
            raise MalformedResponse(f"{step} answered without an upload_session_id and a video_id: "
                                    f"{json.dumps(answer)[:BODY_EXCERPT]}. {NOT_THE_API}")
        session = UploadSession(api=self.api, media_id=video_id, total_bytes=spec.total_bytes,
                                chunk_size=plan.max_window, source=spec.source, media_type=spec.media_type,
                                media_category=spec.media_category)
        session.use_plan(plan)
        session.remote = {"upload_session_id": session_id, "target": self.target, "windows": 0,
                          "wrong_offsets": 0, "init_options": dict(spec.options)}
        self._keep_window(session, answer, step)
        return session

    async def next_window(self, session: UploadSession) -> Segment | None:
        start, end = int(session.remote["start_offset"]), int(session.remote["end_offset"])
        if start == end:
            return None
        return Segment(int(session.remote.get("windows", 0)), start, end - start)

    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        step = (f"Facebook transfer of video {session.media_id} bytes {segment.offset}-"
                f"{segment.offset + segment.length} of {session.total_bytes}")
        fields = {"upload_phase": "transfer", "upload_session_id": str(session.remote["upload_session_id"]),
                  "start_offset": str(segment.offset)}
        try:
            answer = await self._post(fields, step, file=data)
        except RemoteRejected as e:
            window = _wrong_offset_window(e)
            if window is None:
                raise
            # Graph names the window it wants: send that one next (a bounded number of times).
            session.remote["wrong_offsets"] = int(session.remote.get("wrong_offsets", 0)) + 1
            allowed = max(8, 2 * session.segment_count)
            if session.remote["wrong_offsets"] > allowed:
                raise RetryExhausted(f"{e} Graph answered a wrong offset {session.remote['wrong_offsets']} times "
                                     f"for video {session.media_id}: giving up. Retry the task.",
                                     status=e.status, body=e.body) from e
            log.warning("%s; Graph asks for bytes %s-%s instead.", e, *window)
            self._keep_window(session, {"start_offset": window[0], "end_offset": window[1]}, step)
            return
        self._keep_window(session, answer, step)

    async def finalize(self, session: UploadSession) -> UploadResult:
        if int(session.remote.get("start_offset", -1)) != session.total_bytes:
            raise ConfigurationError(f"Facebook video {session.media_id} has {session.remote.get('start_offset')} "
                                     f"of {session.total_bytes} bytes: run append until Graph has them all.")
        options = session.remote.get("init_options") or {}
        fields = {"upload_phase": "finish", "upload_session_id": str(session.remote["upload_session_id"])}
        title = options.get("title") or (file_name(session.source) or "")[:MAX_TITLE]
        if title:
            fields["title"] = title
        if options.get("description") is not None:
            fields["description"] = options["description"]
        if options.get("published") is not None:
            fields["published"] = "true" if options["published"] else "false"
        step = f"Facebook upload finish of video {session.media_id}"
        answer = await self._post(fields, step)
        if answer.get("success") is not True:
            raise MalformedResponse(f"{step} answered without success: {json.dumps(answer)[:BODY_EXCERPT]}. "
                                    f"{NOT_THE_API}")
        return UploadResult(
            api=self.api, media_id=session.media_id, size=session.total_bytes, conn_id=session.conn_id,
            sha256=session.digests.get("sha256"), processing=(await self.status(session.media_id)).to_dict(),
            details={"video_id": session.media_id, "target": session.remote.get("target"),
                     "title": fields.get("title"), "published": options.get("published")},
            transfer_seconds=session.transfer_seconds,
        )

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        if until not in (None, "ready"):
            raise ConfigurationError(f"Facebook's sensor waits until the video is ready: until must be unset or "
                                     f"'ready', got {until!r}.")
        step = f"Facebook status of video {media_id}"
        params = {"fields": "status"}
        if self.proof:
            params["appsecret_proof"] = self.proof
        response = await self._send("GET", f"{self.status_base}/{self.version}/{media_id}", step, params=params,
                                    headers={"Authorization": f"OAuth {self._token}"})
        return video_status(json_object(response, step))

    async def read_node(self, node: str) -> dict[str, Any]:
        """``GET /{ver}/{node}?fields=id`` on the status host: what the connection's Test button reads."""
        step = f"Facebook read of {node}"
        params = {"fields": "id"}
        if self.proof:
            params["appsecret_proof"] = self.proof
        response = await self._send("GET", f"{self.status_base}/{self.version}/{node}", step, params=params,
                                    headers={"Authorization": f"OAuth {self._token}"})
        return json_object(response, step)

    # -- requests -----------------------------------------------------------------------------

    async def _post(self, fields: dict[str, str], step: str, file: Chunk | None = None) -> dict[str, Any]:
        form = {"access_token": self._token, **fields}
        if self.proof:
            form["appsecret_proof"] = self.proof
        if file is None:
            response = await self._send("POST", self.target_path, step, data=form)
        else:
            body = MultipartBody(form, "video_file_chunk", file, filename="chunk")
            try:
                response = await self._send("POST", self.target_path, step, content=body, headers=body.headers)
            finally:
                body.release()
        return json_object(response, step)

    async def _send(self, method: str, url: str, step: str, **kwargs: Any) -> httpx.Response:
        """One request; Graph's throttling waited out as long as the retry policy allows."""
        policy = self.client.retry
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self.client.request(method, url, step=step, **kwargs)
            except RateLimited as e:
                wait = e.retry_after if e.retry_after is not None else policy.backoff(attempt)
                if attempt >= policy.max_attempts or waited + wait > policy.max_elapsed:
                    raise
                log.warning("%s; waiting %.1f s before trying again.", e, wait)
                await asyncio.sleep(wait)
                waited += wait

    def _keep_window(self, session: UploadSession, answer: Mapping[str, Any], step: str) -> None:
        try:
            start, end = int(str(answer["start_offset"])), int(str(answer["end_offset"]))
        except (KeyError, ValueError) as e:
            raise MalformedResponse(f"{step} answered without a window (start_offset, end_offset): "
                                    f"{json.dumps(dict(answer))[:BODY_EXCERPT]}. {NOT_THE_API}") from e
        if not 0 <= start <= end <= session.total_bytes or (start == end and start != session.total_bytes):
            raise MalformedResponse(f"{step}: Graph asked for bytes {start}-{end} of a {session.total_bytes}-byte "
                                    f"file. {NOT_THE_API}")
        session.remote.update(start_offset=str(start), end_offset=str(end),
                              windows=int(session.remote.get("windows", 0)) + 1)


def target_path(target: str, version: str) -> str:
    """The upload path of ``page:<id>`` or ``act_<id>``."""
    if m := re.fullmatch(r"page:(\d+)", target or ""):
        return f"/{version}/{m[1]}/videos"
    if m := re.fullmatch(r"act_(\d+)", target or ""):
        return f"/{version}/act_{m[1]}/advideos"
    raise ConfigurationError(f"The Facebook target must be 'page:<page-id>' (a Page's videos) or 'act_<id>' (an ad "
                             f"account's videos), got {target!r}: set it in the connection's extra as 'target'.")


def video_status(video: Mapping[str, Any]) -> ProcessingStatus:
    """A video's ``status`` (``video_status`` processing, ready or error, and its phases) as a status."""
    status = video.get("status") if isinstance(video.get("status"), Mapping) else {}
    state = status.get("video_status")
    progress = status.get("processing_progress")
    percent = float(progress) if isinstance(progress, int | float) else None
    if state == "ready":
        return ProcessingStatus(state="succeeded", progress_percent=100)
    if state == "error":
        phases = {name: phase for name, phase in status.items()
                  if name.endswith("_phase") and isinstance(phase, Mapping)}
        failed = [name for name, phase in phases.items() if phase.get("status") == "error"] or ["video_status"]
        errors = [error for name in failed for error in (phases.get(name, {}).get("errors") or [])]
        reasons = "; ".join(str(e.get("message") if isinstance(e, Mapping) else e) for e in errors)
        return ProcessingStatus(state="failed", error={
            "name": failed[0], "code": "error", "errors": errors,
            "message": f"Facebook reports video_status 'error' in {', '.join(failed)}"
                       + (f": {reasons}" if reasons else "") + " (the file may not be a video Facebook can read, "
                       "or longer than 4 hours)."})
    if state == "processing":
        uploading = status.get("uploading_phase") if isinstance(status.get("uploading_phase"), Mapping) else {}
        started = uploading.get("status") == "complete"
        return ProcessingStatus(state="in_progress" if started else "pending", progress_percent=percent,
                                check_after_secs=CHECK_AFTER)
    raise MalformedResponse(f"Facebook answered the video's status without a video_status Graph knows: "
                            f"{json.dumps(dict(video))[:BODY_EXCERPT]}. {NOT_THE_API}")


def _graph_fields(response: httpx.Response) -> Mapping[str, Any] | None:
    body = response_body(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else None


def is_transient(response: httpx.Response) -> bool:
    """Graph marks errors worth sending again (1363019, 1363033) with ``is_transient``."""
    error = _graph_fields(response)
    return bool(error and error.get("is_transient") is True and error.get("code") not in THROTTLING)


def _wrong_offset_window(error: RemoteError) -> tuple[str, str] | None:
    body = error.body if isinstance(error.body, Mapping) else {}
    fields = body.get("error") if isinstance(body.get("error"), Mapping) else {}
    data = fields.get("error_data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    if fields.get("error_subcode") != WRONG_OFFSET or not isinstance(data, Mapping):
        return None
    if "start_offset" not in data or "end_offset" not in data:
        return None
    return str(data["start_offset"]), str(data["end_offset"])


def graph_error(response: httpx.Response, step: str) -> RemoteError:
    """Graph's error JSON in words: code, subcode, message, ``error_user_msg``, and what to do."""
    error = _graph_fields(response)
    if error is None:
        return generic_error(response, step)
    status = response.status_code
    code, subcode = error.get("code"), error.get("error_subcode")
    text = str(error.get("message") or "").strip()
    user = str(error.get("error_user_msg") or "").strip()
    ident = f"Graph error {code}" + (f"/{subcode}" if subcode is not None else "")
    message = f"{step} failed with HTTP {status}: {text} ({ident})" + (f": {user}" if user else "")
    hint = HINTS.get(subcode) or HINTS.get(code)
    if hint:
        message = f"{message}. {hint}"
    if subcode == SESSION_LOST:
        return UploadExpired(message, status=status, body=response_body(response))
    if code == 190 or subcode == 1363042 or code in (10, 200):
        return AuthenticationFailed(message, status=status, body=response_body(response))
    if code in THROTTLING:
        return RateLimited(message, status=status, body=response_body(response),
                           retry_after=_regain_after(response))
    return error_class(status)(message, status=status, body=response_body(response))


def _regain_after(response: httpx.Response) -> float | None:
    """Seconds until access is back, from ``X-Business-Use-Case-Usage``'s ``estimated_time_to_regain_access``."""
    try:
        usage = json.loads(response.headers.get("x-business-use-case-usage") or "{}")
    except ValueError:
        return None
    minutes = [entry.get("estimated_time_to_regain_access") for entries in usage.values()
               if isinstance(entries, list) for entry in entries if isinstance(entry, Mapping)]
    known = [float(m) for m in minutes if isinstance(m, int | float) and m > 0]
    return max(known) * 60 if known else None


HINTS: dict[int | None, str] = {
    190: "Check the access token in the connection's password: it is invalid or expired.",
    SESSION_LOST: "The upload session timed out on Facebook: start a new upload (re-run init), or set "
                  "restart_expired=true on the connection.",
    1363042: "The token may not upload videos to this target: use a Page token of that Page (pages_manage_posts) "
             "or a token with ads_management for the ad account.",
    1363045: "Graph does not hold every byte: run append until it has them all, then finish.",
    1363022: "The file is smaller than Facebook's 1 KB minimum.",
    1363023: "The file is larger than Facebook's 10 GB limit.",
    4: "The app's Graph rate limit is used up: wait, or make fewer calls.",
    17: "The user's Graph rate limit is used up: wait, or make fewer calls.",
    32: "The Page's rate limit is used up: wait the minutes X-Business-Use-Case-Usage names.",
    613: "A custom Graph rate limit is used up: wait, or make fewer calls.",
}

