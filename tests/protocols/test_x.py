"""The X protocol against the emulator over real HTTP: both dialects, both auth kinds."""

import hashlib

import httpx
import pytest
from emulator_clock import NextWindowOn429, controlled_clock

from airflow_provider_chunkup.errors import AuthenticationFailed, RateLimited, RemoteRejected, UploadExpired
from airflow_provider_chunkup.protocols.auth import BearerAuth, OAuth1Auth
from airflow_provider_chunkup.protocols.chunking import MiB
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSpec
from airflow_provider_chunkup.protocols.transfer import send_segments, upload
from airflow_provider_chunkup.protocols.x import XMediaUpload
from airflow_provider_chunkup.sources import ChunkSource

TOKEN = "chunkup-emulator-token"
OAUTH1 = OAuth1Auth("chunkup-consumer-key", "chunkup-consumer-secret", "chunkup-access-token",
                    "chunkup-access-token-secret")


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# v2 with OAuth 2.0 and v1.1 with OAuth 1.0a are contract profiles (tests/contract): here, the other two pairs.
@pytest.mark.parametrize(("dialect", "auth"), [("v2", OAUTH1), ("v1.1", BearerAuth(TOKEN))],
                         ids=["v2-oauth1", "v1.1-oauth2"])
async def test_upload_byte_exact(emulator, received, media_file, dialect, auth):
    path = media_file(9 * MiB + 123)
    async with XMediaUpload(auth=auth, base_url=emulator.url, dialect=dialect) as x:
        result = await upload(x, ChunkSource(path), UploadSpec(total_bytes=path.stat().st_size,
                                                               media_type="video/mp4", chunk_size=2 * MiB),
                              max_in_flight=3)
        assert result.processing["state"] == "pending"
        assert (await x.status(result.media_id)).state == "succeeded"
    info = received(result.media_id)
    assert info["sha256"] == sha256(path) == result.sha256
    assert info["size"] == result.size == path.stat().st_size
    assert info["segments_received"] == 5
    assert result.media_key.startswith("7_")
    assert result.md5 is None  # X needs no md5: not computed


async def test_image_has_nothing_to_process(emulator, media_file):
    path = media_file(300_000, "photo.png")
    async with XMediaUpload(auth=BearerAuth(TOKEN), base_url=emulator.url) as x:
        result = await upload(x, ChunkSource(path), UploadSpec(total_bytes=300_000, media_type="image/png"))
    assert result.processing is None
    assert result.processing_status.done
    assert result.media_key.startswith("3_")


async def test_processing_progresses_and_can_fail(emulator, media_file, monkeypatch):
    clock = controlled_clock(monkeypatch)  # processing moves 0.1 s per poll, however long a poll takes
    emulator.config.x.processing_seconds = 1.5
    emulator.config.x.processing_outcome = "failed"
    path = media_file(1000)
    async with XMediaUpload(auth=BearerAuth(TOKEN), base_url=emulator.url) as x:
        result = await upload(x, ChunkSource(path), UploadSpec(total_bytes=1000, media_type="video/mp4"))
        states = []
        while not states or states[-1].state not in ("succeeded", "failed"):
            assert len(states) < 30, [s.state for s in states]  # done after 16 polls
            states.append(await x.status(result.media_id))
            clock.advance(0.1)
    assert states[-1].failed
    assert states[-1].reason() == "InvalidMedia 1: Unsupported video format"
    assert [s.state for s in states[:5]] == ["pending"] * 4 + ["in_progress"]  # a quarter of 1.5 s pending
    assert {"in_progress", "failed"} <= {s.state for s in states}


async def test_segments_in_any_order_and_resent(emulator, received, media_file):
    path = media_file(5 * MiB)
    async with XMediaUpload(auth=BearerAuth(TOKEN), base_url=emulator.url) as x:
        session = await x.init(UploadSpec(total_bytes=5 * MiB, media_type="video/mp4", chunk_size=1 * MiB))
        source = ChunkSource(path)
        await send_segments(x, session, source, indexes=[4, 2, 0])
        await send_segments(x, session, source, indexes=[1, 3, 2])  # 2 again: replaces, no harm
        result = await x.finalize(session)
    assert received(result.media_id)["sha256"] == sha256(path)
    assert result.sha256 is None  # not every segment was read in order by one call


async def test_missing_segment_is_rejected_at_finalize(emulator, media_file):
    path = media_file(3 * MiB)
    async with XMediaUpload(auth=BearerAuth(TOKEN), base_url=emulator.url) as x:
        session = await x.init(UploadSpec(total_bytes=3 * MiB, media_type="video/mp4", chunk_size=1 * MiB))
        await send_segments(x, session, ChunkSource(path), indexes=[0, 2])
        with pytest.raises(RemoteRejected, match="Segments do not add up to provided total file size"):
            await x.finalize(session)


@pytest.mark.parametrize("dialect", ["v2", "v1.1"])
async def test_wrong_and_missing_credentials(emulator, dialect):
    spec = UploadSpec(total_bytes=10, media_type="video/mp4")
    for auth in (BearerAuth("wrong"), None, OAuth1Auth("chunkup-consumer-key", "bad", "chunkup-access-token", "x")):
        async with XMediaUpload(auth=auth, base_url=emulator.url, dialect=dialect) as x:
            with pytest.raises(AuthenticationFailed) as e:
                await x.init(spec)
            assert e.value.status == 401


async def test_token_without_media_write_is_403(emulator):
    async with XMediaUpload(auth=BearerAuth("chunkup-emulator-no-media-write"), base_url=emulator.url) as x:
        with pytest.raises(AuthenticationFailed, match=r"media\.write") as e:
            await x.init(UploadSpec(total_bytes=10, media_type="video/mp4"))
    assert e.value.status == 403
    assert e.value.body["title"] == "Forbidden"


async def test_expired_upload(emulator, media_file):
    path = media_file(2 * MiB)
    async with XMediaUpload(auth=BearerAuth(TOKEN), base_url=emulator.url) as x:
        session = await x.init(UploadSpec(total_bytes=2 * MiB, media_type="video/mp4", chunk_size=1 * MiB))
        httpx.post(f"{emulator.url}/_emulator/x/media/{session.media_id}/expire").raise_for_status()
        with pytest.raises(UploadExpired, match="re-run the init task"):
            await send_segments(x, session, ChunkSource(path))


async def test_rate_limit_waits_for_reset(emulator, media_file, monkeypatch):
    # The emulator's clock stands still, so INIT and the first two APPENDs share one window however
    # slowly they go; the 429 on the third moves it on to the next window.
    clock = controlled_clock(monkeypatch)
    emulator.config.x.rate_limit = 3
    emulator.config.x.rate_limit_window_secs = 1.0
    transport = NextWindowOn429(clock, 1.0)
    path = media_file(3 * 1024)
    async with XMediaUpload(auth=BearerAuth(TOKEN), base_url=emulator.url, transport=transport) as x:
        result = await upload(x, ChunkSource(path), UploadSpec(total_bytes=3 * 1024, media_type="video/mp4",
                                                               chunk_size=1024))
        assert x.client.retries == 1
    assert result.size == 3 * 1024
    [(headers, _, retried_at)] = transport.after_429()
    assert retried_at >= int(headers["x-rate-limit-reset"])  # not before the announced reset


async def test_rate_limit_beyond_budget(emulator):
    emulator.config.x.rate_limit = 1
    emulator.config.x.rate_limit_window_secs = 900
    policy = RetryPolicy(max_attempts=3, max_elapsed=2)
    async with XMediaUpload(auth=BearerAuth(TOKEN), base_url=emulator.url, retry=policy) as x:
        await x.init(UploadSpec(total_bytes=10, media_type="video/mp4"))
        with pytest.raises(RateLimited, match="Rate limit exceeded"):
            await x.init(UploadSpec(total_bytes=10, media_type="video/mp4"))


async def test_server_side_size_limit_is_reported_verbatim(emulator):
    # Our own check is lifted, so X's (the emulator's) answer must reach the user.
    async with XMediaUpload(auth=BearerAuth(TOKEN), base_url=emulator.url,
                            size_limits={"image": 10 * MiB}) as x:
        with pytest.raises(RemoteRejected, match="HTTP 400") as e:
            await x.init(UploadSpec(total_bytes=6 * MiB, media_type="image/png"))
    assert e.value.body["type"] == "https://api.x.com/2/problems/invalid-request"


async def test_checksum_can_be_turned_off(emulator, received, media_file):
    path = media_file(3 * MiB)
    async with XMediaUpload(auth=BearerAuth(TOKEN), base_url=emulator.url) as x:
        result = await upload(x, ChunkSource(path), UploadSpec(total_bytes=3 * MiB, media_type="video/mp4"),
                              checksum=False)
    assert result.sha256 is None
    assert received(result.media_id)["sha256"] == sha256(path)


async def test_retries_through_real_faults(emulator, received, media_file):
    """503s, a connection dropped before the body, and a response lost after the segment was stored."""
    faults = [
        {"match": r"POST /2/media/upload/\d+/append", "action": "error", "status": 503, "times": 2},
        {"match": r"POST /2/media/upload/\d+/append", "action": "drop", "times": 1},
        {"match": r"POST /2/media/upload/\d+/append", "action": "drop", "when": "after", "times": 1},
        {"match": r"/finalize", "action": "error", "status": 502, "times": 1},
    ]
    for rule in faults:
        httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
    path = media_file(6 * MiB)
    policy = RetryPolicy(max_attempts=6, backoff_initial=0.01, backoff_max=0.05)
    async with XMediaUpload(auth=BearerAuth(TOKEN), base_url=emulator.url, retry=policy) as x:
        result = await upload(x, ChunkSource(path), UploadSpec(total_bytes=6 * MiB, media_type="video/mp4",
                                                               chunk_size=1 * MiB), max_in_flight=2)
        assert x.client.retries == 5
    assert received(result.media_id)["sha256"] == sha256(path) == result.sha256
