"""The Content-Range API's inspection endpoints, config (PATCH, live paths), stats, faults, reset and CLI."""

from __future__ import annotations

import pytest

from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args
from airflow_provider_chunkup.emulators.content_range import ContentRangeEmulatorConfig

from ..support import (
    CR_CHUNK,
    CR_COMPLETE,
    cr_chunk,
    cr_complete,
    cr_upload,
    inspect_cr,
    md5_hex,
    random_bytes,
    sha256,
)

CONTROL = "/_emulator/content-range"
UPLOAD_KEYS = {
    "upload_id", "field", "filename", "total", "offset", "status", "complete", "md5", "sha256",
    "created_at", "expires_at", "expired", "media_id", "chunks",
}  # fmt: skip


def test_defaults():
    config = ContentRangeEmulatorConfig()
    assert config.bearer_tokens == {"chunkup-content-range-token"}
    assert config.chunk_path == CR_CHUNK and config.complete_path == CR_COMPLETE
    assert config.file_fields == ["image", "document", "file"]
    assert config.max_chunk_bytes == 204800 and config.max_bytes is None
    assert config.size_limits == {"image": 5 * 1024 * 1024, "document": 50 * 1024 * 1024, "file": None}
    assert (config.expiration_secs, config.success_status, config.fail_if_no_header) == (86400, 201, False)


def test_inspect_and_list_newest_first(cr, anon):
    first = cr_chunk(cr, b"abc", "bytes 0-2/6", filename="a.png").json()["upload_id"]
    second = cr_upload(cr, b"xyz", field="document", filename="b.pdf")
    listing = anon.get(f"{CONTROL}/uploads").json()
    assert [u["upload_id"] for u in listing] == [second, first]
    info = inspect_cr(anon, first)
    assert set(info) == UPLOAD_KEYS
    assert info["field"] == "image" and info["filename"] == "a.png"
    assert (info["total"], info["offset"], info["chunks"]) == (6, 3, 1)
    assert info["md5"] == md5_hex(b"abc") and info["sha256"] == sha256(b"abc")  # of the bytes so far
    assert info["status"] == "uploading" and info["complete"] is False and info["media_id"] is None
    assert info["expires_at"] == pytest.approx(info["created_at"] + 86400) and info["expired"] is False


def test_media_inspection_and_file(cr, anon):
    data = random_bytes(1000)
    upload_id = cr_upload(cr, data, field="document", filename="notes.txt")
    media = cr_complete(cr, upload_id, md5_hex(data)).json()
    detail = anon.get(f"{CONTROL}/media/{media['id']}").json()
    assert detail == {**media, "upload_id": upload_id, "size": 1000}
    download = anon.get(f"{CONTROL}/media/{media['id']}/file")
    assert download.content == data and download.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/uploads/nope"),
        ("POST", "/uploads/nope/expire"),
        ("GET", "/media/99"),
        ("GET", "/media/abc"),
        ("GET", "/media/99/file"),
    ],
)
def test_control_404s(anon, method, path):
    response = anon.request(method, CONTROL + path)
    assert response.status_code == 404
    assert "error" in response.json()


def test_stats_and_faults_cover_the_api(cr, anon):
    anon.post("/_emulator/faults", json={"match": f"^POST {CR_CHUNK}$", "status": 503})
    response = cr_chunk(cr, b"abc", "bytes 0-2/3")
    assert response.status_code == 503
    assert anon.get(f"{CONTROL}/uploads").json() == []  # refused before the handler: nothing stored
    upload_id = cr_chunk(cr, b"abc", "bytes 0-2/3").json()["upload_id"]
    cr_complete(cr, upload_id, md5_hex(b"abc"))
    routes = anon.get("/_emulator/stats").json()["routes"]
    chunk = routes[f"POST {CR_CHUNK}"]
    assert chunk["requests"] == 2 and chunk["statuses"] == {"503": 1, "201": 1}
    assert chunk["body_bytes"] == 2 * int(response.request.headers["content-length"])
    assert routes[f"POST {CR_COMPLETE}"]["statuses"] == {"201": 1}


def test_reset_forgets_uploads_media_and_files(cr, anon, emulator):
    upload_id = cr_upload(cr, b"abc")
    media_id = cr_complete(cr, upload_id, md5_hex(b"abc")).json()["id"]
    anon.patch("/_emulator/config", json={"content_range": {"success_status": 200}})
    path = emulator.app.state.content_range.store.uploads[upload_id].path
    assert path.read_bytes() == b"abc"
    assert anon.post("/_emulator/reset").json() == {"ok": True}
    assert anon.get(f"{CONTROL}/uploads").json() == []
    assert anon.get(f"{CONTROL}/media/{media_id}").status_code == 404
    assert not path.exists()
    assert emulator.config.content_range.success_status == 201
    again = cr_upload(cr, b"def")
    assert cr_complete(cr, again, md5_hex(b"def")).json()["id"] == 1


def test_paths_move_with_the_config(cr, anon):
    """PATCH the paths to stock django-chunked-upload's example URLs: the routes follow at once."""
    patch = {"content_range": {"chunk_path": "/api/chunked_upload/", "complete_path": "/api/chunked_upload_complete/"}}
    assert anon.patch("/_emulator/config", json=patch).status_code == 200
    assert cr_chunk(cr, b"abc", "bytes 0-2/3").status_code == 404  # the old path is gone
    headers = {"Content-Range": "bytes 0-2/3"}
    response = cr.post("/api/chunked_upload/", files={"file": ("f.bin", b"abc")}, headers=headers)
    assert response.status_code == 201
    upload_id = response.json()["upload_id"]
    completed = cr.post("/api/chunked_upload_complete/", data={"upload_id": upload_id, "md5": md5_hex(b"abc")})
    assert completed.status_code == 201
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["POST /api/chunked_upload/"]["requests"] == 1
    assert routes["POST /api/chunked_upload_complete/"]["requests"] == 1


def test_config_patch_shows_and_changes_the_section(anon, emulator):
    section = anon.get("/_emulator/config").json()["content_range"]
    assert section["file_fields"] == ["image", "document", "file"]
    assert section["size_limits"] == {"image": 5242880, "document": 52428800, "file": None}
    patch = {"max_bytes": 1000, "size_limits": {"image": None, "file": 10}, "bearer_tokens": ["t1", "t2"]}
    response = anon.patch("/_emulator/config", json={"content_range": patch})
    assert response.status_code == 200, response.text
    config = emulator.config.content_range
    assert config.max_bytes == 1000 and config.size_limits == {"document": 52428800, "file": 10}
    assert config.bearer_tokens == {"t1", "t2"}
    anon.patch("/_emulator/config", json={"content_range": {"max_bytes": None}})
    assert config.max_bytes is None


@pytest.mark.parametrize(
    "patch",
    [
        {"success_status": 202},
        {"file_fields": []},
        {"file_fields": "image"},
        {"max_chunk_bytes": -1},
        {"max_chunk_bytes": "big"},
        {"max_bytes": "big"},
        {"max_bytes": 1.5},
        {"size_limits": {"image": "big"}},
        {"size_limits": {"image": -1}},
        {"chunk_path": "no-slash/"},
        {"chunk_path": "/_emulator/chunk/"},
        {"complete_path": "/api/v2/media/upload/chunk/"},
        {"expiration_secs": -1},
        {"fail_if_no_header": 1},
        {"nope": 1},
    ],
)
def test_bad_config_patch_changes_nothing(anon, patch):
    before = anon.get("/_emulator/config").json()
    response = anon.patch("/_emulator/config", json={"content_range": patch})
    assert response.status_code == 400 and "error" in response.json()
    assert anon.get("/_emulator/config").json() == before


def test_cli_options():
    args = build_parser().parse_args(
        ["--content-range-token", "a", "--content-range-token", "b", "--content-range-status", "200"]
    )
    config = config_from_args(args).content_range
    assert config.bearer_tokens == {"a", "b"} and config.success_status == 200
    defaults = config_from_args(build_parser().parse_args([])).content_range
    assert defaults.bearer_tokens == {"chunkup-content-range-token"} and defaults.success_status == 201
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--content-range-status", "202"])
