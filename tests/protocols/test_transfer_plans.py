"""The transfer loop over every plan kind, with small in-memory servers: bytes, resume, memory, progress."""

import hashlib
import json
import tracemalloc

import pytest

from airflow_provider_chunkup.errors import ConfigurationError, PlanError, RemoteRejected, RetryExhausted
from airflow_provider_chunkup.protocols.base import Capabilities, UploadProtocol
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore
from airflow_provider_chunkup.protocols.chunking import (
    KiB,
    Limits,
    MiB,
    Segment,
    WindowPlan,
    plan_floor_merged,
    plan_from_parts,
)
from airflow_provider_chunkup.protocols.http import ApiClient
from airflow_provider_chunkup.protocols.session import ProcessingStatus, UploadResult, UploadSession, UploadSpec
from airflow_provider_chunkup.protocols.transfer import MAX_STALLED_WINDOWS, send_segments, upload
from airflow_provider_chunkup.sources import ChunkSource


class Server:
    """What a platform holds: the bytes (or, with ``keep=False``, only their count) and every request's range."""

    def __init__(self, total: int, keep: bool = True) -> None:
        self.file = bytearray(total) if keep else None
        self.requests: list[tuple[int, int]] = []
        self.largest = 0

    def write(self, offset: int, data) -> None:
        self.requests.append((offset, len(data)))
        self.largest = max(self.largest, len(data))
        if self.file is not None:
            self.file[offset: offset + len(data)] = data

    def sent(self) -> int:
        return sum(length for _, length in self.requests)


class Fake(UploadProtocol):
    """Shared behaviour: in order, one at a time; ``fail_after`` requests then the next one fails (a kill)."""

    api = "memory"
    display_name = "Memory"
    limits = Limits(default_chunk_bytes=1 * MiB, max_chunk_bytes=64 * MiB, max_segments=10_000)

    def __init__(self, server: Server, fail_after: int | None = None) -> None:
        super().__init__(ApiClient("http://unused.test"))
        self.server = server
        self.fail_after = fail_after
        self.calls = 0

    def _count(self) -> None:
        if self.fail_after is not None and self.calls == self.fail_after:
            raise RemoteRejected("the connection dropped", status=500)
        self.calls += 1

    async def finalize(self, session):
        return UploadResult(api=self.api, media_id=session.media_id, size=session.total_bytes,
                            sha256=session.digests.get("sha256"))

    async def status(self, media_id, until=None):
        return ProcessingStatus(state="none")


class Merged(Fake):
    """TikTok's cut: floor(size / chunk_size) chunks, the remainder in the last."""

    capabilities = Capabilities(parallel_segments=False)

    async def init(self, spec):
        session = UploadSession(api=self.api, media_id="t1", total_bytes=spec.total_bytes, chunk_size=1)
        session.use_plan(plan_floor_merged(spec.total_bytes, spec.chunk_size))
        return session

    async def append(self, session, segment, data):
        self._count()
        assert session.plan.segment(segment.index) == segment
        self.server.write(segment.offset, data)


class Parts(Fake):
    """LinkedIn's: init returns the parts (their sizes the server's choice), each with its own URL."""

    capabilities = Capabilities(parallel_segments=True)

    def __init__(self, server: Server, sizes: list[int], fail_after: int | None = None) -> None:
        super().__init__(server, fail_after)
        self.sizes = sizes

    async def init(self, spec):
        bounds, first = [], 0
        for size in self.sizes:
            bounds.append((first, first + size - 1))
            first += size
        session = UploadSession(api=self.api, media_id="urn:li:video:1", total_bytes=spec.total_bytes, chunk_size=1)
        session.use_plan(plan_from_parts(spec.total_bytes, bounds))
        session.remote["urls"] = [f"https://upload.test/part/{i}" for i in range(len(bounds))]
        return session

    async def append(self, session, segment, data):
        self._count()
        assert session.remote["urls"][segment.index].endswith(f"/{segment.index}")
        self.server.write(segment.offset, data)


class Windows(Fake):
    """Meta Graph's: each answer names the next window (``sizes`` in turn); ``again`` answers repeat a window."""

    capabilities = Capabilities(parallel_segments=False, server_windows=True)

    def __init__(self, server: Server, sizes: list[int], max_window: int, again: set[int] = frozenset(),
                 fail_after: int | None = None) -> None:
        super().__init__(server, fail_after)
        self.sizes = sizes
        self.max_window = max_window
        self.again = again  # request numbers the server answers with an error naming the same window

    def _answer(self, session, start: int) -> None:
        size = self.sizes[min(len(session.remote["answers"]), len(self.sizes) - 1)]
        end = min(start + size, session.total_bytes)
        session.remote.update(start_offset=str(start), end_offset=str(end))
        session.remote["answers"].append(start)

    async def init(self, spec):
        session = UploadSession(api=self.api, media_id="v1", total_bytes=spec.total_bytes, chunk_size=1)
        session.use_plan(WindowPlan(spec.total_bytes, self.max_window))
        session.remote["answers"] = []
        self._answer(session, 0)
        return session

    async def next_window(self, session):
        start, end = int(session.remote["start_offset"]), int(session.remote["end_offset"])
        return None if start == end else Segment(len(session.remote["answers"]), start, end - start)

    async def append(self, session, segment, data):
        self._count()
        assert str(segment.offset) == session.remote["start_offset"], "a window the server did not ask for"
        self.server.write(segment.offset, data)
        if self.calls in self.again:  # error 1363037: its error_data names the window to send again
            return
        self._answer(session, segment.offset + len(data))


@pytest.fixture
def clip(media_file):
    return media_file(5_000_123)


def spec_of(path, chunk_size=None) -> UploadSpec:
    return UploadSpec(total_bytes=path.stat().st_size, chunk_size=chunk_size)


def kinds(server: Server, **kwargs):
    """One fake of each planned kind and the window kind, for the parametrized tests."""
    return {
        "merged": Merged(server, **kwargs),
        "server_parts": Parts(server, [2 * MiB, 2 * MiB, 5_000_123 - 4 * MiB], **kwargs),
        "windows": Windows(server, [1 * MiB, 300 * KiB, 2 * MiB, 700 * KiB], max_window=2 * MiB, **kwargs),
    }


KINDS = ["merged", "server_parts", "windows"]


@pytest.mark.parametrize("kind", KINDS)
async def test_every_kind_reassembles_the_file_byte_for_byte(clip, kind):
    server = Server(5_000_123)
    protocol = kinds(server)[kind]
    seen: list[tuple[int, int]] = []
    result = await upload(protocol, ChunkSource(clip), spec_of(clip, 1_000_000),
                          progress=lambda d, t: seen.append((d, t)))
    data = clip.read_bytes()
    assert bytes(server.file) == data
    assert server.sent() == len(data)  # nothing sent twice
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_tiktok_chunks_on_the_wire(clip):
    server = Server(5_000_123)
    await upload(Merged(server), ChunkSource(clip), spec_of(clip, 1_000_000))
    assert server.requests == [(i * 1_000_000, 1_000_000) for i in range(4)] + [(4_000_000, 1_000_123)]


@pytest.mark.parametrize(("size", "expected"), [(3_000_000, [1_000_000] * 3), (999_999, [999_999])],
                         ids=["exact-multiple", "smaller-than-a-chunk"])
async def test_tiktok_edges(media_file, size, expected):
    path = media_file(size)
    server = Server(size)
    await upload(Merged(server), ChunkSource(path), spec_of(path, 1_000_000))
    assert [length for _, length in server.requests] == expected
    assert bytes(server.file) == path.read_bytes()


async def test_windows_that_shrink_grow_and_repeat(clip):
    server = Server(5_000_123)
    protocol = Windows(server, [1 * MiB, 100 * KiB, 2 * MiB, 1, 2 * MiB], max_window=2 * MiB, again={2, 5})
    session = await protocol.init(spec_of(clip))
    seen: list[int] = []
    await send_segments(protocol, session, ChunkSource(clip), progress=lambda d, t: seen.append(d))
    data = clip.read_bytes()
    assert bytes(server.file) == data
    lengths = [length for _, length in server.requests]
    assert lengths[:3] == [1 * MiB, 100 * KiB, 100 * KiB]  # the second window asked again after its error
    assert 1 in lengths
    assert session.sent_bytes == server.sent() == len(data) + 100 * KiB + lengths[4]
    assert session.committed_bytes == len(data)
    assert session.digests["sha256"] == hashlib.sha256(data).hexdigest()  # a repeated window is hashed once
    assert seen[-1] == len(data)


async def test_a_server_stuck_on_one_window_is_given_up_on(clip):
    server = Server(5_000_123)
    protocol = Windows(server, [1 * MiB], max_window=2 * MiB, again=set(range(2, 100)))
    session = await protocol.init(spec_of(clip))
    with pytest.raises(RetryExhausted, match=f"again {MAX_STALLED_WINDOWS + 1} times in a row"):
        await send_segments(protocol, session, ChunkSource(clip))
    assert session.committed_bytes == 1 * MiB


async def test_a_window_larger_than_the_buffer_is_refused_before_it_is_read(clip):
    server = Server(5_000_123)
    protocol = Windows(server, [3 * MiB], max_window=2 * MiB)
    with pytest.raises(PlanError, match=f"asked for a window of {3 * MiB} bytes; chunk_size={2 * MiB}"):
        await upload(protocol, ChunkSource(clip), spec_of(clip))
    assert server.requests == []


@pytest.mark.parametrize("kind", KINDS)
async def test_resume_after_a_kill_sends_only_what_the_server_lacks(clip, kind):
    server = Server(5_000_123)
    store = MemoryStore()
    killed = kinds(server, fail_after=2)[kind]
    with pytest.raises(RemoteRejected, match="dropped"):
        await upload(killed, ChunkSource(clip), spec_of(clip, 1_000_000), checkpoint=Checkpoint(store))
    held = server.sent()
    assert held > 0
    saved = Checkpoint(store).session()
    assert saved is not None and saved.plan_kind == kind
    server.requests.clear()
    retried = kinds(server)[kind]  # a new process: only the checkpoint and the server remember
    seen: list[tuple[int, int]] = []
    result = await upload(retried, ChunkSource(clip), spec_of(clip, 1_000_000), checkpoint=Checkpoint(store),
                          progress=lambda d, t: seen.append((d, t)))
    data = clip.read_bytes()
    assert bytes(server.file) == data
    assert server.sent() == len(data) - held  # no byte the server had is sent again
    assert min(offset for offset, _ in server.requests) == held
    assert result.sha256 == hashlib.sha256(data).hexdigest()  # bytes sent by the killed try are hashed too
    assert seen[-1] == (len(data) - held, len(data) - held)
    assert Checkpoint(store).result() == result


@pytest.mark.parametrize("kind", KINDS)
async def test_memory_stays_within_the_buffer_pool(media_file, kind):
    size = 24 * MiB + 5
    path = media_file(size)
    server = Server(size, keep=False)
    protocol = {
        "merged": Merged(server),
        "server_parts": Parts(server, [1 * MiB] * 23 + [1 * MiB + 5]),
        "windows": Windows(server, [1 * MiB, 512 * KiB, 1 * MiB + 5], max_window=1 * MiB + 5),
    }[kind]
    tracemalloc.start()
    try:
        await upload(protocol, ChunkSource(path), spec_of(path, 1 * MiB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    buffers = 1 if kind == "windows" else 2  # windows: nothing can be read ahead; else 1 in flight + 1 ahead
    assert server.sent() == size and server.largest <= 1 * MiB + 5
    assert peak < buffers * (1 * MiB + 5) + 1 * MiB, f"peak {peak / MiB:.1f} MiB for a {size / MiB:.0f} MiB file"


async def test_windows_cannot_be_sent_by_segment_range(clip):
    server = Server(5_000_123)
    protocol = kinds(server)["windows"]
    session = await protocol.init(spec_of(clip))
    with pytest.raises(ConfigurationError, match="cannot be sent by segment range"):
        await send_segments(protocol, session, ChunkSource(clip), indexes=[0])
    assert server.requests == []


async def test_a_windows_session_on_an_api_that_plans_is_refused(clip):
    server = Server(5_000_123)
    session = await kinds(server)["windows"].init(spec_of(clip))
    with pytest.raises(ConfigurationError, match="does not dictate windows"):
        await send_segments(Merged(server), session, ChunkSource(clip))
    assert server.requests == []


async def test_parts_fan_out_over_parallel_tasks(clip):
    server = Server(5_000_123)
    protocol = kinds(server)["server_parts"]
    session = await protocol.init(spec_of(clip))
    first = await send_segments(protocol, UploadSession.from_dict(session.to_dict()), ChunkSource(clip),
                                indexes=[0, 1])
    second = await send_segments(protocol, UploadSession.from_dict(session.to_dict()), ChunkSource(clip),
                                 indexes=[2])
    assert bytes(server.file) == clip.read_bytes()
    assert first.stored == [[0, 2]] and second.stored == [[2, 3]]
    assert [r["segments"] for r in first.range_digests + second.range_digests] == ["0:2", "2:3"]


async def test_a_retried_append_task_takes_the_server_position_from_its_checkpoint(clip):
    """The 3-task flow: the append task gets init's session from XCom; its own checkpoint knows better."""
    server = Server(5_000_123)
    store = MemoryStore()
    killed = kinds(server, fail_after=3)["windows"]
    from_init = json.dumps((await killed.init(spec_of(clip))).to_dict())  # what XCom holds, never updated
    with pytest.raises(RemoteRejected, match="dropped"):
        await send_segments(killed, UploadSession.from_dict(from_init), ChunkSource(clip),
                            checkpoint=Checkpoint(store))
    held = server.sent()
    server.requests.clear()
    session = await send_segments(kinds(server)["windows"], UploadSession.from_dict(from_init), ChunkSource(clip),
                                  checkpoint=Checkpoint(store))
    data = clip.read_bytes()
    assert bytes(server.file) == data
    assert server.sent() == len(data) - held
    assert session.committed_bytes == len(data)
    assert session.digests["sha256"] == hashlib.sha256(data).hexdigest()
