"""ApiVideoHook: connection forms and auth kinds, and the split tasks against the emulator."""

import hashlib
import logging
import socket
import uuid

import httpx
import pytest
from airflow.sdk._shared.secrets_masker import redact
from conftest import APIVIDEO_KEY

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


# -- test_connection (the Airflow UI's Test button) -------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def videos(emulator) -> list:
    return httpx.get(f"{emulator.url}/_emulator/apivideo/videos").json()


def upload_token(emulator) -> str:
    return httpx.post(f"{emulator.url}/upload-tokens", json={"ttl": 0}, auth=(APIVIDEO_KEY, "")).json()["token"]


@pytest.mark.parametrize(("auth", "route"), [("basic", "GET /videos/{videoId}"), ("bearer", "POST /auth/api-key")])
def test_test_connection_with_the_api_key(apivideo_connection, emulator, auth, route):
    httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()
    ok, message = ApiVideoHook(apivideo_connection(auth=auth)).test_connection()
    assert ok, message
    assert message == f"Authenticated to api.video ({emulator.url}) with the API key ({auth}" + (
        ")." if auth == "basic" else ": /auth/api-key gave a token).")
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    assert {name: r["requests"] for name, r in routes.items() if not name.startswith("GET /_emulator")} == {route: 1}
    assert videos(emulator) == []  # nothing created


@pytest.mark.parametrize(("auth", "status"), [("basic", "HTTP 401"), ("bearer", "HTTP 400")])
def test_test_connection_with_a_wrong_key(apivideo_connection, emulator, auth, status):
    wrong = "wrong-apivideo-key-1234"
    ok, message = ApiVideoHook(apivideo_connection(password=wrong, auth=auth)).test_connection()
    assert not ok
    assert status in message and message.endswith(
        "Check the API key in the connection's password: production and sandbox keys differ (a sandbox key needs "
        "extra environment=sandbox).")
    assert wrong not in message


@pytest.mark.parametrize("auth", ["basic", "bearer"])
def test_test_connection_with_key_and_upload_token(apivideo_connection, emulator, auth):
    token = upload_token(emulator)
    ok, message = ApiVideoHook(apivideo_connection(auth=auth, upload_token=token)).test_connection()
    assert ok, message
    assert f"with the API key ({auth}); the delegated upload token exists (no expiry)" in message
    assert token not in message
    gone = "to" + "X" * 22
    ok, message = ApiVideoHook(apivideo_connection("av_gone", auth=auth, upload_token=gone)).test_connection()
    assert not ok
    assert "has no upload token like the one in the extra upload_token (HTTP 404)" in message
    assert gone not in message  # the emulator's 404 names the token; the message does not
    ok, message = ApiVideoHook(apivideo_connection("av_both_wrong", password="nope-key", auth=auth,
                                                   upload_token=token)).test_connection()
    assert not ok and "Check the API key" in message and "nope-key" not in message and token not in message
    assert videos(emulator) == []


def test_test_connection_with_only_an_upload_token(apivideo_connection, emulator):
    token = upload_token(emulator)
    httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()
    ok, message = ApiVideoHook(apivideo_connection(password=None, upload_token=token)).test_connection()
    assert ok, message
    assert message.startswith(f"Authenticated to api.video ({emulator.url}) with the delegated upload token")
    assert "HTTP 400 uploaded-file-no-file" in message and "nothing was created" in message
    assert token not in message
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    assert routes["POST /upload"] == {"requests": 1, "body_bytes": 0, "statuses": {"400": 1}}
    assert videos(emulator) == []  # the token created no video
    httpx.delete(f"{emulator.url}/upload-tokens/{token}", auth=(APIVIDEO_KEY, "")).raise_for_status()
    ok, message = ApiVideoHook(apivideo_connection(password=None, upload_token=token)).test_connection()
    assert not ok
    assert "refused the delegated upload token with HTTP 401 (The upload token is invalid or expired)" in message
    assert "Check the extra upload_token" in message and token not in message


def test_test_connection_to_a_closed_port(set_connection):
    port = closed_port()
    set_connection("av_closed", conn_type="chunkup_apivideo", host=f"http://127.0.0.1:{port}", password=APIVIDEO_KEY)
    ok, message = ApiVideoHook("av_closed").test_connection()
    assert not ok
    assert message.startswith(f"Cannot reach api.video at http://127.0.0.1:{port}: ")
    assert "ConnectError" in message and "Check the connection's host and port" in message
    assert APIVIDEO_KEY not in message


def test_test_connection_names_the_environment(set_connection, monkeypatch):
    def unknown(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, f"test refuses to resolve {host}")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)  # nothing leaves the host
    set_connection("av_sandbox", conn_type="chunkup_apivideo", password=APIVIDEO_KEY, extra={"environment": "sandbox"})
    hook = ApiVideoHook("av_sandbox")
    assert hook._where(hook.get_conn()) == "sandbox"
    ok, message = hook.test_connection()
    assert not ok and message.startswith("Cannot reach api.video at https://sandbox.api.video: ")
    assert "test refuses to resolve" in message and "sandbox.api.video" in message


def test_test_connection_to_something_else(set_connection, emulator):
    # The emulator's own 404 for an unknown path is not api.video's problem document: not taken for "authenticated".
    set_connection("av_elsewhere", conn_type="chunkup_apivideo", host=f"{emulator.url}/elsewhere",
                   password=APIVIDEO_KEY)
    ok, message = ApiVideoHook("av_elsewhere").test_connection()
    assert not ok
    assert "answered the connection test with HTTP 404, not as api.video does" in message
    assert "Check that the connection's host is the API's base URL" in message


def test_test_connection_reports_a_configuration_error(set_connection):
    set_connection("av_typo", conn_type="chunkup_apivideo", password=APIVIDEO_KEY, extra={"auth": "oauth"})
    assert ApiVideoHook("av_typo").test_connection() == (
        False, "Connection 'av_typo': auth must be basic or bearer, got 'oauth'.")


@pytest.mark.parametrize("credentials", ["basic", "bearer", "token", "wrong token"])
def test_test_connection_logs_no_secret(apivideo_connection, emulator, caplog, credentials):
    caplog.set_level(logging.DEBUG)
    key, token = f"key-{uuid.uuid4().hex}", upload_token(emulator)
    emulator.config.apivideo.api_keys.add(key)
    if credentials in ("basic", "bearer"):
        conn_id = apivideo_connection(password=key, auth=credentials)
    else:
        conn_id = apivideo_connection(password=None, upload_token=token if credentials == "token" else f"to{key}")
    ok, message = ApiVideoHook(conn_id).test_connection()
    assert ok == (credentials != "wrong token"), message
    secrets = [key, token, f"to{key}"]
    assert not [s for s in secrets if s in message]
    records = [(r.name, r.getMessage()) for r in caplog.records]
    assert any(name.startswith("httpcore") for name, _ in records)  # the requests were traced
    for name, line in records:
        if "airflow_provider_chunkup" in name:
            assert not [s for s in secrets if s in line], line
        assert not [s for s in secrets if s in redact(line)], (name, redact(line))  # Airflow's masker hides it
