"""ApiVideoHook: connection forms and auth kinds, and the split tasks against the emulator."""

import hashlib

import httpx
import pytest

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook
from airflow_provider_chunkup.protocols.apivideo import ApiVideoBearerAuth
from airflow_provider_chunkup.protocols.chunking import MiB


def test_defaults_to_production_with_basic_auth(set_connection):
    set_connection("av", conn_type="chunkup_apivideo", password="key")
    protocol = ApiVideoHook("av").get_conn()
    assert protocol.client.base_url == "https://ws.api.video"
    assert isinstance(protocol.client._client.auth, httpx.BasicAuth)
    assert protocol.mode == "part" and protocol.until == "playable"
    assert ApiVideoHook("av").max_in_flight() == 3


def test_sandbox_bearer_bytes(set_connection):
    set_connection("av", conn_type="chunkup_apivideo", password="key",
                   extra={"environment": "sandbox", "auth": "bearer", "upload_mode": "bytes", "until": "encoded"})
    protocol = ApiVideoHook("av").get_conn()
    assert protocol.client.base_url == "https://sandbox.api.video"
    assert isinstance(protocol.client._client.auth, ApiVideoBearerAuth)
    assert protocol.mode == "bytes" and protocol.until == "encoded"
    assert not protocol.capabilities.parallel_segments


def test_uri_form(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AV_URI", "chunkup-apivideo://:key@127.0.0.1:8787/http?upload_token=to123&chunk_size=6291456")
    hook = ApiVideoHook("av_uri")
    protocol = hook.get_conn()
    assert protocol.client.base_url == "http://127.0.0.1:8787"
    assert protocol.upload_token == "to123" and protocol.capabilities.opens_with_first_segment
    assert hook.chunk_size() == 6291456


def test_token_without_key_is_allowed(set_connection):
    set_connection("av", conn_type="chunkup_apivideo", extra={"upload_token": "to1"})
    protocol = ApiVideoHook("av").get_conn()
    assert protocol.client._client.auth is None and not protocol.capabilities.reports_committed


@pytest.mark.parametrize(("fields", "message"), [
    ({"conn_type": "chunkup_apivideo"}, "no password"),
    ({"conn_type": "chunkup_apivideo", "password": "k", "extra": {"environment": "staging"}}, "production or sandbox"),
    ({"conn_type": "chunkup_apivideo", "password": "k", "extra": {"auth": "oauth"}}, "basic or bearer"),
    ({"conn_type": "chunkup_apivideo", "password": "k", "extra": {"upload_mode": "chunks"}}, "upload_mode must be"),
    ({"conn_type": "chunkup_apivideo", "password": "k", "extra": {"until": "done"}}, "until must be"),
    ({"conn_type": "chunkup_x", "password": "k"}, "needs a 'chunkup_apivideo' connection"),
])
def test_connection_errors(set_connection, fields, message):
    set_connection("av_bad", **fields)
    with pytest.raises(ConfigurationError, match=message):
        ApiVideoHook("av_bad").get_conn()


def test_split_steps_send_the_last_part_at_finalize(apivideo_connection, media_file, emulator):
    conn_id = apivideo_connection(chunk_size=5 * MiB, max_in_flight=4)
    path = media_file(27 * MiB)
    hook = ApiVideoHook(conn_id)
    session = hook.init(str(path), options={"title": "split"})
    appended = hook.append(session)
    got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{session.media_id}").json()
    assert not got["complete"] and len(got["parts"]) == 5  # all but the last of 6
    result = ApiVideoHook(conn_id).finalize(appended.to_dict())
    got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{session.media_id}").json()
    assert got["complete"] and got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result.sha256
    assert result.details["assets"]["player"]


def test_token_mode_split_steps_get_the_video_id_at_init(apivideo_connection, media_file, emulator):
    token = httpx.post(f"{emulator.url}/upload-tokens", json={"ttl": 0}, auth=("chunkup-apivideo-key", "")).json()
    conn_id = apivideo_connection("av_token", password=None, upload_token=token["token"], chunk_size=5 * MiB)
    path = media_file(17 * MiB)  # 4 parts: init sends the first, append two, finalize the last
    hook = ApiVideoHook(conn_id)
    session = hook.init(str(path))
    assert session.media_id.startswith("vi") and session.acknowledged == 1  # in XCom before append runs
    appended = ApiVideoHook(conn_id).append(session.to_dict(), max_in_flight=2)
    result = ApiVideoHook(conn_id).finalize(appended.to_dict())
    got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result.media_id}").json()
    assert got["complete"] and got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result.sha256
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    assert routes["POST /upload"]["requests"] == 4
