"""tus concatenation: parallel partial uploads joined by a final upload, against resumable-upload and the emulator,
and the fall back to in order where a server does not announce it (@tus/server, the emulator with it turned off)."""

import hashlib

import httpx
import pytest
from tus_servers import Interrupted, Recorder, Together, TusServer, wait_for

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import UploadSession, UploadSpec
from airflow_provider_chunkup.protocols.transfer import finish, open_upload, send_segments, upload
from airflow_provider_chunkup.protocols.tus import CONCAT_HEADER_LIMIT, MAX_PARTS, TusUpload
from airflow_provider_chunkup.sources import ChunkSource

KB = 1024
FAST = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
CONTROL = "/_emulator/tus/uploads"


def protocol(url, recorder=None, max_in_flight=3, **kwargs):
    return TusUpload(endpoint=url, transport=recorder or Recorder(), retry=FAST, max_in_flight=max_in_flight, **kwargs)


def spec(path, chunk_size=None, **options):
    return UploadSpec(total_bytes=path.stat().st_size, media_type="video/mp4", source=str(path),
                      chunk_size=chunk_size, options=options)


class EmulatedTus:
    """The emulator's generic tus server, read through its inspection endpoints."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        self.url = f"{emulator.url}/files/"

    def uploads(self) -> list[dict]:
        return httpx.get(f"{self.emulator.url}{CONTROL}").json()

    def upload(self, url: str) -> dict:
        return httpx.get(f"{self.emulator.url}{CONTROL}/{url.rstrip('/').rsplit('/', 1)[-1]}").json()

    def writing(self) -> int:
        """Uploads a request is writing to right now."""
        return sum(u["patching"] for u in self.uploads())


@pytest.fixture
def emulated(emulator) -> EmulatedTus:
    return EmulatedTus(emulator)


@pytest.fixture(params=["resumable-upload", "emulator"])
def concat_server(request):
    """A server announcing concatenation: resumable-upload 0.3.0, or the emulator's tus server."""
    if request.param == "emulator":
        return request.getfixturevalue("emulated")
    return request.getfixturevalue("tus_resumable")


def stored_final(server, url: str, path) -> None:
    """The final upload is one object holding exactly the file."""
    data = path.read_bytes()
    if isinstance(server, TusServer):
        assert server.stored(url) == data
        assert server.head(url).headers["Upload-Concat"].startswith("final;")
    else:
        final = server.upload(url)
        assert final["concat"] == "final" and final["complete"] and final["size"] == len(data)
        assert final["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("checksum", [None, "none"])
async def test_parts_go_in_parallel_and_join_byte_exact(concat_server, media_file, checksum):
    """Three parts on the wire at once (held there until they are); the final upload is the file, byte for byte.

    With a checksum (sha1, announced by both) each part is created empty then PATCHed; without one, its bytes go
    in the creation request (creation-with-upload). Parts are larger than the 256 KiB pieces a body is sent in, so
    each is held half-sent.
    """
    path = media_file(3000 * KB + 7)
    chunk = 384 * KB
    seen: list[int] = []
    watch = None
    if isinstance(concat_server, EmulatedTus):  # the server's own view: three uploads being written at once
        def watch() -> None:
            wait_for(lambda: concat_server.writing() >= 3, "the emulator to write three parts at once")
            seen.append(concat_server.writing())
    recorder = Together(count=3, on_together=watch)
    async with protocol(concat_server.url, recorder, checksum=checksum) as tus:
        result = await upload(tus, ChunkSource(path), spec(path, chunk_size=chunk), max_in_flight=3)
        assert tus.capabilities.parallel_segments
    assert recorder.most_held == 3 and (seen == [3] or isinstance(concat_server, TusServer))
    url = result.details["upload_url"]
    stored_final(concat_server, url, path)
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and result.size == path.stat().st_size
    posts = [s for s in recorder.sent if s.method == "POST"]
    partials, finals = posts[:-1], posts[-1:]
    assert len(partials) == 8 and all(s.headers["Upload-Concat"] == "partial" for s in partials)
    assert sorted(int(s.headers["Upload-Length"]) for s in partials) == [3000 * KB + 7 - 7 * chunk] + [chunk] * 7
    concat = finals[0].headers["Upload-Concat"]
    assert concat.startswith("final;/files/") and "Upload-Length" not in finals[0].headers
    assert "http" not in concat and len(concat.split(" ")) == 8  # paths, as short as the spec allows
    assert finals[0].headers["Upload-Metadata"]  # filename and filetype go on the final upload
    with_body = checksum == "none"
    assert all((s.body_bytes > 0) == with_body for s in partials)
    patches = [s for s in recorder.sent if s.method == "PATCH"]
    assert len(patches) == (0 if with_body else 8)
    assert all(s.headers["Upload-Checksum"].startswith("sha1 ") for s in patches)
    assert recorder.body_bytes() == path.stat().st_size


async def test_the_final_upload_takes_the_metadata(tus_resumable, media_file):
    path = media_file(300 * KB, "talk.mp4")
    async with protocol(tus_resumable.url, metadata={"bucketName": "media"}) as tus:
        result = await upload(tus, ChunkSource(path), spec(path, chunk_size=128 * KB, metadata={"title": "t"}))
    metadata = tus_resumable.metadata(result.details["upload_url"])
    assert {k: metadata[k].strip() for k in ("bucketName", "title", "filename", "filetype")} == {
        "bucketName": "media", "title": "t", "filename": "talk.mp4", "filetype": "video/mp4"}


@pytest.mark.parametrize("where", ["@tus/server", "emulator without concatenation", "max_in_flight=1"])
async def test_without_concatenation_segments_go_in_order(where, tus_node, tus_resumable, emulated, media_file):
    path = media_file(600 * KB)
    if where == "@tus/server":
        url = tus_node.url
    elif where == "max_in_flight=1":
        url = tus_resumable.url
    else:
        emulated.emulator.config.tus.extensions = ["creation", "creation-with-upload", "termination", "checksum"]
        url = emulated.url
    recorder = Recorder()
    async with protocol(url, recorder, max_in_flight=1 if where == "max_in_flight=1" else 4) as tus:
        result = await upload(tus, ChunkSource(path), spec(path, chunk_size=128 * KB))
        capabilities = tus.capabilities
    assert not capabilities.parallel_segments
    assert "concatenation" in capabilities.in_order_because
    if where == "@tus/server":
        assert "does not announce the concatenation extension" in capabilities.in_order_because
    assert not any("Upload-Concat" in s.headers for s in recorder.sent)
    patches = [s for s in recorder.sent if s.method == "PATCH"]
    assert {s.url for s in patches} == {result.details["upload_url"]}
    assert [int(s.headers["Upload-Offset"]) for s in patches] == list(range(0, 600 * KB, 128 * KB))
    data = path.read_bytes()
    if where == "@tus/server":
        assert tus_node.stored(result.details["upload_url"]) == data
    elif where == "max_in_flight=1":
        assert tus_resumable.stored(result.details["upload_url"]) == data
    else:
        assert emulated.upload(result.details["upload_url"])["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("checksum", [None, "none"])
async def test_a_killed_upload_resumes_sending_at_most_the_segments_in_flight(concat_server, media_file, checksum):
    """The third body is cut (a killed worker): the retry sends no acknowledged segment again, and at most the
    two that were in flight; a part whose URL was recorded is resumed from its HEAD."""
    path = media_file(1024 * KB)
    chunk = 128 * KB
    source = ChunkSource(path)
    store = MemoryStore()
    first = Recorder(cut={2: 50_000}, bodies=("PATCH", "POST"))
    async with protocol(concat_server.url, first, max_in_flight=2, checksum=checksum) as tus:
        with pytest.raises(Interrupted):
            await upload(tus, source, spec(path, chunk_size=chunk), checkpoint=Checkpoint(store),
                         abort_on_failure=False, max_in_flight=2)
    killed = UploadSession.from_dict(Checkpoint(store).session().to_dict())  # a copy: the retry updates the store's
    acknowledged = killed.stored_segments()
    started = {url for url in killed.remote["parts"].values()}
    assert len(acknowledged) >= 1 and len(killed.remote["parts"]) <= len(acknowledged) + 2
    again = Recorder(bodies=("PATCH", "POST"))
    async with protocol(concat_server.url, again, max_in_flight=2, checksum=checksum) as tus:
        tus.adopt(killed)  # what the hook does for a resumed try
        result = await upload(tus, source, spec(path, chunk_size=chunk), checkpoint=Checkpoint(store),
                              max_in_flight=2)
    stored_final(concat_server, result.details["upload_url"], path)
    acknowledged_urls = {killed.remote["parts"][str(i)] for i in acknowledged}
    assert not any(s.url in acknowledged_urls for s in again.sent if s.method == "PATCH")
    creations = [s for s in again.sent if s.method == "POST" and "partial" in s.headers.get("Upload-Concat", "")]
    resumed = [s for s in again.sent if s.method == "PATCH" and s.url in started - acknowledged_urls]
    missing = 8 - len(acknowledged)
    # Each missing segment is created again, resumed from its HEAD, or found whole by a HEAD (its answer was lost).
    assert missing - 2 <= len(creations) + len({s.url for s in resumed}) <= missing
    assert again.body_bytes() <= missing * chunk  # at most the missing segments' bytes
    assert len(killed.remote["parts"]) - len(acknowledged) <= 2  # at most the 2 in flight had begun


async def test_checksum_mismatch_on_a_part_resends_it(tus_resumable, media_file):
    path = media_file(600 * KB)
    recorder = Recorder(corrupt={1})
    async with protocol(tus_resumable.url, recorder, checksum="sha256") as tus:
        result = await upload(tus, ChunkSource(path), spec(path, chunk_size=128 * KB), max_in_flight=3)
    patches = [s for s in recorder.sent if s.method == "PATCH"]
    assert sorted(s.status for s in patches) == [204] * 5 + [460]
    bad = next(s for s in patches if s.status == 460)
    assert [s.status for s in patches if s.url == bad.url] == [460, 204]  # the same part, sent again whole
    assert tus_resumable.stored(result.details["upload_url"]) == path.read_bytes()


async def test_parts_are_bounded_so_the_final_header_stays_short(emulated, media_file):
    """Without a chunk_size the chunk grows so the file needs at most MAX_PARTS parts; past max_chunk_size, or
    with an explicit chunk_size that needs more, the segments go in order instead."""
    path = media_file(200 * KB)
    recorder = Recorder()
    async with protocol(emulated.url, recorder, max_in_flight=4, default_chunk_bytes=KB) as tus:
        result = await upload(tus, ChunkSource(path), spec(path), max_in_flight=4)
    final = next(s for s in recorder.sent if s.headers.get("Upload-Concat", "").startswith("final;"))
    assert len(final.headers["Upload-Concat"].split(" ")) == MAX_PARTS
    assert len(final.headers["Upload-Concat"]) < CONCAT_HEADER_LIMIT
    assert emulated.upload(result.details["upload_url"])["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    for kwargs, chunk_size in [({"default_chunk_bytes": KB, "max_chunk_bytes": 2 * KB}, None), ({}, KB)]:
        async with protocol(emulated.url, max_in_flight=4, **kwargs) as tus:
            session = await tus.init(spec(path, chunk_size=chunk_size))
        assert "parts" not in session.remote and session.remote["url"] and session.segment_count > MAX_PARTS


async def test_an_overlong_concat_header_is_refused_before_the_final_request(media_file):
    """Ten parts on another host (absolute URLs) of 1000 characters each: over the limit, no request is sent."""
    path = media_file(10 * KB)
    seen = []

    def answer(request):
        seen.append(request)
        return httpx.Response(204, headers={"Tus-Version": "1.0.0"})

    long = "x" * 1000
    session = UploadSession(api="tus", media_id="parts-1", total_bytes=10 * KB, chunk_size=KB, source=str(path),
                            stored=[[0, 10]], remote={"parts": {str(i): f"https://parts.example.com/{long}{i}"
                                                                for i in range(10)}})
    async with TusUpload(endpoint="https://tus.example.com/files/", transport=httpx.MockTransport(answer)) as tus:
        with pytest.raises(ConfigurationError, match=r"Upload-Concat header of \d+ characters.*max_in_flight=1"):
            await tus.finalize(session)
    assert seen == []


async def test_abort_removes_the_parts(concat_server, media_file):
    path = media_file(600 * KB)
    source = ChunkSource(path)
    async with protocol(concat_server.url) as tus:
        session = await open_upload(tus, spec(path, chunk_size=128 * KB), source)
        await send_segments(tus, session, source, indexes=[0, 1, 2], max_in_flight=3)
        parts = list(session.remote["parts"].values())
        assert len(parts) == 3 and tus.capabilities.abortable
        assert await tus.abort(session) is True
    for url in parts:
        if isinstance(concat_server, TusServer):
            assert concat_server.head(url).status_code in (404, 410)
        else:
            assert concat_server.upload(url)["terminated"]


async def test_separate_steps_and_a_session_through_json(tus_resumable, media_file):
    """init, append and finalize as separate tasks would run them: the session goes through JSON between them."""
    path = media_file(700 * KB)
    source = ChunkSource(path)
    async with protocol(tus_resumable.url) as tus:
        session = await open_upload(tus, spec(path, chunk_size=128 * KB), source)
    assert session.remote["parts"] == {} and session.media_id.startswith("parts-")
    recorder = Together(count=3)
    async with protocol(tus_resumable.url, recorder) as tus:
        session = UploadSession.from_dict(session.to_dict())
        tus.adopt(session)
        session = await send_segments(tus, session, source, max_in_flight=3)
    assert recorder.most_held == 3 and "OPTIONS" not in recorder.methods()
    async with protocol(tus_resumable.url) as tus:
        session = UploadSession.from_dict(session.to_dict())
        assert await tus.committed(session) == set(range(6))
        result = await finish(tus, session, None)
    assert tus_resumable.stored(result.details["upload_url"]) == path.read_bytes()
