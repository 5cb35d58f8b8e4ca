"""Instagram Reels (and Stories, carousel videos): a media container on Graph, its bytes over rupload.

Sources: ``meta-tiktok-linkedin.md`` (section 3), Meta's Instagram content-publishing and resumable-upload
guides, the IG Container and IG User Media references.

How the steps map: init creates the container, ``POST /{ver}/{ig-user-id}/media`` with ``media_type``
(REELS by default), ``upload_type=resumable``, the caption and the Reels options; Graph answers ``id`` and the
rupload ``uri``. Append sends the bytes there (:class:`RuploadUpload`), resuming from
``video_status.uploading_phase.bytes_transferred``. Finalize checks every byte arrived and reads the
container's first state. The sensor polls ``GET /{id}?fields=status_code,status,video_status``: IN_PROGRESS,
then FINISHED (ready to publish) or ERROR / EXPIRED with Graph's words. Publishing is its own step
(:meth:`InstagramReelsUpload.publish`, ``POST /{ig-user-id}/media_publish?creation_id=``), never done twice: it
reads ``status_code`` first and a container already PUBLISHED is not published again.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_chunkup.errors import ConfigurationError, MalformedResponse, RemoteRejected
from airflow_provider_chunkup.protocols.http import BODY_EXCERPT, NOT_THE_API, json_object
from airflow_provider_chunkup.protocols.rupload import DECODE_LIMITS, RuploadUpload, uploading_bytes
from airflow_provider_chunkup.protocols.session import ProcessingStatus, UploadResult, UploadSession, UploadSpec

MEDIA_TYPES = ("REELS", "STORIES", "VIDEO")
"""``media_type`` values a resumable video container takes (VIDEO: a carousel item)."""
MAX_CAPTION = 2200
"""Longest caption Instagram takes (characters)."""
MAX_HASHTAGS = 30
OPTIONS = ("media_type", "caption", "share_to_feed", "cover_url", "thumb_offset", "audio_name", "collaborators",
           "location_id", "user_tags", "is_carousel_item", "trial_params")
"""What ``upload_options`` may carry: the container's fields chunkup sends (lists and mappings as JSON)."""
STATUS_FIELDS = "status_code,status,video_status"
CHECK_AFTER = 10.0
"""Seconds between status polls (Meta suggests polling at most once a minute for 5 minutes; the sensor decides)."""


class InstagramReelsUpload(RuploadUpload):
    """Uploads a video to an Instagram professional account as a Reels (or Stories) container.

    :param ig_user_id: the Instagram professional account's id (the IG User node).
    """

    api: ClassVar[str] = "instagram"
    display_name: ClassVar[str] = "Instagram"

    def __init__(self, *, ig_user_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not ig_user_id or not str(ig_user_id).isdigit():
            raise ConfigurationError(f"Instagram needs the professional account's numeric id (extra ig_user_id), "
                                     f"got {ig_user_id!r}.")
        self.ig_user_id = str(ig_user_id)

    def validate(self, spec: UploadSpec) -> None:
        unknown = sorted(set(spec.options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(f"Instagram upload_options take {', '.join(OPTIONS)}, not {', '.join(unknown)}.")
        media_type = spec.options.get("media_type", "REELS")
        if media_type not in MEDIA_TYPES:
            raise ConfigurationError(f"media_type {media_type!r} is not one Instagram takes for a video upload: use "
                                     f"one of {', '.join(MEDIA_TYPES)}.")
        caption = spec.options.get("caption")
        if caption is not None:
            if not isinstance(caption, str):
                raise ConfigurationError("The Instagram caption must be text.")
            if len(caption) > MAX_CAPTION:
                raise ConfigurationError(f"The Instagram caption has {len(caption)} characters; at most "
                                         f"{MAX_CAPTION}: shorten it.")
            tags = caption.count("#")
            if tags > MAX_HASHTAGS:
                raise ConfigurationError(f"The Instagram caption has {tags} hashtags; at most {MAX_HASHTAGS}.")
        share = spec.options.get("share_to_feed")
        if share is not None and not isinstance(share, bool):
            raise ConfigurationError(f"share_to_feed must be true or false, got {share!r}.")
        if share is not None and media_type != "REELS":
            raise ConfigurationError("share_to_feed applies to REELS only.")
        offset = spec.options.get("thumb_offset")
        if offset is not None and (not isinstance(offset, int) or isinstance(offset, bool) or offset < 0):
            raise ConfigurationError(f"thumb_offset is milliseconds into the video (an integer, 0 or more), got "
                                     f"{offset!r}.")
        self.check_size(spec)

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        form: dict[str, str] = {"media_type": str(spec.options.get("media_type", "REELS")),
                                "upload_type": "resumable"}
        for key, value in spec.options.items():
            if key == "media_type" or value is None:
                continue
            form[key] = (("true" if value else "false") if isinstance(value, bool) else
                         json.dumps(value) if isinstance(value, (list, dict)) else str(value))
        step = f"Instagram create {form['media_type']} container for user {self.ig_user_id}"
        response = await self.client.request("POST", self.graph_path(self.ig_user_id, "media"), data=form,
                                             step=step)
        answer = json_object(response, step)
        container, uri = str(answer.get("id") or ""), str(answer.get("uri") or "")
        if not container or not uri:
            raise MalformedResponse(f"{step} answered without an id and a rupload uri: "
                                    f"{json.dumps(answer)[:BODY_EXCERPT]}. {NOT_THE_API}", status=response.status_code)
        self._held[container] = 0
        session = UploadSession(api=self.api, media_id=container, total_bytes=spec.total_bytes,
                                chunk_size=plan.chunk_size, source=spec.source, media_type=spec.media_type,
                                media_category=spec.media_category,
                                remote={"upload_uri": uri, "ig_user_id": self.ig_user_id,
                                        "media_type": form["media_type"]})
        session.use_plan(plan)
        return session

    async def container(self, container_id: str) -> dict[str, Any]:
        step = f"Instagram status of container {container_id}"
        response = await self.client.request("GET", self.graph_path(container_id),
                                             params={"fields": STATUS_FIELDS}, step=step)
        return json_object(response, step)

    async def bytes_held(self, session: UploadSession) -> int:
        return uploading_bytes((await self.container(session.media_id)).get("video_status"))

    async def finalize(self, session: UploadSession) -> UploadResult:
        """Check every byte arrived (rupload has no finish call); the container then processes on its own."""
        answer = await self.container(session.media_id)
        held = uploading_bytes(answer.get("video_status"))
        if held != session.total_bytes:
            raise RemoteRejected(f"Instagram holds {held} of the {session.total_bytes} bytes of container "
                                 f"{session.media_id}: run the append step again (it resumes from there).", status=409)
        return UploadResult(api=self.api, media_id=session.media_id, size=session.total_bytes,
                            conn_id=session.conn_id, sha256=session.digests.get("sha256"),
                            transfer_seconds=round(session.transfer_seconds, 3) or None,
                            processing=container_status(answer).to_dict(),
                            details={"container_id": session.media_id, "ig_user_id": self.ig_user_id,
                                     "status_code": answer.get("status_code"),
                                     "publish": "separate: call publish(container_id) once FINISHED"})

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        if until not in (None, "finished", "published"):
            raise ConfigurationError(f"Instagram's sensor waits until the container is 'finished' (ready to publish, "
                                     f"the default) or 'published'; got until={until!r}.")
        return container_status(await self.container(media_id), until or "finished")

    async def publish(self, container_id: str) -> dict[str, Any]:
        """Publish a FINISHED container; a container already PUBLISHED is not published again.

        Returns ``{"id": <IG media id>, "container_id", "already_published": bool}``.
        """
        answer = await self.container(container_id)
        code = answer.get("status_code")
        if code == "PUBLISHED":
            return {"id": None, "container_id": container_id, "already_published": True}
        if code != "FINISHED":
            raise RemoteRejected(f"Instagram container {container_id} is {code} ({answer.get('status')!r}), not "
                                 "FINISHED: wait for it with the processing sensor, then publish.", status=409,
                                 body=answer)
        step = f"Instagram publish container {container_id}"
        response = await self.client.request("POST", self.graph_path(self.ig_user_id, "media_publish"),
                                             params={"creation_id": container_id}, step=step,
                                             retry=dataclasses.replace(self.client.retry, max_attempts=1))
        published = json_object(response, step)
        return {"id": str(published.get("id") or ""), "container_id": container_id, "already_published": False}


def container_status(answer: Mapping[str, Any], until: str = "finished") -> ProcessingStatus:
    """A container's ``status_code`` as a :class:`ProcessingStatus` (``status`` is Graph's words, verbatim)."""
    code = answer.get("status_code")
    words = answer.get("status")
    if code in ("ERROR", "EXPIRED"):
        hint = ("the container was not published within 24 hours: upload again" if code == "EXPIRED" else
                f"Instagram could not process the video; Reels must be MP4/MOV, H.264 or HEVC, {DECODE_LIMITS}")
        return ProcessingStatus(state="failed", error={"name": "status_code", "code": code,
                                                       "message": f"{words or code} ({hint})"})
    if code == "PUBLISHED" or (code == "FINISHED" and until == "finished"):
        return ProcessingStatus(state="succeeded", progress_percent=100)
    if code in ("FINISHED", "IN_PROGRESS"):
        return ProcessingStatus(state="in_progress", check_after_secs=CHECK_AFTER)
    raise MalformedResponse(f"Instagram answered a container status_code {code!r} chunkup does not know: "
                            f"{json.dumps(dict(answer))[:BODY_EXCERPT]}. {NOT_THE_API}")
