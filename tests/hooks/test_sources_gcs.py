"""gs:// sources read through a Google-style connection, on gcp-storage-emulator's real server on loopback."""

import hashlib
import json
import os
import socket
import threading
import urllib.request

import pytest

from airflow_provider_chunkup.errors import ConfigurationError, SourceError
from airflow_provider_chunkup.hooks.sources import storage_options_for
from airflow_provider_chunkup.hooks.sources_gcs import gcs_options
from airflow_provider_chunkup.hooks.x import XMediaUploadHook

MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gcs_endpoint():
    """gcp-storage-emulator in this process (its API thread), in memory; stopped after the module."""
    from gcp_storage_emulator.server import create_server
    from gcsfs import GCSFileSystem

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(f"{endpoint}/storage/v1/b", timeout=10) as response:  # up and answering
        assert response.status == 200
    yield endpoint
    server.stop()  # shuts the HTTP server down (its API thread's join() only does that, without waiting)
    threading.Thread.join(server._api, timeout=10)
    assert not server._api.is_alive()
    GCSFileSystem.clear_instance_cache()


@pytest.fixture
def gcs_object(gcs_endpoint, set_connection):
    """A bucket with one random object, and a google_cloud_platform connection (anonymous) to read it."""
    from gcsfs import GCSFileSystem

    GCSFileSystem.clear_instance_cache()
    fs = GCSFileSystem(token="anon", endpoint_url=gcs_endpoint, project="chunkup-test", retry_timeout=0.0)
    if not fs.exists("media"):
        fs.mkdir("media")
    data = os.urandom(9 * MiB + 11)
    with fs.open("media/clips/clip.mp4", "wb") as f:
        for start in range(0, len(data), 4 * MiB):
            f.write(data[start:start + 4 * MiB])
    conn_id = set_connection("gcs_emulator", conn_type="google_cloud_platform",
                             extra={"endpoint_url": gcs_endpoint, "anon": True, "project": "chunkup-test"})
    yield "gs://media/clips/clip.mp4", conn_id, hashlib.sha256(data).hexdigest()
    GCSFileSystem.clear_instance_cache()


def test_gcs_source_uploads(gcs_object, x_connection, received):
    url, source_conn, sha = gcs_object
    x_connection(chunk_size=2 * MiB)
    result = XMediaUploadHook().upload(url, source_conn_id=source_conn, media_type="video/mp4", max_in_flight=3)
    assert result.sha256 == sha == received(result.media_id)["sha256"]
    assert received(result.media_id)["size"] == 9 * MiB + 11


def test_gcs_missing_object_is_named(gcs_object, x_connection):
    _, source_conn, _ = gcs_object
    x_connection()
    with pytest.raises(SourceError, match="does not exist"):
        XMediaUploadHook().upload("gs://media/clips/nope.mp4", source_conn_id=source_conn, media_type="video/mp4")


async def test_gcs_storage_options_through_the_connection(gcs_endpoint, set_connection):
    set_connection("gcs_anon", conn_type="google_cloud_platform", extra={"endpoint_url": gcs_endpoint, "anon": True})
    assert await storage_options_for("gcs://media/a.mp4", "gcs_anon", {"requester_pays": True}) == {
        "token": "anon", "endpoint_url": gcs_endpoint, "retry_timeout": 0.0, "requester_pays": True}


KEYFILE = {"type": "service_account", "project_id": "p", "private_key_id": "id", "client_email": "a@p.iam"}


def test_gcs_connection_forms():
    from airflow.sdk import Connection

    conn = Connection(conn_id="g", conn_type="google_cloud_platform")
    assert gcs_options(conn, {"keyfile_dict": json.dumps(KEYFILE), "project": "p"}) == {"token": KEYFILE,
                                                                                        "project": "p"}
    assert gcs_options(conn, {"keyfile_dict": KEYFILE}) == {"token": KEYFILE}
    assert gcs_options(conn, {"extra__google_cloud_platform__key_path": "/keys/sa.json",
                              "extra__google_cloud_platform__project": "p2"}) == {"token": "/keys/sa.json",
                                                                                  "project": "p2"}
    assert gcs_options(conn, {"anon": True, "endpoint_url": "http://127.0.0.1:9023/"}) == {
        "token": "anon", "endpoint_url": "http://127.0.0.1:9023", "retry_timeout": 0.0}
    assert gcs_options(conn, {}) == {}  # Application Default Credentials, found by gcsfs
    on_host = Connection(conn_id="h", conn_type="google_cloud_platform", host="127.0.0.1", port=9023)
    assert gcs_options(on_host, {"anon": True}) == {"token": "anon", "endpoint_url": "http://127.0.0.1:9023",
                                                    "retry_timeout": 0.0}
    url_host = Connection(conn_id="u", conn_type="google_cloud_platform", host="https://gcs.internal:4443")
    assert gcs_options(url_host, {}) == {"endpoint_url": "https://gcs.internal:4443", "retry_timeout": 0.0}


def test_gcs_connection_errors():
    from airflow.sdk import Connection

    conn = Connection(conn_id="g", conn_type="google_cloud_platform")
    with pytest.raises(ConfigurationError, match="both keyfile_dict and key_path"):
        gcs_options(conn, {"keyfile_dict": KEYFILE, "key_path": "/keys/sa.json"})
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        gcs_options(conn, {"keyfile_dict": "{not json"})
    with pytest.raises(ConfigurationError, match="key_secret_name"):
        gcs_options(conn, {"key_secret_name": "sa-key"})
