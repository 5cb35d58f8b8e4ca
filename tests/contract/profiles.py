"""One :class:`ApiProfile` per upload API: what the contract suite needs to know to run its checks on it.

The checks in ``test_contract.py`` never name an API. They take a profile and ask it: how to define a
connection to the API's emulator, which file to upload and in which chunks, how to read back from the
emulator what it stored, which remote uploads it holds, which routes carry chunks, and what the API can
do (parallel segments, processing, resume from the server's own state, abort...). Every check runs on
every profile: ``pytest tests/contract -k x_v2`` runs them all on one API, ``-k resume`` one check on all.

How to add a profile (a new API, or another way to use one: a mode, an auth kind):

1. The API needs a hook (``hooks/<api>.py``, a :class:`~airflow_provider_chunkup.hooks.base.ChunkUploadHook`)
   and an emulator that serves it, with control endpoints under ``/_emulator/<api>/`` that list the remote
   uploads it holds and report what an upload stored (its size and the sha256 of its bytes).
2. Give ``tests/conftest.py`` a fixture that defines a connection to the emulator (as ``x_connection``
   does), then write the profile's ``connect``: it defines the connection through that fixture and returns
   a :class:`Connected` naming the connection's secrets and how to make the emulator refuse them.
3. Write ``stored`` (size and sha256 of a media id, through ``/_emulator/...``) and ``remote_uploads``
   (the ids, as sessions carry them, of the uploads the emulator holds: aborted ones left out).
4. Name the emulator's ``chunk_routes`` as ``GET /_emulator/stats`` keys them (``"METHOD /path"``).
5. Declare the API's abilities honestly in :class:`Abilities`: ``test_capabilities_are_declared`` checks
   them against what the hook reports, and the other checks follow them. An API that cannot abort, or can
   resume only from chunkup's own checkpoint, still runs those checks: they then assert what it does
   instead (the upload left for the platform to expire; every unrecorded segment sent again).
6. Set ``emulator_config`` to what the emulator must change for the checks (processing made instant, so the
   status check sees a terminal state without waiting).
7. Append the profile to :data:`PROFILES`. Its name becomes the test id (``test_byte_exact[<name>-...]``).

If a check fails on the new profile, the API (or its emulator) breaks the contract: fix that, or, where
the API really differs, say so in :class:`Abilities` and let the check assert the difference explicitly.
Never exempt a profile from a check: a failure that is a bug in chunkup is fixed before the profile lands (the
three the api.video upload-token profile found were).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
from conftest import (
    APIVIDEO_KEY,
    CLOUDFLARE_TOKEN,
    CONTENT_RANGE_TOKEN,
    EMULATOR_TOKEN,
    OAUTH1,
    VIMEO_TOKEN,
    YOUTUBE_CLIENT,
    YOUTUBE_REFRESH,
)

from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.cloudflare_stream import CloudflareStreamHook
from airflow_provider_chunkup.hooks.content_range import ContentRangeUploadHook
from airflow_provider_chunkup.hooks.facebook import FacebookVideoHook
from airflow_provider_chunkup.hooks.facebook_reels import FacebookReelsHook
from airflow_provider_chunkup.hooks.gcs_destination import GcsDestinationHook
from airflow_provider_chunkup.hooks.instagram import InstagramHook
from airflow_provider_chunkup.hooks.linkedin import LinkedInHook
from airflow_provider_chunkup.hooks.tiktok import TikTokHook
from airflow_provider_chunkup.hooks.tus import TusUploadHook
from airflow_provider_chunkup.hooks.vimeo import VimeoUploadHook
from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.hooks.youtube import YouTubeHook
from airflow_provider_chunkup.protocols.chunking import KiB, MiB


class EmulatorControl:
    """The emulator seen through its HTTP control endpoints (``/_emulator/...``), as a separate process would be."""

    def __init__(self, url: str) -> None:
        self.url = url

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.url}{path}", json=body, timeout=60, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def get(self, path: str) -> Any:
        return self.request("GET", f"/_emulator{path}")

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", f"/_emulator{path}", body)

    def configure(self, patch: dict[str, Any]) -> None:
        """``PATCH /_emulator/config`` (a JSON merge patch: the sections and fields to change)."""
        self.request("PATCH", "/_emulator/config", patch)

    def stats(self) -> dict[str, Any]:
        return self.get("/stats")

    def reset_stats(self) -> None:
        self.post("/stats/reset")


@dataclass(frozen=True)
class Connected:
    """A connection a profile defined: its id, the secrets it carries, and how to make the emulator refuse them."""

    conn_id: str
    secrets: tuple[str, ...]
    """Every credential the connection holds (or the emulator handed out for it): none may appear in a
    result, a session, a checkpoint, a repr or an error message."""
    refuse: Callable[[], None]
    """Make the emulator refuse these credentials from now on (an auth failure's message is checked too)."""


@dataclass(frozen=True)
class Stored:
    """What the emulator holds for one media: the size and the sha256 of the bytes it assembled."""

    size: int
    sha256: str | None


@dataclass(frozen=True)
class Abilities:
    """What the API can do; ``test_capabilities_are_declared`` checks these against the hook's own claims."""

    parallel_segments: bool
    """Segments may go several at a time and out of order."""
    processes_media: bool
    """The platform processes media after the upload (a status to poll until it is terminal)."""
    resume_from: Literal["server", "checkpoint"]
    """``server``: the platform says which segments it holds (or, dictating each window, names the one it wants
    when another arrives), so a retry without chunkup's records sends only the rest. ``checkpoint``: only
    chunkup's checkpoint knows; without it, every unrecorded segment goes again."""
    abortable: bool
    """An unfinished remote upload can be deleted (``False``: the platform expires it by itself)."""
    status_readable: bool = True
    """The connection can read a media's processing status (api.video's upload tokens cannot, without a key)."""
    accepts_empty: bool = False
    """The API stores an empty (0-byte) file; every API so far refuses it."""


@dataclass(frozen=True)
class ApiProfile:
    """One upload API (or one mode of it) as the contract suite drives it; see the module docstring."""

    name: str
    """The test id: ``pytest -k <name>`` selects this profile's checks."""
    hook: type[ChunkUploadHook]
    connect: Callable[[pytest.FixtureRequest], Connected]
    """Define a connection to the emulator through the conftest fixtures (``request.getfixturevalue``); the
    keyword arguments are extra connection fields (``retry_*``...)."""
    file_name: str
    """Name of the file to upload (its extension gives the media type the hook guesses)."""
    media_type: str
    chunk_size: int
    stored: Callable[[EmulatorControl, str], Stored]
    """What the emulator stored for a finished upload, by the result's ``media_id``."""
    remote_uploads: Callable[[EmulatorControl], set[str]]
    """The remote uploads the emulator holds, by the id a session carries (``session.media_id``); aborted or
    deleted ones are left out."""
    chunk_routes: tuple[str, ...]
    """The emulator's stats keys (``"POST /path/{template}"``) of the requests that carry chunks."""
    abilities: Abilities
    emulator_config: dict[str, Any] = field(default_factory=dict)
    """A ``PATCH /_emulator/config`` applied before every check (processing made instant, for one)."""
    accepted: tuple[str, ...] = ("2",)
    """Statuses (by prefix) that answer a chunk the server took: 2xx, and Google's 308 "resume incomplete"."""
    remainder_in_last: bool = False
    """The plan merges the remainder into the last chunk (TikTok's rule), instead of a shorter last chunk."""
    short_tail: bool = False
    """The plan splits a last chunk that can spare it into a part and a short tail (api.video in part mode)."""
    probe_stat: str | None = None
    """The emulator's count of status queries sent on the chunk route itself (Google's), not counted as chunks."""

    def __str__(self) -> str:
        return self.name


# -- connections --------------------------------------------------------------------------------------------

def _connect_x(auth: str, api_version: str) -> Callable[..., Connected]:
    def connect(request: pytest.FixtureRequest, **extra: Any) -> Connected:
        conn_id = request.getfixturevalue("x_connection")(f"contract_x_{auth}", auth=auth, api_version=api_version,
                                                          **extra)
        control = EmulatorControl(request.getfixturevalue("emulator").url)
        if auth == "oauth1":  # the consumer key names the app, as a user name does; the other three are secrets
            secrets = (OAUTH1["consumer_secret"], OAUTH1["access_token"], OAUTH1["access_token_secret"])
            return Connected(conn_id, secrets, lambda: control.configure({"x": {"oauth1_tokens": {
                OAUTH1["access_token"]: None}}}))
        return Connected(conn_id, (EMULATOR_TOKEN,), lambda: control.configure({"x": {"bearer_tokens": ["other"]}}))

    return connect


def _connect_apivideo(mode: str) -> Callable[..., Connected]:
    def connect(request: pytest.FixtureRequest, **extra: Any) -> Connected:
        conn_id = request.getfixturevalue("apivideo_connection")(f"contract_apivideo_{mode}", upload_mode=mode,
                                                                 **extra)
        control = EmulatorControl(request.getfixturevalue("emulator").url)
        return Connected(conn_id, (APIVIDEO_KEY,), lambda: control.configure({"apivideo": {"api_keys": ["other"]}}))

    return connect


def _connect_apivideo_token(request: pytest.FixtureRequest, **extra: Any) -> Connected:
    """A delegated upload token alone: the API key stays with whoever made the token (here, the test)."""
    control = EmulatorControl(request.getfixturevalue("emulator").url)
    key = httpx.BasicAuth(APIVIDEO_KEY, "")
    token = control.request("POST", "/upload-tokens", {}, auth=key)["token"]
    conn_id = request.getfixturevalue("apivideo_connection")("contract_apivideo_token", password=None,
                                                             upload_token=token, **extra)
    return Connected(conn_id, (token,), lambda: control.request("DELETE", f"/upload-tokens/{token}", auth=key))


def _connect_content_range(request: pytest.FixtureRequest, **extra: Any) -> Connected:
    conn_id = request.getfixturevalue("content_range_connection")("contract_content_range", **extra)
    control = EmulatorControl(request.getfixturevalue("emulator").url)
    return Connected(conn_id, (CONTENT_RANGE_TOKEN,),
                     lambda: control.configure({"content_range": {"bearer_tokens": ["other"]}}))


TUS_TOKEN = "chunkup-emulator-tus-token"


def _connect_tus(request: pytest.FixtureRequest, **extra: Any) -> Connected:
    """The emulator's generic tus server, asking a Bearer token as hosted tus endpoints do (``TUS_AUTH``)."""
    emulator = request.getfixturevalue("emulator")
    conn_id = request.getfixturevalue("set_connection")("contract_tus", conn_type="chunkup_tus",
                                                        host=f"{emulator.url}/files/", password=TUS_TOKEN, extra=extra)
    control = EmulatorControl(emulator.url)
    return Connected(conn_id, (TUS_TOKEN,), lambda: control.configure({"tus": {"bearer_tokens": ["other"]}}))


def _connect_vimeo(request: pytest.FixtureRequest, **extra: Any) -> Connected:
    conn_id = request.getfixturevalue("vimeo_connection")("contract_vimeo", **extra)
    control = EmulatorControl(request.getfixturevalue("emulator").url)
    return Connected(conn_id, (VIMEO_TOKEN,), lambda: control.configure({"vimeo": {"tokens": ["other"]}}))


def _connect_cloudflare(request: pytest.FixtureRequest, **extra: Any) -> Connected:
    conn_id = request.getfixturevalue("cloudflare_connection")("contract_cloudflare_stream", **extra)
    control = EmulatorControl(request.getfixturevalue("emulator").url)
    return Connected(conn_id, (CLOUDFLARE_TOKEN,),
                     lambda: control.configure({"cloudflare_stream": {"tokens": ["other"]}}))


def _connect_youtube(request: pytest.FixtureRequest, **extra: Any) -> Connected:
    """The OAuth client and a refresh token: the emulator's ``/token`` hands out access tokens."""
    conn_id = request.getfixturevalue("youtube_connection")("contract_youtube", **extra)
    control = EmulatorControl(request.getfixturevalue("emulator").url)
    return Connected(conn_id, (YOUTUBE_CLIENT["password"], YOUTUBE_REFRESH),
                     lambda: control.configure({"youtube": {"oauth_clients": {  # a merge patch: null removes ours
                         YOUTUBE_CLIENT["login"]: None, "other": {"secret": "s", "refresh_tokens": ["r"]}}}}))


def _connect_gcs(request: pytest.FixtureRequest, **extra: Any) -> Connected:
    conn_id = request.getfixturevalue("gcs_connection")("contract_gcs", **extra)
    control = EmulatorControl(request.getfixturevalue("emulator").url)
    return Connected(conn_id, ("gcs-token",), lambda: control.configure({"gcs": {"access_tokens": ["other"]}}))


def _connect_token(conn_type: str, token: str, section: str, **fixed: Any) -> Callable[..., Connected]:
    """A connection carrying one access token the emulator's ``section`` accepts, with the ``fixed`` extra fields."""

    def connect(request: pytest.FixtureRequest, **extra: Any) -> Connected:
        emulator = request.getfixturevalue("emulator")
        conn_id = request.getfixturevalue("set_connection")(
            f"contract_{conn_type.removeprefix('chunkup_')}", conn_type=conn_type, host=emulator.url, password=token,
            extra={**fixed, **extra})
        control = EmulatorControl(emulator.url)
        return Connected(conn_id, (token,), lambda: control.configure({section: {"tokens": ["other"]}}))

    return connect


_connect_linkedin = _connect_token("chunkup_linkedin", "linkedin-token", "linkedin", owner="urn:li:person:chunkup")
_connect_instagram = _connect_token("chunkup_instagram", "meta-token", "meta", ig_user_id="17841400000000001")
_connect_facebook_reels = _connect_token("chunkup_facebook_reels", "meta-token", "meta", page_id="1234")
_connect_facebook = _connect_token("chunkup_facebook", "meta-token", "meta", target="page:1234")
_connect_tiktok = _connect_token("chunkup_tiktok", "tiktok-token", "tiktok", mode="inbox")  # a draft: no post fields


# -- what the emulators stored ------------------------------------------------------------------------------

def _x_stored(control: EmulatorControl, media_id: str) -> Stored:
    media = control.get(f"/x/media/{media_id}")
    return Stored(media["size"], media["sha256"])


def _x_uploads(control: EmulatorControl) -> set[str]:
    return {media["id"] for media in control.get("/x/media")}


def _apivideo_stored(control: EmulatorControl, video_id: str) -> Stored:
    video = control.get(f"/apivideo/videos/{video_id}")
    return Stored(video["size"], video["sha256"])


def _apivideo_uploads(control: EmulatorControl) -> set[str]:
    return {video["videoId"] for video in control.get("/apivideo/videos") if not video["deleted"]}


def _content_range_stored(control: EmulatorControl, media_id: str) -> Stored:
    """The media names the upload it was completed from; the upload has the sha256 of what arrived."""
    media = control.get(f"/content-range/media/{media_id}")
    upload = control.get(f"/content-range/uploads/{media['upload_id']}")
    return Stored(media["size"], upload["sha256"])


def _content_range_uploads(control: EmulatorControl) -> set[str]:
    return {upload["upload_id"] for upload in control.get("/content-range/uploads")}


def _tus_stored(control: EmulatorControl, media_id: str) -> Stored:
    upload = control.get(f"/tus/uploads/{media_id}")
    return Stored(upload["size"], upload["sha256"])


def _tus_uploads(control: EmulatorControl) -> set[str]:
    return {upload["id"] for upload in control.get("/tus/uploads") if upload["state"] != "terminated"}


def _vimeo_stored(control: EmulatorControl, video_id: str) -> Stored:
    video = control.get(f"/vimeo/videos/{video_id}")
    return Stored(video["size"], video["sha256"])


def _vimeo_uploads(control: EmulatorControl) -> set[str]:
    return {video["id"] for video in control.get("/vimeo/videos") if not video["deleted"]}


def _cloudflare_stored(control: EmulatorControl, uid: str) -> Stored:
    video = control.get(f"/cloudflare_stream/videos/{uid}")
    return Stored(video["size"], video["sha256"])


def _cloudflare_uploads(control: EmulatorControl) -> set[str]:
    return {video["uid"] for video in control.get("/cloudflare_stream/videos") if not video["deleted"]}


def _youtube_stored(control: EmulatorControl, video_id: str) -> Stored:
    video = control.get(f"/youtube/videos/{video_id}")
    return Stored(video["size"], video["sha256"])


def _youtube_uploads(control: EmulatorControl) -> set[str]:
    """The resumable sessions, by the name chunkup gives them (the video itself is made at the last byte)."""
    from airflow_provider_chunkup.protocols.google_resumable import session_handle

    return {session_handle(f"{control.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={s['upload_id']}")
            for s in control.get("/youtube/sessions") if s["state"] in ("open", "complete")}


def _gcs_stored(control: EmulatorControl, media_id: str) -> Stored:
    obj = control.get(f"/gcs/objects/{media_id.rsplit('/', 1)[0]}")  # bucket/name/generation
    return Stored(obj["size"], obj["sha256"])


def _gcs_uploads(control: EmulatorControl) -> set[str]:
    from airflow_provider_chunkup.protocols.google_resumable import session_handle

    return {session_handle(f"{control.url}/upload/storage/v1/b/{s['bucket']}/o?uploadType=resumable&upload_id="
                           f"{s['upload_id']}") for s in control.get("/gcs/sessions")
            if s["state"] in ("open", "complete")}


def _linkedin_stored(control: EmulatorControl, urn: str) -> Stored:
    video = control.get(f"/linkedin/videos/{urn}")
    return Stored(video["size"], video["sha256"])


def _linkedin_uploads(control: EmulatorControl) -> set[str]:
    return {video["urn"] for video in control.get("/linkedin/videos")}


def _instagram_stored(control: EmulatorControl, container_id: str) -> Stored:
    container = control.get(f"/meta/containers/{container_id}")
    return Stored(container["file_size"], container["sha256"])


def _instagram_uploads(control: EmulatorControl) -> set[str]:
    return {container["id"] for container in control.get("/meta/containers")["containers"]}


def _meta_video_stored(control: EmulatorControl, video_id: str) -> Stored:
    video = control.get(f"/meta/videos/{video_id}")
    return Stored(video["file_size"], video["sha256"])


def _meta_videos(control: EmulatorControl) -> set[str]:
    return {video["id"] for video in control.get("/meta/videos")["videos"]}


def _tiktok_stored(control: EmulatorControl, publish_id: str) -> Stored:
    post = control.get(f"/tiktok/posts/{publish_id}")
    return Stored(post["video_size"], post["sha256"])


def _tiktok_posts(control: EmulatorControl) -> set[str]:
    posts = control.get("/tiktok/posts")
    return {post["publish_id"] for post in (posts.get("posts", []) if isinstance(posts, dict) else posts)}


# -- the profiles -------------------------------------------------------------------------------------------

X_CHUNK = 256 * KiB  # X takes segments of 1 byte to 5 MiB; small ones keep the files small
APIVIDEO_INSTANT = {"apivideo": {"encoding_seconds": 0, "playable_after_secs": 0}}
X_INSTANT = {"x": {"processing_seconds": 0}}

X_V2 = ApiProfile(
    name="x_v2", hook=XMediaUploadHook, connect=_connect_x("oauth2", "v2"),
    file_name="clip.mp4", media_type="video/mp4", chunk_size=X_CHUNK,
    stored=_x_stored, remote_uploads=_x_uploads, chunk_routes=("POST /2/media/upload/{id}/append",),
    abilities=Abilities(parallel_segments=True, processes_media=True, resume_from="checkpoint", abortable=False),
    emulator_config=X_INSTANT,
)
X_V1_1 = ApiProfile(
    name="x_v1_1", hook=XMediaUploadHook, connect=_connect_x("oauth1", "v1.1"),
    file_name="clip.mp4", media_type="video/mp4", chunk_size=X_CHUNK,
    stored=_x_stored, remote_uploads=_x_uploads, chunk_routes=("POST /1.1/media/upload.json APPEND",),
    abilities=Abilities(parallel_segments=True, processes_media=True, resume_from="checkpoint", abortable=False),
    emulator_config=X_INSTANT,
)
APIVIDEO_PART = ApiProfile(
    name="apivideo_part", hook=ApiVideoHook, connect=_connect_apivideo("part"),
    # The smallest chunk whose full last chunk is split into a 5 MiB part and the short tail (ShortTailPlan).
    file_name="clip.mp4", media_type="video/mp4", chunk_size=6 * MiB, short_tail=True,
    stored=_apivideo_stored, remote_uploads=_apivideo_uploads, chunk_routes=("POST /videos/{videoId}/source",),
    abilities=Abilities(parallel_segments=True, processes_media=True, resume_from="server", abortable=True),
    emulator_config=APIVIDEO_INSTANT,
)
APIVIDEO_BYTES = ApiProfile(
    name="apivideo_bytes", hook=ApiVideoHook, connect=_connect_apivideo("bytes"),
    file_name="clip.mp4", media_type="video/mp4", chunk_size=5 * MiB,
    stored=_apivideo_stored, remote_uploads=_apivideo_uploads, chunk_routes=("POST /videos/{videoId}/source",),
    abilities=Abilities(parallel_segments=False, processes_media=True, resume_from="server", abortable=True),
    emulator_config=APIVIDEO_INSTANT,
)
APIVIDEO_TOKEN = ApiProfile(
    name="apivideo_token", hook=ApiVideoHook, connect=_connect_apivideo_token,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=5 * MiB,
    stored=_apivideo_stored, remote_uploads=_apivideo_uploads, chunk_routes=("POST /upload",),
    abilities=Abilities(parallel_segments=True, processes_media=True, resume_from="checkpoint", abortable=False,
                        status_readable=False),
    emulator_config=APIVIDEO_INSTANT,
)
CONTENT_RANGE = ApiProfile(
    name="content_range", hook=ContentRangeUploadHook, connect=_connect_content_range,
    file_name="brochure.pdf", media_type="application/pdf", chunk_size=100_000,  # SelfCommunity: <= 204800
    stored=_content_range_stored, remote_uploads=_content_range_uploads,
    chunk_routes=("POST /api/v2/media/upload/chunk/",),
    abilities=Abilities(parallel_segments=False, processes_media=False, resume_from="server", abortable=False),
)

TUS = ApiProfile(
    name="tus", hook=TusUploadHook, connect=_connect_tus,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=256 * KiB,  # tus sets no chunk limits
    stored=_tus_stored, remote_uploads=_tus_uploads, chunk_routes=("PATCH /files/{upload_id}",),
    abilities=Abilities(parallel_segments=False, processes_media=False, resume_from="server", abortable=True),
    emulator_config={"tus": {"bearer_tokens": [TUS_TOKEN]}},
)

VIMEO = ApiProfile(
    name="vimeo", hook=VimeoUploadHook, connect=_connect_vimeo,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=256 * KiB,  # Vimeo's tus link sets no chunk limits
    stored=_vimeo_stored, remote_uploads=_vimeo_uploads, chunk_routes=("PATCH /vimeo/upload/{upload_id}",),
    abilities=Abilities(parallel_segments=False, processes_media=True, resume_from="server", abortable=True),
    emulator_config={"vimeo": {"transcode_secs": 0}},
)
CLOUDFLARE_STREAM = ApiProfile(
    name="cloudflare_stream", hook=CloudflareStreamHook, connect=_connect_cloudflare,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=5 * MiB,  # Stream's smallest chunk but the last
    stored=_cloudflare_stored, remote_uploads=_cloudflare_uploads,
    chunk_routes=("PATCH /client/v4/accounts/{account_id}/media/{upload_id}",),
    abilities=Abilities(parallel_segments=False, processes_media=True, resume_from="server", abortable=True),
    emulator_config={"cloudflare_stream": {"queued_secs": 0, "encode_secs": 0}},
)

YOUTUBE = ApiProfile(
    name="youtube", hook=YouTubeHook, connect=_connect_youtube,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=256 * KiB,  # Google's smallest chunk but the last
    stored=_youtube_stored, remote_uploads=_youtube_uploads, chunk_routes=("PUT /upload/youtube/v3/videos",),
    abilities=Abilities(parallel_segments=False, processes_media=True, resume_from="server", abortable=False),
    emulator_config={"youtube": {"processing_secs": 0}}, accepted=("2", "308"), probe_stat="youtube_status_queries",
)
GCS = ApiProfile(
    name="gcs", hook=GcsDestinationHook, connect=_connect_gcs,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=256 * KiB,
    stored=_gcs_stored, remote_uploads=_gcs_uploads, chunk_routes=("PUT /upload/storage/v1/b/{bucket}/o",),
    abilities=Abilities(parallel_segments=False, processes_media=False, resume_from="server", abortable=True),
    accepted=("2", "308"), probe_stat="gcs_status_queries",
)

LINKEDIN = ApiProfile(
    name="linkedin", hook=LinkedInHook, connect=_connect_linkedin,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=256 * KiB,  # the emulator's parts, set to match
    stored=_linkedin_stored, remote_uploads=_linkedin_uploads,
    chunk_routes=("PUT /linkedin-upload/{video_id}/{part}",),
    abilities=Abilities(parallel_segments=True, processes_media=True, resume_from="checkpoint", abortable=False),
    emulator_config={"linkedin": {"processing_secs": 0, "part_bytes": 256 * KiB}},
)

INSTAGRAM = ApiProfile(
    name="instagram", hook=InstagramHook, connect=_connect_instagram,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=256 * KiB,  # rupload sets no chunk limits
    stored=_instagram_stored, remote_uploads=_instagram_uploads,
    chunk_routes=("POST /ig-api-upload/{ver}/{object_id}",),
    abilities=Abilities(parallel_segments=False, processes_media=True, resume_from="server", abortable=False),
    emulator_config={"meta": {"processing_secs": 0}},
)

FACEBOOK_REELS = ApiProfile(
    name="facebook_reels", hook=FacebookReelsHook, connect=_connect_facebook_reels,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=256 * KiB,
    stored=_meta_video_stored, remote_uploads=_meta_videos, chunk_routes=("POST /video-upload/{ver}/{object_id}",),
    abilities=Abilities(parallel_segments=False, processes_media=True, resume_from="server", abortable=False),
    emulator_config={"meta": {"processing_secs": 0}},
)

FACEBOOK = ApiProfile(
    name="facebook", hook=FacebookVideoHook, connect=_connect_facebook,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=256 * KiB,  # the buffer; the emulator's windows match it
    stored=_meta_video_stored, remote_uploads=_meta_videos, chunk_routes=("POST /{ver}/{node}/videos transfer",),
    abilities=Abilities(parallel_segments=False, processes_media=True, resume_from="server", abortable=False),
    emulator_config={"meta": {"processing_secs": 0, "window_bytes": 256 * KiB}},
)

TIKTOK = ApiProfile(
    name="tiktok", hook=TikTokHook, connect=_connect_tiktok,
    file_name="clip.mp4", media_type="video/mp4", chunk_size=5 * 1024 * 1024,  # TikTok's smallest chunk
    stored=_tiktok_stored, remote_uploads=_tiktok_posts, chunk_routes=("PUT /tiktok-upload/{publish_id}",),
    abilities=Abilities(parallel_segments=False, processes_media=True, resume_from="server", abortable=False),
    emulator_config={"tiktok": {"processing_secs": 0}}, remainder_in_last=True,
)

PROFILES = (X_V2, X_V1_1, APIVIDEO_PART, APIVIDEO_BYTES, APIVIDEO_TOKEN, CONTENT_RANGE, TUS, VIMEO, CLOUDFLARE_STREAM,
            YOUTUBE, GCS, LINKEDIN, INSTAGRAM, FACEBOOK_REELS, FACEBOOK, TIKTOK)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
