"""ContentRangeUploadHook: connection forms, restart after expiry, the Test button (the steps: tests/contract)."""

import hashlib
import socket
from pathlib import Path

import httpx
import pytest

from airflow_provider_chunkup.errors import ConfigurationError, UploadExpired
from airflow_provider_chunkup.hooks.content_range import ContentRangeUploadHook


def test_selfcommunity_defaults(set_connection):
    set_connection("cr", conn_type="chunkup_content_range", host="community.example.com", password="tok")
    hook = ContentRangeUploadHook("cr")
    protocol = hook.get_conn()
    assert protocol.client.base_url == "https://community.example.com"
    assert protocol.chunk_path == "/api/v2/media/upload/chunk/"
    assert protocol.complete_path == "/api/v2/media/upload/complete/"
    assert protocol.limits.default_chunk_bytes == protocol.limits.max_chunk_bytes == 204800
    assert protocol.size_limits["image"] == 5 * 1024 * 1024 and protocol.size_limits["document"] == 50 * 1024 * 1024


def test_django_chunked_upload_site_in_uri_form(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_DJ",
        "chunkup-content-range://:tok@127.0.0.1:8000/http?chunk_path=api/chunked_upload/"
        "&complete_path=/api/chunked_upload_complete/&file_field=file&max_chunk_size=1048576&chunk_size=524288"
        "&size_limits=%7B%22file%22%3A+1073741824%7D",
    )
    hook = ContentRangeUploadHook("dj")
    protocol = hook.get_conn()
    assert protocol.client.base_url == "http://127.0.0.1:8000"
    assert protocol.chunk_path == "/api/chunked_upload/" and protocol.file_field == "file"
    assert protocol.limits.max_chunk_bytes == 1048576 and hook.chunk_size() == 524288
    assert protocol.size_limits["file"] == 1073741824


@pytest.mark.parametrize(("fields", "message"), [
    ({"conn_type": "chunkup_content_range", "password": "t"}, "no host"),
    ({"conn_type": "chunkup_content_range", "host": "https://c.example.com"}, "no password"),
    ({"conn_type": "chunkup_content_range", "host": "https://c.example.com", "password": "t",
      "extra": {"complete_type": "video"}}, "complete_type must be"),
    ({"conn_type": "chunkup_content_range", "host": "http://c.example.com", "password": "t"}, "allow_insecure_http"),
])
def test_connection_errors(set_connection, fields, message):
    set_connection("cr_bad", **fields)
    with pytest.raises(ConfigurationError, match=message):
        ContentRangeUploadHook("cr_bad").get_conn()


def test_expired_upload_fails_or_restarts_when_allowed(content_range_connection, media_file, emulator):
    path = media_file(700_000, "brochure.pdf")
    conn_id = content_range_connection()
    session = ContentRangeUploadHook(conn_id).init(str(path))
    httpx.post(f"{emulator.url}/_emulator/content-range/uploads/{session.media_id}/expire").raise_for_status()
    with pytest.raises(UploadExpired, match="expired"):
        ContentRangeUploadHook(conn_id).append(session.to_dict())
    conn_id = content_range_connection("cr_restart", restart_expired=True)
    fresh = ContentRangeUploadHook(conn_id).append(session.to_dict())
    assert fresh.media_id != session.media_id
    result = ContentRangeUploadHook(conn_id).finalize(fresh.to_dict())
    got = httpx.get(f"{emulator.url}/_emulator/content-range/uploads/{fresh.media_id}").json()
    assert got["complete"] and got["md5"] == result.md5 == hashlib.md5(path.read_bytes()).hexdigest()


# -- test_connection (the Airflow UI's Test button) -------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_test_connection_creates_nothing(content_range_connection, emulator):
    httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()
    ok, message = ContentRangeUploadHook(content_range_connection()).test_connection()
    assert ok, message
    assert message == (
        f"Authenticated to the Content-Range upload API ({emulator.url}): /api/v2/media/upload/chunk/ accepted the "
        "token and refused a chunk request without a file (HTTP 400: No chunk file was submitted), so nothing was "
        "uploaded.")
    # One request, without a body, answered 400; the server holds no upload, not even an empty one.
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    assert routes["POST /api/v2/media/upload/chunk/"] == {"requests": 1, "body_bytes": 0, "statuses": {"400": 1}}
    assert httpx.get(f"{emulator.url}/_emulator/content-range/uploads").json() == []
    assert not [p for p in Path(emulator.config.data_dir).rglob("*") if p.is_file()]


def test_test_connection_on_a_django_chunked_upload_site(content_range_connection, emulator):
    httpx.patch(f"{emulator.url}/_emulator/config", json={"content_range": {
        "chunk_path": "/api/chunked_upload/", "file_fields": ["file"]}}).raise_for_status()
    conn_id = content_range_connection(chunk_path="api/chunked_upload/", file_field="file")
    ok, message = ContentRangeUploadHook(conn_id).test_connection()
    assert ok and "/api/chunked_upload/ accepted the token" in message
    assert httpx.get(f"{emulator.url}/_emulator/content-range/uploads").json() == []


def test_test_connection_with_a_wrong_token(content_range_connection, emulator):
    wrong = "wrong-content-range-token"
    ok, message = ContentRangeUploadHook(content_range_connection(password=wrong)).test_connection()
    assert not ok
    assert message == ("Content-Range connection test (POST /api/v2/media/upload/chunk/ without a file) failed with "
                       "HTTP 401: Invalid token. Check the token in the connection's password (Bearer).")
    assert httpx.get(f"{emulator.url}/_emulator/content-range/uploads").json() == []


def test_test_connection_with_a_wrong_chunk_path(content_range_connection, emulator):
    ok, message = ContentRangeUploadHook(content_range_connection(chunk_path="/api/v2/upload/")).test_connection()
    assert not ok
    assert message == (f"{emulator.url} has no chunk endpoint at /api/v2/upload/ (HTTP 404 to POST). Check the "
                       "connection's host and chunk_path (SelfCommunity: /api/v2/media/upload/chunk/; a "
                       "django-chunked-upload site: its own URL).")


def test_test_connection_to_a_closed_port(set_connection):
    port = closed_port()
    token = "content-range-token-for-a-closed-port"
    set_connection("cr_closed", conn_type="chunkup_content_range", host=f"http://127.0.0.1:{port}", password=token)
    ok, message = ContentRangeUploadHook("cr_closed").test_connection()
    assert not ok
    assert message.startswith(f"Cannot reach http://127.0.0.1:{port}: ")
    assert "ConnectError" in message and "Check the connection's host and port" in message
    assert token not in message


def test_test_connection_reports_a_configuration_error(set_connection):
    set_connection("cr_nohost", conn_type="chunkup_content_range", password="content-range-token")
    ok, message = ContentRangeUploadHook("cr_nohost").test_connection()
    assert not ok and message.startswith("Connection 'cr_nohost' has no host")
