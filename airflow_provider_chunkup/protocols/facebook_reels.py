"""Facebook Page Reels: ``video_reels`` start on Graph, the bytes over rupload, then finish with ``video_state``.

Sources: ``meta-tiktok-linkedin.md`` (section 3), Meta's Reels publishing guide (video API).

How the steps map: init is ``POST /{ver}/{page-id}/video_reels upload_phase=start`` → ``video_id`` and
``upload_url``. Append sends the bytes there (:class:`RuploadUpload`), resuming from the video's
``status.uploading_phase.bytes_transferred``. Finalize is ``upload_phase=finish`` with ``video_state``
(PUBLISHED, DRAFT or SCHEDULED with ``scheduled_publish_time``) and ``description``: the finish **is** the
publish step. With ``publish: false`` in the options finalize only checks the bytes arrived and the finish is
left to :meth:`FacebookReelsUpload.publish`. A finish is never sent twice: the video's status is read first,
and one whose processing has started was finished already. The sensor polls ``GET /{video_id}?fields=status``
(``video_status`` processing, ready or error).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_chunkup.errors import ConfigurationError, MalformedResponse, RemoteRejected
from airflow_provider_chunkup.protocols.http import BODY_EXCERPT, NOT_THE_API, json_object
from airflow_provider_chunkup.protocols.rupload import DECODE_LIMITS, RuploadUpload, uploading_bytes
from airflow_provider_chunkup.protocols.session import ProcessingStatus, UploadResult, UploadSession, UploadSpec

VIDEO_STATES = ("PUBLISHED", "DRAFT", "SCHEDULED")
OPTIONS = ("video_state", "description", "title", "scheduled_publish_time", "publish")
"""What ``upload_options`` may carry: the finish's fields, and ``publish`` (false: finish later)."""
MAX_DESCRIPTION = 2200
"""Longest description chunkup sends (the Reels caption limit Meta documents for Instagram; Facebook states none)."""
MIN_SCHEDULE_SECS = 10 * 60
MAX_SCHEDULE_SECS = 75 * 24 * 3600
"""Graph's scheduling window for Page posts: 10 minutes to 75 days ahead."""
CHECK_AFTER = 10.0


def check_finish(options: Mapping[str, Any], now: float | None = None) -> None:
    """Refuse a finish Graph would refuse: unknown ``video_state``, a schedule missing or out of the window."""
    state = options.get("video_state", "PUBLISHED")
    if state not in VIDEO_STATES:
        raise ConfigurationError(f"video_state {state!r} is not one Facebook Reels take: use one of "
                                 f"{', '.join(VIDEO_STATES)}.")
    when = options.get("scheduled_publish_time")
    if state == "SCHEDULED":
        if when is None:
            raise ConfigurationError("video_state SCHEDULED needs scheduled_publish_time (Unix seconds, 10 minutes "
                                     "to 75 days ahead).")
        if not isinstance(when, int) or isinstance(when, bool):
            raise ConfigurationError(f"scheduled_publish_time must be Unix seconds (an integer), got {when!r}.")
        ahead = when - (time.time() if now is None else now)
        if not MIN_SCHEDULE_SECS <= ahead <= MAX_SCHEDULE_SECS:
            raise ConfigurationError(f"scheduled_publish_time is {int(ahead)} s from now: Facebook takes 10 minutes "
                                     "to 75 days ahead.")
    elif when is not None:
        raise ConfigurationError("scheduled_publish_time needs video_state SCHEDULED.")
    description = options.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise ConfigurationError(f"The Reel's description must be text of at most {MAX_DESCRIPTION} characters; got "
                                 f"{len(description) if isinstance(description, str) else type(description).__name__}.")


class FacebookReelsUpload(RuploadUpload):
    """Uploads a Reel to a Facebook Page.

    :param page_id: the Page's id; the token must be a Page access token with ``pages_manage_posts``.
    """

    api: ClassVar[str] = "facebook_reels"
    display_name: ClassVar[str] = "Facebook Reels"

    def __init__(self, *, page_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not page_id or not str(page_id).isdigit():
            raise ConfigurationError(f"Facebook Reels need the Page's numeric id (extra page_id), got {page_id!r}.")
        self.page_id = str(page_id)

    def validate(self, spec: UploadSpec) -> None:
        unknown = sorted(set(spec.options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(f"Facebook Reels upload_options take {', '.join(OPTIONS)}, not "
                                     f"{', '.join(unknown)}.")
        publish = spec.options.get("publish", True)
        if not isinstance(publish, bool):
            raise ConfigurationError(f"publish must be true or false, got {publish!r}.")
        check_finish(spec.options)
        self.check_size(spec)

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        step = f"Facebook Reels start on Page {self.page_id}"
        response = await self.client.request("POST", self.graph_path(self.page_id, "video_reels"),
                                             data={"upload_phase": "start"}, step=step)
        answer = json_object(response, step)
        video_id, url = str(answer.get("video_id") or ""), str(answer.get("upload_url") or "")
        if not video_id or not url:
            raise MalformedResponse(f"{step} answered without a video_id and an upload_url: "
                                    f"{json.dumps(answer)[:BODY_EXCERPT]}. {NOT_THE_API}", status=response.status_code)
        self._held[video_id] = 0
        session = UploadSession(api=self.api, media_id=video_id, total_bytes=spec.total_bytes,
                                chunk_size=plan.chunk_size, source=spec.source, media_type=spec.media_type,
                                media_category=spec.media_category,
                                remote={"upload_uri": url, "page_id": self.page_id,
                                        "finish": {k: spec.options[k] for k in OPTIONS if k in spec.options}})
        session.use_plan(plan)
        return session

    async def video_status(self, video_id: str) -> dict[str, Any]:
        step = f"Facebook Reels status of video {video_id}"
        response = await self.client.request("GET", self.graph_path(video_id), params={"fields": "status"},
                                             step=step)
        answer = json_object(response, step)
        status = answer.get("status")
        if not isinstance(status, Mapping):
            raise MalformedResponse(f"{step} answered without a status: {json.dumps(answer)[:BODY_EXCERPT]}. "
                                    f"{NOT_THE_API}", status=response.status_code)
        return dict(status)

    async def bytes_held(self, session: UploadSession) -> int:
        return uploading_bytes(await self.video_status(session.media_id))

    async def finalize(self, session: UploadSession) -> UploadResult:
        options = dict(session.remote.get("finish") or {})
        status = await self.video_status(session.media_id)
        held = uploading_bytes(status)
        if held != session.total_bytes and _phase(status, "processing_phase") == "not_started":
            raise RemoteRejected(f"Facebook holds {held} of the {session.total_bytes} bytes of Reel "
                                 f"{session.media_id}: run the append step again (it resumes from there).", status=409)
        finished = False
        if options.pop("publish", True):
            finished = await self._finish(session.media_id, options, status)
            status = await self.video_status(session.media_id)
        return UploadResult(api=self.api, media_id=session.media_id, size=session.total_bytes,
                            conn_id=session.conn_id, sha256=session.digests.get("sha256"),
                            transfer_seconds=round(session.transfer_seconds, 3) or None,
                            processing=reel_status(status).to_dict(),
                            details={"video_id": session.media_id, "page_id": self.page_id,
                                     "video_state": options.get("video_state", "PUBLISHED") if finished else None,
                                     "finished": finished or _finished(status)})

    async def publish(self, video_id: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The finish (``video_state``, ``description``...) of a Reel uploaded with ``publish: false``.

        Returns ``{"video_id", "finished": bool}`` (``False``: an earlier finish was found, nothing sent).
        """
        options = dict(options or {})
        unknown = sorted(set(options) - set(OPTIONS) - {"publish"})
        if unknown:
            raise ConfigurationError(f"publish takes {', '.join(o for o in OPTIONS if o != 'publish')}, not "
                                     f"{', '.join(unknown)}.")
        options.pop("publish", None)
        check_finish(options)
        sent = await self._finish(video_id, options, await self.video_status(video_id))
        return {"video_id": video_id, "finished": sent}

    async def _finish(self, video_id: str, options: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
        if _finished(status):
            return False  # finished by an earlier try: never twice
        check_finish(options)
        form = {"upload_phase": "finish", "video_id": video_id,
                "video_state": str(options.get("video_state", "PUBLISHED"))}
        for key in ("description", "title", "scheduled_publish_time"):
            if options.get(key) is not None:
                form[key] = str(options[key])
        step = f"Facebook Reels finish of video {video_id} ({form['video_state']})"
        response = await self.client.request("POST", self.graph_path(self.page_id, "video_reels"), data=form,
                                             step=step, retry=dataclasses.replace(self.client.retry, max_attempts=1))
        answer = json_object(response, step)
        if answer.get("success") is not True:
            raise MalformedResponse(f"{step} answered without success: {json.dumps(answer)[:BODY_EXCERPT]}. "
                                    f"{NOT_THE_API}", status=response.status_code)
        return True

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        if until not in (None, "ready"):
            raise ConfigurationError(f"Facebook Reels' sensor waits until the video is 'ready'; got until={until!r}.")
        return reel_status(await self.video_status(media_id))


def _phase(status: Mapping[str, Any], name: str) -> Any:
    phase = status.get(name)
    return phase.get("status") if isinstance(phase, Mapping) else None


def _finished(status: Mapping[str, Any]) -> bool:
    """A finish was sent: processing has started (or ended), or publishing did."""
    return _phase(status, "processing_phase") not in (None, "not_started") or \
        _phase(status, "publishing_phase") not in (None, "not_started")


def reel_status(status: Mapping[str, Any]) -> ProcessingStatus:
    """A video's ``status`` (``video_status`` processing, ready, error) as a :class:`ProcessingStatus`."""
    state = status.get("video_status")
    progress = status.get("processing_progress")
    percent = float(progress) if isinstance(progress, (int, float)) else None
    if state == "error":
        phases = {k: v for k, v in status.items() if k.endswith("_phase") and isinstance(v, Mapping)}
        failed = [f"{k} {v.get('status')}" + (f": {v['errors']}" if v.get("errors") else "")
                  for k, v in phases.items() if v.get("status") == "error"]
        return ProcessingStatus(state="failed", error={
            "name": "video_status", "code": "error",
            "message": f"Facebook reports video_status 'error' ({'; '.join(failed) or 'no phase named'}): Reels must "
                       f"be MP4/MOV, H.264 or HEVC, {DECODE_LIMITS}."})
    if state == "ready":
        return ProcessingStatus(state="succeeded", progress_percent=100)
    if not _finished(status):
        return ProcessingStatus(state="pending", progress_percent=percent, check_after_secs=CHECK_AFTER)
    return ProcessingStatus(state="in_progress", progress_percent=percent, check_after_secs=CHECK_AFTER)
