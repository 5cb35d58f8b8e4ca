"""LinkedIn Videos API uploads (``/rest/videos``): parts the server lists at init, each PUT to its own signed URL.

Sources: learn.microsoft.com/linkedin/marketing/community-management/shares/videos-api, LinkedIn's official
``linkedin-api-client`` (0.3.0) and the notes in ``meta-tiktok-linkedin.md`` (section 5).

How the steps map: init POSTs ``/rest/videos?action=initializeUpload`` with the owner (a member or an
organization URN) and ``fileSizeBytes``; LinkedIn answers with the video URN (the media id), its
``uploadInstructions`` (``firstByte``/``lastByte`` inclusive, 4 MiB each, the last shorter: a ``server_parts``
plan), an ``uploadToken`` and ``uploadUrlsExpireAt``. Append PUTs each part's exact bytes to its instruction's
``uploadUrl`` with **no** Authorization or version header and keeps the ``ETag`` the answer carries, by part
index in ``session.remote["etags"]``: parts are independent, so several go at once, and a resumed upload sends
only the parts without an ETag. Finalize POSTs ``?action=finalizeUpload`` with the ETags in instruction order;
LinkedIn answers 200 with an empty body. The sensor polls ``GET /rest/videos/{URN}`` (``WAITING_UPLOAD``,
``PROCESSING``, ``AVAILABLE``, ``PROCESSING_FAILED``). Publishing is a separate step, the Posts API's:
:meth:`LinkedInUpload.create_post` (``POST /rest/posts``) once the video is ``AVAILABLE``; a post whose answer
was lost is found again with the Posts API's "Find Posts by Authors" finder (:meth:`LinkedInUpload.find_post`,
``GET /rest/posts?author=...&q=author&sortBy=CREATED``, learn.microsoft.com/linkedin/marketing/
community-management/shares/posts-api), so it is never posted twice.

The part URLs are pre-signed (anyone holding one can write the part) and LinkedIn has no request that gives
them again: they are masked in logs and kept in the session for resume from the task state store, and the
session never goes to XCom (``Capabilities.secret_session``): the upload runs in one task.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from airflow_provider_chunkup.errors import (
    ConfigurationError,
    MalformedResponse,
    PlanError,
    RateLimited,
    RemoteError,
    RemoteRejected,
    RetryExhausted,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.base import Capabilities, Chunk, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import (
    ChunkPlan,
    KiB,
    Limits,
    MiB,
    Segment,
    plan_chunks,
    plan_from_parts,
)
from airflow_provider_chunkup.protocols.http import (
    BODY_EXCERPT,
    NOT_THE_API,
    ApiClient,
    error_class,
    generic_error,
    json_object,
    response_body,
)
from airflow_provider_chunkup.protocols.multipart import PIECE
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.secret_urls import UrlMasker
from airflow_provider_chunkup.protocols.session import ProcessingStatus, UploadResult, UploadSession, UploadSpec

DEFAULT_BASE = "https://api.linkedin.com"
DEFAULT_VERSION = "202610"
"""``LinkedIn-Version`` sent unless the connection names another (LinkedIn keeps a version about a year)."""
RESTLI_PROTOCOL = "2.0.0"
PART_BYTES = 4 * MiB
"""LinkedIn's part size (4,194,304 bytes; the last part shorter)."""
MAX_PART = 64 * MiB
"""Largest part chunkup takes into memory from the instructions (a guard: LinkedIn's are 4 MiB)."""
MIN_FILE = 75 * KiB
MAX_FILE = 500 * MiB
"""LinkedIn's documented video sizes: 75 KB to 500 MB (init itself accepts more, processing does not)."""
MEDIA_TYPES = ("video/mp4",)
OWNER = re.compile(r"urn:li:(person|organization):[^\s:]+")
VERSION = re.compile(r"(\d{4})(\d{2})(\.\d{2})?")
OPTIONS = ("owner",)
"""What ``upload_options`` may carry: ``owner`` (overrides the connection's)."""
CHECK_AFTER = 5.0
"""Seconds between status polls while LinkedIn processes the video."""
IN_PROGRESS = ("WAITING_UPLOAD", "PROCESSING")
VIDEO_URN = re.compile(r"urn:li:video:[A-Za-z0-9_-]+")
POST_URN = re.compile(r"urn:li:(share|ugcPost):[0-9A-Za-z_-]+")
MAX_COMMENTARY = 3000
"""LinkedIn's limit on a post's ``commentary``, counted on the text sent (escapes included)."""
VISIBILITIES = ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER")
LITTLE_RESERVED = frozenset("\\|{}@[]()<>#*_~")
"""Characters little text format reserves: each must be backslash-escaped to be plain text."""
POST_PAGE = "https://www.linkedin.com/feed/update/"
LOOKUP_MARGIN_SECS = 300.0
"""How far before an attempt began a post it made may look created: clocks differ, LinkedIn's counts."""
LOOKUP_COUNT = 50
LOOKUP_PAGES = 3
"""Pages of ``LOOKUP_COUNT`` of the author's newest posts searched for one whose answer was lost."""
ONE_ATTEMPT = RetryPolicy(max_attempts=1)

log = logging.getLogger(__name__)


#: Query parameters of a part URL that sign it (LinkedIn's ``m`` and ``ut``; the emulator's ``sig``).
SIGNATURE_PARAMS = ("m", "ut", "sig")


class LinkedInUpload(UploadProtocol):
    """Uploads a video to LinkedIn's Videos API.

    :param api_base: ``https://api.linkedin.com`` (or the emulator's ``http://127.0.0.1:PORT``); ``/rest`` is added.
    :param token: an access token with ``w_member_social`` (a member owner) or ``w_organization_social``.
    :param owner: the video's owner, ``urn:li:person:...`` or ``urn:li:organization:...``.
    :param version: ``LinkedIn-Version``, ``YYYYMM``.
    :param on_secret: called with each signed part URL, so the caller can mask it in logs.
    """

    api: ClassVar[str] = "linkedin"
    display_name: ClassVar[str] = "LinkedIn"

    def __init__(self, *, api_base: str = DEFAULT_BASE, token: str, owner: str | None = None,
                 version: str = DEFAULT_VERSION, max_part_bytes: int = MAX_PART, retry: RetryPolicy | None = None,
                 timeout: float = 120.0, transport: httpx.AsyncBaseTransport | None = None,
                 on_secret: Callable[[str], None] | None = None) -> None:
        if not token:
            raise ConfigurationError("LinkedIn needs an access token (w_member_social or w_organization_social): set "
                                     "it as the connection's password.")
        if owner is not None:
            check_owner(owner)
        self.version = check_version(version)
        self.owner = owner
        self.api_base = api_base.rstrip("/")
        self.limits = Limits(default_chunk_bytes=PART_BYTES, max_chunk_bytes=max_part_bytes, max_segments=10**6)
        self.capabilities = Capabilities(parallel_segments=True, reports_committed=False, abortable=False,
                                         processes_media=True, secret_session=True)
        """LinkedIn cannot say which parts it holds: a resumed task knows them by the ETags its checkpoint kept."""
        self._secret = UrlMasker(on_secret, SIGNATURE_PARAMS)
        self._masked: set[str] = set()
        """Videos whose part URLs were handed to ``on_secret`` by this protocol."""
        headers = {"LinkedIn-Version": self.version, "X-Restli-Protocol-Version": RESTLI_PROTOCOL}
        policy = retry or RetryPolicy()
        super().__init__(ApiClient(self.api_base + "/rest", auth=BearerAuth(token), headers=headers, timeout=timeout,
                                   retry=policy, error_factory=linkedin_error, transport=transport))
        self.parts_client = ApiClient(self.api_base, timeout=timeout, retry=policy, error_factory=part_error,
                                      transport=transport)
        """The signed part URLs: no token, no version header (they carry their own authority)."""

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.parts_client.aclose()
        finally:
            await super().__aexit__(*exc)

    # -- validation ---------------------------------------------------------------------------

    def plan(self, spec: UploadSpec) -> ChunkPlan:
        """Validate ``spec``; the parts themselves are LinkedIn's, given at init (a nominal plan here).

        A ``chunk_size`` is held to the same bounds as every API's (then LinkedIn's parts replace it), and an
        empty file gets the message every API gives, before LinkedIn's own size range is checked.
        """
        plan = plan_chunks(spec.total_bytes, self.limits, spec.chunk_size, api=self.display_name)
        self.validate(spec)
        return plan

    def validate(self, spec: UploadSpec) -> None:
        unknown = sorted(set(spec.options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(f"LinkedIn upload_options take {', '.join(OPTIONS)}, not {', '.join(unknown)}: "
                                     "the caption of a post goes to the Posts API, not to the video upload.")
        self._owner(spec)
        if not MIN_FILE <= spec.total_bytes <= MAX_FILE:
            raise ConfigurationError(
                f"LinkedIn takes videos of 75 KB to 500 MB ({MIN_FILE} to {MAX_FILE} bytes); this file is "
                f"{spec.total_bytes} bytes. Trim or re-encode it (or, below 75 KB, check it is the video meant).")
        if spec.media_type and spec.media_type.split(";")[0].strip().lower() not in MEDIA_TYPES:
            raise ConfigurationError(f"LinkedIn videos are MP4 (video/mp4), not {spec.media_type}: re-encode the "
                                     "file to MP4 or pass media_type='video/mp4' if it is one.")

    def _owner(self, spec: UploadSpec) -> str:
        owner = spec.options.get("owner") or self.owner
        if not owner:
            raise ConfigurationError("A LinkedIn video needs an owner: set the connection's extra owner (or the "
                                     "upload option owner) to urn:li:person:<id> or urn:li:organization:<id>.")
        return check_owner(owner)

    # -- steps --------------------------------------------------------------------------------

    async def init(self, spec: UploadSpec) -> UploadSession:
        self.plan(spec)
        owner = self._owner(spec)
        step = f"LinkedIn initializeUpload ({spec.total_bytes} bytes for {owner})"
        body = {"initializeUploadRequest": {"owner": owner, "fileSizeBytes": spec.total_bytes,
                                            "uploadCaptions": False, "uploadThumbnail": False}}
        response = await self.client.request("POST", "/videos", params={"action": "initializeUpload"}, json=body,
                                             step=step)
        value = json_object(response, step).get("value")
        value = value if isinstance(value, Mapping) else {}
        urn = value.get("video")
        instructions = value.get("uploadInstructions")
        if not (isinstance(urn, str) and urn.startswith("urn:li:video:") and isinstance(instructions, list)
                and instructions and all(_instruction(i) for i in instructions)):
            shown = {k: v for k, v in value.items() if k != "uploadInstructions"}
            raise MalformedResponse(f"{step} answered without a video URN and upload instructions (uploadUrl, "
                                    f"firstByte, lastByte): {json.dumps(shown)[:BODY_EXCERPT]}. {NOT_THE_API}",
                                    status=response.status_code)
        try:
            plan = plan_from_parts(spec.total_bytes, [(i["firstByte"], i["lastByte"]) for i in instructions])
        except PlanError as e:
            raise MalformedResponse(f"{step}: {e}", status=response.status_code) from e
        if plan.buffer_bytes > self.limits.max_chunk_bytes:
            raise ConfigurationError(
                f"{step}: LinkedIn asked for parts of up to {plan.buffer_bytes} bytes, more than the connection's "
                f"max_chunk_size ({self.limits.max_chunk_bytes}) allows in memory: raise max_chunk_size.")
        urls = [str(i["uploadUrl"]) for i in instructions]
        for url in urls:
            self._secret(url)
        self._masked.add(urn)
        expires = value.get("uploadUrlsExpireAt")
        session = UploadSession(
            api=self.api, media_id=urn, total_bytes=spec.total_bytes, chunk_size=PART_BYTES, source=spec.source,
            media_type=spec.media_type, media_category=spec.media_category,
            expires_at=expires / 1000 if isinstance(expires, int | float) else None,
            remote={"urls": urls, "etags": [None] * len(urls), "upload_token": str(value.get("uploadToken") or ""),
                    "owner": owner, "upload_urls_expire_at": expires, "init_options": dict(spec.options)},
        )
        session.use_plan(plan)
        return session

    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        urls = session.remote.get("urls") or []
        if not 0 <= segment.index < len(urls):
            raise ConfigurationError(f"LinkedIn video {session.media_id} has no upload URL for part {segment.index}: "
                                     "resume from the task state store, or start a new upload.")
        if session.expired():
            raise UploadExpired(f"The upload URLs of LinkedIn video {session.media_id} expired (uploadUrlsExpireAt): "
                                "start a new upload, or set restart_expired=true on the connection.")
        if session.media_id not in self._masked:  # a resumed task masks what it read from the task state store
            for other in urls:
                self._secret(str(other))
            self._masked.add(session.media_id)
        url = str(urls[segment.index])
        step = f"LinkedIn part {segment.index + 1} of {session.segment_count} of {session.media_id}"
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))}
        response = await self.parts_client.request("PUT", url, content=_Pieces(memoryview(data)), headers=headers,
                                                   step=step)
        etag = response.headers.get("ETag")
        if not etag:
            raise MalformedResponse(f"{step} answered HTTP {response.status_code} without an ETag, which finalize "
                                    f"needs. {NOT_THE_API}", status=response.status_code)
        etags = list(session.remote.get("etags") or [None] * len(urls))
        etags[segment.index] = etag
        session.remote["etags"] = etags  # a new list: a checkpoint may hold the old one

    async def finalize(self, session: UploadSession) -> UploadResult:
        etags = list(session.remote.get("etags") or [])
        missing = [i for i in range(session.segment_count) if i >= len(etags) or not etags[i]]
        if missing:
            raise ConfigurationError(f"LinkedIn video {session.media_id} lacks the ETags of parts {missing}: append "
                                     "them before finalizing.")
        step = f"LinkedIn finalizeUpload of {session.media_id}"
        body = {"finalizeUploadRequest": {"video": session.media_id, "uploadToken": session.remote.get("upload_token")
                                          or "", "uploadedPartIds": etags}}
        try:
            await self.client.request("POST", "/videos", params={"action": "finalizeUpload"}, json=body, step=step)
        except RemoteRejected as e:  # a retry of a finalize whose answer was lost: "already finalized"
            if e.status != 400 or (await self._status(session.media_id)).get("status") == "WAITING_UPLOAD":
                raise
        status = await self.status(session.media_id)
        return UploadResult(
            api=self.api, media_id=session.media_id, size=session.total_bytes, conn_id=session.conn_id,
            sha256=session.digests.get("sha256"), processing=status.to_dict(),
            details={"urn": session.media_id, "owner": session.remote.get("owner")},
            transfer_seconds=session.transfer_seconds,
        )

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        if until not in (None, "available"):
            raise ConfigurationError(f"LinkedIn's sensor waits until the video is AVAILABLE: until must be unset or "
                                     f"'available', got {until!r}.")
        return video_status(await self._status(media_id))

    async def _status(self, media_id: str) -> dict[str, Any]:
        if not media_id.startswith("urn:li:video:"):
            raise ConfigurationError(f"A LinkedIn video id is a URN (urn:li:video:...), not {media_id!r}.")
        step = f"LinkedIn status of {media_id}"
        response = await self.client.request("GET", f"/videos/{quote(media_id, safe='')}", step=step)
        return json_object(response, step)

    # -- the Posts API ------------------------------------------------------------------------

    def post_body(self, video_urn: str, *, commentary: str, visibility: str = "PUBLIC", title: str | None = None,
                  feed: bool = True, author: str | None = None, raw_commentary: bool = False) -> dict[str, Any]:
        """The ``POST /rest/posts`` body of a post carrying ``video_urn``, checked as LinkedIn would: no request.

        ``commentary`` is escaped for little text format unless ``raw_commentary`` (it already is little text,
        with mentions or hashtag templates). ``author`` is the connection's ``owner`` by default.
        """
        if not isinstance(video_urn, str) or not VIDEO_URN.fullmatch(video_urn.strip()):
            raise ConfigurationError(f"A LinkedIn post carries a video URN (urn:li:video:...), not {video_urn!r}: "
                                     "pass the upload's result or its media_id.")
        who = author if author is not None else self.owner
        if not who:
            raise ConfigurationError("A LinkedIn post needs an author: set the connection's extra owner (or "
                                     "author) to the video's owner, urn:li:person:<id> or urn:li:organization:<id>.")
        who = check_owner(who)
        if visibility not in VISIBILITIES:
            raise ConfigurationError(f"LinkedIn post visibility is one of {', '.join(VISIBILITIES)}, not "
                                     f"{visibility!r}.")
        if title is not None and not isinstance(title, str):
            raise ConfigurationError(f"A LinkedIn post's media title is text, not {title!r}.")
        text = little_text(commentary, raw=raw_commentary)
        body: dict[str, Any] = {
            "author": who, "commentary": text, "visibility": visibility,
            "distribution": {"feedDistribution": "MAIN_FEED" if feed else "NONE", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "content": {"media": {"id": video_urn.strip(), **({"title": title} if title else {})}},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False,
        }
        return body

    async def send_post(self, body: Mapping[str, Any]) -> str:
        """Send a body from :meth:`post_body`; returns the post's URN, which LinkedIn gives in ``x-restli-id``.

        Never twice: an attempt that ends without LinkedIn's answer (connection lost, 5xx) may have made the
        post, so the author's posts are searched (:meth:`find_post`) before the POST is tried again.
        """
        media = str(body.get("content", {}).get("media", {}).get("id") or "")
        author = str(body.get("author") or "")
        step = f"LinkedIn post of {media} as {author}"
        started = time.time()
        policy = self.client.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.client.request("POST", "/posts", json=dict(body), step=step, retry=ONE_ATTEMPT)
                break
            except RemoteRejected as e:
                if e.status in (400, 422) and "AVAILABLE" in str(e):
                    hint = 'put MediaProcessingSensor(api="linkedin") on the upload before the post task'
                    raise type(e)(f"{e}. Wait until the video is AVAILABLE: {hint}.", status=e.status,
                                  body=e.body) from e
                raise
            except RateLimited as e:  # refused before anything was posted
                error: RemoteError = e
            except RetryExhausted as e:  # the post may or may not exist
                error = e
                if media and author and (found := await self.find_post(author, media, since=started)):
                    log.info("Found post %s, made by an attempt whose answer was lost; not posting again.", found)
                    return found
            wait = policy.wait_after(error, attempt)
            if attempt >= policy.max_attempts or time.time() - started + wait > policy.max_elapsed:
                raise error
            log.warning("%s; retry %d of %d in %.1f s", error, attempt, policy.max_attempts - 1, wait)
            await asyncio.sleep(wait)
        urn = (response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id") or "").strip()
        if not POST_URN.fullmatch(urn):
            raise MalformedResponse(f"{step} answered HTTP {response.status_code} without a post URN in "
                                    f"x-restli-id (got {urn[:BODY_EXCERPT]!r}). {NOT_THE_API}",
                                    status=response.status_code)
        return urn

    async def find_post(self, author: str, video_urn: str, *, since: float | None) -> str | None:
        """The URN of ``author``'s newest post carrying ``video_urn``, made at or after ``since`` (epoch seconds,
        less ``LOOKUP_MARGIN_SECS`` of clock slack; ``None``: any time), or ``None``.

        LinkedIn's "Find Posts by Authors" finder (``GET /rest/posts?author=...&q=author&sortBy=CREATED``,
        newest first), at most ``LOOKUP_PAGES`` pages. Reading posts needs ``r_member_social`` (a member) or
        ``r_organization_social`` (an organization); without it the refusal says what to do, and nothing is
        posted (whether the post exists cannot be told).
        """
        author = check_owner(author)
        step = f"LinkedIn lookup of {author}'s recent posts (to never post twice)"
        floor = None if since is None else (since - LOOKUP_MARGIN_SECS) * 1000
        for page in range(LOOKUP_PAGES):
            query = (f"/posts?author={quote(author, safe='')}&q=author&count={LOOKUP_COUNT}"
                     f"&start={page * LOOKUP_COUNT}&sortBy=CREATED")
            try:
                response = await self.client.request("GET", query, headers={"X-RestLi-Method": "FINDER"}, step=step)
            except RemoteRejected as e:
                said = e.body.get("message") if isinstance(e.body, Mapping) else None
                reason = f"{step} failed with HTTP {e.status}: {said}" if said else str(e).rstrip(".")
                if e.status == 403:
                    reason += (". The token may not read the author's posts: it needs r_member_social (a member "
                               "author) or r_organization_social (an organization)")
                raise type(e)(
                    f"{reason}. Without this lookup chunkup cannot tell whether an earlier attempt already posted, "
                    "and does not post again: give the token that permission, or check the author's feed and clear "
                    "the task's state before retrying.", status=e.status, body=e.body) from e
            elements = json_object(response, step).get("elements")
            if not isinstance(elements, list):
                raise MalformedResponse(f"{step} answered without a list of elements. {NOT_THE_API}",
                                        status=response.status_code)
            for post in elements:
                if not isinstance(post, Mapping):
                    continue
                created = post.get("createdAt")
                if floor is not None and isinstance(created, int | float) and created < floor:
                    return None  # newest first: every later post is older still
                content = post.get("content")
                media = content.get("media") if isinstance(content, Mapping) else None
                urn = post.get("id")
                if (isinstance(media, Mapping) and media.get("id") == video_urn and isinstance(urn, str)
                        and POST_URN.fullmatch(urn)):
                    return urn
            if not elements:
                return None
        return None

    async def create_post(self, video_urn: str, *, commentary: str, visibility: str = "PUBLIC",
                          title: str | None = None, feed: bool = True, author: str | None = None,
                          raw_commentary: bool = False) -> str:
        """Publish a post carrying an ``AVAILABLE`` video (``POST /rest/posts``); returns its ``urn:li:share:...``.

        Everything LinkedIn would refuse in the request is refused before it (see :meth:`post_body`).
        :param feed: show it in the main feed (``MAIN_FEED``), or not (``NONE``).
        """
        return await self.send_post(self.post_body(video_urn, commentary=commentary, visibility=visibility,
                                                   title=title, feed=feed, author=author,
                                                   raw_commentary=raw_commentary))


def video_status(video: Mapping[str, Any]) -> ProcessingStatus:
    """A LinkedIn video's ``status`` as a :class:`ProcessingStatus`, LinkedIn's words kept."""
    state = video.get("status")
    if state == "AVAILABLE":
        return ProcessingStatus(state="succeeded", progress_percent=100)
    if state in IN_PROGRESS:
        return ProcessingStatus(state="in_progress", check_after_secs=CHECK_AFTER)
    if state == "PROCESSING_FAILED":
        reason = video.get("processingFailureReason")
        return ProcessingStatus(state="failed", error={
            "name": "status", "code": "PROCESSING_FAILED",
            "message": str(reason) if reason else "LinkedIn could not process the video (PROCESSING_FAILED): it "
                       "takes MP4 files of 3 seconds to 30 minutes and 75 KB to 500 MB."})
    raise MalformedResponse(f"LinkedIn answered video status {state!r}, not one of WAITING_UPLOAD, PROCESSING, "
                            f"AVAILABLE, PROCESSING_FAILED. {NOT_THE_API}")


def escape_little(text: str) -> str:
    """``text`` as little text format's plain text: every reserved character backslash-escaped."""
    return "".join("\\" + c if c in LITTLE_RESERVED else c for c in text)


def little_text(commentary: Any, *, raw: bool = False) -> str:
    """A post's ``commentary`` as sent: escaped (unless ``raw``), at most 3000 characters."""
    if not isinstance(commentary, str):
        raise ConfigurationError(f"A LinkedIn post's commentary is text, not {type(commentary).__name__}.")
    text = commentary if raw else escape_little(commentary)
    if len(text) > MAX_COMMENTARY:
        escapes = len(text) - len(commentary)
        how = f" ({len(commentary)} written + {escapes} backslashes escaping reserved characters)" if escapes else ""
        raise ConfigurationError(f"LinkedIn takes at most {MAX_COMMENTARY} characters of commentary; this one is "
                                 f"{len(text)}{how}. Shorten it by {len(text) - MAX_COMMENTARY} characters.")
    if raw and text.endswith("\\") and (len(text) - len(text.rstrip("\\"))) % 2:
        raise ConfigurationError("raw little text commentary ends with a lone backslash, which escapes nothing: "
                                 "double it (\\\\) or drop it.")
    return text


def post_page(post_urn: str, api_base: str = DEFAULT_BASE) -> str:
    """Where a person sees the post: LinkedIn's feed page; on the emulator, its inspection page."""
    base = api_base.rstrip("/")
    if base == DEFAULT_BASE:
        return POST_PAGE + post_urn
    return f"{base}/_emulator/linkedin/posts/{quote(post_urn.rsplit(':', 1)[-1], safe='')}"


def check_owner(owner: Any) -> str:
    if not isinstance(owner, str) or not OWNER.fullmatch(owner):
        raise ConfigurationError(f"A LinkedIn owner is urn:li:person:<id> or urn:li:organization:<id>, not "
                                 f"{owner!r}: set the connection's extra owner (or the upload option owner).")
    return owner


def check_version(version: Any, now: float | None = None) -> str:
    """``LinkedIn-Version`` as ``YYYYMM`` (or ``YYYYMM.RR``), not a month still to come (LinkedIn answers 426)."""
    found = VERSION.fullmatch(str(version or "").strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise ConfigurationError(f"linkedin_version must be a LinkedIn API version as YYYYMM (such as "
                                 f"{DEFAULT_VERSION}), not {version!r}.")
    if found.group(1) + found.group(2) > time.strftime("%Y%m", time.gmtime(now)):
        raise ConfigurationError(f"linkedin_version {version} is a month still to come: LinkedIn answers 426 "
                                 "NONEXISTENT_VERSION. Use this month's or an earlier active version.")
    return found.group(0)


def linkedin_error(response: httpx.Response, step: str) -> RemoteError:
    """LinkedIn's ``{"message", "status"}`` in words, with the fix for what a user can cause."""
    body = response_body(response)
    if not isinstance(body, Mapping) or "message" not in body:
        return generic_error(response, step)
    status = response.status_code
    code = body.get("code") or body.get("serviceErrorCode")
    message = f"{step} failed with HTTP {status}: {body.get('message')}" + (f" ({code})" if code else "")
    hint = HINTS.get(str(code)) or HINTS.get(status)
    if hint:
        message = f"{message}. {hint}"
    return error_class(status)(message, status=status, body=body)


def part_error(response: httpx.Response, step: str) -> RemoteError:
    """A part PUT's refusal: an expired or unknown signed URL means the upload must start again."""
    error = linkedin_error(response, step)
    if response.status_code in (403, 404):
        return UploadExpired(f"{error}. The signed upload URL no longer takes bytes: start a new upload, or set "
                             "restart_expired=true on the connection.", status=error.status, body=error.body)
    return error


HINTS: dict[int | str, str] = {
    401: "Check the access token in the connection's password: it must be valid and not expired (LinkedIn's last "
         "60 days).",
    403: "The token may not upload for this owner: it needs w_member_social for urn:li:person, or "
         "w_organization_social with the ADMINISTRATOR or DIRECT_SPONSORED_CONTENT_POSTER role for the "
         "urn:li:organization in the connection's owner.",
    426: "Set the connection's extra linkedin_version to an active version (YYYYMM, within the last year).",
    "VERSION_MISSING": "Set the connection's extra linkedin_version (YYYYMM).",
    429: "LinkedIn's daily throttle for this application or member: wait for the day's window to pass.",
}


def _instruction(item: Any) -> bool:
    return (isinstance(item, Mapping) and isinstance(item.get("uploadUrl"), str)
            and all(isinstance(item.get(k), int) for k in ("firstByte", "lastByte")))


class _Pieces:
    """A part's bytes in pieces, never copied whole; iterable again for a retry."""

    def __init__(self, view: memoryview) -> None:
        self._view = view

    async def __aiter__(self) -> AsyncIterator[memoryview]:
        for start in range(0, len(self._view), PIECE):
            yield self._view[start:start + PIECE]
