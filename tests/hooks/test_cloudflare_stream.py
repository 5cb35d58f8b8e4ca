"""CloudflareStreamHook against the emulator's Stream API: token and direct creator uploads, encode, abort, Test."""

import hashlib

import httpx
import pytest

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.cloudflare_stream import CloudflareStreamHook
from airflow_provider_chunkup.hooks.registry import hook_for_api, hook_for_connection

MiB = 1024 * 1024


def stored(emulator, uid: str) -> dict:
    response = httpx.get(f"{emulator.url}/_emulator/cloudflare_stream/videos/{uid}")
    response.raise_for_status()
    return response.json()


def test_connection_settings(set_connection):
    set_connection("cf_prod", conn_type="chunkup_cloudflare_stream", login="acc", password="tok",
                   extra={"chunk_size": 10 * MiB, "until": "playable"})
    hook = CloudflareStreamHook("cf_prod")
    protocol = hook.get_conn()
    assert protocol.endpoint == "https://api.cloudflare.com/client/v4/accounts/acc/stream"
    assert protocol.until == "playable" and hook.chunk_size() == 10 * MiB
    assert isinstance(hook_for_api("cloudflare_stream", "cf_prod"), CloudflareStreamHook)
    assert isinstance(hook_for_connection("cf_prod"), CloudflareStreamHook)


@pytest.mark.parametrize(("fields", "message"), [
    ({"password": "t"}, "account id"),
    ({"login": "a", "extra": {"chunk_size": 3 * MiB}}, "multiples of 262144"),
    ({"login": "a", "extra": {"until": "soon"}}, "until must be"),
])
def test_connection_errors(set_connection, fields, message):
    set_connection("cf_bad", conn_type="chunkup_cloudflare_stream", **fields)
    with pytest.raises(ConfigurationError, match=message):
        CloudflareStreamHook("cf_bad").get_conn()


def test_upload_end_to_end_then_ready(cloudflare_connection, media_file, emulator):
    cloudflare_connection(chunk_size=5 * MiB)
    emulator.config.cloudflare_stream.queued_secs = 0.1
    emulator.config.cloudflare_stream.encode_secs = 0.2
    path = media_file(11 * MiB + 7, "launch.mp4")
    hook = CloudflareStreamHook()
    result = hook.upload(str(path), options={"name": "Launch", "maxdurationseconds": 600, "meta": {"team": "p"}})
    got = stored(emulator, result.media_id)
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result.sha256
    assert got["meta"]["name"] == "Launch" and len(result.media_id) == 32
    status = hook.status(result.media_id)
    while not status.done:
        assert status.state in ("pending", "in_progress")
        status = hook.status(result.media_id)
    assert status.state == "succeeded" and status.progress_percent == 100


def test_direct_creator_upload_without_a_token(cloudflare_connection, media_file, emulator):
    cloudflare_connection()
    cloudflare_connection("cf_uploader", password=None, chunk_size=5 * MiB)
    path = media_file(6 * MiB, "field.mp4")
    made = CloudflareStreamHook().create_direct_upload(6 * MiB, {"name": "From the field"}, creator="me")
    result = CloudflareStreamHook("cf_uploader").upload(str(path), options={"upload_url": made["upload_url"]})
    assert result.media_id == made["uid"]
    got = stored(emulator, made["uid"])
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ConfigurationError, match="needs an API token"):
        CloudflareStreamHook("cf_uploader").status(made["uid"])


def test_abort_deletes_the_video(cloudflare_connection, media_file, emulator):
    cloudflare_connection(chunk_size=5 * MiB)
    session = CloudflareStreamHook().init(str(media_file(6 * MiB)))
    assert CloudflareStreamHook().abort(session.to_dict())
    response = httpx.get(f"{emulator.url}/client/v4/accounts/x/stream/{session.media_id}",
                         headers={"Authorization": "Bearer cf-token"})
    assert response.status_code == 404


def test_test_connection(cloudflare_connection, emulator):
    cloudflare_connection()
    ok, message = CloudflareStreamHook().test_connection()
    assert ok, message
    cloudflare_connection(password="wrong-token")
    ok, message = CloudflareStreamHook().test_connection()
    assert not ok and "wrong-token" not in message and "Authentication error" in message
