"""GcsDestinationHook: objects written byte-exact to gcp-storage-emulator (a GCS emulator nobody here wrote)."""

import base64
import hashlib

import httpx
import pytest

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.gcs_destination import GcsDestinationHook
from airflow_provider_chunkup.hooks.registry import hook_for_api, hook_for_connection

KiB, MiB = 1024, 1024 * 1024


@pytest.fixture
def bucket(gcs_endpoint, set_connection):
    """A bucket on gcp-storage-emulator and a chunkup_gcs connection to it (256 KiB chunks)."""
    name = "chunkup-dest"
    httpx.post(f"{gcs_endpoint}/storage/v1/b", params={"project": "p"}, json={"name": name})
    set_connection("gcs_dest", conn_type="chunkup_gcs", host=gcs_endpoint, password="any-token",
                   extra={"bucket": name, "prefix": "videos/", "chunk_size": 256 * KiB})
    return name


def stored(endpoint: str, bucket: str, name: str) -> bytes:
    response = httpx.get(f"{endpoint}/download/storage/v1/b/{bucket}/o/{name.replace('/', '%2F')}",
                         params={"alt": "media"})
    response.raise_for_status()
    return response.content


def test_connection_settings(set_connection):
    set_connection("gcs_prod", conn_type="chunkup_gcs", extra={"bucket": "b", "access_token": "t",
                                                                  "create_only": True})
    protocol = GcsDestinationHook("gcs_prod").get_conn()
    assert protocol.api_base == "https://storage.googleapis.com" and protocol.bucket == "b" and protocol.create_only
    assert protocol.capabilities.secret_session and protocol.capabilities.abortable
    assert not protocol.capabilities.parallel_segments
    assert isinstance(hook_for_api("gcs", "gcs_prod"), GcsDestinationHook)
    assert isinstance(hook_for_connection("gcs_prod"), GcsDestinationHook)


@pytest.mark.parametrize(("extra", "message"), [
    ({}, "no bucket"),
    ({"bucket": "b"}, "no credentials"),
    ({"bucket": "b", "access_token": "t", "key_path": "/k.json"}, "more than one"),
    ({"bucket": "b", "keyfile_dict": "{not json"}, "not valid JSON"),
    ({"bucket": "b", "access_token": "t", "chunk_size": 300 * KiB}, "multiples of 262144"),
])
def test_connection_errors(set_connection, extra, message):
    set_connection("gcs_bad", conn_type="chunkup_gcs", extra=extra)
    with pytest.raises(ConfigurationError, match=message):
        GcsDestinationHook("gcs_bad").get_conn()


def test_upload_byte_exact_with_checksums(bucket, gcs_endpoint, media_file):
    path = media_file(MiB + 5, "launch.mp4")
    result = GcsDestinationHook("gcs_dest").upload(str(path), options={"metadata": {"campaign": "launch"}})
    data = path.read_bytes()
    assert stored(gcs_endpoint, bucket, "videos/launch.mp4") == data
    assert result.media_id == f"{bucket}/videos/launch.mp4" and result.details["url"] == f"gs://{bucket}/videos/launch.mp4"
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.md5 == hashlib.md5(data).hexdigest()
    assert base64.b64decode(result.details["md5Hash"]).hex() == result.md5
    meta = httpx.get(f"{gcs_endpoint}/storage/v1/b/{bucket}/o/videos%2Flaunch.mp4").json()
    assert meta["metadata"] == {"campaign": "launch"} and meta["contentType"] == "video/mp4"


def test_one_chunk_object_and_explicit_name(bucket, gcs_endpoint, media_file):
    path = media_file(1000, "note.txt")
    result = GcsDestinationHook("gcs_dest").upload(str(path), options={"name": "docs/readme.txt",
                                                                       "content_type": "text/plain"})
    assert stored(gcs_endpoint, bucket, "docs/readme.txt") == path.read_bytes()
    assert result.details["name"] == "docs/readme.txt"


def test_the_split_init_task_is_refused_before_any_request(bucket, gcs_endpoint, media_file):
    from airflow_provider_chunkup.operators.resume import UploadFailedForGood
    from airflow_provider_chunkup.operators.upload import ChunkUploadInitOperator

    before = len(httpx.get(f"{gcs_endpoint}/storage/v1/b/{bucket}/o").json().get("items", []))
    with pytest.raises(UploadFailedForGood, match=r"session URI that is itself a credential.*ChunkedUploadOperator"):
        ChunkUploadInitOperator(task_id="init", conn_id="gcs_dest", source=str(media_file(10))).execute({})
    assert len(httpx.get(f"{gcs_endpoint}/storage/v1/b/{bucket}/o").json().get("items", [])) == before


def test_the_one_task_operator_keeps_the_session_uri_out_of_xcom(bucket, gcs_endpoint, media_file):
    import json

    from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator
    from airflow_provider_chunkup.protocols.checkpoint import MemoryStore

    store = MemoryStore()
    path = media_file(600 * KiB, "kept.mp4")
    xcom = ChunkedUploadOperator(task_id="upload", conn_id="gcs_dest", source=str(path)).execute(
        {"task_state_store": store})
    assert stored(gcs_endpoint, bucket, "videos/kept.mp4") == path.read_bytes()
    assert "upload_id" not in json.dumps(xcom) and "session_uri" not in json.dumps(xcom)
    assert store["chunkup.upload"]["result"]["media_id"] == xcom["media_id"]
