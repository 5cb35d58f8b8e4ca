"""The api.video protocol against the emulator over real HTTP: video fields, resume with holes, bearer, collisions,
encoding, rate limits, the short tail (what every API shares, byte-exact in every mode, token uploads, abort:
tests/contract)."""

import hashlib

import httpx
import pytest
from emulator_clock import NextWindowOn429, controlled_clock

from airflow_provider_chunkup.errors import RemoteRejected
from airflow_provider_chunkup.protocols.apivideo import ApiVideoBearerAuth, ApiVideoUpload
from airflow_provider_chunkup.protocols.chunking import MiB
from airflow_provider_chunkup.protocols.http import _tls_context
from airflow_provider_chunkup.protocols.http1 import http_transport
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSession, UploadSpec
from airflow_provider_chunkup.protocols.transfer import finish, held_back, send_segments, upload
from airflow_provider_chunkup.sources import ChunkSource

KEY = "chunkup-apivideo-key"
BASIC = httpx.BasicAuth(KEY, "")
FAST = RetryPolicy(max_attempts=4, backoff_initial=0.01, backoff_max=0.05)
SOURCE_ROUTE = "POST /videos/{videoId}/source"


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def video(emulator, video_id):
    return httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{video_id}").json()


def stats(emulator):
    return httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]


def spec(path, chunk=5 * MiB, **options):
    return UploadSpec(total_bytes=path.stat().st_size, chunk_size=chunk, source=str(path), options=options)


async def test_part_mode_byte_exact_with_video_fields(emulator, media_file):
    path = media_file(23 * MiB + 7)
    async with ApiVideoUpload(auth=BASIC, base_url=emulator.url) as av:
        result = await upload(av, ChunkSource(path), spec(path, title="Launch", tags=["a"]), max_in_flight=4)
        assert (await av.status(result.media_id, "playable")).state in ("pending", "in_progress", "succeeded")
    got = video(emulator, result.media_id)
    assert got["complete"] and got["sha256"] == sha256(path) == result.sha256
    assert got["mode"] == "part" and got["title"] == "Launch"
    assert result.details["videoId"] == result.media_id
    assert {"player", "hls"} <= set(result.details["assets"])


async def test_bearer_auth_refreshes_after_expiry(emulator, media_file):
    path = media_file(11 * MiB)
    auth = ApiVideoBearerAuth(KEY)
    async with ApiVideoUpload(auth=auth, base_url=emulator.url) as av:
        session = await av.init(spec(path))
        await send_segments(av, session, ChunkSource(path), indexes=[0])
        httpx.post(f"{emulator.url}/_emulator/apivideo/tokens/expire").raise_for_status()
        await send_segments(av, session, ChunkSource(path), indexes=[1], hold=())
        await finish(av, session, ChunkSource(path))
    assert video(emulator, session.media_id)["sha256"] == sha256(path)
    assert stats(emulator)["POST /auth/refresh"]["requests"] >= 1


async def test_retried_append_sends_only_missing_parts(emulator, media_file):
    path = media_file(40 * MiB)  # 8 parts of 5 MiB
    source = ChunkSource(path)
    async with ApiVideoUpload(auth=BASIC, base_url=emulator.url) as av:
        session = await av.init(spec(path))
        await send_segments(av, session, source, indexes=[0, 1, 2, 5])  # the task died after these
        httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()
        resumed = await send_segments(av, session, source, max_in_flight=3, hold=held_back(av, session))
        sent = stats(emulator)[SOURCE_ROUTE]
        assert sent["requests"] == 3  # parts 4, 5 and 7 (index 3, 4, 6); the last waits for finalize
        assert sent["body_bytes"] < 3 * 5 * MiB + 4096
        result = await finish(av, session, source)
    assert resumed.digests["sha256"] == sha256(path) == result.sha256  # the whole file was read for the hash
    assert video(emulator, result.media_id)["sha256"] == sha256(path)


async def test_part_already_received_is_not_an_error(emulator, media_file):
    # The server stores part 2, but the answer is lost: the retry collides, and that is success.
    rule = {"match": r"POST /videos/\w+/source", "action": "drop", "when": "after", "times": 1}
    path = media_file(15 * MiB)
    async with ApiVideoUpload(auth=BASIC, base_url=emulator.url, retry=FAST) as av:
        session = await av.init(spec(path))
        await send_segments(av, session, ChunkSource(path), indexes=[0])
        httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
        await send_segments(av, session, ChunkSource(path), indexes=[1])
        result = await finish(av, session, ChunkSource(path))
    assert video(emulator, result.media_id)["sha256"] == sha256(path)


async def test_encoding_until_encoded_and_failed(emulator, media_file):
    emulator.config.apivideo.encoding_seconds = 0
    emulator.config.apivideo.playable_after_secs = 0
    path = media_file(2 * MiB)
    async with ApiVideoUpload(auth=BASIC, base_url=emulator.url) as av:
        ok = await upload(av, ChunkSource(path), spec(path))
        assert (await av.status(ok.media_id, "encoded")).state == "succeeded"
        emulator.config.apivideo.encoding_outcome = "failed"
        bad = await upload(av, ChunkSource(path), spec(path))
        status = await av.status(bad.media_id, "encoded")
    assert status.failed and "failed to encode" in status.reason()


async def test_wrong_key_is_explained(emulator):
    async with ApiVideoUpload(auth=httpx.BasicAuth("wrong", ""), base_url=emulator.url) as av:
        with pytest.raises(RemoteRejected, match="API key") as e:
            await av.init(UploadSpec(total_bytes=10))
    assert e.value.status == 401


async def test_rate_limit_is_waited_out_with_retry_after(emulator, media_file, monkeypatch):
    # The emulator's clock stands still, so the first three parts share one window however slowly
    # 5 MiB parts go on a busy machine; the 429 on the third moves it on to the next window.
    clock = controlled_clock(monkeypatch)
    emulator.config.apivideo.upload_rate_limit = 2
    emulator.config.apivideo.rate_limit_window_secs = 1
    transport = NextWindowOn429(clock, 1)
    path = media_file(20 * MiB)  # 4 parts: the third waits for the window to reset
    async with ApiVideoUpload(auth=BASIC, base_url=emulator.url, transport=transport) as av:
        result = await upload(av, ChunkSource(path), spec(path), max_in_flight=1)
        assert av.client.retries == 1
    assert video(emulator, result.media_id)["sha256"] == sha256(path)
    [(headers, limited_at, retried_at)] = transport.after_429()
    assert headers["X-RateLimit-Retry-After"] == "1"
    assert retried_at - limited_at >= 1  # waited as long as it was asked to



class Recording(httpx.AsyncBaseTransport):
    """chunkup's own transport, noting each part request's Content-Range, body size and when it ran."""

    def __init__(self) -> None:
        self.inner = http_transport(verify=_tls_context(), limits=httpx.Limits(max_connections=8))
        self.parts: list[tuple[str, int, int, int]] = []  # content range, body bytes, order sent, order answered
        self.events = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.events += 1
        sent = self.events
        response = await self.inner.handle_async_request(request)
        self.events += 1
        if "content-range" in request.headers:
            length = int(request.headers["content-length"])
            self.parts.append((request.headers["content-range"], length, sent, self.events))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_parts_in_flight_end_with_a_short_tail(emulator, media_file):
    """The last part completes the video, so it goes alone after the others: a 1 MiB tail, not a whole part."""
    path = media_file(24 * MiB)  # 8 MiB parts: 8, 8, 7 and the 1 MiB tail
    recording = Recording()
    async with ApiVideoUpload(auth=BASIC, base_url=emulator.url, transport=recording) as av:
        session = await av.init(spec(path, chunk=8 * MiB))
        assert session.plan_kind == "short_tail" and session.segment_count == 4
        assert UploadSession.from_dict(session.to_dict()).plan == session.plan
        result = await upload(av, ChunkSource(path), spec(path, chunk=8 * MiB), max_in_flight=3)
    assert video(emulator, result.media_id)["sha256"] == sha256(path) == result.sha256
    by_range = {rng: (length, sent, answered) for rng, length, sent, answered in recording.parts}
    assert sorted(by_range) == ["part 1/4", "part 2/4", "part 3/4", "part 4/4"]
    sizes = {rng: length for rng, (length, _, _) in by_range.items()}
    assert 8 * MiB < sizes["part 1/4"] == sizes["part 2/4"] < 8 * MiB + 4096
    assert 7 * MiB < sizes["part 3/4"] < 7 * MiB + 4096 and MiB < sizes["part 4/4"] < MiB + 4096
    tail_sent = by_range["part 4/4"][1]
    assert all(answered < tail_sent for rng, (_, _, answered) in by_range.items() if rng != "part 4/4")


async def test_a_short_tail_upload_resumes_with_the_parts_missing(emulator, media_file):
    path = media_file(18 * MiB)  # 6 MiB parts: 6, 6, 5 and the 1 MiB tail
    source = ChunkSource(path)
    async with ApiVideoUpload(auth=BASIC, base_url=emulator.url) as av:
        session = await av.init(spec(path, chunk=6 * MiB))
        await send_segments(av, session, source, indexes=[0, 2])  # the task died after these
        retried = UploadSession.from_dict(session.to_dict())
        httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()
        await send_segments(av, retried, source, max_in_flight=3, hold=held_back(av, retried))
        assert stats(emulator)[SOURCE_ROUTE]["requests"] == 1  # part 2; the tail waits for finalize
        result = await finish(av, retried, source)
    assert stats(emulator)[SOURCE_ROUTE]["requests"] == 2
    assert video(emulator, result.media_id)["sha256"] == sha256(path)


async def test_bytes_mode_keeps_the_fixed_plan(emulator, media_file):
    """Byte ranges go in order, one at a time: the last goes alone anyway, so no tail is split off."""
    path = media_file(18 * MiB)
    async with ApiVideoUpload(auth=BASIC, base_url=emulator.url, mode="bytes") as av:
        session = await av.init(spec(path, chunk=6 * MiB))
    assert session.plan_kind == "fixed" and session.segment_count == 3
