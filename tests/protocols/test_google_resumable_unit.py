"""Google's resumable protocol on a mock server: Range to the byte, status queries, retries, expiry, auth refresh."""

import json

import httpx
import pytest

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    RemoteRejected,
    RetryExhausted,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.chunking import Segment
from airflow_provider_chunkup.protocols.google_auth import GoogleOAuth
from airflow_provider_chunkup.protocols.google_resumable import check_chunk_multiple, persisted, session_handle
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSpec
from airflow_provider_chunkup.protocols.youtube import YouTubeUpload

KiB = 1024
CHUNK = 256 * KiB
BASE = "https://www.googleapis.com"
FAST = RetryPolicy(max_attempts=4, backoff_initial=0.001, backoff_max=0.002)
SESSION = f"{BASE}/upload/youtube/v3/videos?uploadType=resumable&upload_id=SECRET-ID"


class Server:
    """A resumable session: what it persisted, and scripted answers for the next requests."""

    def __init__(self, total: int, keep: int | None = None) -> None:
        self.total = total
        self.data = bytearray()
        self.keep = keep  # persist at most this many bytes of each PUT (a server keeping part of a chunk)
        self.script: list[httpx.Response | Exception | None] = []  # None: behave normally
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST":
            return httpx.Response(200, headers={"Location": SESSION})
        scripted = self.script.pop(0) if self.script else None
        if isinstance(scripted, Exception):
            raise scripted
        if scripted is not None:
            return scripted
        span = request.headers["Content-Range"].removeprefix("bytes ")
        body = request.content
        if not span.startswith("*"):
            first = int(span.split("-")[0])
            if first > len(self.data):
                return httpx.Response(503, text="Invalid request. According to the Content-Range header, the upload "
                                                 "offset is ... which exceeds already uploaded size")
            new = body[len(self.data) - first:]
            if self.keep is not None:
                new = new[:self.keep]
            self.data += new
        if len(self.data) == self.total:
            return httpx.Response(201, json={"id": "dQw4w9WgXcQ", "status": {"uploadStatus": "uploaded"}})
        headers = {"Range": f"bytes=0-{len(self.data) - 1}"} if self.data else {}
        return httpx.Response(308, headers=headers)


def youtube(server, auth=None, **kwargs):
    return YouTubeUpload(api_base=BASE, auth=auth, transport=httpx.MockTransport(server), retry=FAST,
                         default_chunk_bytes=CHUNK, **kwargs)


def file_bytes(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


async def send_all(protocol, session, data: bytes) -> None:
    for segment in session.plan.segments():
        await protocol.append(session, segment, memoryview(data)[segment.offset:segment.end + 1])


SPEC = UploadSpec(total_bytes=3 * CHUNK + 7, source="/data/launch.mp4", media_type="video/mp4",
                  options={"title": "Launch"})


async def test_initiation_sends_the_resource_and_the_sizes():
    server = Server(SPEC.total_bytes)
    secrets = []
    async with youtube(server, on_secret=secrets.append) as p:
        session = await p.init(SPEC)
    post = server.requests[0]
    assert post.url.params["uploadType"] == "resumable" and post.url.params["part"] == "snippet,status"
    assert post.headers["X-Upload-Content-Length"] == str(SPEC.total_bytes)
    assert post.headers["X-Upload-Content-Type"] == "video/mp4"
    assert json.loads(post.content) == {"snippet": {"title": "Launch"}, "status": {"privacyStatus": "private"}}
    assert secrets == [SESSION, "SECRET-ID"] and session.remote["session_uri"] == SESSION  # the URI and its id
    assert session.media_id == session_handle(SESSION) and "SECRET" not in session.media_id


async def test_upload_byte_exact_and_the_result():
    data = file_bytes(SPEC.total_bytes)
    server = Server(SPEC.total_bytes)
    async with youtube(server) as p:
        session = await p.init(SPEC)
        await send_all(p, session, data)
        result = await p.finalize(session)
    assert bytes(server.data) == data and result.media_id == "dQw4w9WgXcQ"
    assert result.details["url"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    ranges = [r.headers["Content-Range"] for r in server.requests if r.method == "PUT"]
    assert ranges == [f"bytes 0-{CHUNK - 1}/{SPEC.total_bytes}", f"bytes {CHUNK}-{2 * CHUNK - 1}/{SPEC.total_bytes}",
                      f"bytes {2 * CHUNK}-{3 * CHUNK - 1}/{SPEC.total_bytes}",
                      f"bytes {3 * CHUNK}-{3 * CHUNK + 6}/{SPEC.total_bytes}"]


async def test_a_server_that_keeps_part_of_each_chunk_gets_the_rest_from_its_range():
    data = file_bytes(SPEC.total_bytes)
    server = Server(SPEC.total_bytes, keep=100 * KiB)
    async with youtube(server) as p:
        session = await p.init(SPEC)
        await send_all(p, session, data)
    assert bytes(server.data) == data
    starts = [int(r.headers["Content-Range"].split()[1].split("-")[0]) for r in server.requests if r.method == "PUT"]
    assert starts[:4] == [0, 100 * KiB, 200 * KiB, CHUNK]  # from the Range, never from what was sent


async def test_308_without_range_means_nothing_persisted():
    data = file_bytes(SPEC.total_bytes)
    server = Server(SPEC.total_bytes)
    server.script = [httpx.Response(308)]  # the first chunk lost entirely
    async with youtube(server) as p:
        session = await p.init(SPEC)
        await send_all(p, session, data)
    assert bytes(server.data) == data
    puts = [r.headers["Content-Range"] for r in server.requests if r.method == "PUT"]
    assert puts[:2] == [f"bytes 0-{CHUNK - 1}/{SPEC.total_bytes}"] * 2


@pytest.mark.parametrize("failure", [
    httpx.Response(503, text="backend error"),
    httpx.Response(429),
    httpx.Response(403, json={"error": {"code": 403, "message": "slow down",
                                        "errors": [{"reason": "userRateLimitExceeded"}]}}),
    httpx.ReadError("connection reset"),
])
async def test_a_failed_chunk_is_followed_by_a_status_query_then_the_rest(failure):
    data = file_bytes(SPEC.total_bytes)
    server = Server(SPEC.total_bytes)
    server.script = [None, failure]  # the second chunk fails
    async with youtube(server) as p:
        session = await p.init(SPEC)
        await send_all(p, session, data)
    assert bytes(server.data) == data
    puts = [r.headers["Content-Range"] for r in server.requests if r.method == "PUT"]
    assert puts[2] == f"bytes */{SPEC.total_bytes}"  # asked before re-sending


async def test_a_lost_final_answer_is_recovered_by_the_status_query():
    data = file_bytes(SPEC.total_bytes)
    server = Server(SPEC.total_bytes)
    async with youtube(server) as p:
        session = await p.init(SPEC)
        segments = list(session.plan.segments())
        for segment in segments[:-1]:
            await p.append(session, segment, memoryview(data)[segment.offset:segment.end + 1])
        last = segments[-1]
        server.data += data[last.offset:]  # stored, but the answer never arrived
        server.script = [httpx.ReadError("reset")]
        await p.append(session, last, memoryview(data)[last.offset:])
        result = await p.finalize(session)
    assert result.media_id == "dQw4w9WgXcQ" and bytes(server.data) == data


async def test_a_start_past_the_persisted_offset_is_answered_by_a_query():
    data = file_bytes(SPEC.total_bytes)
    server = Server(SPEC.total_bytes)
    async with youtube(server) as p:
        session = await p.init(SPEC)
        session.remote["offset"] = CHUNK  # our record is ahead of the server's (a lost write)
        segment = session.plan.segment(1)
        with pytest.raises(RemoteRejected, match="fewer than the 262144 segment 1 follows"):
            await p.append(session, segment, memoryview(data)[segment.offset:segment.end + 1])


@pytest.mark.parametrize("status, why", [(404, "expired"), (410, "was ended by the server")])
async def test_a_gone_session_is_expired(status, why):
    server = Server(SPEC.total_bytes)
    server.script = [httpx.Response(status)]
    async with youtube(server) as p:
        session = await p.init(SPEC)
        with pytest.raises(UploadExpired, match=f"{why}.*restart_expired"):
            await p.append(session, session.plan.segment(0), memoryview(file_bytes(CHUNK)))


@pytest.mark.parametrize("reason, status", [("quotaExceeded", 403), ("uploadLimitExceeded", 400)])
async def test_quota_and_upload_limit_fail_for_good_at_initiation(reason, status):
    calls = []

    def refuse(request):
        calls.append(request)
        return httpx.Response(status, json={"error": {"code": status, "message": "no more",
                                                      "errors": [{"domain": "youtube.quota", "reason": reason}]}})

    async with youtube(refuse) as p:
        with pytest.raises(RemoteRejected, match=f"reason: {reason}.*Not retried"):
            await p.init(SPEC)
    assert len(calls) == 1


async def test_retries_stop_at_the_budget():
    server = Server(SPEC.total_bytes)
    server.script = [httpx.Response(503)] * 20
    async with youtube(server) as p:
        session = await p.init(SPEC)
        with pytest.raises(RetryExhausted, match="gave up after"):
            await p.append(session, session.plan.segment(0), memoryview(file_bytes(CHUNK)))


async def test_the_access_token_is_renewed_when_it_expires_mid_upload():
    data = file_bytes(SPEC.total_bytes)
    server = Server(SPEC.total_bytes)
    now = [0.0]
    tokens = []

    def handler(request):
        if request.url.path == "/token":
            form = dict(x.split("=") for x in request.content.decode().split("&"))
            assert form["refresh_token"] == "r" and form["client_secret"] == "s"
            tokens.append(f"access-{len(tokens)}")
            return httpx.Response(200, json={"access_token": tokens[-1], "expires_in": 3600})
        assert request.headers["Authorization"] == f"Bearer {tokens[-1]}"  # chunks too, as Google's guide shows
        return server(request)

    auth = GoogleOAuth(client_id="c", client_secret="s", refresh_token="r", token_uri=f"{BASE}/token",
                       clock=lambda: now[0])
    async with youtube(handler, auth=auth) as p:
        session = await p.init(SPEC)
        now[0] = 3600.0  # an hour later
        await send_all(p, session, data)
    assert bytes(server.data) == data
    assert len(tokens) == 2 and auth.refreshes == 2  # one at the start, one an hour later
    assert repr(auth) == "GoogleOAuth(client_id='c', ***)"


async def test_a_refused_refresh_names_the_fix():
    def handler(request):
        return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Token has been revoked."})

    auth = GoogleOAuth(client_id="c", client_secret="s", refresh_token="r", token_uri=f"{BASE}/token")
    async with youtube(handler, auth=auth) as p:
        with pytest.raises(AuthenticationFailed, match=r"Token has been revoked.*refresh_token"):
            await p.init(SPEC)


def test_range_header():
    assert persisted(None) == 0 and persisted("bytes=0-0") == 1 and persisted("bytes=0-262143") == CHUNK
    assert persisted("bytes=5-9") is None


@pytest.mark.parametrize("size", [0, 1000, CHUNK + 1])
def test_chunk_sizes_are_multiples_of_256_kib(size):
    with pytest.raises(ConfigurationError, match="multiples of 262144"):
        check_chunk_multiple(size, "chunk_size")


async def test_segments_must_go_in_order():
    server = Server(SPEC.total_bytes)
    async with youtube(server) as p:
        session = await p.init(SPEC)
        with pytest.raises(RemoteRejected, match="takes bytes in order"):
            await p.append(session, Segment(2, 2 * CHUNK, CHUNK), memoryview(file_bytes(CHUNK)))
