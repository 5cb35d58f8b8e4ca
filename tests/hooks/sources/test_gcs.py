"""gs:// sources read through a Google-style connection, on gcp-storage-emulator's real server on loopback."""

import hashlib
import http.server
import json
import os
import threading

import pytest

from airflow_provider_chunkup.errors import ConfigurationError, SourceError
from airflow_provider_chunkup.hooks.sources import storage_options_for
from airflow_provider_chunkup.hooks.sources.gcs import gcs_options
from airflow_provider_chunkup.hooks.x import XMediaUploadHook

MiB = 1024 * 1024


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


class DenyingGcs(http.server.BaseHTTPRequestHandler):
    """GCS's JSON API as an account without storage.objects.get sees it: 403 to every request."""

    def log_message(self, *args: object) -> None:
        pass

    def _deny(self) -> None:
        body = json.dumps({"error": {"code": 403, "message": "reader@chunkup.iam.gserviceaccount.com does not have "
                                     "storage.objects.get access to the Google Cloud Storage object.",
                                     "errors": [{"reason": "forbidden", "domain": "global"}]}}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = _deny


def test_gcs_forbidden_is_access_denied(set_connection, x_connection):
    from gcsfs import GCSFileSystem

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DenyingGcs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        GCSFileSystem.clear_instance_cache()
        set_connection("gcs_denied", conn_type="google_cloud_platform",
                       extra={"endpoint_url": f"http://127.0.0.1:{server.server_port}", "anon": True})
        x_connection()
        with pytest.raises(SourceError, match=r"gs://media/clip.mp4 cannot be read: the store denied access"):
            XMediaUploadHook().upload("gs://media/clip.mp4", source_conn_id="gcs_denied", media_type="video/mp4")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        GCSFileSystem.clear_instance_cache()
