"""send_segments/upload with an in-memory protocol: memory bound, concurrency bound, failures, order."""

import asyncio
import concurrent.futures
import hashlib
import threading
import tracemalloc

import pytest

from airflow_provider_chunkup.errors import ConfigurationError, RemoteRejected
from airflow_provider_chunkup.protocols.base import Capabilities, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import Limits, MiB
from airflow_provider_chunkup.protocols.http import ApiClient
from airflow_provider_chunkup.protocols.session import ProcessingStatus, UploadResult, UploadSession, UploadSpec
from airflow_provider_chunkup.protocols.transfer import send_segments, upload
from airflow_provider_chunkup.sources import ChunkSource

#: How long a test waits for something that takes milliseconds: only a stuck upload gets near it.
PATIENCE = 60.0


async def within(awaitable, what: str):
    """``awaitable``'s result; a clear failure (not a hang) if it takes longer than ``PATIENCE``."""
    try:
        return await asyncio.wait_for(awaitable, PATIENCE)
    except TimeoutError:
        pytest.fail(f"{what} within {PATIENCE:.0f} s", pytrace=False)


async def until(event: asyncio.Event, upload_task: asyncio.Task, what: str) -> None:
    """Wait for ``event``; fail clearly if the upload ends (its error shown) or ``PATIENCE`` runs out first."""
    waiter = asyncio.ensure_future(event.wait())
    done, _ = await asyncio.wait({waiter, upload_task}, timeout=PATIENCE, return_when=asyncio.FIRST_COMPLETED)
    if waiter in done:
        return
    waiter.cancel()
    if upload_task.done():
        upload_task.result()  # raises the upload's own failure, if it had one
        pytest.fail(f"the upload finished, but never {what}", pytrace=False)
    pytest.fail(f"never {what} in {PATIENCE:.0f} s", pytrace=False)


class CountingSource(ChunkSource):
    """Counts the chunks the upload read (in its reader thread); ``reached`` is set at the ``until``-th."""

    def __init__(self, path, until: int):
        super().__init__(path)
        self.until = until
        self.reads = 0
        self.reached = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()

    def read_into(self, offset, buffer):
        data = super().read_into(offset, buffer)
        with self._lock:
            self.reads += 1
            if self.reads == self.until:
                self._loop.call_soon_threadsafe(self.reached.set)
        return data


def one_reader_thread() -> None:
    """Run this loop's worker-thread calls (the upload's reads) on a single thread, in submission order."""
    asyncio.get_running_loop().set_default_executor(
        concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunkup-test-reader"))


async def reader_settled() -> None:
    """Return once the reads already handed to the reader thread are back on the loop and what they woke has run.

    With :func:`one_reader_thread`, a no-op queued now runs after those reads, and its result reaches the
    loop after theirs: by the time it does, the upload has taken its next step after the last read (start
    one more request, if it ignored its bound). A few more turns of the loop let that request begin.
    """
    await asyncio.get_running_loop().run_in_executor(None, lambda: None)
    for _ in range(10):
        await asyncio.sleep(0)


class Recorder(UploadProtocol):
    """Keeps a running hash per segment, never the bytes; can fail, be slow or hold requests on demand.

    With ``hold``, every request waits at the start of ``append`` until the test opens ``gate``;
    ``full`` is set once ``hold`` requests are in flight together.
    """

    api = "memory"
    display_name = "Memory"
    capabilities = Capabilities(parallel_segments=True, abortable=True)
    limits = Limits(default_chunk_bytes=1 * MiB, max_chunk_bytes=8 * MiB, max_segments=10_000)
    digests = ("md5",)

    def __init__(self, fail_at=None, delay=0.0, hold=None):
        super().__init__(ApiClient("http://unused.test"))
        self.parts: dict[int, str] = {}
        self.in_flight = 0
        self.max_seen = 0
        self.started: list[int] = []
        self.fail_at = fail_at
        self.delay = delay
        self.aborted = False
        self.hold = hold
        self.full = asyncio.Event()
        self.gate = asyncio.Event()
        if hold is None:
            self.gate.set()

    async def init(self, spec):
        plan = self.plan(spec)
        return UploadSession(api=self.api, media_id="m1", total_bytes=spec.total_bytes, chunk_size=plan.chunk_size)

    async def append(self, session, segment, data):
        self.in_flight += 1
        self.max_seen = max(self.max_seen, self.in_flight)
        self.started.append(segment.index)
        try:
            if self.hold is not None and self.in_flight >= self.hold:
                self.full.set()
            await within(self.gate.wait(), f"segment {segment.index} was not let through")
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


async def held_at_the_bound(protocol: Recorder, path, bound: int, max_in_flight: int) -> None:
    """Upload ``path`` holding every request until ``bound`` are in flight and the next chunk is read
    ahead; check that no further request starts then, let them all through, and check the whole upload.

    Waiting for these events (not for time to pass) makes it the same on a fast or a loaded machine:
    the requests overlap because they are held, and the reader has had its every chance to start
    one request too many before the check.
    """
    one_reader_thread()
    source = CountingSource(path, until=bound + 1)  # one chunk read ahead of those in flight
    upload_task = asyncio.create_task(
        upload(protocol, source, UploadSpec(total_bytes=path.stat().st_size), max_in_flight=max_in_flight))
    try:
        await until(protocol.full, upload_task, f"had {bound} requests in flight at once")
        await until(source.reached, upload_task, f"read chunk {bound + 1} ahead while {bound} requests were held")
        await reader_settled()
        assert protocol.started == list(range(bound)), f"requests started while {bound} were held: {protocol.started}"
        assert protocol.in_flight == bound
    except BaseException:
        protocol.gate.set()
        upload_task.cancel()
        await asyncio.gather(upload_task, return_exceptions=True)
        raise
    protocol.gate.set()
    await within(upload_task, "the upload did not finish once its requests were let through")
    assert protocol.max_seen == bound
    assert sorted(protocol.parts) == list(range(49))


async def test_in_flight_never_exceeds_the_bound(big_file):
    await held_at_the_bound(Recorder(hold=4), big_file, bound=4, max_in_flight=4)


async def test_sequential_api_gets_one_at_a_time(big_file):
    protocol = Recorder(hold=1)
    protocol.capabilities = Capabilities(parallel_segments=False)
    await held_at_the_bound(protocol, big_file, bound=1, max_in_flight=4)


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


class Reporting(Recorder):
    """A server that can say what it holds: it counts how often it is asked."""

    capabilities = Capabilities(parallel_segments=True, reports_committed=True)

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    async def committed(self, session):
        self.asked += 1
        return {0, 1}


async def test_a_fresh_upload_asks_the_server_nothing_a_retry_asks_once(media_file):
    """The client that opened an upload sent all it holds: no round trip to ask; another client (a retried
    task's) cannot know, so it asks, and skips what the server holds."""
    path = media_file(4 * MiB + 1)
    spec = UploadSpec(total_bytes=path.stat().st_size)
    opener = Reporting()
    await upload(opener, ChunkSource(path), spec)
    assert opener.asked == 0 and sorted(opener.parts) == [0, 1, 2, 3, 4]

    session = await opener.init(spec)  # handed over, as XCom or a checkpoint hands it to another task
    retry = Reporting()
    await send_segments(retry, session, ChunkSource(path))
    assert retry.asked == 1 and sorted(retry.parts) == [2, 3, 4]
