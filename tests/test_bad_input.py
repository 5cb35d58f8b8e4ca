"""Bad input, one case a row: each fails with one error naming the cause and the fix, and without a retry storm.

Every case runs real hooks or operators against the emulator on loopback (a mock transport only where the
emulator cannot answer that way: a 2xx body that is not JSON), with real files. After the failure the test
checks the error's type (``UploadFailedForGood`` wrapping the chunkup error for the operators' no-retry
failures), the message (a regex holding both the cause and the fix), and exactly how many requests the emulator
saw: none for input that is checked before any request, a handful (1 to 3) where the platform must answer first.
What every API refuses alike (an empty file, a chunk size outside its bounds, a missing source, a connection
that is not defined or of another type) is checked on every API, through its hook, by tests/contract.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from airflow.sdk.exceptions import AirflowFailException
from conftest import (
    APIVIDEO_KEY,
    CLOUDFLARE_ACCOUNT,
    CLOUDFLARE_TOKEN,
    CONTENT_RANGE_TOKEN,
    EMULATOR_TOKEN,
    OAUTH1,
    VIMEO_TOKEN,
)

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    PlanError,
    RemoteRejected,
    RetryExhausted,
    SourceError,
    SourceMissing,
    UploadExpired,
)
from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook
from airflow_provider_chunkup.hooks.cloudflare_stream import CloudflareStreamHook
from airflow_provider_chunkup.hooks.content_range import ContentRangeUploadHook
from airflow_provider_chunkup.hooks.facebook import FacebookVideoHook
from airflow_provider_chunkup.hooks.facebook_reels import FacebookReelsHook
from airflow_provider_chunkup.hooks.gcs_destination import GcsDestinationHook
from airflow_provider_chunkup.hooks.instagram import InstagramHook
from airflow_provider_chunkup.hooks.linkedin import LinkedInHook
from airflow_provider_chunkup.hooks.registry import BY_API
from airflow_provider_chunkup.hooks.tiktok import TikTokHook
from airflow_provider_chunkup.hooks.tus import TusUploadHook
from airflow_provider_chunkup.hooks.vimeo import VimeoUploadHook
from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.hooks.youtube import YouTubeHook
from airflow_provider_chunkup.operators.resume import UploadFailedForGood
from airflow_provider_chunkup.operators.upload import (
    ChunkedUploadOperator,
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)
from airflow_provider_chunkup.protocols.chunking import GiB, MiB
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor

DEFAULTS = {
    "x": {"conn_type": "chunkup_x", "password": EMULATOR_TOKEN},
    "apivideo": {"conn_type": "chunkup_apivideo", "password": APIVIDEO_KEY},
    "content_range": {"conn_type": "chunkup_content_range", "password": CONTENT_RANGE_TOKEN},
    "tus": {"conn_type": "chunkup_tus"},
    "vimeo": {"conn_type": "chunkup_vimeo", "password": VIMEO_TOKEN},
    "cloudflare_stream": {"conn_type": "chunkup_cloudflare_stream", "login": CLOUDFLARE_ACCOUNT,
                          "password": CLOUDFLARE_TOKEN},
    "youtube": {"conn_type": "chunkup_youtube", "extra": {"access_token": "youtube-token"}},
    "gcs": {"conn_type": "chunkup_gcs", "extra": {"bucket": "media", "access_token": "gcs-token"}},
    "tiktok": {"conn_type": "chunkup_tiktok", "password": "tiktok-token"},
    "linkedin": {"conn_type": "chunkup_linkedin", "password": "linkedin-token",
                 "extra": {"owner": "urn:li:person:chunkup"}},
    "facebook": {"conn_type": "chunkup_facebook", "password": "meta-token", "extra": {"target": "page:1234"}},
    "instagram": {"conn_type": "chunkup_instagram", "password": "meta-token",
                  "extra": {"ig_user_id": "17841400000000001"}},
    "facebook_reels": {"conn_type": "chunkup_facebook_reels", "password": "meta-token", "extra": {"page_id": "1234"}},
}
HOOKS = {"x": XMediaUploadHook, "apivideo": ApiVideoHook, "content_range": ContentRangeUploadHook,
         "tus": TusUploadHook, "vimeo": VimeoUploadHook, "cloudflare_stream": CloudflareStreamHook,
         "youtube": YouTubeHook, "gcs": GcsDestinationHook, "tiktok": TikTokHook, "linkedin": LinkedInHook,
         "facebook": FacebookVideoHook, "instagram": InstagramHook, "facebook_reels": FacebookReelsHook}
REMOTE = "http://media.example.invalid"  # never resolved: the connection check refuses it first


class Env:
    """What a case needs: connections to the emulator, files, the emulator's controls and counters."""

    def __init__(self, emulator: Any, set_connection: Callable[..., str], tmp_path: Path) -> None:
        self.emulator = emulator
        self.url = emulator.url
        self._set_connection = set_connection
        self.tmp_path = tmp_path
        self.mocked: list[httpx.Request] = []

    # -- connections ---------------------------------------------------------------------------

    def conn(self, api: str, conn_id: str | None = None, **fields: Any) -> str:
        """A connection of ``api`` to the emulator; ``None`` values drop a default field (e.g. password)."""
        merged = {**DEFAULTS[api], "host": self.url, **fields}
        return self._set_connection(conn_id or f"bad_{api}", **{k: v for k, v in merged.items() if v is not None})

    def foreign_conn(self, conn_id: str, **fields: Any) -> str:
        """A connection of a type that is none of chunkup's."""
        return self._set_connection(conn_id, **fields)

    def mocked_hook(self, api: str, handler: Callable[[httpx.Request], httpx.Response], **fields: Any) -> Any:
        """The API's hook with its protocol on an httpx MockTransport (for answers the emulator never gives)."""
        seen = self.mocked

        def record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        class Mocked(HOOKS[api]):  # type: ignore[misc, valid-type]
            def build_protocol(self, conn: Any, options: Any, transport: Any = None) -> Any:
                return super().build_protocol(conn, options, transport=httpx.MockTransport(record))

        return Mocked(self.conn(api, **fields))

    # -- files ---------------------------------------------------------------------------------

    def file(self, size: int, name: str = "clip.mp4") -> Path:
        path = self.tmp_path / name
        path.write_bytes(os.urandom(size))
        return path

    def sparse(self, size: int, name: str) -> Path:
        """A file of ``size`` bytes that takes no disk space: for size checks that must not read it."""
        path = self.tmp_path / name
        with open(path, "wb") as f:
            f.truncate(size)
        return path

    # -- the emulator --------------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/_emulator{path}", json=body)
        response.raise_for_status()
        return response.json()

    def fault(self, match: str, status: int, times: int = 1) -> None:
        self.control("POST", "/faults", {"match": match, "status": status, "times": times})

    def reset_counts(self) -> None:
        self.control("POST", "/stats/reset")
        self.mocked.clear()

    def requests(self) -> int:
        """Requests that reached the emulator (or a mock transport) since :meth:`reset_counts`."""
        return self.control("GET", "/stats")["total_requests"] + len(self.mocked)


@dataclass(frozen=True)
class Case:
    id: str
    act: Callable[[Env, Any], Any]
    error: type[BaseException]
    message: str
    """A regex over the message: the cause and the fix."""
    requests: int = 0
    """Exactly how many requests reach the server (none for input checked before any request)."""
    cause: type[BaseException] | None = None
    """The chunkup error an ``UploadFailedForGood`` must wrap."""
    arrange: Callable[[Env], Any] | None = None
    """Set-up whose requests do not count; its return value is ``act``'s second argument."""


# -- how cases are provoked ----------------------------------------------------------------------------

def upload(env: Env, api: str, source: Any, conn: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """The one-task operator, as a DAG would run it."""
    conn_id = env.conn(api, **(conn or {}))
    return ChunkedUploadOperator(task_id="upload", conn_id=conn_id, source=str(source) if isinstance(source, Path)
                                 else source, **kwargs).execute({})


def init(env: Env, api: str, source: Any, conn: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    conn_id = env.conn(api, **(conn or {}))
    return ChunkUploadInitOperator(task_id="init", conn_id=conn_id, source=str(source), **kwargs).execute({})


def append(session: Any, **kwargs: Any) -> Any:
    return ChunkUploadAppendOperator(task_id="append", session=session, **kwargs).execute({})


def finalize(session: Any, **kwargs: Any) -> Any:
    return ChunkUploadFinalizeOperator(task_id="finalize", session=session, **kwargs).execute({})


def session(env: Env, api: str, media_id: str, path: Path, **fields: Any) -> dict[str, Any]:
    """A session as an init task would have put in XCom, for an upload the emulator does not know."""
    return {"api": api, "media_id": media_id, "total_bytes": path.stat().st_size, "conn_id": env.conn(api),
            "source": str(path), "media_type": "video/mp4", **fields}


CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


@contextlib.contextmanager
def _without_dac_override() -> Iterator[None]:
    """Root reads any file whatever its mode; without these two effective capabilities, it obeys the mode.

    Capabilities are per thread and new threads inherit them: the upload's reader threads, started by this
    (the main) thread inside the block, are denied too. Only the effective set shrinks, so it is restored.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # _LINUX_CAPABILITY_VERSION_3
    assert libc.capget(ctypes.byref(header), data) == 0, os.strerror(ctypes.get_errno())
    saved = data[0].effective
    data[0].effective &= ~((1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH)) & 0xFFFFFFFF
    assert libc.capset(ctypes.byref(header), data) == 0, os.strerror(ctypes.get_errno())
    try:
        yield
    finally:
        data[0].effective = saved
        assert libc.capset(ctypes.byref(header), data) == 0, os.strerror(ctypes.get_errno())


@contextlib.contextmanager
def unreadable(path: Path) -> Iterator[None]:
    """``path`` with mode 000, really unreadable by this process and its new threads, even as root."""
    path.chmod(0)
    try:
        with _without_dac_override() if os.geteuid() == 0 else contextlib.nullcontext():
            denied: list[BaseException] = []
            probe = threading.Thread(target=lambda: _try_open(path, denied))
            probe.start()
            probe.join()
            assert denied and isinstance(denied[0], PermissionError), "the file is still readable"
            yield
    finally:
        path.chmod(0o600)


def _try_open(path: Path, errors: list[BaseException]) -> None:
    try:
        path.open("rb").close()
    except OSError as e:
        errors.append(e)


def upload_unreadable(env: Env, api: str) -> Any:
    path = env.file(300_000, "clip.mp4")
    with unreadable(path):
        return upload(env, api, path)


def html(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="<html><body>Please sign in</body></html>", headers={"content-type": "text/html"})


def json_answer(body: Any, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _: httpx.Response(status, json=body)


def x_session_opened(env: Env) -> dict[str, Any]:
    return XMediaUploadHook(env.conn("x")).init(str(env.file(1_500_000)), chunk_size=MiB).to_dict()


def x_session_expired(env: Env) -> dict[str, Any]:
    opened = XMediaUploadHook(env.conn("x")).init(str(env.file(10_000))).to_dict()
    env.control("POST", f"/x/media/{opened['media_id']}/expire")
    return opened


def content_range_session_expired(env: Env) -> dict[str, Any]:
    opened = ContentRangeUploadHook(env.conn("content_range")).init(str(env.file(500_000, "a.pdf"))).to_dict()
    env.control("POST", f"/content-range/uploads/{opened['media_id']}/expire")
    return opened


def tus_upload(env: Env, source: Any, conn: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """The one-task operator on a tus connection to the emulator's creation endpoint."""
    return upload(env, "tus", source, conn={"host": f"{env.url}/files/", **(conn or {})}, **kwargs)


def tus_answers(*, options: dict[str, str] | None = None,
                post: httpx.Response | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """A tus server on a mock transport: its OPTIONS headers, and its answer to the creation POST."""
    announced = {"Tus-Version": "1.0.0", "Tus-Extension": "creation,termination", **(options or {})}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "OPTIONS":
            return httpx.Response(204, headers=announced)
        return post if post is not None else httpx.Response(201, headers={"Location": "/files/1"})

    return answer


def vimeo_upload(env: Env, source: Any, conn: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """The one-task operator on a Vimeo connection to the emulator's front door."""
    return upload(env, "vimeo", source, conn={"host": f"{env.url}/vimeo", **(conn or {})}, **kwargs)


def stream_upload(env: Env, source: Any, conn: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """The one-task operator on a Cloudflare Stream connection to the emulator's API."""
    return upload(env, "cloudflare_stream", source, conn={"host": f"{env.url}/client/v4", **(conn or {})}, **kwargs)


def uploaded_with_failing_processing(env: Env, api: str) -> dict[str, Any]:
    if api == "x":
        env.control("PATCH", "/config", {"x": {"processing_outcome": "failed", "processing_seconds": 0}})
    else:
        env.control("PATCH", "/config", {"apivideo": {"encoding_outcome": "failed", "encoding_seconds": 0,
                                                      "playable_after_secs": 0}})
    return HOOKS[api](env.conn(api)).upload(str(env.file(10_000))).to_dict()


UFG = UploadFailedForGood

CASES = [
    # -- the source ------------------------------------------------------------------------------------
    # Not retried: on a cluster a retry would find the file only by landing on the worker that has it.
    Case("source_missing", lambda env, _: upload(env, "x", env.tmp_path / "nope.mp4"),
         UFG, r"nope\.mp4 does not exist on .+, the worker running this task .* write sources to an object store",
         cause=SourceMissing),
    Case("source_is_a_directory", lambda env, _: upload(env, "x", env.tmp_path),
         SourceError, r"is a directory, not a file"),
    Case("source_unreadable_content_range", lambda env, _: upload_unreadable(env, "content_range"),
         SourceError, r"clip\.mp4 cannot be read: permission denied\. Grant read access to the worker's user"),
    # X opens the upload (INIT) before the first read: one request, and an upload X forgets by itself.
    Case("source_unreadable_x", lambda env, _: upload_unreadable(env, "x"),
         SourceError, r"clip\.mp4 cannot be read: permission denied\. Grant read access to the worker's user",
         requests=0),  # one byte is read before INIT: no orphan upload
    Case("source_conn_id_for_a_local_file",
         lambda env, _: upload(env, "x", env.file(10), source_conn_id="minio"),
         UFG, r"source_conn_id='minio' was given for a file:// source.*Pass storage_options instead",
         cause=ConfigurationError),
    Case("source_connection_given_twice",
         lambda env, _: upload(env, "x", "s3://minio@media/clip.mp4", source_conn_id="minio"),
         UFG, r"already names its connection; source_conn_id='minio' would be a second one\. Give the connection "
              r"once", cause=ConfigurationError),
    Case("source_unknown_scheme", lambda env, _: upload(env, "x", "nosuchfs://bucket/clip.mp4"),
         UFG, r"No filesystem for nosuchfs:// sources.*Install the fsspec implementation for 'nosuchfs'",
         cause=ConfigurationError),
    Case("source_none", lambda env, _: upload(env, "x", None),
         UFG, r"Source must be a path, an fsspec URL or an ObjectStoragePath, got None", cause=ConfigurationError),

    # -- chunk sizes (outside each API's bounds: tests/contract) -----------------------------------------
    Case("x_chunk_size_over_1000_segments",
         lambda env, _: upload(env, "x", env.sparse(1024 * 1000 + 1, "clip.mp4"), chunk_size=1024),
         UFG, r"into 1001 segments; X takes at most 1000\. Use chunk_size >= 1025", cause=PlanError),
    Case("chunk_size_not_a_number",
         lambda env, _: upload(env, "x", env.file(10), conn={"extra": {"chunk_size": "big"}}),
         UFG, r"chunk_size must be a whole number, got 'big'", cause=ConfigurationError),

    # -- sizes, media types and categories ---------------------------------------------------------------
    *[Case(f"x_{category}_over_limit",
           lambda env, _, category=category, size=size, name=name: upload(
               env, "x", env.sparse(size + 1, name), media_category=category),
           UFG, rf"The source is {size + 1} bytes; X takes at most {size} bytes of \w+ media in {category}\. Use a "
                r"smaller \(or re-encoded\) file, or raise the limit in the connection's size_limits",
           cause=ConfigurationError)
      for category, size, name in (("tweet_image", 5 * MiB, "photo.png"), ("tweet_gif", 15 * MiB, "loop.gif"),
                                   ("tweet_video", 512 * MiB, "clip.mp4"), ("amplify_video", 512 * MiB, "clip.mp4"))],
    Case("content_range_image_over_5mib",
         lambda env, _: upload(env, "content_range", env.sparse(5 * MiB + 1, "photo.png")),
         UFG, r"takes image uploads up to 5242880 bytes\. Use a smaller file, or raise size_limits",
         cause=ConfigurationError),
    Case("content_range_document_over_50mib",
         lambda env, _: upload(env, "content_range", env.sparse(50 * MiB + 1, "brochure.pdf")),
         UFG, r"takes document uploads up to 52428800 bytes\. Use a smaller file, or raise size_limits",
         cause=ConfigurationError),
    Case("apivideo_over_30gib", lambda env, _: upload(env, "apivideo", env.sparse(30 * GiB + 1, "clip.mp4")),
         UFG, r"api\.video takes videos up to 32212254720 bytes \(30 GiB\)\. Split or re-encode the file",
         cause=ConfigurationError),
    Case("x_unknown_media_category",
         lambda env, _: upload(env, "x", env.file(10), media_category="tweet_podcast"),
         UFG, r"X does not know media_category 'tweet_podcast'\. Use one of: amplify_video",
         cause=ConfigurationError),
    Case("x_media_type_not_allowed", lambda env, _: upload(env, "x", env.file(10, "brochure.pdf")),
         UFG, r"X does not accept media_type 'application/pdf'\. Use one of: video/mp4", cause=ConfigurationError),
    Case("x_media_type_unknown", lambda env, _: upload(env, "x", env.file(10, "clip.zz9")),
         UFG, r"X needs a media_type.*set media_type, or use a source whose file name ends in a known extension",
         cause=ConfigurationError),
    Case("x_category_does_not_match_media",
         lambda env, _: upload(env, "x", env.file(10, "photo.png"), media_category="tweet_video"),
         UFG, r"media_category 'tweet_video' is for video media but media_type 'image/png' is image\. Pick a "
              r"matching category", cause=ConfigurationError),
    Case("content_range_unknown_kind",
         lambda env, _: upload(env, "content_range", env.file(10), media_category="video"),
         UFG, r"media_category 'video' is not a kind this API knows; use one of image, document, file",
         cause=ConfigurationError),
    Case("apivideo_unknown_video_field",
         lambda env, _: upload(env, "apivideo", env.file(10), upload_options={"colour": "red"}),
         UFG, r"api\.video videos have no field colour; upload_options may set: title", cause=ConfigurationError),
    Case("x_unknown_initialize_option",
         lambda env, _: upload(env, "x", env.file(10), upload_options={"alt_text": "hi"}),
         UFG, r"X initialize does not take alt_text; allowed options: shared, additional_owners",
         cause=ConfigurationError),
    Case("content_range_takes_no_options",
         lambda env, _: upload(env, "content_range", env.file(10, "a.pdf"), upload_options={"title": "t"}),
         UFG, r"Chunk uploads take no options \(title\); set the field and complete type in the connection",
         cause=ConfigurationError),

    # -- credentials --------------------------------------------------------------------------------------
    Case("x_missing_token", lambda env, _: upload(env, "x", env.file(10), conn={"password": None}),
         UFG, r"has no password: put the OAuth 2\.0 user access token \(scope media\.write\) in the password",
         cause=ConfigurationError),
    Case("x_oauth1_missing_token_secret",
         lambda env, _: upload(env, "x", env.file(10), conn={
             "login": OAUTH1["consumer_key"], "password": OAUTH1["consumer_secret"],
             "extra": {"auth_type": "oauth1_user", "access_token": OAUTH1["access_token"]}}),
         UFG, r"uses OAuth 1\.0a but lacks extra access_token_secret\. Set all four", cause=ConfigurationError),
    Case("apivideo_missing_key", lambda env, _: upload(env, "apivideo", env.file(10), conn={"password": None}),
         UFG, r"has no password: put the api\.video API key there", cause=ConfigurationError),
    Case("content_range_missing_token",
         lambda env, _: upload(env, "content_range", env.file(10), conn={"password": None}),
         UFG, r"has no password: put the Bearer token there", cause=ConfigurationError),
    Case("x_wrong_token", lambda env, _: upload(env, "x", env.file(10), conn={"password": "not-the-token"}),
         UFG, r"X initialize failed with HTTP 401.*Check the connection's credentials: an OAuth 2\.0 user access "
              r"token in the password", requests=1, cause=AuthenticationFailed),
    Case("x_v11_wrong_token",
         lambda env, _: upload(env, "x", env.file(10), conn={"password": "not-the-token",
                                                              "extra": {"api_version": "v1.1"}}),
         UFG, r"X INIT failed with HTTP 401.*Check the connection's credentials", requests=1,
         cause=AuthenticationFailed),
    Case("x_oauth1_wrong_consumer_secret",
         lambda env, _: upload(env, "x", env.file(10), conn={
             "login": OAUTH1["consumer_key"], "password": "not-the-secret",
             "extra": {"access_token": OAUTH1["access_token"], "access_token_secret": OAUTH1["access_token_secret"]}}),
         UFG, r"HTTP 401.*Check the connection's credentials.*OAuth 1\.0a consumer key/secret", requests=1,
         cause=AuthenticationFailed),
    Case("x_token_without_media_write",
         lambda env, _: upload(env, "x", env.file(10), conn={"password": "chunkup-emulator-no-media-write"}),
         UFG, r"HTTP 403.*OAuth 2\.0 tokens need the media\.write scope \(re-authorize the user with it\)",
         requests=1, cause=AuthenticationFailed),
    Case("apivideo_wrong_key", lambda env, _: upload(env, "apivideo", env.file(10), conn={"password": "wrong"}),
         UFG, r"api\.video create video failed with HTTP 401.*Check the API key in the connection's password",
         requests=1, cause=AuthenticationFailed),
    Case("apivideo_wrong_key_bearer_flow",
         lambda env, _: upload(env, "apivideo", env.file(10), conn={"password": "wrong", "extra": {"auth": "bearer"}}),
         UFG, r"api\.video authentication \(/auth/api-key\) failed with HTTP 400: The user credentials were "
              r"incorrect.*Check the API key in the connection's password", requests=1, cause=AuthenticationFailed),
    Case("content_range_wrong_token",
         lambda env, _: upload(env, "content_range", env.file(10), conn={"password": "wrong"}),
         UFG, r"HTTP 401: Invalid token\. Check the token in the connection's password", requests=1,
         cause=AuthenticationFailed),

    # -- connections --------------------------------------------------------------------------------------
    Case("operator_on_a_foreign_connection",
         lambda env, _: ChunkUploadInitOperator(task_id="init", source=str(env.file(10)), conn_id=env.foreign_conn(
             "plain_http", conn_type="http", host=env.url)).execute({}),
         UFG, r"has type 'http', which no chunkup hook serves\. Use one of: chunkup_apivideo",
         cause=ConfigurationError),
    Case("host_with_mistyped_scheme", lambda env, _: upload(env, "x", env.file(10), conn={"host": "http//x"}),
         UFG, r"host 'http//x' is not a valid http\(s\) URL or host name \(a mistyped ://\?\)\. Use for example",
         cause=ConfigurationError),
    Case("host_not_http", lambda env, _: upload(env, "apivideo", env.file(10), conn={"host": "ftp://host"}),
         UFG, r"host 'ftp://host' is not a valid http\(s\) URL or host name\. Use for example api\.x\.com",
         cause=ConfigurationError),
    Case("host_with_invalid_port",
         lambda env, _: upload(env, "content_range", env.file(10), conn={"host": "http://127.0.0.1:99999"}),
         UFG, r"has an invalid port\. Use a port from 1 to 65535", cause=ConfigurationError),
    *[Case(f"plain_http_to_a_remote_host_{api}",
           lambda env, _, api=api: upload(env, api, env.file(10), conn={"host": REMOTE}),
           UFG, r"points at http://media\.example\.invalid over plain http, which would send credentials "
                r"unencrypted\. Use https, or set allow_insecure_http=true", cause=ConfigurationError)
      for api in ("x", "apivideo", "content_range")],
    Case("content_range_without_host", lambda env, _: upload(env, "content_range", env.file(10), conn={"host": None}),
         UFG, r"has no host: set the site's base URL", cause=ConfigurationError),
    Case("x_unknown_api_version",
         lambda env, _: upload(env, "x", env.file(10), conn={"extra": {"api_version": "v3"}}),
         UFG, r"api_version must be one of v2, v1\.1, got 'v3'", cause=ConfigurationError),
    Case("x_unknown_auth_type",
         lambda env, _: upload(env, "x", env.file(10), conn={"extra": {"auth_type": "basic"}}),
         UFG, r"auth_type must be one of oauth2_user, oauth1_user, got 'basic'", cause=ConfigurationError),
    Case("apivideo_unknown_environment",
         lambda env, _: upload(env, "apivideo", env.file(10), conn={"extra": {"environment": "staging"}}),
         UFG, r"environment must be production or sandbox, got 'staging'", cause=ConfigurationError),
    Case("apivideo_unknown_upload_mode",
         lambda env, _: upload(env, "apivideo", env.file(10), conn={"extra": {"upload_mode": "chunks"}}),
         UFG, r"upload_mode must be one of part, bytes, got 'chunks'", cause=ConfigurationError),
    Case("content_range_unknown_complete_type",
         lambda env, _: upload(env, "content_range", env.file(10), conn={"extra": {"complete_type": "video"}}),
         UFG, r"complete_type must be one of image, doc, eimage, got 'video'", cause=ConfigurationError),
    Case("allow_insecure_http_not_a_boolean",
         lambda env, _: upload(env, "x", env.file(10), conn={"extra": {"allow_insecure_http": "maybe"}}),
         UFG, r"allow_insecure_http must be true or false, got 'maybe'", cause=ConfigurationError),
    Case("size_limits_not_json",
         lambda env, _: upload(env, "x", env.file(10), conn={"extra": {"size_limits": "{video: 1"}}),
         UFG, r"size_limits must be a JSON object, got '\{video: 1'", cause=ConfigurationError),
    Case("timeout_not_a_number",
         lambda env, _: upload(env, "x", env.file(10), conn={"extra": {"timeout": "soon"}}),
         UFG, r"timeout must be a number, got 'soon'", cause=ConfigurationError),

    # -- remote ids: unknown, expired ---------------------------------------------------------------------
    Case("x_unknown_media_id_on_append",
         lambda env, _: append(session(env, "x", "1234567890", env.file(10_000), chunk_size=4 * MiB)),
         UFG, r"HTTP 404: Not Found Error - Could not find media with id: \[1234567890\].*X has no media with this "
              r"id.*Start a new upload \(re-run the init task\)", requests=1, cause=RemoteRejected),
    Case("x_unknown_media_id_on_finalize",
         lambda env, _: finalize(session(env, "x", "1234567890", env.file(10_000), chunk_size=4 * MiB)),
         UFG, r"X finalize of media 1234567890 failed with HTTP 404.*Start a new upload", requests=1,
         cause=RemoteRejected),
    Case("x_unknown_media_id_on_status", lambda env, _: XMediaUploadHook(env.conn("x")).status("1234567890"),
         RemoteRejected, r"X status of media 1234567890 failed with HTTP 404.*X has no media with this id",
         requests=1),
    Case("x_upload_expired_on_the_server", lambda env, opened: append(opened),
         UFG, r"upload session for media \d+ expired; initialize a new upload.*Start a new upload \(re-run the init "
              r"task\)", requests=1, cause=UploadExpired, arrange=x_session_expired),
    Case("x_upload_expired_before_sending",
         lambda env, _: append(session(env, "x", "1234567890", env.file(10_000), chunk_size=4 * MiB,
                                       expires_at=time.time() - 60)),
         UFG, r"X upload session 1234567890 expired at .*Start a new upload \(re-run the init task\)",
         cause=UploadExpired),
    Case("apivideo_unknown_video_on_append",
         lambda env, _: append(session(env, "apivideo", "vi0000000000000000000000", env.file(10_000),
                                       chunk_size=50 * MiB, remote={"mode": "part", "token": False})),
         UFG, r"There is no video 'vi0000000000000000000000'.*api\.video has no such video.*Start a new upload",
         requests=2,  # the status that finds no video, and the clean-up's DELETE (answered 404, logged)
         cause=RemoteRejected),
    Case("apivideo_unknown_video_on_status",
         lambda env, _: ApiVideoHook(env.conn("apivideo")).status("vi0000000000000000000000"),
         RemoteRejected, r"HTTP 404.*There is no video 'vi0000000000000000000000'.*api\.video has no such video",
         requests=1),
    Case("content_range_unknown_upload_id_on_append",
         lambda env, _: append(session(env, "content_range", "0" * 32, env.file(500_000, "a.pdf"), chunk_size=204800,
                                       media_category="document", stored=[[0, 1]], remote={"field": "document"})),
         UFG, r"HTTP 404: an HTML error page\. The server does not know this upload_id: start a new upload \(re-run "
              r"init\)", requests=2,  # the offset probe, then the chunk itself (a server that probes otherwise)
         cause=RemoteRejected),
    Case("content_range_unknown_upload_id_on_finalize",
         lambda env, _: finalize(session(env, "content_range", "0" * 32, env.file(500_000, "a.pdf"),
                                         chunk_size=204800, media_category="document", digests={"md5": "0" * 32})),
         UFG, r"complete of upload 0+ failed with HTTP 404.*does not know this upload_id: start a new upload",
         requests=1, cause=RemoteRejected),
    Case("content_range_upload_expired", lambda env, opened: append(opened),
         UFG, r"HTTP 410: Upload has expired.*start a new upload \(re-run init\), or set restart_expired",
         requests=1, cause=UploadExpired, arrange=content_range_session_expired),

    # -- malformed answers --------------------------------------------------------------------------------
    Case("x_2xx_without_data",
         lambda env, _: (env.fault("initialize", 200), upload(env, "x", env.file(10))),
         MalformedResponse, r"X initialize answered without a data object.*Check that the connection's host is the "
                            r"API's base URL", requests=1),
    Case("apivideo_2xx_without_video_id",
         lambda env, _: (env.fault("POST /videos$", 200), upload(env, "apivideo", env.file(10))),
         MalformedResponse, r"api\.video create video answered without a videoId.*Check that the connection's host",
         requests=1),
    Case("content_range_2xx_without_upload_id",
         lambda env, _: (env.fault("/chunk/", 201), upload(env, "content_range", env.file(10, "a.pdf"))),
         MalformedResponse, r"answered without an upload_id.*Check that the connection's host", requests=1),
    Case("content_range_complete_without_media_id",
         lambda env, _: (env.fault("/complete/", 201), upload(env, "content_range", env.file(10, "a.pdf"))),
         MalformedResponse, r"complete of upload \w+ answered without a media id.*Check that the connection's host",
         requests=2),  # the chunk, then complete: no offset probe of an upload this client just opened
    *[Case(f"{api}_2xx_not_json", lambda env, _, api=api: env.mocked_hook(api, html).upload(str(env.file(10))),
           MalformedResponse, r"answered HTTP 200 with a body that is not a JSON object: '<html>.*Check that the "
                              r"connection's host is the API's base URL", requests=1)
      for api in ("x", "apivideo", "content_range")],
    Case("x_initialize_without_media_id",
         lambda env, _: env.mocked_hook("x", json_answer({"data": {"expires_after_secs": 60}}, 200))
         .upload(str(env.file(10))),
         MalformedResponse, r"X initialize answered without a media id: \{\"expires_after_secs\": 60\}\. Check "
                            r"that the connection's host",
         requests=1),
    Case("apivideo_auth_without_access_token",
         lambda env, _: env.mocked_hook("apivideo", json_answer({"token_type": "Bearer"}), extra={"auth": "bearer"})
         .upload(str(env.file(10))),
         MalformedResponse, r"api\.video /auth answered without an access_token\. Check that the connection's host",
         requests=1),

    # -- sessions (XCom) and operator arguments -----------------------------------------------------------
    Case("session_not_parseable", lambda env, _: append("<Task(ChunkUploadInitOperator): init>"),
         UFG, r"Cannot read the UploadSession from .*pass the previous task's output \(XComArg\)",
         cause=ConfigurationError),
    Case("session_missing_fields", lambda env, _: finalize({"api": "x", "media_id": "1"}),
         UFG, r"UploadSession is missing total_bytes, chunk_size: pass the XCom of the previous chunkup task "
              r"unchanged", cause=ConfigurationError),
    Case("session_of_an_unknown_api",
         lambda env, _: append({"api": "dailymotion", "media_id": "1", "total_bytes": 1, "chunk_size": 1}),
         UFG, r"Unknown upload API 'dailymotion' \(known: apivideo, cloudflare_stream, content_range, facebook, "
              r"facebook_reels, gcs, instagram, linkedin, tiktok, tus, vimeo, x, youtube\)"
              r".*Pass the XCom of the previous "
              r"chunkup task unchanged", cause=ConfigurationError),
    Case("segments_out_of_range", lambda env, opened: append(opened, segments="5:9"),
         UFG, r"Segment 5 does not exist: this upload has 2 segments \(0\.\.1\)\. Pass segments within 0\.\.1",
         cause=PlanError, arrange=x_session_opened),
    Case("x_api_version_changed_mid_upload",
         lambda env, _: append(session(env, "x", "1234567890", env.file(10_000), chunk_size=4 * MiB,
                                       remote={"dialect": "v1.1"})),
         UFG, r"opened with X API v1\.1 but the connection now uses v2; finish it with the same api_version",
         cause=ConfigurationError),
    Case("content_range_finalize_without_md5",
         lambda env, _: finalize(session(env, "content_range", "0" * 32, env.file(10_000, "a.pdf"),
                                         chunk_size=204800)),
         UFG, r"has no md5: complete needs the whole file's md5.*Pass the append task's output to finalize",
         cause=ConfigurationError),
    Case("max_in_flight_zero", lambda env, _: upload(env, "x", env.file(10), max_in_flight=0),
         UFG, r"max_in_flight must be at least 1, got 0", cause=ConfigurationError),
    Case("max_in_flight_zero_in_the_connection",
         lambda env, _: init(env, "x", env.file(10), conn={"extra": {"max_in_flight": "0"}}),
         UFG, r"max_in_flight must be at least 1, got 0 \(connection 'bad_x'\)", cause=ConfigurationError),
    Case("retry_max_attempts_zero", lambda env, _: init(env, "x", env.file(10), retry={"max_attempts": 0}),
         UFG, r"retry_max_attempts must be at least 1, got 0", cause=ConfigurationError),
    Case("retry_unknown_setting",
         lambda env, _: append(session(env, "x", "1", env.file(10), chunk_size=MiB), retry={"attempts": 3}),
         UFG, r"Unknown retry setting\(s\) retry_attempts; known: retry_max_attempts, retry_backoff_initial",
         cause=ConfigurationError),
    Case("retry_setting_not_a_number",
         lambda env, _: init(env, "x", env.file(10), conn={"extra": {"retry_max_attempts": "many"}}),
         UFG, r"retry_max_attempts must be a number, got 'many'", cause=ConfigurationError),
    # -- tus ------------------------------------------------------------------------------------------
    Case("tus_without_host", lambda env, _: upload(env, "tus", env.file(10), conn={"host": None}),
         UFG, r"has no host: set the tus creation endpoint, e\.g\. https://tus\.example\.com/files/",
         cause=ConfigurationError),
    Case("tus_plain_http_to_a_remote_host",
         lambda env, _: tus_upload(env, env.file(10), conn={"host": f"{REMOTE}/files/"}),
         UFG, r"over plain http, which would send credentials unencrypted.*allow_insecure_http",
         cause=ConfigurationError),
    Case("tus_unknown_checksum",
         lambda env, _: tus_upload(env, env.file(10), conn={"extra": {"checksum": "crc32"}}),
         UFG, r"checksum must be one of sha1, sha256, md5 or none, got 'crc32'", cause=ConfigurationError),
    Case("tus_metadata_key_with_a_space",
         lambda env, _: tus_upload(env, env.file(10), conn={"extra": {"metadata": {"bad key": "v"}}}),
         UFG, r"Metadata key 'bad key' in the connection's metadata is not a valid tus key: keys must be non-empty, "
              r"without spaces or commas", cause=ConfigurationError),
    Case("tus_metadata_not_an_object",
         lambda env, _: tus_upload(env, env.file(10), conn={"extra": {"metadata": "[1]"}}),
         UFG, r"metadata must be a JSON object", cause=ConfigurationError),
    Case("tus_unknown_option",
         lambda env, _: tus_upload(env, env.file(10), upload_options={"title": "t"}),
         UFG, r"tus uploads take only a metadata option, not title: pass options=\{'metadata'",
         cause=ConfigurationError),
    Case("tus_option_metadata_key_with_a_comma",
         lambda env, _: tus_upload(env, env.file(10), upload_options={"metadata": {"a,b": "x"}}),
         UFG, r"Metadata key 'a,b' in the metadata option is not a valid tus key", cause=ConfigurationError),
    Case("tus_chunk_over_max_chunk_size",
         lambda env, _: tus_upload(env, env.file(10), conn={"extra": {"max_chunk_size": MiB, "chunk_size": 2 * MiB}}),
         UFG, r"chunk_size=2097152 is outside tus server's bounds \(1\.\.1048576 bytes\)\. Set chunk_size within",
         cause=ConfigurationError),
    Case("tus_over_the_servers_max_size",
         lambda env, _: env.mocked_hook("tus", tus_answers(options={"Tus-Max-Size": "5"}),
                                        host=f"{env.url}/files/").upload(str(env.file(10))),
         ConfigurationError, r"the tus server takes uploads up to 5 bytes \(Tus-Max-Size\)\. Use a smaller file",
         requests=1),
    Case("tus_checksum_not_announced",
         lambda env, _: env.mocked_hook("tus", tus_answers(options={"Tus-Extension": "creation,checksum",
                                                                    "Tus-Checksum-Algorithm": "sha1"}),
                                        host=f"{env.url}/files/", extra={"checksum": "sha256"}).upload(
             str(env.file(10))),
         ConfigurationError, r"checksum=sha256 is not among the algorithms the tus server announces \(sha1\); set "
                             r"the connection's checksum to one of them", requests=1),
    Case("tus_creation_without_location",
         lambda env, _: env.mocked_hook("tus", tus_answers(post=httpx.Response(201)),
                                        host=f"{env.url}/files/").upload(str(env.file(10))),
         MalformedResponse, r"answered HTTP 201 without a Location\. Check that the connection's host", requests=2),
    Case("tus_unknown_profile",
         lambda env, _: tus_upload(env, env.file(10), conn={"extra": {"profile": "firebase"}}),
         UFG, r"profile must be one of supabase \(or unset for a plain tus server\), got 'firebase'",
         cause=ConfigurationError),
    Case("tus_bucket_without_a_profile",
         lambda env, _: tus_upload(env, env.file(10), conn={"extra": {"bucket": "media"}}),
         UFG, r"bucket is a setting of a service profile; set profile \(one of supabase\) or remove bucket",
         cause=ConfigurationError),
    Case("tus_supabase_without_a_bucket",
         lambda env, _: tus_upload(env, env.file(10), conn={"extra": {"profile": "supabase"}}),
         UFG, r"profile supabase needs the bucket to upload to: set bucket", cause=ConfigurationError),
    Case("tus_supabase_connection_chunk_size_not_6_mib",
         lambda env, _: tus_upload(env, env.file(10), conn={"extra": {"profile": "supabase", "bucket": "media",
                                                                      "chunk_size": 5 * MiB}}),
         UFG, r"Supabase Storage takes chunks of exactly 6291456 bytes \(6 MiB\).*Remove chunk_size",
         cause=ConfigurationError),
    Case("tus_supabase_task_chunk_size_not_6_mib",
         lambda env, _: tus_upload(env, env.file(10), conn={"extra": {"profile": "supabase", "bucket": "media"}},
                                   chunk_size=8 * MiB),
         UFG, r"Supabase Storage takes chunks of exactly 6291456 bytes \(6 MiB\), every one but the last; "
              r"chunk_size=8388608 cannot be used\. Leave chunk_size unset", cause=ConfigurationError),
    Case("tus_wrong_token",
         lambda env, _: env.mocked_hook("tus", tus_answers(post=httpx.Response(401, text="invalid token")),
                                        host=f"{env.url}/files/", password="wrong-token").upload(str(env.file(10))),
         AuthenticationFailed, r"HTTP 401: invalid token\. Check the token in the connection's password", requests=2),
    # -- Vimeo ----------------------------------------------------------------------------------------
    Case("vimeo_without_a_token", lambda env, _: vimeo_upload(env, env.file(10), conn={"password": None}),
         UFG, r"Vimeo needs an access token with the upload scope: set it as the connection's password",
         cause=ConfigurationError),
    Case("vimeo_plain_http_to_a_remote_host",
         lambda env, _: vimeo_upload(env, env.file(10), conn={"host": REMOTE}),
         UFG, r"over plain http, which would send credentials unencrypted.*allow_insecure_http",
         cause=ConfigurationError),
    Case("vimeo_unknown_privacy_view",
         lambda env, _: vimeo_upload(env, env.file(10), upload_options={"privacy": "secret"}),
         UFG, r"privacy view 'secret' is not one Vimeo knows: use one of anybody, contacts", cause=ConfigurationError),
    Case("vimeo_password_view_without_a_password",
         lambda env, _: vimeo_upload(env, env.file(10), upload_options={"privacy": {"view": "password"}}),
         UFG, r"privacy view 'password' needs a password option", cause=ConfigurationError),
    Case("vimeo_name_too_long",
         lambda env, _: vimeo_upload(env, env.file(10), upload_options={"name": "n" * 129}),
         UFG, r"The Vimeo video name must be text of at most 128 characters; got 129", cause=ConfigurationError),
    Case("vimeo_unknown_option",
         lambda env, _: vimeo_upload(env, env.file(10), upload_options={"title": "t"}),
         UFG, r"Vimeo upload_options take name, .* not title: put any other video field under 'fields'",
         cause=ConfigurationError),
    Case("vimeo_fields_not_a_mapping",
         lambda env, _: vimeo_upload(env, env.file(10), upload_options={"fields": ["embed"]}),
         UFG, r"upload_options 'fields' must be a mapping of Vimeo video fields", cause=ConfigurationError),
    Case("vimeo_chunk_over_max_chunk_size",
         lambda env, _: vimeo_upload(env, env.file(10), conn={"extra": {"max_chunk_size": MiB, "chunk_size": 2 * MiB}}),
         UFG, r"chunk_size=2097152 is outside Vimeo's bounds \(1\.\.1048576 bytes\)", cause=ConfigurationError),
    Case("vimeo_sensor_until_playable",
         lambda env, _: VimeoUploadHook(env.conn("vimeo", host=f"{env.url}/vimeo")).status("1", until="playable"),
         ConfigurationError, r"Vimeo's sensor waits until the video is transcoded: until must be unset or "
                             r"'transcoded', got 'playable'"),
    Case("vimeo_wrong_token",
         lambda env, _: vimeo_upload(env, env.file(10), conn={"password": "wrong-token"}),
         UFG, r"Vimeo create video .* HTTP 401.*\(Vimeo error 8002\)\. Check the access token in the connection's "
              r"password", cause=AuthenticationFailed, requests=1),
    Case("vimeo_over_the_accounts_quota",
         lambda env, _: vimeo_upload(env, env.file(10)),
         UFG, r"HTTP 403.*\(Vimeo error 4102\)\. The Vimeo account's weekly upload quota is used up",
         cause=AuthenticationFailed, requests=1,
         arrange=lambda env: env.control("PATCH", "/config", {"vimeo": {"max_size": 5}})),
    # -- Cloudflare Stream ----------------------------------------------------------------------------
    Case("cloudflare_stream_without_an_account_id",
         lambda env, _: stream_upload(env, env.file(10), conn={"login": None}),
         UFG, r"has no login: set the Cloudflare account id", cause=ConfigurationError),
    Case("cloudflare_stream_plain_http_to_a_remote_host",
         lambda env, _: stream_upload(env, env.file(10), conn={"host": REMOTE}),
         UFG, r"over plain http, which would send credentials unencrypted.*allow_insecure_http",
         cause=ConfigurationError),
    Case("cloudflare_stream_connection_chunk_not_a_256_kib_multiple",
         lambda env, _: stream_upload(env, env.file(10), conn={"extra": {"chunk_size": 6 * MiB + 1024}}),
         UFG, r"the connection's chunk_size is 6292480 bytes; Cloudflare Stream takes chunks that are multiples of "
              r"262144 bytes", cause=ConfigurationError),
    Case("cloudflare_stream_task_chunk_not_a_256_kib_multiple",
         lambda env, _: stream_upload(env, env.file(10), chunk_size=6 * MiB + 1024),
         UFG, r"chunk_size is 6292480 bytes; Cloudflare Stream takes chunks that are multiples of 262144 bytes",
         cause=ConfigurationError),
    Case("cloudflare_stream_chunk_below_5_mib",
         lambda env, _: stream_upload(env, env.file(10), chunk_size=MiB),
         UFG, r"chunk_size=1048576 is outside Cloudflare Stream's bounds \(5242880\.\.209715200 bytes\)",
         cause=ConfigurationError),
    Case("cloudflare_stream_unknown_option",
         lambda env, _: stream_upload(env, env.file(10), upload_options={"title": "t"}),
         UFG, r"Cloudflare Stream upload_options take name, .* not title: put your own keys under 'meta'",
         cause=ConfigurationError),
    Case("cloudflare_stream_duration_out_of_range",
         lambda env, _: stream_upload(env, env.file(10), upload_options={"maxdurationseconds": 0}),
         UFG, r"maxdurationseconds must be a whole number of seconds from 1 to 36000", cause=ConfigurationError),
    Case("cloudflare_stream_expiry_not_rfc_3339",
         lambda env, _: stream_upload(env, env.file(10), upload_options={"expiry": "tomorrow"}),
         UFG, r"expiry must be an RFC 3339 time such as 2026-12-31T23:59:59Z", cause=ConfigurationError),
    Case("cloudflare_stream_upload_url_with_settings",
         lambda env, _: stream_upload(env, env.file(10), upload_options={"upload_url": "https://u.example/x",
                                                                         "name": "n"}),
         UFG, r"With upload_url \(a direct creator upload\) the video's settings were fixed when the URL was made",
         cause=ConfigurationError),
    Case("cloudflare_stream_unknown_until",
         lambda env, _: stream_upload(env, env.file(10), conn={"extra": {"until": "soon"}}),
         UFG, r"until must be one of ready, playable, got 'soon'", cause=ConfigurationError),
    Case("cloudflare_stream_creation_without_a_token",
         lambda env, _: stream_upload(env, env.file(10), conn={"password": None}),
         UFG, r"Creating a Cloudflare Stream upload needs an API token \(Stream Edit\).*upload_options=\{.upload_url",
         cause=ConfigurationError),
    Case("cloudflare_stream_wrong_token",
         lambda env, _: stream_upload(env, env.file(10), conn={"password": "wrong-token"}),
         UFG, r"HTTP 403: Authentication error \(code 10000\)\. Check the API token's permissions \(Stream Edit\) "
              r"and the account id", cause=AuthenticationFailed, requests=1),
    # -- YouTube --------------------------------------------------------------------------------------
    Case("youtube_without_credentials", lambda env, _: upload(env, "youtube", env.file(10), conn={"extra": {}}),
         UFG, r"has no credentials: set the extra refresh_token \(with the OAuth client id and secret",
         cause=ConfigurationError),
    Case("youtube_refresh_token_without_the_client",
         lambda env, _: upload(env, "youtube", env.file(10), conn={"extra": {"refresh_token": "r"}}),
         UFG, r"has a refresh_token but not the OAuth client's id and secret: put them in the login and password",
         cause=ConfigurationError),
    Case("youtube_plain_http_to_a_remote_host",
         lambda env, _: upload(env, "youtube", env.file(10), conn={"host": REMOTE}),
         UFG, r"over plain http, which would send credentials unencrypted.*allow_insecure_http",
         cause=ConfigurationError),
    Case("youtube_title_too_long",
         lambda env, _: upload(env, "youtube", env.file(10), upload_options={"title": "t" * 101}),
         UFG, r"The YouTube title must be 1 to 100 characters without < or > \(invalidTitle\)",
         cause=ConfigurationError),
    Case("youtube_title_with_angle_brackets",
         lambda env, _: upload(env, "youtube", env.file(10), upload_options={"title": "<b>launch</b>"}),
         UFG, r"without < or > \(invalidTitle\)", cause=ConfigurationError),
    Case("youtube_category_not_a_number",
         lambda env, _: upload(env, "youtube", env.file(10), upload_options={"category_id": "music"}),
         UFG, r"category_id must be YouTube's category number, e\.g\. '22'", cause=ConfigurationError),
    Case("youtube_unknown_privacy",
         lambda env, _: upload(env, "youtube", env.file(10), upload_options={"privacy_status": "friends"}),
         UFG, r"privacy_status must be one of public, unlisted, private, got 'friends'", cause=ConfigurationError),
    Case("youtube_publish_at_on_a_public_video",
         lambda env, _: upload(env, "youtube", env.file(10), upload_options={
             "privacy_status": "public", "publish_at": "2031-01-01T10:00:00Z"}),
         UFG, r"publish_at schedules a private video's publication: set privacy_status to private",
         cause=ConfigurationError),
    Case("youtube_chunk_not_a_256_kib_multiple",
         lambda env, _: upload(env, "youtube", env.file(10), chunk_size=300 * 1024),
         UFG, r"chunk_size is 307200 bytes; Google's resumable uploads take chunks that are multiples of 262144",
         cause=ConfigurationError),
    Case("youtube_not_a_video",
         lambda env, _: upload(env, "youtube", env.file(10, "cover.png")),
         UFG, r"YouTube takes video/\* or application/octet-stream media, not image/png", cause=ConfigurationError),
    Case("youtube_unknown_option",
         lambda env, _: upload(env, "youtube", env.file(10), upload_options={"visibility": "private"}),
         UFG, r"YouTube upload_options take title, .* not visibility", cause=ConfigurationError),
    Case("youtube_split_init_task",
         lambda env, _: init(env, "youtube", env.file(10)),
         UFG, r"YouTube uploads are addressed by URLs that are themselves credentials.*ChunkedUploadOperator",
         cause=ConfigurationError),
    Case("youtube_sensor_until_playable",
         lambda env, _: YouTubeHook(env.conn("youtube")).status("dQw4w9WgXcQ", until="playable"),
         ConfigurationError, r"YouTube's sensor waits until the video is processed: until must be unset or "
                             r"'processed', got 'playable'"),
    # -- Cloud Storage (destination) -----------------------------------------------------------------
    Case("gcs_without_a_bucket",
         lambda env, _: upload(env, "gcs", env.file(10), conn={"extra": {"access_token": "t"}}),
         UFG, r"has no bucket: set the extra bucket", cause=ConfigurationError),
    Case("gcs_without_credentials",
         lambda env, _: upload(env, "gcs", env.file(10), conn={"extra": {"bucket": "media"}}),
         UFG, r"has no credentials: set keyfile_dict or key_path \(a service-account key\), or access_token",
         cause=ConfigurationError),
    Case("gcs_two_kinds_of_credentials",
         lambda env, _: upload(env, "gcs", env.file(10), conn={"extra": {"bucket": "media", "access_token": "t",
                                                                         "key_path": "/keys/sa.json"}}),
         UFG, r"sets more than one of keyfile_dict, key_path and access_token \(or password\): keep only one",
         cause=ConfigurationError),
    Case("gcs_keyfile_not_json",
         lambda env, _: upload(env, "gcs", env.file(10), conn={"extra": {"bucket": "media",
                                                                         "keyfile_dict": "{not json"}}),
         UFG, r"keyfile_dict is not valid JSON", cause=ConfigurationError),
    Case("gcs_plain_http_to_a_remote_host",
         lambda env, _: upload(env, "gcs", env.file(10), conn={"host": REMOTE}),
         UFG, r"over plain http, which would send credentials unencrypted.*allow_insecure_http",
         cause=ConfigurationError),
    Case("gcs_connection_chunk_not_a_256_kib_multiple",
         lambda env, _: upload(env, "gcs", env.file(10), conn={"extra": {"bucket": "media", "access_token": "t",
                                                                         "chunk_size": 1000000}}),
         UFG, r"the connection's chunk_size is 1000000 bytes; Google's resumable uploads take chunks that are "
              r"multiples of 262144", cause=ConfigurationError),
    Case("gcs_unknown_option",
         lambda env, _: upload(env, "gcs", env.file(10), upload_options={"acl": "public-read"}),
         UFG, r"Cloud Storage upload_options take name, .* not acl", cause=ConfigurationError),
    Case("gcs_metadata_not_a_mapping",
         lambda env, _: upload(env, "gcs", env.file(10), upload_options={"metadata": ["a"]}),
         UFG, r"metadata must be a mapping of your own keys to text", cause=ConfigurationError),
    Case("gcs_object_name_with_a_line_break",
         lambda env, _: upload(env, "gcs", env.file(10), upload_options={"name": "a\nb"}),
         UFG, r"Object name 'a\\nb' is not one Cloud Storage takes: 1 to 1024 bytes of UTF-8, no line breaks",
         cause=ConfigurationError),
    Case("gcs_task_chunk_not_a_256_kib_multiple",
         lambda env, _: upload(env, "gcs", env.file(10), chunk_size=300 * 1024),
         UFG, r"chunk_size is 307200 bytes; Google's resumable uploads take chunks that are multiples of 262144",
         cause=ConfigurationError),
    Case("gcs_split_init_task",
         lambda env, _: init(env, "gcs", env.file(10)),
         UFG, r"Cloud Storage \(destination\) uploads are addressed by URLs that are themselves credentials",
         cause=ConfigurationError),
    # -- TikTok ---------------------------------------------------------------------------------------
    Case("tiktok_without_a_token", lambda env, _: upload(env, "tiktok", env.file(10), conn={"password": None}),
         UFG, r"TikTok needs the user's access token \(scope video\.publish or video\.upload\): set it as the "
              r"connection's password", cause=ConfigurationError),
    Case("tiktok_plain_http_to_a_remote_host",
         lambda env, _: upload(env, "tiktok", env.file(10), conn={"host": REMOTE}),
         UFG, r"over plain http, which would send credentials unencrypted.*allow_insecure_http",
         cause=ConfigurationError),
    Case("tiktok_unknown_mode",
         lambda env, _: upload(env, "tiktok", env.file(10), conn={"extra": {"mode": "draft"}}),
         UFG, r"the connection's mode is 'draft': use 'direct' .* or 'inbox'", cause=ConfigurationError),
    Case("tiktok_chunk_size_outside_the_bounds",
         lambda env, _: upload(env, "tiktok", env.file(10), conn={"extra": {"chunk_size": 4_000_000}}),
         UFG, r"chunk_size 4000000 is outside TikTok's chunk sizes, 5242880 to 64000000 bytes: set chunk_size "
              r"within them", cause=ConfigurationError),
    Case("tiktok_title_too_long",
         lambda env, _: upload(env, "tiktok", env.file(10),
                               upload_options={"privacy_level": "SELF_ONLY", "title": "t" * 2201}),
         UFG, r"The TikTok title \(caption\) must be text of at most 2200 characters; got 2201 characters",
         cause=ConfigurationError),
    Case("tiktok_unknown_privacy_level",
         lambda env, _: upload(env, "tiktok", env.file(10), upload_options={"privacy_level": "FRIENDS"}),
         UFG, r"privacy_level 'FRIENDS' is not one TikTok knows: use one of PUBLIC_TO_EVERYONE",
         cause=ConfigurationError),
    Case("tiktok_direct_post_without_privacy_level",
         lambda env, _: upload(env, "tiktok", env.file(10), upload_options={"title": "t"}),
         UFG, r"A TikTok direct post needs privacy_level, one of the creator's options", cause=ConfigurationError),
    Case("tiktok_inbox_with_post_info",
         lambda env, _: upload(env, "tiktok", env.file(10), upload_options={"mode": "inbox", "title": "t"}),
         UFG, r"An inbox \(draft\) upload sends no post_info, so title would be ignored.*use mode 'direct'",
         cause=ConfigurationError),
    Case("tiktok_flag_not_a_boolean",
         lambda env, _: upload(env, "tiktok", env.file(10),
                               upload_options={"privacy_level": "SELF_ONLY", "disable_duet": "no"}),
         UFG, r"upload_options disable_duet must be true or false, not 'no'", cause=ConfigurationError),
    Case("tiktok_unknown_option",
         lambda env, _: upload(env, "tiktok", env.file(10), upload_options={"privacy_level": "SELF_ONLY",
                                                                           "caption": "c"}),
         UFG, r"TikTok upload_options take mode, title, privacy_level.*not caption", cause=ConfigurationError),
    Case("tiktok_media_type_not_a_tiktok_video",
         lambda env, _: upload(env, "tiktok", env.file(10), media_type="video/x-msvideo",
                               upload_options={"privacy_level": "SELF_ONLY"}),
         UFG, r"TikTok takes video/mp4, video/quicktime, video/webm videos, not video/x-msvideo",
         cause=ConfigurationError),
    Case("tiktok_privacy_level_the_creator_lacks",
         lambda env, _: upload(env, "tiktok", env.file(10), upload_options={"privacy_level": "PUBLIC_TO_EVERYONE"}),
         UFG, r"privacy_level PUBLIC_TO_EVERYONE is not among this creator's options \(SELF_ONLY\).*Use one of them",
         requests=1, cause=ConfigurationError,
         arrange=lambda env: setattr(env.emulator.config.tiktok, "audited", False)),
    Case("tiktok_sensor_until",
         lambda env, _: TikTokHook(env.conn("tiktok")).status("1", until="ready"),
         ConfigurationError, r"TikTok's sensor waits until the post is published .*leave until unset, not 'ready'"),
    # -- Facebook video (Graph, windows the server dictates) --------------------------------------------
    Case("facebook_without_a_token", lambda env, _: upload(env, "facebook", env.file(2048), conn={"password": None}),
         UFG, r"Facebook needs a Page \(or user\) access token: set it as the connection's password",
         cause=ConfigurationError),
    Case("facebook_bad_target",
         lambda env, _: upload(env, "facebook", env.file(2048), conn={"extra": {"target": "1234"}}),
         UFG, r"The Facebook target must be 'page:<page-id>' .* got '1234'", cause=ConfigurationError),
    Case("facebook_below_1_kb", lambda env, _: upload(env, "facebook", env.file(1000)),
         UFG, r"Facebook takes videos of at least 1024 bytes; this file is 1000 bytes", cause=ConfigurationError),
    Case("facebook_above_10_gb", lambda env, _: upload(env, "facebook", env.sparse(10 * GiB + 1, "big.mp4")),
         UFG, r"at most 10737418240 bytes \(10 GB\); this file is 10737418241 bytes", cause=ConfigurationError),
    Case("facebook_title_too_long",
         lambda env, _: upload(env, "facebook", env.file(2048), upload_options={"title": "t" * 256}),
         UFG, r"The Facebook video title must be text of at most 255 characters; got 256", cause=ConfigurationError),
    Case("facebook_published_not_a_boolean",
         lambda env, _: upload(env, "facebook", env.file(2048), upload_options={"published": "yes"}),
         UFG, r"upload_options 'published' must be true or false, got 'yes'", cause=ConfigurationError),
    Case("facebook_unknown_option",
         lambda env, _: upload(env, "facebook", env.file(2048), upload_options={"caption": "c"}),
         UFG, r"Facebook upload_options take title, description, published, not caption", cause=ConfigurationError),
    # -- Instagram Reels and Facebook Reels (rupload) ---------------------------------------------------
    Case("instagram_without_an_ig_user_id",
         lambda env, _: upload(env, "instagram", env.file(10), conn={"extra": {}}),
         UFG, r"Instagram needs the professional account's numeric id \(extra ig_user_id\), got ''",
         cause=ConfigurationError),
    Case("instagram_without_a_token", lambda env, _: upload(env, "instagram", env.file(10), conn={"password": None}),
         UFG, r"Instagram needs a Graph access token: set it as the connection's password", cause=ConfigurationError),
    Case("instagram_caption_too_long",
         lambda env, _: upload(env, "instagram", env.file(10), upload_options={"caption": "c" * 2201}),
         UFG, r"The Instagram caption has 2201 characters; at most 2200: shorten it", cause=ConfigurationError),
    Case("instagram_too_many_hashtags",
         lambda env, _: upload(env, "instagram", env.file(10), upload_options={"caption": "#a " * 31}),
         UFG, r"The Instagram caption has 31 hashtags; at most 30", cause=ConfigurationError),
    Case("instagram_unknown_media_type",
         lambda env, _: upload(env, "instagram", env.file(10), upload_options={"media_type": "IMAGE"}),
         UFG, r"media_type 'IMAGE' is not one Instagram takes for a video upload: use one of REELS, STORIES, VIDEO",
         cause=ConfigurationError),
    Case("instagram_share_to_feed_on_stories",
         lambda env, _: upload(env, "instagram", env.file(10), upload_options={"media_type": "STORIES",
                                                                              "share_to_feed": True}),
         UFG, r"share_to_feed applies to REELS only", cause=ConfigurationError),
    Case("instagram_negative_thumb_offset",
         lambda env, _: upload(env, "instagram", env.file(10), upload_options={"thumb_offset": -1}),
         UFG, r"thumb_offset is milliseconds into the video \(an integer, 0 or more\), got -1",
         cause=ConfigurationError),
    Case("instagram_unknown_option",
         lambda env, _: upload(env, "instagram", env.file(10), upload_options={"title": "t"}),
         UFG, r"Instagram upload_options take media_type, caption, .* not title", cause=ConfigurationError),
    Case("instagram_reel_over_1_gib", lambda env, _: upload(env, "instagram", env.sparse(GiB + 1, "reel.mp4")),
         UFG, r"The file has 1073741825 bytes; Instagram takes at most 1073741824 \(1 GiB\): shorten or re-encode it",
         cause=ConfigurationError),
    Case("instagram_wrong_token",
         lambda env, _: upload(env, "instagram", env.file(10), conn={"password": "wrong-token"}),
         UFG, r"Instagram create REELS container .* HTTP 400: .*\(Graph error 190.*\)\. Check the access token "
              r"in the connection's password: it is invalid or expired", cause=AuthenticationFailed, requests=1),
    Case("instagram_sensor_until_ready",
         lambda env, _: InstagramHook(env.conn("instagram")).status("1", until="ready"),
         ConfigurationError, r"Instagram's sensor waits until the container is 'finished' \(ready to publish, the "
                             r"default\) or 'published'; got until='ready'"),
    Case("facebook_reels_without_a_page_id",
         lambda env, _: upload(env, "facebook_reels", env.file(10), conn={"extra": {}}),
         UFG, r"Facebook Reels need the Page's numeric id \(extra page_id\), got ''", cause=ConfigurationError),
    Case("facebook_reels_without_a_token",
         lambda env, _: upload(env, "facebook_reels", env.file(10), conn={"password": None}),
         UFG, r"Facebook Reels needs a Graph access token: set it as the connection's password",
         cause=ConfigurationError),
    Case("facebook_reels_unknown_video_state",
         lambda env, _: upload(env, "facebook_reels", env.file(10), upload_options={"video_state": "LIVE"}),
         UFG, r"video_state 'LIVE' is not one Facebook Reels take: use one of PUBLISHED, DRAFT, SCHEDULED",
         cause=ConfigurationError),
    Case("facebook_reels_scheduled_without_a_time",
         lambda env, _: upload(env, "facebook_reels", env.file(10), upload_options={"video_state": "SCHEDULED"}),
         UFG, r"video_state SCHEDULED needs scheduled_publish_time \(Unix seconds, 10 minutes to 75 days ahead\)",
         cause=ConfigurationError),
    Case("facebook_reels_schedule_too_soon",
         lambda env, _: upload(env, "facebook_reels", env.file(10), upload_options={
             "video_state": "SCHEDULED", "scheduled_publish_time": int(time.time()) + 60}),
         UFG, r"scheduled_publish_time is \d+ s from now: Facebook takes 10 minutes to 75 days ahead",
         cause=ConfigurationError),
    Case("facebook_reels_time_without_scheduled",
         lambda env, _: upload(env, "facebook_reels", env.file(10), upload_options={
             "scheduled_publish_time": int(time.time()) + 3600}),
         UFG, r"scheduled_publish_time needs video_state SCHEDULED", cause=ConfigurationError),
    Case("facebook_reels_description_too_long",
         lambda env, _: upload(env, "facebook_reels", env.file(10), upload_options={"description": "d" * 2201}),
         UFG, r"The Reel's description must be text of at most 2200 characters; got 2201", cause=ConfigurationError),
    Case("facebook_reels_unknown_option",
         lambda env, _: upload(env, "facebook_reels", env.file(10), upload_options={"caption": "c"}),
         UFG, r"Facebook Reels upload_options take video_state, description, title, scheduled_publish_time, publish, "
              r"not caption", cause=ConfigurationError),
    Case("facebook_reels_publish_not_a_boolean",
         lambda env, _: upload(env, "facebook_reels", env.file(10), upload_options={"publish": "later"}),
         UFG, r"publish must be true or false, got 'later'", cause=ConfigurationError),
    Case("facebook_reels_over_1_gib", lambda env, _: upload(env, "facebook_reels", env.sparse(GiB + 1, "reel.mp4")),
         UFG, r"The file has 1073741825 bytes; Facebook Reels takes at most 1073741824 \(1 GiB\)",
         cause=ConfigurationError),
    Case("facebook_reels_wrong_token",
         lambda env, _: upload(env, "facebook_reels", env.file(10), conn={"password": "wrong-token"}),
         UFG, r"Facebook Reels start on Page 1234 failed with HTTP 400: .*\(Graph error 190.*\)\. Check the access "
              r"token in the connection's password", cause=AuthenticationFailed, requests=1),
    Case("facebook_reels_sensor_until_published",
         lambda env, _: FacebookReelsHook(env.conn("facebook_reels")).status("1", until="published"),
         ConfigurationError, r"Facebook Reels' sensor waits until the video is 'ready'; got until='published'"),
    # -- LinkedIn -------------------------------------------------------------------------------------
    Case("linkedin_without_a_token", lambda env, _: upload(env, "linkedin", env.file(10), conn={"password": None}),
         UFG, r"LinkedIn needs an access token \(w_member_social or w_organization_social\): set it as the "
              r"connection's password", cause=ConfigurationError),
    Case("linkedin_without_an_owner",
         lambda env, _: upload(env, "linkedin", env.file(100_000), conn={"extra": {}}),
         UFG, r"A LinkedIn video needs an owner: set the connection's extra owner .*urn:li:organization:<id>",
         cause=ConfigurationError),
    Case("linkedin_owner_not_a_member_or_organization",
         lambda env, _: upload(env, "linkedin", env.file(100_000), conn={"extra": {"owner": "urn:li:company:1"}}),
         UFG, r"A LinkedIn owner is urn:li:person:<id> or urn:li:organization:<id>, not 'urn:li:company:1'",
         cause=ConfigurationError),
    Case("linkedin_version_not_yyyymm",
         lambda env, _: upload(env, "linkedin", env.file(100_000), conn={"extra": {
             "owner": "urn:li:person:chunkup", "linkedin_version": "2024-11"}}),
         UFG, r"linkedin_version must be a LinkedIn API version as YYYYMM", cause=ConfigurationError),
    Case("linkedin_version_still_to_come",
         lambda env, _: upload(env, "linkedin", env.file(100_000), conn={"extra": {
             "owner": "urn:li:person:chunkup", "linkedin_version": "209912"}}),
         UFG, r"linkedin_version 209912 is a month still to come: LinkedIn answers 426", cause=ConfigurationError),
    Case("linkedin_file_below_75_kb", lambda env, _: upload(env, "linkedin", env.file(10)),
         UFG, r"LinkedIn takes videos of 75 KB to 500 MB .*this file is 10 bytes", cause=ConfigurationError),
    Case("linkedin_file_above_500_mb",
         lambda env, _: upload(env, "linkedin", env.sparse(500 * MiB + 1, "long.mp4")),
         UFG, r"LinkedIn takes videos of 75 KB to 500 MB .*this file is 524288001 bytes\. Trim or re-encode it",
         cause=ConfigurationError),
    Case("linkedin_not_mp4", lambda env, _: upload(env, "linkedin", env.file(100_000, "clip.mov")),
         UFG, r"LinkedIn videos are MP4 \(video/mp4\), not video/quicktime: re-encode the file to MP4",
         cause=ConfigurationError),
    Case("linkedin_post_text_as_an_option",
         lambda env, _: upload(env, "linkedin", env.file(100_000), upload_options={"commentary": "Launch"}),
         UFG, r"LinkedIn upload_options take owner, not commentary: .*Posts API", cause=ConfigurationError),
    Case("linkedin_split_init_task", lambda env, _: init(env, "linkedin", env.file(100_000)),
         UFG, r"LinkedIn uploads are addressed by .* credential.*ChunkedUploadOperator", cause=ConfigurationError),
    Case("linkedin_wrong_owner",
         lambda env, _: upload(env, "linkedin", env.file(100_000), conn={"extra": {
             "owner": "urn:li:organization:999"}}),
         UFG, r"HTTP 403: Not enough permissions .*w_organization_social with the ADMINISTRATOR",
         cause=AuthenticationFailed, requests=1),
    Case("linkedin_version_no_longer_active",
         lambda env, _: upload(env, "linkedin", env.file(100_000), conn={"extra": {
             "owner": "urn:li:person:chunkup", "linkedin_version": "202301"}}),
         UFG, r"HTTP 426: Requested version 202301 is not active \(NONEXISTENT_VERSION\)\. Set the connection's "
              r"extra linkedin_version", cause=RemoteRejected, requests=1),
    Case("linkedin_sensor_until_published",
         lambda env, _: LinkedInHook(env.conn("linkedin")).status("urn:li:video:1", until="published"),
         ConfigurationError, r"LinkedIn's sensor waits until the video is AVAILABLE: until must be unset or "
                             r"'available', got 'published'"),
]


@pytest.fixture
def env(emulator, set_connection, tmp_path):
    return Env(emulator, set_connection, tmp_path)


@pytest.fixture(autouse=True)
def _nothing_leaves_the_machine(loopback_only: list[str]) -> list[str]:
    return loopback_only


def test_the_table_is_large_and_distinct():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) >= 30
    assert set(BY_API) == {"x", "apivideo", "content_range", "tus", "vimeo", "cloudflare_stream", "youtube", "gcs",
                           "tiktok", "linkedin", "facebook", "instagram", "facebook_reels"}
    for api in BY_API:  # every API has cases of its own
        assert sum(case.id.startswith(f"{api}_") or case.id.endswith(f"_{api}") for case in CASES) >= 10, api


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_fails_once_naming_cause_and_fix(case, env, caplog):
    arranged = case.arrange(env) if case.arrange else None
    env.reset_counts()
    with pytest.raises(case.error) as raised:
        case.act(env, arranged)
    error = raised.value
    assert re.search(case.message, str(error), re.S), f"{type(error).__name__}: {error}"
    if case.cause is not None:
        assert isinstance(error.__cause__, case.cause), repr(error.__cause__)
        assert str(error.__cause__) in str(error) and "not retried" in str(error)
    assert env.requests() == case.requests, env.control("GET", "/stats")["routes"]
    # No retry storm: nothing was retried on the way to the error.
    assert not [r for r in caplog.records if re.search(r"; retry \d+ of \d+ in", r.getMessage())]


@pytest.mark.parametrize(("api", "reason"), [
    ("x", r"The platform failed to process media \d+: InvalidMedia 1: Unsupported video format"),
    ("apivideo", r"The platform failed to process media vi\w+: encoding-failed: api\.video failed to encode \w+ "
                 r"\d+p"),
])
def test_processing_failure_fails_the_sensor_with_the_platform_reason(api, reason, env):
    """The platform's own reason reaches the failure, after one status request, with no retry of the task."""
    uploaded = uploaded_with_failing_processing(env, api)
    env.reset_counts()
    sensor = MediaProcessingSensor(task_id="wait", upload=uploaded, poke_interval=0.05, timeout=10)
    with pytest.raises(AirflowFailException, match=reason):
        sensor.execute({})
    assert env.requests() == 1


def test_retryable_server_errors_stop_at_the_retry_budget(env):
    """A 503 that persists is retried exactly max_attempts times, then reported once: a budget, not a storm."""
    env.fault("initialize", 503, times=0)
    with pytest.raises(RetryExhausted, match=r"X initialize failed with HTTP 503.*gave up after 3 attempts"):
        init(env, "x", env.file(10), retry={"max_attempts": 3, "backoff_initial": 0.01})  # not failed for good
    assert env.requests() == 3


def test_unreadable_helper_really_denies_reading(tmp_path):
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x")
    with unreadable(path), pytest.raises(PermissionError):
        path.read_bytes()
    assert path.read_bytes() == b"x"

