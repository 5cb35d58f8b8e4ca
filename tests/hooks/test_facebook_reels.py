"""FacebookReelsHook against the emulator's Meta front door: Page Reels over rupload, byte-exact, resume after a
cut, the finish as the publish step (never twice), states, Test."""

import hashlib
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_chunkup.errors import AuthenticationFailed, ConfigurationError, RemoteRejected
from airflow_provider_chunkup.get_provider_info import FACEBOOK_REELS_CONN_FIELDS as CONN_FIELDS
from airflow_provider_chunkup.get_provider_info import FACEBOOK_REELS_UI as UI_FIELD_BEHAVIOUR
from airflow_provider_chunkup.hooks.facebook_reels import FacebookReelsHook
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore

MiB = 1024 * 1024
META_TOKEN = "meta-token"
PAGE = "1234"


@pytest.fixture
def reels_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_facebook_reels connection to the emulator (Graph and rupload on one host)."""

    def define(conn_id: str = "chunkup_facebook_reels_default", *, password: str = META_TOKEN, **extra: Any) -> str:
        return set_connection(conn_id, conn_type="chunkup_facebook_reels", host=emulator.url, password=password,
                              extra={"page_id": PAGE, **extra})

    return define


def video(emulator, video_id: str) -> dict:
    response = httpx.get(f"{emulator.url}/_emulator/meta/videos/{video_id}")
    response.raise_for_status()
    return response.json()


def rupload_bytes(emulator) -> int:
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    return sum(v["body_bytes"] for k, v in routes.items() if "/video-upload/" in k)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_connection_settings(set_connection):
    set_connection("reels_prod", conn_type="chunkup_facebook_reels", password="tok", extra={"page_id": "42"})
    protocol = FacebookReelsHook("reels_prod").get_conn()
    assert protocol.page_id == "42" and protocol.capabilities.processes_media
    assert "page_id" in CONN_FIELDS and UI_FIELD_BEHAVIOUR["relabeling"]["password"] == "Page access token"
    set_connection("reels_bad", conn_type="chunkup_facebook_reels", password="tok")
    with pytest.raises(ConfigurationError, match="page_id"):
        FacebookReelsHook("reels_bad").get_conn()


def test_reel_uploads_byte_exact_and_the_finish_publishes(reels_connection, media_file, emulator):
    reels_connection(chunk_size=MiB)
    emulator.config.meta.processing_secs = 0
    path = media_file(3 * MiB + 5, "reel.mp4")
    hook = FacebookReelsHook()
    result = hook.upload(str(path), options={"video_state": "DRAFT", "description": "Launch"})
    got = video(emulator, result.media_id)
    assert got["sha256"] == sha256(path) == result.sha256 and got["bytes"] == 3 * MiB + 5
    assert got["kind"] == "reel" and got["finished"] and got["video_state"] == "DRAFT"
    assert got["description"] == "Launch" and result.details["video_state"] == "DRAFT"
    assert rupload_bytes(emulator) == 3 * MiB + 5
    assert hook.status(result.media_id).state == "succeeded"


def test_publish_later_finishes_once(reels_connection, media_file, emulator):
    reels_connection()
    emulator.config.meta.processing_secs = 0
    path = media_file(50_000)
    hook = FacebookReelsHook()
    result = hook.upload(str(path), options={"publish": False})
    assert not video(emulator, result.media_id)["finished"] and not result.details["finished"]
    assert hook.status(result.media_id).state == "pending"
    assert hook.publish(result.media_id, {"video_state": "PUBLISHED", "description": "Now"})["finished"]
    got = video(emulator, result.media_id)
    assert got["finished"] and got["video_state"] == "PUBLISHED" and got["description"] == "Now"
    assert not hook.publish(result.media_id, {"video_state": "PUBLISHED"})["finished"]  # never twice
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["meta_finished"] == 1


def test_scheduled_reel(reels_connection, media_file, emulator):
    reels_connection()
    when = int(time.time()) + 3600
    result = FacebookReelsHook().upload(str(media_file(4096)),
                                        options={"video_state": "SCHEDULED", "scheduled_publish_time": when})
    assert video(emulator, result.media_id)["video_state"] == "SCHEDULED"


def test_processing_error_is_failed(reels_connection, media_file, emulator):
    reels_connection()
    emulator.config.meta.processing_secs = 0
    emulator.config.meta.processing_failure_rate = 1.0
    result = FacebookReelsHook().upload(str(media_file(4096)))
    status = FacebookReelsHook().status(result.media_id)
    assert status.failed and "video_status 'error'" in status.reason() and "processing_phase error" in status.reason()


def test_resume_after_a_cut_sends_only_what_the_server_lacked(reels_connection, media_file, emulator):
    reels_connection(chunk_size=2 * MiB, retry_max_attempts=1)
    path = media_file(5 * MiB + 7)
    checkpoint = Checkpoint(MemoryStore())
    rule = {"match": r"POST /video-upload/", "action": "drop", "when": "mid_body", "times": 1}
    httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
    with pytest.raises(Exception, match="rupload"):
        FacebookReelsHook().upload(str(path), checkpoint=checkpoint)
    held = checkpoint.session()
    assert held is not None
    first = video(emulator, held.media_id)["bytes"]
    assert first < 2 * MiB
    sent_before = rupload_bytes(emulator)
    result = FacebookReelsHook().upload(str(path), checkpoint=checkpoint)
    got = video(emulator, result.media_id)
    assert result.media_id == held.media_id and got["sha256"] == sha256(path) == result.sha256 and got["finished"]
    assert rupload_bytes(emulator) - sent_before == 5 * MiB + 7 - first


def test_finalize_before_every_byte_is_refused(reels_connection, media_file, emulator):
    reels_connection(chunk_size=MiB)
    session = FacebookReelsHook().init(str(media_file(2 * MiB)))
    session = FacebookReelsHook().append(session.to_dict(), segments=[0])
    with pytest.raises(RemoteRejected, match="holds 1048576 of the 2097152 bytes"):
        FacebookReelsHook().finalize(session.to_dict())


def test_bad_input_is_refused_before_any_request(reels_connection, media_file, emulator):
    reels_connection()
    path = str(media_file(10))
    cases = [({"video_state": "LIVE"}, "video_state 'LIVE'"),
             ({"video_state": "SCHEDULED"}, "needs scheduled_publish_time"),
             ({"video_state": "SCHEDULED", "scheduled_publish_time": int(time.time()) + 60}, "10 minutes to 75 days"),
             ({"scheduled_publish_time": int(time.time()) + 3600}, "needs video_state SCHEDULED"),
             ({"description": "d" * 2201}, "at most 2200"),
             ({"publish": "no"}, "publish must be true or false"),
             ({"caption": "c"}, "not caption")]
    for options, message in cases:
        with pytest.raises(ConfigurationError, match=message):
            FacebookReelsHook().upload(path, options=options)
    assert httpx.get(f"{emulator.url}/_emulator/stats").json().get("meta_videos", 0) == 0


def test_wrong_token_fails_without_retry(reels_connection, media_file):
    reels_connection(password="not-the-token")
    with pytest.raises(AuthenticationFailed, match="190"):
        FacebookReelsHook().upload(str(media_file(10)))


def test_test_connection(reels_connection):
    reels_connection()
    ok, message = FacebookReelsHook().test_connection()
    assert ok, message
    reels_connection(password="wrong-token")
    ok, message = FacebookReelsHook().test_connection()
    assert not ok and "wrong-token" not in message and "190" in message
