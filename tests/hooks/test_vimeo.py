"""VimeoUploadHook against the emulator's Vimeo front door: uploads byte-exact, resume, transcode, abort, Test."""

import hashlib

import httpx
import pytest

from airflow_provider_chunkup.errors import AuthenticationFailed, ConfigurationError
from airflow_provider_chunkup.hooks.registry import hook_for_api, hook_for_connection
from airflow_provider_chunkup.hooks.vimeo import VimeoUploadHook
from airflow_provider_chunkup.protocols.vimeo import DEFAULT_BASE

MiB = 1024 * 1024


def video(emulator, media_id: str) -> dict:
    response = httpx.get(f"{emulator.url}/_emulator/vimeo/videos/{media_id}")
    response.raise_for_status()
    return response.json()


def test_connection_settings(set_connection):
    set_connection("vimeo_prod", conn_type="chunkup_vimeo", password="tok", extra={"chunk_size": 8 * MiB})
    hook = VimeoUploadHook("vimeo_prod")
    protocol = hook.get_conn()
    assert protocol.endpoint == DEFAULT_BASE and hook.chunk_size() == 8 * MiB
    assert protocol.capabilities.processes_media and protocol.capabilities.abortable
    assert not protocol.capabilities.parallel_segments
    assert isinstance(hook_for_api("vimeo", "vimeo_prod"), VimeoUploadHook)
    assert isinstance(hook_for_connection("vimeo_prod"), VimeoUploadHook)


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "access token"),
    ({"password": "t", "host": "http://vimeo.example.com"}, "allow_insecure_http"),
])
def test_connection_errors(set_connection, fields, message):
    set_connection("vimeo_bad", conn_type="chunkup_vimeo", **fields)
    with pytest.raises(ConfigurationError, match=message):
        VimeoUploadHook("vimeo_bad").get_conn()


def test_upload_end_to_end_then_transcode(vimeo_connection, media_file, emulator):
    vimeo_connection(chunk_size=MiB)
    emulator.config.vimeo.transcode_secs = 0.2
    path = media_file(3 * MiB + 5, "launch.mp4")
    hook = VimeoUploadHook()
    result = hook.upload(str(path), options={"name": "Launch", "privacy": "unlisted", "description": "d"})
    got = video(emulator, result.media_id)
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result.sha256
    assert got["name"] == "Launch" and result.size == 3 * MiB + 5
    assert result.details["uri"] == f"/videos/{result.media_id}"
    assert result.processing_status.state in ("in_progress", "succeeded")
    status = hook.status(result.media_id)
    while not status.done:  # the emulator's transcode clock: a fraction of a second
        assert status.state == "in_progress"
        status = hook.status(result.media_id)
    assert status.state == "succeeded"


def test_steps_as_separate_tasks_resume_from_the_servers_offset(vimeo_connection, media_file, emulator):
    """A PATCH cut mid-body keeps what arrived: the retry HEADs the link and sends only the rest."""
    vimeo_connection(chunk_size=MiB, retry_backoff_initial=0.01, retry_backoff_max=0.02)
    path = media_file(4 * MiB, "talk.mp4")
    session = VimeoUploadHook().init(str(path))
    rule = {"match": r"PATCH /vimeo/upload/\w+", "action": "drop", "when": "mid_body", "times": 1}
    httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
    session = VimeoUploadHook().append(session.to_dict())
    result = VimeoUploadHook().finalize(session.to_dict())
    assert video(emulator, result.media_id)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    stats = httpx.get(f"{emulator.url}/_emulator/stats").json()
    patched = sum(v["body_bytes"] for k, v in stats["routes"].items() if k.startswith("PATCH /vimeo/upload"))
    assert 4 * MiB < patched < 5 * MiB  # the cut chunk's rest only, not the whole chunk again


def test_abort_deletes_the_video(vimeo_connection, media_file, emulator):
    vimeo_connection(chunk_size=MiB)
    session = VimeoUploadHook().init(str(media_file(2 * MiB)))
    assert VimeoUploadHook().abort(session.to_dict())
    assert httpx.get(f"{emulator.url}/vimeo/videos/{session.media_id}",
                     headers={"Authorization": "Bearer vimeo-token"}).status_code == 404


def test_wrong_token_fails_without_retry(vimeo_connection, media_file):
    vimeo_connection(password="not-the-token")
    with pytest.raises(AuthenticationFailed, match="upload scope"):
        VimeoUploadHook().upload(str(media_file(10)))


def test_test_connection(vimeo_connection, emulator):
    vimeo_connection()
    ok, message = VimeoUploadHook().test_connection()
    assert ok, message
    vimeo_connection(password="wrong-token")
    ok, message = VimeoUploadHook().test_connection()
    assert not ok and "wrong-token" not in message and "401" in message
