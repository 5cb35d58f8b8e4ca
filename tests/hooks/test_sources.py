"""Sources read through Airflow connections: S3 on moto's real server, HTTP(S) with Range, on loopback."""

import hashlib
import http.server
import os
import threading

import fsspec
import pytest

from airflow_provider_chunkup.errors import ConfigurationError, SourceError
from airflow_provider_chunkup.hooks.sources import storage_options_for
from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.operators.upload import (
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)

MiB = 1024 * 1024


@pytest.fixture
def s3_object(s3_endpoint, s3_bucket):
    """One random object in the bucket, written in pieces; its URL, connection and sha256."""
    from s3fs import S3FileSystem

    fs = S3FileSystem(key="testing", secret="testing", client_kwargs={"endpoint_url": s3_endpoint,
                                                                      "region_name": "us-east-1"})
    data = os.urandom(9 * MiB + 11)
    with fs.open("media/clips/launch.mp4", "wb") as f:
        for start in range(0, len(data), 4 * MiB):
            f.write(data[start:start + 4 * MiB])
    return "s3://media/clips/launch.mp4", s3_bucket, hashlib.sha256(data).hexdigest()


def test_s3_source_through_the_split_tasks(s3_object, x_connection, received):
    url, source_conn, sha = s3_object
    x_connection(chunk_size=2 * MiB)
    session = ChunkUploadInitOperator(task_id="init", source=url, source_conn_id=source_conn).execute({})
    assert session["source_conn_id"] == source_conn and "testing" not in str(session)
    appended = ChunkUploadAppendOperator(task_id="append", session=session, max_in_flight=3).execute({})
    result = ChunkUploadFinalizeOperator(task_id="finalize", session=appended).execute({})
    assert result["sha256"] == sha == received(result["media_id"])["sha256"]


def test_s3_missing_object_is_named(s3_object, x_connection):
    _, source_conn, _ = s3_object
    x_connection()
    with pytest.raises(SourceError, match="does not exist"):
        XMediaUploadHook().upload("s3://media/clips/nope.mp4", source_conn_id=source_conn)


async def test_s3_connection_forms():
    from airflow.sdk import Connection

    from airflow_provider_chunkup.hooks import sources

    conn = Connection(conn_id="a", conn_type="aws", login="k", password="s")
    extra = {"region_name": "eu-west-1", "service_config": {"s3": {"endpoint_url": "http://127.0.0.1:9000"}},
             "aws_session_token": "tok"}
    assert sources._s3(conn, extra) == {"key": "k", "secret": "s", "token": "tok", "client_kwargs": {
        "endpoint_url": "http://127.0.0.1:9000", "region_name": "eu-west-1"}}
    keys_in_extra = Connection(conn_id="b", conn_type="aws")
    assert sources._s3(keys_in_extra, {"aws_access_key_id": "k2", "aws_secret_access_key": "s2"})["key"] == "k2"
    assert sources._s3(keys_in_extra, {"anon": True}) == {"client_kwargs": {}, "anon": True}


async def test_unknown_scheme_with_a_connection(set_connection):
    set_connection("some", conn_type="generic")
    with pytest.raises(ConfigurationError, match="only for"):
        await storage_options_for("ftp://host/file.mp4", "some")
    assert await storage_options_for("/local/file.mp4", None, {"x": 1}) == {"x": 1}


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with single-range GETs (206) and counts them, as object-store HTTP endpoints do."""

    ranges: list[str] = []
    token: str | None = None

    def log_message(self, *args):  # quiet
        pass

    def _authorized(self) -> bool:
        if self.token and self.headers.get("Authorization") != f"Bearer {self.token}":
            self.send_error(401)
            return False
        return True

    def do_HEAD(self):
        if self._authorized():
            super().do_HEAD()

    def do_GET(self):
        if not self._authorized():
            return
        header = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not header or not os.path.isfile(path):
            self.send_error(400, "ranged reads only")  # a whole-object read would be a bug
            return
        start, end = (int(x) for x in header.removeprefix("bytes=").split("-"))
        size = os.path.getsize(path)
        end = min(end, size - 1)
        type(self).ranges.append(header)
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def http_source(tmp_path):
    data = os.urandom(5 * MiB + 3)
    (tmp_path / "clip.mp4").write_bytes(data)
    RangeHandler.ranges = []
    handler = lambda *a, **k: RangeHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/clip.mp4", hashlib.sha256(data).hexdigest()
    server.shutdown()
    server.server_close()
    fsspec.filesystem("http").clear_instance_cache()


def test_http_source_one_ranged_get_per_chunk(http_source, x_connection, received, set_connection):
    url, sha = http_source
    RangeHandler.token = "reader-token"
    set_connection("web", conn_type="http", password="reader-token")
    x_connection(chunk_size=1 * MiB)
    try:
        result = XMediaUploadHook().upload(url, media_type="video/mp4", source_conn_id="web", max_in_flight=2)
    finally:
        RangeHandler.token = None
    assert result.sha256 == sha == received(result.media_id)["sha256"]
    assert len(RangeHandler.ranges) == 6  # 6 chunks, 6 GETs, each exactly one chunk
    assert RangeHandler.ranges[0] == "bytes=0-1048575"
