"""tus error paths on a mock transport: each status, malformed answers, what is asked of the server."""

import httpx
import pytest

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    RemoteRejected,
    RetryExhausted,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.chunking import Segment
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSpec
from airflow_provider_chunkup.protocols.tus import TusUpload

ENDPOINT = "https://tus.example.com/files/"
OPTIONS = {"Tus-Version": "1.0.0", "Tus-Extension": "creation,termination,checksum",
           "Tus-Checksum-Algorithm": "sha1,md5"}
FAST = RetryPolicy(max_attempts=3, backoff_initial=0.001, backoff_max=0.002)


def tus(handler, **kwargs):
    def route(request):
        if request.method == "OPTIONS":
            return httpx.Response(204, headers=OPTIONS)
        return handler(request)

    return TusUpload(endpoint=ENDPOINT, transport=httpx.MockTransport(route), retry=FAST, **kwargs)


SPEC = UploadSpec(total_bytes=10, source="/data/a.mp4", media_type="video/mp4")


async def test_401_names_the_fix():
    async with tus(lambda r: httpx.Response(401, text="bad token")) as t:
        with pytest.raises(AuthenticationFailed, match=r"bad token.*password"):
            await t.init(SPEC)


async def test_creation_without_location_is_malformed():
    async with tus(lambda r: httpx.Response(201)) as t:
        with pytest.raises(MalformedResponse, match="without a Location"):
            await t.init(SPEC)


async def test_relative_location_resolved_and_expiry_kept():
    answer = httpx.Response(201, headers={"Location": "/files/abc", "Upload-Expires": "Wed, 25 Jun 2031 16:00:00 GMT"})
    async with tus(lambda r: answer) as t:
        session = await t.init(SPEC)
    assert session.remote["url"] == "https://tus.example.com/files/abc" and session.media_id == "abc"
    assert session.expires_at == 1940169600.0
    assert session.remote["checksum"] == "sha1"  # announced: the default algorithm


@pytest.mark.parametrize("status", [404, 410])
async def test_gone_upload_is_expired(status):
    def handler(request):
        return httpx.Response(201, headers={"Location": "/files/abc"}) if request.method == "POST" \
            else httpx.Response(status)

    async with tus(handler) as t:
        session = await t.init(SPEC)
        with pytest.raises(UploadExpired, match="restart_expired"):
            await t.append(session, Segment(0, 0, 10), b"0123456789")
        with pytest.raises(UploadExpired):
            await t.committed(session)


async def test_other_4xx_not_retried_5xx_retried():
    seen = []

    def handler(request):
        seen.append(request.method)
        if request.method == "POST":
            return httpx.Response(201, headers={"Location": "/files/abc"})
        if request.method == "HEAD":
            return httpx.Response(200, headers={"Upload-Offset": "0", "Upload-Length": "10"})
        return httpx.Response(400 if len(seen) < 3 else 503)

    async with tus(handler) as t:
        session = await t.init(SPEC)
        with pytest.raises(RemoteRejected):
            await t.append(session, Segment(0, 0, 10), b"0123456789")
        assert seen == ["POST", "PATCH"]
        with pytest.raises(RetryExhausted, match=r"HTTP 503 \(gave up after 3 tries\)"):
            await t.append(session, Segment(0, 0, 10), b"0123456789")
    assert seen == ["POST", "PATCH", "PATCH", "HEAD", "PATCH", "HEAD", "PATCH"]  # the offset asked before each retry


async def test_unannounced_algorithm_refused_and_bad_options():
    async with tus(lambda r: httpx.Response(201, headers={"Location": "/files/abc"}), checksum="sha256") as t:
        with pytest.raises(ConfigurationError, match=r"sha256 is not among .*sha1, md5"):
            await t.init(SPEC)
        with pytest.raises(ConfigurationError, match="only a metadata option"):
            await t.init(UploadSpec(total_bytes=10, options={"title": "x"}))


# -- partial uploads (concatenation) ------------------------------------------------------------------------------

CONCAT = {**OPTIONS, "Tus-Extension": "creation,termination,concatenation"}
PARTS_SPEC = UploadSpec(total_bytes=10, source="/data/a.mp4", media_type="video/mp4", chunk_size=4)


def parts_tus(handler):
    def route(request):
        if request.method == "OPTIONS":
            return httpx.Response(204, headers=CONCAT)
        return handler(request)

    return TusUpload(endpoint=ENDPOINT, transport=httpx.MockTransport(route), retry=FAST, max_in_flight=2)


async def test_a_part_gone_is_expired():
    def handler(request):
        if request.method == "POST":
            return httpx.Response(201, headers={"Location": "/files/p0", "Upload-Offset": "0"})
        return httpx.Response(410)

    async with parts_tus(handler) as t:
        session = await t.init(PARTS_SPEC)
        assert session.remote["parts"] == {} and t.capabilities.parallel_segments
        session.remote["parts"] = {"0": "https://tus.example.com/files/p0"}
        with pytest.raises(UploadExpired, match="restart_expired"):
            await t.append(session, Segment(0, 0, 4), b"0123")
        with pytest.raises(UploadExpired):
            await t.committed(session)


async def test_a_part_of_another_length_is_refused():
    async with parts_tus(lambda r: httpx.Response(200, headers={"Upload-Offset": "0", "Upload-Length": "9"})) as t:
        session = await t.init(PARTS_SPEC)
        session.remote["parts"] = {"0": "https://tus.example.com/files/p0"}
        with pytest.raises(RemoteRejected, match=r"Part 0 .* is 9 bytes long, but the segment is 4"):
            await t.append(session, Segment(0, 0, 4), b"0123")


async def test_finalize_names_the_segments_without_a_part_and_needs_a_location():
    seen = []

    def handler(request):
        seen.append(request.method)
        if request.method == "HEAD":  # every part holds one byte
            return httpx.Response(200, headers={"Upload-Offset": "1",
                                                "Upload-Length": "2" if request.url.path.endswith("p2") else "4"})
        return httpx.Response(201)

    async with parts_tus(handler) as t:
        session = await t.init(PARTS_SPEC)
        session.remote["parts"] = {"1": "https://tus.example.com/files/p1"}
        with pytest.raises(RemoteRejected, match=r"lacks segments 0, 2 of 3 .*append the missing segments"):
            await t.finalize(session)
        session.remote["parts"] = {str(i): f"https://tus.example.com/files/p{i}" for i in range(3)}
        with pytest.raises(RemoteRejected, match=r"lacks segments 0-2 of 3"):
            await t.finalize(session)
        assert seen == ["HEAD"] * 3
        session.stored = [[0, 3]]
        with pytest.raises(MalformedResponse, match=r"final upload of 3 parts .* without a Location"):
            await t.finalize(session)
    assert seen[3:] == ["POST"]
    assert session.media_id.startswith("parts-")
