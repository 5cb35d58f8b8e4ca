"""ContentRangeUploadHook: connection forms, the split steps, restart after expiry."""

import hashlib

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


def test_split_steps(content_range_connection, media_file, emulator):
    conn_id = content_range_connection()
    path = media_file(1_000_000, "brochure.pdf")
    session = ContentRangeUploadHook(conn_id).init(str(path))
    assert session.media_id and session.acknowledged == 1  # init sent the first chunk: upload_id in XCom
    got = httpx.get(f"{emulator.url}/_emulator/content-range/uploads/{session.media_id}").json()
    assert got["offset"] == 204800
    appended = ContentRangeUploadHook(conn_id).append(session.to_dict())
    result = ContentRangeUploadHook(conn_id).finalize(appended.to_dict())
    assert result.md5 == hashlib.md5(path.read_bytes()).hexdigest()
    assert result.details["upload_id"] == session.media_id and result.media_id


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
