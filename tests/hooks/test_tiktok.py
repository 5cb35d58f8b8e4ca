"""TikTokHook against the emulator's TikTok front door: byte-exact direct posts and drafts, resume, status, Test."""

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from airflow.sdk.exceptions import AirflowFailException
from emulator_clock import controlled_clock

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    RemoteRejected,
    RetryExhausted,
    UploadExpired,
)
from airflow_provider_chunkup.get_provider_info import TIKTOK_CONN_FIELDS as CONN_FIELDS
from airflow_provider_chunkup.hooks import registry
from airflow_provider_chunkup.hooks.tiktok import TikTokHook
from airflow_provider_chunkup.operators.resume import UploadFailedForGood
from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator, ChunkUploadInitOperator
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore
from airflow_provider_chunkup.protocols.tiktok import DEFAULT_BASE, MIN_CHUNK
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor

TOKEN = "tiktok-token"
SELF_ONLY = {"title": "Launch #chunkup", "privacy_level": "SELF_ONLY"}


@pytest.fixture
def tiktok_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_tiktok connection to the emulator (TikTok's own paths, at the emulator's root)."""

    def define(conn_id: str = "chunkup_tiktok_default", *, password: str = TOKEN, **extra: Any) -> str:
        return set_connection(conn_id, conn_type="chunkup_tiktok", host=emulator.url, password=password, extra=extra)

    return define


def post(emulator, publish_id: str) -> dict:
    response = httpx.get(f"{emulator.url}/_emulator/tiktok/posts/{publish_id}")
    response.raise_for_status()
    return response.json()


def put_bytes(emulator) -> int:
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    return sum(v["body_bytes"] for k, v in routes.items() if k.startswith("PUT /tiktok-upload"))


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def processed(hook: TikTokHook, publish_id: str, clock, secs: float):
    """The status while TikTok processes (the emulator's clock paused), then once ``secs`` have passed."""
    status = hook.status(publish_id)
    assert status.state == "in_progress" and status.check_after_secs  # PROCESSING_DOWNLOAD
    clock.advance(secs)
    return hook.status(publish_id)


def test_connection_settings(set_connection):
    set_connection("tiktok_prod", conn_type="chunkup_tiktok", password="tok", extra={"chunk_size": 20_000_000})
    hook = TikTokHook("tiktok_prod")
    protocol = hook.get_conn()
    assert protocol.client.base_url.rstrip("/") == DEFAULT_BASE and hook.chunk_size() == 20_000_000
    assert protocol.mode == "direct" and protocol.capabilities.secret_session
    assert not protocol.capabilities.parallel_segments and protocol.capabilities.processes_media
    assert set(CONN_FIELDS) >= {"mode", "chunk_size", "restart_expired"}


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "access token"),
    ({"password": "t", "host": "http://tiktok.example.com"}, "allow_insecure_http"),
    ({"password": "t", "extra": {"mode": "draft"}}, "'inbox'"),
    ({"password": "t", "extra": {"chunk_size": 1_000_000}}, "5242880 to 64000000"),
])
def test_connection_errors(set_connection, fields, message):
    set_connection("tiktok_bad", conn_type="chunkup_tiktok", **fields)
    with pytest.raises(ConfigurationError, match=message):
        TikTokHook("tiktok_bad").get_conn()


def test_direct_post_end_to_end_merges_the_remainder_into_the_last_chunk(tiktok_connection, media_file, emulator,
                                                                        monkeypatch):
    tiktok_connection(chunk_size=MIN_CHUNK)
    clock = controlled_clock(monkeypatch)
    path = media_file(3 * MIN_CHUNK + 123, "launch.mp4")
    hook = TikTokHook()
    result = hook.upload(str(path), options={**SELF_ONLY, "disable_duet": True, "video_cover_timestamp_ms": 1000})
    got = post(emulator, result.media_id)
    assert got["sha256"] == sha256(path) == result.sha256
    assert (got["kind"], got["chunk_size"], got["total_chunk_count"]) == ("direct", MIN_CHUNK, 3)
    assert got["chunks"][-1] == [2 * MIN_CHUNK, 3 * MIN_CHUNK + 122]  # the remainder in the last
    assert got["post_info"]["title"] == "Launch #chunkup" and got["post_info"]["disable_duet"] is True
    assert result.details["mode"] == "direct" and result.details["max_video_post_duration_sec"] == 600
    assert result.processing_status.state == "in_progress"
    assert processed(hook, result.media_id, clock, emulator.config.tiktok.processing_secs).state == "succeeded"


def test_inbox_draft_small_file_is_one_chunk(tiktok_connection, media_file, emulator):
    tiktok_connection(mode="inbox")
    emulator.config.tiktok.processing_secs = 0.0
    path = media_file(1_000_003, "draft.mov")
    hook = TikTokHook()
    result = hook.upload(str(path), media_type="video/quicktime")
    got = post(emulator, result.media_id)
    assert got["sha256"] == sha256(path)
    assert (got["kind"], got["chunk_size"], got["total_chunk_count"]) == ("inbox", 1_000_003, 1)
    assert got["post_info"] is None and hook.status(result.media_id).state == "succeeded"
    assert hook.status(result.media_id).to_dict()["state"] == "succeeded"  # SEND_TO_USER_INBOX


def test_a_killed_upload_resumes_from_the_servers_chunks(tiktok_connection, media_file, emulator):
    """The first try's first chunk lands but its answer is lost; the retry asks TikTok and sends the rest only."""
    tiktok_connection(chunk_size=MIN_CHUNK, retry_max_attempts=1)
    path = media_file(3 * MIN_CHUNK + 5, "resumed.mp4")
    store = MemoryStore()
    rule = {"match": r"PUT /tiktok-upload/", "action": "drop", "when": "after", "times": 1}
    httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
    with pytest.raises(RetryExhausted):
        TikTokHook().upload(str(path), options=SELF_ONLY, checkpoint=Checkpoint(store), abort_on_failure=False)
    assert put_bytes(emulator) == MIN_CHUNK
    result = TikTokHook().upload(str(path), options=SELF_ONLY, checkpoint=Checkpoint(store))
    assert post(emulator, result.media_id)["sha256"] == sha256(path) == result.sha256
    assert put_bytes(emulator) == 3 * MIN_CHUNK + 5  # chunk 0 was not sent again
    assert len(httpx.get(f"{emulator.url}/_emulator/tiktok/posts").json()) == 1  # one init in all


def test_a_lost_answer_is_recovered_from_the_416_progress(tiktok_connection, media_file, emulator):
    """The chunk arrived but the answer did not: the retried PUT gets 416 with the progress, and goes on."""
    tiktok_connection(chunk_size=MIN_CHUNK, retry_backoff_initial=0.01, retry_backoff_max=0.02)
    path = media_file(2 * MIN_CHUNK + 7, "lost.mp4")
    rule = {"match": r"PUT /tiktok-upload/", "action": "drop", "when": "after", "times": 1}
    httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
    result = TikTokHook().upload(str(path), options=SELF_ONLY)
    assert post(emulator, result.media_id)["sha256"] == sha256(path)
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    statuses = [v["statuses"] for k, v in routes.items() if k.startswith("PUT /tiktok-upload")]
    assert sum(s.get("416", 0) for s in statuses) == 1, routes  # the re-sent first chunk, answered with progress
    assert sum(s.get("201", 0) for s in statuses) == 1


def test_an_expired_upload_url_fails_as_expired_then_restarts_when_allowed(tiktok_connection, media_file, emulator,
                                                                           monkeypatch):
    tiktok_connection(chunk_size=MIN_CHUNK, retry_max_attempts=1)
    clock = controlled_clock(monkeypatch)
    path = media_file(2 * MIN_CHUNK + 1, "late.mp4")
    store = MemoryStore()
    rule = {"match": r"PUT /tiktok-upload/", "action": "drop", "when": "after", "times": 1}
    httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
    with pytest.raises(RetryExhausted):
        TikTokHook().upload(str(path), options=SELF_ONLY, checkpoint=Checkpoint(store), abort_on_failure=False)
    clock.advance(3601)  # the upload_url's hour is over on the server
    with pytest.raises(UploadExpired, match="restart_expired"):
        TikTokHook().upload(str(path), options=SELF_ONLY, checkpoint=Checkpoint(store), abort_on_failure=False)
    tiktok_connection(chunk_size=MIN_CHUNK, retry_max_attempts=1, restart_expired=True)
    result = TikTokHook().upload(str(path), options=SELF_ONLY, checkpoint=Checkpoint(store))
    assert post(emulator, result.media_id)["sha256"] == sha256(path)


def test_failed_post_reports_tiktoks_reason(tiktok_connection, media_file, emulator):
    tiktok_connection()
    emulator.config.tiktok.processing_secs = 0.0
    emulator.config.tiktok.failure_rate = 1.0
    result = TikTokHook().upload(str(media_file(1000)), options=SELF_ONLY)
    status = TikTokHook().status(result.media_id)
    assert status.state == "failed" and status.error["code"] == "internal" and "fail_reason internal" in status.reason()


def test_privacy_level_outside_the_creators_options_is_refused_before_init(tiktok_connection, media_file, emulator):
    tiktok_connection()
    emulator.config.tiktok.audited = False  # creator_info offers SELF_ONLY only
    with pytest.raises(ConfigurationError, match="not among this creator's options"):
        TikTokHook().upload(str(media_file(1000)), options={"privacy_level": "PUBLIC_TO_EVERYONE"})
    assert httpx.get(f"{emulator.url}/_emulator/tiktok/posts").json() == []


def test_tiktok_refusals_in_words(tiktok_connection, media_file, emulator):
    tiktok_connection(password="not-the-token")
    with pytest.raises(AuthenticationFailed, match=r"access_token_invalid.*password"):
        TikTokHook().upload(str(media_file(10)), options=SELF_ONLY)
    tiktok_connection(mode="inbox")
    emulator.config.tiktok.max_pending_shares = 0
    with pytest.raises(RemoteRejected, match=r"spam_risk_too_many_pending_share.*TikTok app") as caught:
        TikTokHook().upload(str(media_file(10)))
    assert caught.value.status == 403
    emulator.config.tiktok.scopes = ["video.publish"]
    with pytest.raises(AuthenticationFailed, match=r"scope_not_authorized.*video\.upload"):
        TikTokHook().upload(str(media_file(10)))


def test_test_connection(tiktok_connection, emulator):
    tiktok_connection()
    ok, message = TikTokHook().test_connection()
    assert ok, message
    tiktok_connection(mode="inbox")
    ok, message = TikTokHook().test_connection()
    assert ok and "inbox" in message, message
    tiktok_connection(password="wrong-token")
    ok, message = TikTokHook().test_connection()
    assert not ok and "wrong-token" not in message and "401" in message


@pytest.fixture
def registered():
    """The operators and the sensor find the TikTok hook through the registry."""
    assert registry.BY_API[TikTokHook.api] is registry.BY_CONN_TYPE[TikTokHook.conn_type] is TikTokHook


def test_the_operator_uploads_and_the_sensor_waits_for_tiktok(registered, tiktok_connection, media_file, emulator,
                                                              monkeypatch):
    """One task (the session holds the upload_url: never in XCom), then the sensor until PUBLISH_COMPLETE."""
    tiktok_connection(chunk_size=MIN_CHUNK)
    clock = controlled_clock(monkeypatch)
    path = media_file(2 * MIN_CHUNK + 11, "op.mp4")
    result = ChunkedUploadOperator(task_id="upload", conn_id="chunkup_tiktok_default", source=str(path),
                                   upload_options=SELF_ONLY, progress_interval=0).execute({})
    assert post(emulator, result["media_id"])["sha256"] == sha256(path) == result["sha256"]
    assert "upload_token" not in str(result)  # the XCom value carries no upload_url
    sensor = MediaProcessingSensor(task_id="wait", upload=result, poke_interval=0.1, timeout=30)
    assert sensor.poke({}) is False  # PROCESSING_DOWNLOAD while the emulator's clock stands still
    clock.advance(emulator.config.tiktok.processing_secs)
    assert sensor.execute({})["state"] == "succeeded"


def test_the_sensor_fails_with_tiktoks_fail_reason(registered, tiktok_connection, media_file, emulator):
    tiktok_connection()
    emulator.config.tiktok.processing_secs = 0.0
    emulator.config.tiktok.failure_rate = 1.0
    result = TikTokHook().upload(str(media_file(1000)), options=SELF_ONLY).to_dict()
    sensor = MediaProcessingSensor(task_id="wait", upload=result, poke_interval=0.1, timeout=30)
    with pytest.raises(AirflowFailException, match="fail_reason internal: TikTok failed the post with an internal"):
        sensor.execute({})


def test_the_split_init_task_is_refused_before_any_request(registered, tiktok_connection, media_file, emulator):
    """Its session would carry the upload_url into XCom: TikTok uploads run in one task."""
    tiktok_connection()
    op = ChunkUploadInitOperator(task_id="init", conn_id="chunkup_tiktok_default", source=str(media_file(1000)),
                                 upload_options=SELF_ONLY)
    with pytest.raises(UploadFailedForGood, match=r"TikTok uploads are addressed by .* ChunkedUploadOperator"):
        op.execute({})
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["total_requests"] == 0
