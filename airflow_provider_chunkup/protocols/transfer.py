"""Moving a source's segments through a protocol: bounded memory, reads overlapping sends.

Segments are read in file order (so whole-file checksums stream as they pass) while up to
``max_in_flight`` requests are on the wire; one more chunk is read ahead. The chunks live in a
fixed pool of ``max_in_flight + 1`` reused buffers, so memory is bounded by
``chunk_size * (max_in_flight + 1)`` whatever the file size.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.protocols.base import UploadProtocol
from airflow_provider_chunkup.protocols.chunking import Segment
from airflow_provider_chunkup.protocols.progress import ProgressCallback
from airflow_provider_chunkup.protocols.session import UploadResult, UploadSession, UploadSpec
from airflow_provider_chunkup.sources import ChunkSource, StreamingDigest

log = logging.getLogger(__name__)


async def send_segments(protocol: UploadProtocol, session: UploadSession, source: ChunkSource, *,
                        indexes: Iterable[int] | None = None, max_in_flight: int = 1,
                        progress: ProgressCallback | None = None, checksum: bool = True) -> UploadSession:
    """Send the given segments (all by default) and return the session updated.

    When every segment is sent by this call, the session gains the whole file's sha256 (unless
    ``checksum`` is off) and any checksum the API itself needs.
    """
    _check_in_flight(max_in_flight)
    if max_in_flight > 1 and not protocol.capabilities.parallel_segments:
        max_in_flight = 1
    if source.size != session.total_bytes:
        raise ConfigurationError(
            f"Source {source.url} is {source.size} bytes but the upload was opened for "
            f"{session.total_bytes}; the file changed since init. Start a new upload."
        )
    plan = session.plan
    order: Sequence[int] = list(range(plan.segment_count) if indexes is None else indexes)
    whole_file = list(order) == list(range(plan.segment_count))
    algorithms = (("sha256",) if checksum else ()) + protocol.digests
    digest = StreamingDigest(algorithms) if whole_file and algorithms else None
    total = sum(plan.segment(i).length for i in order)
    done = 0
    slots = asyncio.Semaphore(max_in_flight)
    buffers: asyncio.Queue[bytearray] = asyncio.Queue()
    for _ in range(max_in_flight + 1):
        buffers.put_nowait(bytearray(plan.chunk_size))
    pending: set[asyncio.Task[None]] = set()
    failures: list[BaseException] = []
    started = time.monotonic()

    async def send(index: int, data: memoryview, buffer: bytearray) -> None:
        nonlocal done
        try:
            await protocol.append(session, plan.segment(index), data)
        except BaseException as e:
            failures.append(e)
            raise
        finally:
            slots.release()
            buffers.put_nowait(buffer)
        done += len(data)
        if progress is not None:
            progress(done, total)

    def settled(task: asyncio.Task[None]) -> None:
        pending.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here; the first failure is re-raised from ``failures``

    try:
        for index in order:
            buffer = await buffers.get()
            # Off the event loop: a local path may be a network mount, an object store is remote.
            data = await asyncio.to_thread(_read, source, plan.segment(index), buffer, digest)
            await slots.acquire()
            if failures:
                slots.release()
                raise failures[0]
            task = asyncio.create_task(send(index, data, buffer), name=f"append-{index}")
            pending.add(task)
            task.add_done_callback(settled)
            del data, buffer
        if pending:
            await asyncio.gather(*pending)
    except BaseException:
        for task in list(pending):
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise
    session.sent_bytes += done
    session.transfer_seconds += time.monotonic() - started
    if digest is not None:
        session.digests = digest.hexdigests()
    return session


def _check_in_flight(max_in_flight: int) -> None:
    if max_in_flight < 1:
        raise ConfigurationError(f"max_in_flight must be at least 1, got {max_in_flight}.")


def _read(source: ChunkSource, segment: Segment, buffer: bytearray, digest: StreamingDigest | None) -> memoryview:
    """Read one segment into ``buffer`` and hash it, in a worker thread (both release the GIL).

    Segments are read one at a time, in order, so the digests see the file in order.
    """
    data = source.read_into(segment.offset, memoryview(buffer)[: segment.length])
    if digest is not None:
        digest.update(data)
    return data


async def upload(protocol: UploadProtocol, source: ChunkSource, spec: UploadSpec, *,
                 max_in_flight: int = 1, progress: ProgressCallback | None = None,
                 conn_id: str | None = None, checksum: bool = True) -> UploadResult:
    """init, every segment, finalize: the whole upload in one call."""
    _check_in_flight(max_in_flight)  # before init: a bad setting must not leave a remote upload behind
    session = await protocol.init(spec)
    session.conn_id = conn_id
    log.info("%s upload %s opened: %d bytes in %d segments of %d bytes", protocol.display_name,
             session.media_id, session.total_bytes, session.segment_count, session.chunk_size)
    try:
        await send_segments(protocol, session, source, max_in_flight=max_in_flight, progress=progress,
                            checksum=checksum)
        return await protocol.finalize(session)
    except BaseException:
        if protocol.capabilities.abortable and await _abort_quietly(protocol, session):
            log.warning("Deleted the unfinished %s upload %s.", protocol.display_name, session.media_id)
        raise


async def _abort_quietly(protocol: UploadProtocol, session: UploadSession) -> bool:
    try:
        return await protocol.abort(session)
    except Exception as e:  # the original failure matters more than the clean-up's
        log.warning("Could not delete the unfinished upload %s: %s", session.media_id, e)
        return False
