"""Sources read through Airflow connections: S3 on moto's real server, HTTP(S) with Range, on loopback."""

import hashlib
import json
import os

import fsspec
import pytest
from local_stores import range_http

from airflow_provider_chunkup.errors import ConfigurationError, SourceError
from airflow_provider_chunkup.hooks.sources import readable, storage_options_for
from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.operators.upload import (
    ChunkedUploadOperator,
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


@pytest.fixture
def http_source(tmp_path):
    """A 5 MiB file behind a Range-only HTTP server that wants a bearer token."""
    data = os.urandom(5 * MiB + 3)
    (tmp_path / "clip.mp4").write_bytes(data)
    with range_http(tmp_path, token="reader-token") as server:
        yield server, f"{server.url}/clip.mp4", hashlib.sha256(data).hexdigest()
    fsspec.filesystem("http").clear_instance_cache()


def test_http_source_one_ranged_get_per_chunk(http_source, x_connection, received, set_connection):
    server, url, sha = http_source
    set_connection("web", conn_type="http", password="reader-token")
    x_connection(chunk_size=1 * MiB)
    result = XMediaUploadHook().upload(url, media_type="video/mp4", source_conn_id="web", max_in_flight=2)
    assert result.sha256 == sha == received(result.media_id)["sha256"]
    assert len(server.ranges) == 6  # 6 chunks, 6 GETs, each exactly one chunk
    assert server.ranges[0] == "bytes=0-1048575"


def test_http_wrong_or_missing_token_is_access_denied(http_source, x_connection, set_connection):
    _, url, _ = http_source
    x_connection()
    set_connection("web_wrong", conn_type="http", password="not-the-token")
    for conn_id in ("web_wrong", None):
        with pytest.raises(SourceError, match=r"the store denied access .*source_conn_id") as e:
            XMediaUploadHook().upload(url, media_type="video/mp4", source_conn_id=conn_id)
        assert "not-the-token" not in str(e.value)


def test_s3_wrong_access_key_is_access_denied(s3rver_endpoint, set_connection, x_connection):
    """s3rver checks access keys (moto does not): a wrong key id is a 403 from the server."""
    fs = fsspec.filesystem("s3", key="S3RVER", secret="S3RVER", skip_instance_cache=True,
                           client_kwargs={"endpoint_url": s3rver_endpoint, "region_name": "us-east-1"})
    fs.pipe_file("media/denied.mp4", b"\0" * 1000)
    set_connection("s3_wrong", conn_type="aws", login="NOT-A-KEY", password="secret-value",
                   extra={"region_name": "us-east-1", "endpoint_url": s3rver_endpoint})
    x_connection()
    with pytest.raises(SourceError, match=r"s3://media/denied.mp4 cannot be read: the store denied access") as e:
        XMediaUploadHook().upload("s3://media/denied.mp4", media_type="video/mp4", source_conn_id="s3_wrong")
    assert "secret-value" not in str(e.value)


def test_s3_object_replaced_during_upload_is_detected(s3_object, s3_endpoint, x_connection):
    """Another writer shortens the object after the first segment: the upload stops and says why."""
    url, source_conn, _ = s3_object
    x_connection(chunk_size=2 * MiB)
    fs = fsspec.filesystem("s3", key="testing", secret="testing", skip_instance_cache=True,
                           client_kwargs={"endpoint_url": s3_endpoint, "region_name": "us-east-1"})

    def overwrite(done: int, total: int) -> None:
        if done and not fs.exists("media/clips/.replaced"):
            fs.pipe_file("media/clips/launch.mp4", b"\1" * (3 * MiB))
            fs.pipe_file("media/clips/.replaced", b"")

    with pytest.raises(SourceError, match="changed while it was being uploaded"):
        XMediaUploadHook().upload(url, media_type="video/mp4", source_conn_id=source_conn, max_in_flight=1,
                                  progress=overwrite)


def test_object_storage_path_with_conn_id_through_the_split_tasks(s3_object, x_connection, received):
    """With the amazon provider, Airflow's ObjectStoragePath (and its connection) is a source for every task."""
    from airflow.sdk import ObjectStoragePath

    url, source_conn, sha = s3_object
    x_connection(chunk_size=2 * MiB)
    session = ChunkUploadInitOperator(task_id="init", source=ObjectStoragePath(url, conn_id=source_conn)).execute({})
    assert session["source"] == "s3://minio@media/clips/launch.mp4" and session["source_conn_id"] is None
    appended = ChunkUploadAppendOperator(task_id="append", session=json.dumps(session), max_in_flight=2).execute({})
    result = ChunkUploadFinalizeOperator(task_id="finalize", session=appended).execute({})
    assert result["sha256"] == sha == received(result["media_id"])["sha256"]


def test_object_storage_string_form_in_one_task(s3_object, x_connection, received):
    _, source_conn, sha = s3_object
    x_connection(chunk_size=4 * MiB)
    result = ChunkedUploadOperator(task_id="upload", source=f"s3://{source_conn}@media/clips/launch.mp4",
                                   media_type="video/mp4").execute({})
    assert result["sha256"] == sha == received(result["media_id"])["sha256"]


async def test_object_storage_connection_given_twice_or_unserved(set_connection):
    with pytest.raises(ConfigurationError, match="Give the connection once"):
        await storage_options_for("s3://minio@media/clip.mp4", "minio")
    with pytest.raises(ConfigurationError, match=r"no installed provider serves gs:// .*source_conn_id"):
        readable("gs://gconn@media/clip.mp4")
    assert readable("https://user@host/clip.mp4") == "https://user@host/clip.mp4"  # a login, not a connection
    assert readable("s3://media/clip.mp4") == "s3://media/clip.mp4"
