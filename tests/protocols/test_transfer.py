"""send_segments/upload with an in-memory protocol: memory bound, concurrency bound, failures, order."""

import asyncio
import hashlib
import tracemalloc

import pytest

from airflow_provider_chunkup.errors import ConfigurationError, RemoteRejected
from airflow_provider_chunkup.protocols.base import Capabilities, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import Limits, MiB
from airflow_provider_chunkup.protocols.http import ApiClient
from airflow_provider_chunkup.protocols.session import ProcessingStatus, UploadResult, UploadSession, UploadSpec
from airflow_provider_chunkup.protocols.transfer import send_segments, upload
from airflow_provider_chunkup.sources import ChunkSource


class Recorder(UploadProtocol):
    """Keeps a running hash per segment, never the bytes; can fail or be slow on demand."""

    api = "memory"
    display_name = "Memory"
    capabilities = Capabilities(parallel_segments=True, abortable=True)
    limits = Limits(default_chunk_bytes=1 * MiB, max_chunk_bytes=8 * MiB, max_segments=10_000)
    digests = ("md5",)

    def __init__(self, fail_at=None, delay=0.0):
        super().__init__(ApiClient("http://unused.test"))
        self.parts: dict[int, str] = {}
        self.in_flight = 0
        self.max_seen = 0
        self.fail_at = fail_at
        self.delay = delay
        self.aborted = False

    async def init(self, spec):
        plan = self.plan(spec)
        return UploadSession(api=self.api, media_id="m1", total_bytes=spec.total_bytes, chunk_size=plan.chunk_size)

    async def append(self, session, segment, data):
        self.in_flight += 1
        self.max_seen = max(self.max_seen, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if segment.index == self.fail_at:
                raise RemoteRejected("segment refused", status=400)
            assert len(data) == segment.length
            self.parts[segment.index] = hashlib.sha256(data).hexdigest()
        finally:
            self.in_flight -= 1

    async def finalize(self, session):
        return UploadResult(api=self.api, media_id=session.media_id, size=session.total_bytes,
                            sha256=session.digests.get("sha256"), md5=session.digests.get("md5"))

    async def status(self, media_id):
        return ProcessingStatus(state="none")

    async def abort(self, session):
        self.aborted = True
        return True


@pytest.fixture
def big_file(media_file):
    return media_file(48 * MiB + 17)


async def test_memory_stays_bounded_by_chunks_in_flight(big_file):
    protocol = Recorder(delay=0.001)
    tracemalloc.start()
    try:
        result = await upload(protocol, ChunkSource(big_file), UploadSpec(total_bytes=big_file.stat().st_size),
                              max_in_flight=3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Four 1 MiB buffers (3 in flight + 1 read ahead) and small change, for a 48 MiB file.
    assert peak < 4 * MiB + 1 * MiB, f"peak {peak / MiB:.1f} MiB"
    data = big_file.read_bytes()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.md5 == hashlib.md5(data).hexdigest()  # the API's own checksum rides along
    assert len(protocol.parts) == 49


async def test_in_flight_never_exceeds_the_bound(big_file):
    protocol = Recorder(delay=0.005)
    await upload(protocol, ChunkSource(big_file), UploadSpec(total_bytes=big_file.stat().st_size), max_in_flight=4)
    assert protocol.max_seen == 4


async def test_sequential_api_gets_one_at_a_time(big_file):
    protocol = Recorder(delay=0.002)
    protocol.capabilities = Capabilities(parallel_segments=False)
    await upload(protocol, ChunkSource(big_file), UploadSpec(total_bytes=big_file.stat().st_size), max_in_flight=4)
    assert protocol.max_seen == 1


async def test_a_failed_segment_stops_the_upload_and_aborts(big_file):
    protocol = Recorder(fail_at=5, delay=0.002)
    with pytest.raises(RemoteRejected, match="segment refused"):
        await upload(protocol, ChunkSource(big_file), UploadSpec(total_bytes=big_file.stat().st_size), max_in_flight=3)
    assert protocol.aborted
    assert max(protocol.parts) < 10  # stopped soon after, not at the end of the file


async def test_source_that_changed_since_init(big_file):
    protocol = Recorder()
    session = UploadSession(api="memory", media_id="m", total_bytes=1, chunk_size=MiB)
    with pytest.raises(ConfigurationError, match="changed since init"):
        await send_segments(protocol, session, ChunkSource(big_file))


async def test_invalid_max_in_flight_fails_before_init(big_file):
    protocol = Recorder()
    protocol.init = None  # any call would fail differently
    with pytest.raises(ConfigurationError, match="at least 1"):
        await upload(protocol, ChunkSource(big_file), UploadSpec(total_bytes=big_file.stat().st_size),
                     max_in_flight=0)
