"""The tus protocol against two tus servers written by others: @tus/server (Node) and resumable-upload (Python)."""

import base64
import hashlib

import httpx
import pytest
from tus_servers import Interrupted, Recorder, resumable_upload_server, tus_node_server, wait_for

from airflow_provider_chunkup.errors import ConfigurationError, RemoteRejected, UploadExpired
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSession, UploadSpec
from airflow_provider_chunkup.protocols.transfer import finish, open_upload, send_segments, upload
from airflow_provider_chunkup.protocols.tus import TusUpload, encode_metadata
from airflow_provider_chunkup.sources import ChunkSource

KB = 1024
FAST = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)


def protocol(server, recorder=None, **kwargs):
    return TusUpload(endpoint=server.url, transport=recorder or Recorder(), retry=FAST, **kwargs)


def spec(path, media_type="video/mp4", chunk_size=None, **options):
    return UploadSpec(total_bytes=path.stat().st_size, media_type=media_type, source=str(path),
                      chunk_size=chunk_size, options=options)


@pytest.mark.parametrize(("size", "chunk"), [(100 * KB, None), (1000 * KB + 7, 256 * KB), (512 * KB, 256 * KB)])
async def test_byte_exact(tus_server, media_file, size, chunk):
    path = media_file(size)
    recorder = Recorder()
    async with protocol(tus_server, recorder) as tus:
        result = await upload(tus, ChunkSource(path), spec(path, chunk_size=chunk))
    url = result.details["upload_url"]
    assert url.startswith("http://127.0.0.1:") and result.media_id == url.rsplit("/", 1)[-1]
    assert tus_server.stored(url) == path.read_bytes()
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and result.size == size
    patches = [s for s in recorder.sent if s.method == "PATCH"]
    assert len(patches) == -(-size // (chunk or 8 * KB * KB)) and recorder.patch_bytes() == size
    assert recorder.methods()[:2] == ["OPTIONS", "POST"] and recorder.methods()[-1] == "HEAD"
    assert all(s.headers.get("Tus-Resumable") == "1.0.0" for s in recorder.sent if s.method != "OPTIONS")
    assert all(s.headers["Content-Type"] == "application/offset+octet-stream" for s in patches)
    assert [int(s.headers["Upload-Offset"]) for s in patches] == list(range(0, size, chunk or size))


async def test_metadata_arrives(tus_server, media_file):
    path = media_file(10 * KB, "holiday clip.mp4")
    async with protocol(tus_server, metadata={"bucketName": "media", "flag": ""}) as tus:
        result = await upload(tus, ChunkSource(path), spec(path, metadata={"title": "Été"}))
    got = tus_server.metadata(result.details["upload_url"])
    assert got["filename"] == "holiday clip.mp4" and got["filetype"] == "video/mp4"
    assert got["bucketName"] == "media" and got["title"] == "Été" and got["flag"] == ""


async def test_no_empty_metadata_header(tus_node, tmp_path):
    path = tmp_path / "noname"
    path.write_bytes(b"x" * 100)
    recorder = Recorder()
    async with protocol(tus_node, recorder) as tus:
        result = await upload(tus, ChunkSource(path), UploadSpec(total_bytes=100, source=str(path)))
    post = next(s for s in recorder.sent if s.method == "POST")
    assert post.headers.get("Upload-Metadata") == encode_metadata({"filename": "noname"})
    assert tus_node.stored(result.details["upload_url"]) == b"x" * 100


async def test_checksums_where_announced(tus_node, tus_resumable, media_file):
    path = media_file(300 * KB)
    node, python = Recorder(), Recorder()
    async with protocol(tus_node, node) as tus:
        await upload(tus, ChunkSource(path), spec(path, chunk_size=128 * KB))
    async with protocol(tus_resumable, python, checksum="sha256") as tus:
        result = await upload(tus, ChunkSource(path), spec(path, chunk_size=128 * KB))
    assert not any("Upload-Checksum" in s.headers for s in node.sent)  # @tus/server announces no checksum
    patches = [s for s in python.sent if s.method == "PATCH"]
    assert all(s.headers["Upload-Checksum"].startswith("sha256 ") for s in patches)
    first = base64.b64encode(hashlib.sha256(path.read_bytes()[:128 * KB]).digest()).decode()
    assert patches[0].headers["Upload-Checksum"] == f"sha256 {first}"
    assert tus_resumable.stored(result.details["upload_url"]) == path.read_bytes()


async def test_sha1_by_default_and_an_unannounced_algorithm_refused(tus_resumable, media_file):
    path = media_file(10 * KB)
    recorder = Recorder()
    async with protocol(tus_resumable, recorder) as tus:
        await upload(tus, ChunkSource(path), spec(path))
    assert next(s for s in recorder.sent if s.method == "PATCH").headers["Upload-Checksum"].startswith("sha1 ")
    with pytest.raises(ConfigurationError, match="not one chunkup sends"):
        TusUpload(endpoint=tus_resumable.url, checksum="crc32")


async def test_checksum_mismatch_resends_the_chunk(tus_resumable, media_file):
    path = media_file(300 * KB)
    recorder = Recorder(corrupt={1})  # the second PATCH arrives altered: 460, discarded
    async with protocol(tus_resumable, recorder) as tus:
        result = await upload(tus, ChunkSource(path), spec(path, chunk_size=128 * KB))
    patches = [s for s in recorder.sent if s.method == "PATCH"]
    assert [s.status for s in patches] == [204, 460, 204, 204]
    assert patches[1].headers["Upload-Offset"] == patches[2].headers["Upload-Offset"] == str(128 * KB)
    assert tus_resumable.stored(result.details["upload_url"]) == path.read_bytes()


async def test_checksum_mismatch_every_time_fails_clearly(tus_resumable, media_file):
    path = media_file(100 * KB)
    recorder = Recorder(corrupt={0, 1, 2, 3, 4})
    async with protocol(tus_resumable, recorder) as tus:
        with pytest.raises(RemoteRejected, match=r"discarded the chunk 4 times .*checksum to none"):
            await upload(tus, ChunkSource(path), spec(path))
    assert recorder.patches == 4
    assert recorder.methods()[-1] == "DELETE"  # the unfinished upload is not left behind


async def partial_patch(server, url, data):
    """A PATCH of the first bytes of the file, as an earlier, killed try would have sent."""
    async with httpx.AsyncClient() as client:
        response = await client.patch(url, content=data, headers={
            "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
    assert response.status_code == 204 and response.headers["Upload-Offset"] == str(len(data))


@pytest.mark.parametrize("with_checkpoint", [True, False])
async def test_resume_from_a_non_aligned_offset_sends_only_the_missing_bytes(tus_server, media_file, with_checkpoint):
    path = media_file(1000 * KB + 3)
    chunk = 256 * KB
    held = 2 * chunk + 12345  # two whole segments and part of the third
    source = ChunkSource(path)
    async with protocol(tus_server) as tus:
        session = await open_upload(tus, spec(path, chunk_size=chunk), source)
    await partial_patch(tus_server, session.remote["url"], path.read_bytes()[:held])
    store = MemoryStore()
    checkpoint = Checkpoint(store)
    if with_checkpoint:  # a retried task finds what the killed one saved: the session, no segment recorded
        checkpoint.save_session(session)
    else:  # a later task gets the session from XCom
        session = UploadSession.from_dict(session.to_dict())
    recorder = Recorder()
    async with protocol(tus_server, recorder) as tus:
        if with_checkpoint:
            result = await upload(tus, source, spec(path, chunk_size=chunk), checkpoint=checkpoint)
        else:
            session = await send_segments(tus, session, source)
            result = await finish(tus, session, None)
    assert recorder.patch_bytes() == path.stat().st_size - held
    assert "POST" not in recorder.methods()
    patches = [s for s in recorder.sent if s.method == "PATCH"]
    assert [int(s.headers["Upload-Offset"]) for s in patches] == [held, 3 * chunk]
    assert tus_server.stored(result.details["upload_url"]) == path.read_bytes()


async def test_resume_after_a_patch_cut_mid_body(tus_server, media_file):
    """A worker killed in the middle of a PATCH: the server keeps what arrived; the retry sends the rest.

    Without checksums: with one, resumable-upload discards a cut body (its checksum cannot match).
    """
    path = media_file(600 * KB)
    chunk = 256 * KB
    source = ChunkSource(path)
    store = MemoryStore()
    cut = Recorder(cut={1: 100_001})
    async with protocol(tus_server, cut, checksum="none") as tus:
        with pytest.raises(Interrupted):
            await upload(tus, source, spec(path, chunk_size=chunk), checkpoint=Checkpoint(store),
                         abort_on_failure=False)
    url = Checkpoint(store).session().remote["url"]
    held = chunk + 100_001
    wait_for(lambda: tus_server.head(url).headers.get("Upload-Offset") == str(held), "the server to store the cut body")
    recorder = Recorder()
    async with protocol(tus_server, recorder, checksum="none") as tus:
        result = await upload(tus, source, spec(path, chunk_size=chunk), checkpoint=Checkpoint(store))
    assert recorder.patch_bytes() == path.stat().st_size - held
    assert tus_server.stored(result.details["upload_url"]) == path.read_bytes()


async def test_a_cut_body_with_a_checksum_is_discarded_and_sent_again_whole(tus_resumable, media_file):
    path = media_file(600 * KB)
    chunk = 256 * KB
    source = ChunkSource(path)
    store = MemoryStore()
    async with protocol(tus_resumable, Recorder(cut={1: 100_001})) as tus:
        with pytest.raises(Interrupted):
            await upload(tus, source, spec(path, chunk_size=chunk), checkpoint=Checkpoint(store),
                         abort_on_failure=False)
    recorder = Recorder()
    async with protocol(tus_resumable, recorder) as tus:
        result = await upload(tus, source, spec(path, chunk_size=chunk), checkpoint=Checkpoint(store))
    assert recorder.patch_bytes() == path.stat().st_size - chunk  # the cut chunk again, whole
    assert tus_resumable.stored(result.details["upload_url"]) == path.read_bytes()


async def test_connection_dropped_mid_patch_is_retried_from_the_server_offset(tus_node, media_file):
    """The network fails in the middle of a PATCH: a HEAD tells what the server kept, the retry sends the rest."""
    path = media_file(600 * KB)
    recorder = Recorder(cut={1: 50_000}, cut_error=httpx.WriteError)
    async with protocol(tus_node, recorder) as tus:
        result = await upload(tus, ChunkSource(path), spec(path, chunk_size=256 * KB))
    assert tus_node.stored(result.details["upload_url"]) == path.read_bytes()
    patches = [s for s in recorder.sent if s.method == "PATCH"]
    assert patches[1].status is None and patches[1].body_bytes == 50_000  # cut: no answer
    kept = int(patches[2].headers["Upload-Offset"]) - 256 * KB  # what the server kept of the cut body
    assert 0 < kept <= 50_000 and 409 not in [s.status for s in patches]
    assert recorder.methods()[recorder.methods().index("PATCH") + 2] == "HEAD"
    assert recorder.patch_bytes() == path.stat().st_size + 50_000 - kept


async def test_409_heads_and_continues_from_the_server_offset(tus_server, media_file):
    path = media_file(600 * KB)
    chunk = 256 * KB
    source = ChunkSource(path)
    async with protocol(tus_server) as tus:
        session = await open_upload(tus, spec(path, chunk_size=chunk), source)
    await partial_patch(tus_server, session.remote["url"], path.read_bytes()[:chunk + 5000])
    session.remote["offset"] = 0  # our record is stale: the first PATCH draws a 409
    recorder = Recorder()
    async with protocol(tus_server, recorder) as tus:
        tus.capabilities = tus.capabilities.__class__(parallel_segments=False)  # no committed(): try, 409, HEAD
        session = await send_segments(tus, session, source)
        result = await finish(tus, session, None)
    statuses = [(s.method, s.status) for s in recorder.sent]
    assert ("PATCH", 409) in statuses and statuses[statuses.index(("PATCH", 409)) + 1] == ("HEAD", 200)
    assert tus_server.stored(result.details["upload_url"]) == path.read_bytes()


async def test_termination(tus_server, media_file):
    path = media_file(600 * KB)
    source = ChunkSource(path)
    async with protocol(tus_server) as tus:
        session = await open_upload(tus, spec(path, chunk_size=256 * KB), source)
        await send_segments(tus, session, source, indexes=[0])
        assert tus.capabilities.abortable
        assert await tus.abort(session) is True
        assert tus_server.head(session.remote["url"]).status_code in (404, 410)
        with pytest.raises(UploadExpired, match=r"no longer has upload .*restart_expired"):
            await send_segments(tus, session, source)


async def test_expired_upload(tmp_path, media_file):
    path = media_file(300 * KB)
    source = ChunkSource(path)
    with tus_node_server(tmp_path / "node", expiration_ms=1000) as server:
        async with protocol(server) as tus:
            session = await open_upload(tus, spec(path, chunk_size=128 * KB), source)
            assert session.expires_at is not None
            wait_for(lambda: server.head(session.remote["url"]).status_code == 410, "the upload to expire")
            with pytest.raises(UploadExpired, match="expired or was deleted"):
                await send_segments(tus, session, source)


async def test_expired_upload_on_resumable_upload(tmp_path, media_file):
    path = media_file(300 * KB)
    source = ChunkSource(path)
    with resumable_upload_server(tmp_path / "py", expiry_seconds=1) as server:
        async with protocol(server) as tus:
            session = await open_upload(tus, spec(path, chunk_size=128 * KB), source)
            assert session.expires_at is not None
            wait_for(lambda: server.head(session.remote["url"]).status_code in (404, 410), "the upload to expire")
            with pytest.raises(UploadExpired):
                await send_segments(tus, session, source)


async def test_finalize_refuses_an_incomplete_upload(tus_server, media_file):
    path = media_file(600 * KB)
    source = ChunkSource(path)
    async with protocol(tus_server) as tus:
        session = await open_upload(tus, spec(path, chunk_size=256 * KB), source)
        await send_segments(tus, session, source, indexes=[0])
        with pytest.raises(RemoteRejected, match=f"holds {256 * KB} of {600 * KB} bytes"):
            await tus.finalize(session)


async def test_max_size_refused_before_creation(tmp_path, media_file):
    path = media_file(10 * KB)
    requests = []

    def options(request):
        requests.append(request.method)
        return httpx.Response(204, headers={"Tus-Version": "1.0.0", "Tus-Extension": "creation,termination",
                                            "Tus-Max-Size": "1000"})

    async with TusUpload(endpoint="http://127.0.0.1:9/files/", transport=httpx.MockTransport(options)) as tus:
        with pytest.raises(ConfigurationError, match="up to 1000 bytes"):
            await tus.init(spec(path))
    assert requests == ["OPTIONS"]


async def test_423_is_retried():
    answers = iter([httpx.Response(423), httpx.Response(204, headers={"Tus-Version": "1.0.0"})])
    async with TusUpload(endpoint="http://127.0.0.1:9/files/", retry=FAST,
                         transport=httpx.MockTransport(lambda request: next(answers))) as tus:
        server = await tus._discover()
    assert server["versions"] == ["1.0.0"]
    assert 423 in tus.client.retry.statuses and 400 not in tus.client.retry.statuses
