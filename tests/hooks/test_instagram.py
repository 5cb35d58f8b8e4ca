"""InstagramHook against the emulator's Meta front door: Reels containers over rupload, byte-exact, resume after a
cut, the container's states, publish once, Test."""

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_chunkup.errors import AuthenticationFailed, ConfigurationError, RemoteRejected
from airflow_provider_chunkup.get_provider_info import INSTAGRAM_CONN_FIELDS as CONN_FIELDS
from airflow_provider_chunkup.get_provider_info import INSTAGRAM_UI as UI_FIELD_BEHAVIOUR
from airflow_provider_chunkup.hooks.instagram import InstagramHook
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore
from airflow_provider_chunkup.protocols.rupload import DEFAULT_BASE

MiB = 1024 * 1024
META_TOKEN = "meta-token"
IG_USER = "17841400000000001"


@pytest.fixture
def instagram_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_instagram connection to the emulator (Graph and rupload on one host)."""

    def define(conn_id: str = "chunkup_instagram_default", *, password: str = META_TOKEN, **extra: Any) -> str:
        return set_connection(conn_id, conn_type="chunkup_instagram", host=emulator.url, password=password,
                              extra={"ig_user_id": IG_USER, **extra})

    return define


def container(emulator, container_id: str) -> dict:
    response = httpx.get(f"{emulator.url}/_emulator/meta/containers/{container_id}")
    response.raise_for_status()
    return response.json()


def rupload_bytes(emulator) -> int:
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    return sum(v["body_bytes"] for k, v in routes.items() if "/ig-api-upload/" in k)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_connection_settings(set_connection):
    set_connection("ig_prod", conn_type="chunkup_instagram", password="tok", extra={"ig_user_id": "42"})
    protocol = InstagramHook("ig_prod").get_conn()
    assert protocol.client.base_url.rstrip("/") == DEFAULT_BASE and protocol.version == "v23.0"
    assert protocol.capabilities.reports_committed and not protocol.capabilities.parallel_segments
    assert set(CONN_FIELDS) >= {"ig_user_id", "graph_version", "chunk_size"} and "password" in UI_FIELD_BEHAVIOUR[
        "relabeling"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"extra": {"ig_user_id": "42"}}, "access token"),
    ({"password": "t"}, "ig_user_id"),
    ({"password": "t", "extra": {"ig_user_id": "42", "graph_version": "23"}}, "graph_version"),
    ({"password": "t", "host": "http://graph.example.com", "extra": {"ig_user_id": "42"}}, "allow_insecure_http"),
])
def test_connection_errors(set_connection, fields, message):
    set_connection("ig_bad", conn_type="chunkup_instagram", **fields)
    with pytest.raises(ConfigurationError, match=message):
        InstagramHook("ig_bad").get_conn()


def test_reel_uploads_byte_exact_then_publishes_once(instagram_connection, media_file, emulator):
    instagram_connection(chunk_size=MiB)
    emulator.config.meta.processing_secs = 0
    path = media_file(3 * MiB + 5, "reel.mp4")
    hook = InstagramHook()
    result = hook.upload(str(path), options={"caption": "Launch #day", "share_to_feed": True})
    got = container(emulator, result.media_id)
    assert got["sha256"] == sha256(path) == result.sha256 and got["bytes"] == 3 * MiB + 5
    assert got["media_type"] == "REELS" and got["caption"] == "Launch #day"
    assert rupload_bytes(emulator) == 3 * MiB + 5  # each byte once
    assert hook.status(result.media_id).state == "succeeded"  # FINISHED: ready to publish
    published = hook.publish(result.media_id)
    assert published["id"] and not published["already_published"]
    assert container(emulator, result.media_id)["status_code"] == "PUBLISHED"
    again = hook.publish(result.media_id)  # a retried publish task: no second media_publish
    assert again["already_published"]
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["meta_published"] == 1
    assert hook.status(result.media_id, until="published").state == "succeeded"


def test_stories_container(instagram_connection, media_file, emulator):
    instagram_connection()
    path = media_file(100_000)
    result = InstagramHook().upload(str(path), options={"media_type": "STORIES"})
    assert container(emulator, result.media_id)["media_type"] == "STORIES"


def test_publish_before_finished_is_refused_with_the_state(instagram_connection, media_file, emulator):
    instagram_connection()
    emulator.config.meta.processing_secs = 3600
    result = InstagramHook().upload(str(media_file(2048)))
    status = InstagramHook().status(result.media_id)
    assert status.state == "in_progress"
    with pytest.raises(RemoteRejected, match=r"IN_PROGRESS.*not FINISHED"):
        InstagramHook().publish(result.media_id)


def test_processing_error_is_failed_with_instagrams_words(instagram_connection, media_file, emulator):
    instagram_connection()
    emulator.config.meta.processing_secs = 0
    emulator.config.meta.processing_failure_rate = 1.0
    result = InstagramHook().upload(str(media_file(4096)))
    status = InstagramHook().status(result.media_id)
    assert status.failed and status.error["code"] == "ERROR"
    assert "Error: the media could not be processed." in status.reason()


def test_expired_container_is_failed(instagram_connection, media_file, emulator):
    instagram_connection()
    emulator.config.meta.processing_secs = 3600
    emulator.config.meta.container_expiry_secs = 0
    result = InstagramHook().upload(str(media_file(4096)))
    status = InstagramHook().status(result.media_id)
    assert status.failed and status.error["code"] == "EXPIRED" and "24 hours" in status.reason()


def test_resume_after_a_cut_sends_only_what_the_server_lacked(instagram_connection, media_file, emulator):
    """A rupload body cut mid-way (one attempt allowed) fails the first call; the second, from the checkpoint, reads
    bytes_transferred and sends only the rest of the file."""
    instagram_connection(chunk_size=2 * MiB, retry_max_attempts=1)
    path = media_file(5 * MiB + 7)
    checkpoint = Checkpoint(MemoryStore())
    rule = {"match": r"POST /ig-api-upload/", "action": "drop", "when": "mid_body", "times": 1}
    httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
    with pytest.raises(Exception, match="rupload"):
        InstagramHook().upload(str(path), checkpoint=checkpoint)
    held = checkpoint.session()
    assert held is not None
    first = container(emulator, held.media_id)["bytes"]
    assert first < 2 * MiB  # the first request was cut: some of its bytes may have been kept
    sent_before = rupload_bytes(emulator)
    result = InstagramHook().upload(str(path), checkpoint=checkpoint)
    got = container(emulator, result.media_id)
    assert result.media_id == held.media_id and got["sha256"] == sha256(path) == result.sha256
    assert rupload_bytes(emulator) - sent_before == 5 * MiB + 7 - first  # nothing sent twice


def test_steps_as_separate_tasks(instagram_connection, media_file, emulator):
    instagram_connection(chunk_size=MiB)
    path = media_file(2 * MiB + 1)
    session = InstagramHook().init(str(path), options={"caption": "c"})
    session = InstagramHook().append(session.to_dict())
    result = InstagramHook().finalize(session.to_dict())
    assert container(emulator, result.media_id)["sha256"] == sha256(path)
    assert result.details["container_id"] == result.media_id


def test_bad_input_is_refused_before_any_request(instagram_connection, media_file, emulator):
    instagram_connection()
    path = str(media_file(10))
    cases = [({"caption": "x" * 2201}, "2201 characters; at most 2200"),
             ({"media_type": "IMAGE"}, "media_type 'IMAGE'"),
             ({"share_to_feed": "yes"}, "share_to_feed must be true or false"),
             ({"media_type": "STORIES", "share_to_feed": True}, "REELS only"),
             ({"title": "t"}, "not title"),
             ({"caption": "#a" * 31}, "31 hashtags")]
    for options, message in cases:
        with pytest.raises(ConfigurationError, match=message):
            InstagramHook().upload(path, options=options)
    assert httpx.get(f"{emulator.url}/_emulator/stats").json().get("meta_containers", 0) == 0


def test_wrong_token_fails_without_retry(instagram_connection, media_file):
    instagram_connection(password="not-the-token")
    with pytest.raises(AuthenticationFailed, match=r"190.*connection's password"):
        InstagramHook().upload(str(media_file(10)))


def test_test_connection(instagram_connection):
    instagram_connection()
    ok, message = InstagramHook().test_connection()
    assert ok, message
    instagram_connection(password="wrong-token")
    ok, message = InstagramHook().test_connection()
    assert not ok and "wrong-token" not in message and "190" in message
