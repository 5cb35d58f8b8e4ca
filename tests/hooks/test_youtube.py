"""YouTubeHook against the emulator's YouTube: resumable insert, refresh mid-upload, processing, thumbnail, captions."""

import hashlib

import httpx
import pytest

from airflow_provider_chunkup.errors import ConfigurationError, RemoteRejected, RetryExhausted
from airflow_provider_chunkup.hooks.registry import hook_for_api, hook_for_connection
from airflow_provider_chunkup.hooks.youtube import YouTubeHook
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore

KiB, MiB = 1024, 1024 * 1024


def video(emulator, video_id: str) -> dict:
    response = httpx.get(f"{emulator.url}/_emulator/youtube/videos/{video_id}")
    response.raise_for_status()
    return response.json()


def stats(emulator) -> dict:
    return httpx.get(f"{emulator.url}/_emulator/stats").json()


def test_connection_settings(set_connection):
    set_connection("yt", conn_type="chunkup_youtube", login="c", password="s", extra={"refresh_token": "r"})
    protocol = YouTubeHook("yt").get_conn()
    assert protocol.api_base == "https://www.googleapis.com"
    assert protocol.capabilities.secret_session and protocol.capabilities.processes_media
    assert not protocol.capabilities.parallel_segments and not protocol.capabilities.abortable
    assert "s" not in repr(protocol.client._client.auth).replace("GoogleOAuth", "").replace("client_id", "") \
        .replace("'c'", "").replace("***", "")
    assert isinstance(hook_for_api("youtube", "yt"), YouTubeHook) and isinstance(hook_for_connection("yt"),
                                                                                 YouTubeHook)


def test_upload_end_to_end_then_processing(youtube_connection, media_file, emulator):
    youtube_connection(chunk_size=256 * KiB)
    emulator.config.youtube.processing_secs = 0.3
    path = media_file(MiB + 7, "launch.mp4")
    hook = YouTubeHook()
    result = hook.upload(str(path), options={"title": "Launch", "category_id": 22, "tags": ["a"]})
    got = video(emulator, result.media_id)
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result.sha256
    assert got["snippet"]["title"] == "Launch" and got["snippet"]["categoryId"] == "22"
    assert got["status"]["privacyStatus"] == "private"  # chunkup's default
    assert result.details["url"] == f"https://www.youtube.com/watch?v={result.media_id}"
    status = hook.status(result.media_id)
    while not status.done:
        assert status.state in ("pending", "in_progress")
        status = hook.status(result.media_id)
    assert status.state == "succeeded"
    assert stats(emulator)["youtube_status_queries"] == 0  # a fresh session is never asked what it holds


def test_the_access_token_expires_mid_upload_and_is_renewed(youtube_connection, media_file, emulator):
    youtube_connection(chunk_size=256 * KiB)
    emulator.config.youtube.access_token_secs = 61  # renewed when under a minute is left: every request
    path = media_file(MiB, "long.mp4")
    result = YouTubeHook().upload(str(path))
    assert video(emulator, result.media_id)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_killed_upload_resumes_its_session_not_a_second_insert(youtube_connection, media_file, emulator):
    """The checkpoint keeps the session: the retry asks what YouTube holds and sends the rest, one insert in all."""
    youtube_connection(chunk_size=256 * KiB, retry_max_attempts=1)
    path = media_file(MiB + 3, "resumed.mp4")
    store = MemoryStore()
    rule = {"match": r"PUT /upload/youtube/v3/videos", "action": "drop", "when": "mid_body", "times": 1}
    httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
    with pytest.raises(RetryExhausted):  # the first try: its first chunk cut mid-body, no retry allowed
        YouTubeHook().upload(str(path), checkpoint=Checkpoint(store), abort_on_failure=False)
    assert "session_uri" in str(store["chunkup.upload"]["session"]["remote"])
    before = stats(emulator)
    result = YouTubeHook().upload(str(path), checkpoint=Checkpoint(store))
    after = stats(emulator)
    assert after["youtube_inserts"] == before["youtube_inserts"] == 1
    assert video(emulator, result.media_id)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_processing_failure_is_youtubes_reason(youtube_connection, media_file, emulator):
    youtube_connection()
    emulator.config.youtube.processing_secs = 0.0
    emulator.config.youtube.rejection_rate = 1.0
    result = YouTubeHook().upload(str(media_file(1000)))
    status = YouTubeHook().status(result.media_id)
    assert status.state == "failed" and "duplicate" in status.reason()


def test_quota_exceeded_fails_without_retry(youtube_connection, media_file, emulator):
    youtube_connection()
    emulator.config.youtube.insert_quota = 0
    with pytest.raises(RemoteRejected, match=r"quotaExceeded.*midnight Pacific"):
        YouTubeHook().upload(str(media_file(1000)))
    assert stats(emulator)["youtube_inserts"] == 0


def test_thumbnail_and_captions(youtube_connection, media_file, emulator, tmp_path):
    youtube_connection()
    result = YouTubeHook().upload(str(media_file(1000)))
    image = tmp_path / "cover.jpg"
    image.write_bytes(b"\xff\xd8\xff" + bytes(300 * KiB))
    YouTubeHook().set_thumbnail(result.media_id, str(image))
    srt = tmp_path / "en.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n")
    caption = YouTubeHook().insert_caption(result.media_id, str(srt), language="en", name="English")
    got = video(emulator, result.media_id)
    assert got["thumbnail"]["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert got["captions"][0]["sha256"] == hashlib.sha256(srt.read_bytes()).hexdigest()
    assert got["captions"][0]["id"] == caption["id"] and got["captions"][0]["language"] == "en"


def test_thumbnail_too_large_is_refused_before_any_request(youtube_connection, emulator, tmp_path):
    youtube_connection()
    image = tmp_path / "big.png"
    image.write_bytes(bytes(3 * MiB))
    before = stats(emulator)["total_requests"]
    with pytest.raises(ConfigurationError, match="up to 2097152 bytes"):
        YouTubeHook().set_thumbnail("dQw4w9WgXcQ", str(image))
    assert stats(emulator)["total_requests"] == before


def test_test_connection(youtube_connection, emulator):
    youtube_connection()
    ok, message = YouTubeHook().test_connection()
    assert ok, message
    youtube_connection(refresh_token="refresh-0123456789")
    ok, message = YouTubeHook().test_connection()
    assert not ok and "refresh-0123456789" not in message and "refresh_token" in message
