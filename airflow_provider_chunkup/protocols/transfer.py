"""Moving a source's segments through a protocol: bounded memory, reads overlapping sends.

Segments are read in file order (so whole-file checksums stream as they pass) while up to
``max_in_flight`` requests are on the wire; one more chunk is read ahead. The chunks live in a
fixed pool of ``max_in_flight + 1`` reused buffers, so memory is bounded by
``chunk_size * (max_in_flight + 1)`` whatever the file size.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence

from airflow_provider_chunkup.errors import ConfigurationError, RetryExhausted, UploadExpired
from airflow_provider_chunkup.protocols.base import UploadProtocol
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint
from airflow_provider_chunkup.protocols.chunking import Segment, WindowPlan
from airflow_provider_chunkup.protocols.progress import ProgressCallback
from airflow_provider_chunkup.protocols.session import UploadResult, UploadSession, UploadSpec
from airflow_provider_chunkup.protocols.split import RangeHasher, add_range_digest, covered, range_digest
from airflow_provider_chunkup.sources import ChunkSource, StreamingDigest

log = logging.getLogger(__name__)

MAX_STALLED_WINDOWS = 8
"""How many answers in a row may leave the server's position where it was (a window asked again) before
the transfer gives up: a server stuck on one window must not loop forever."""


async def send_segments(protocol: UploadProtocol, session: UploadSession, source: ChunkSource, *,
                        indexes: Iterable[int] | None = None, max_in_flight: int = 1,
                        progress: ProgressCallback | None = None, checksum: bool = True,
                        hold: Iterable[int] = (), keep: dict[int, memoryview] | None = None,
                        checkpoint: Checkpoint | None = None) -> UploadSession:
    """Send the given segments (all by default) and return the session updated.

    Segments in ``hold`` are read but not sent (the last one, for APIs that complete on it), and so
    are segments the server says it already has (a retried task resumes). Held segments that were
    read go into ``keep`` when given, so :func:`finish` in the same process need not read them again
    (one chunk more in memory, no second GET from an object store). Each acknowledged segment is
    recorded in ``session.stored`` and, with a ``checkpoint``, saved at once: a task killed now and
    retried sends again only what was in flight. When every segment was
    read by this call, the session gains the whole file's sha256 (unless ``checksum`` is off) and any
    checksum the API itself needs; when only some were (a range, for one of several tasks sharing the
    upload), it gains the sha256 of each run of consecutive segments in ``range_digests``.

    For a session whose plan is ``windows`` (the server names each window), see :func:`send_windows`.
    """
    _check_in_flight(max_in_flight)
    if session.windowed:
        if indexes is not None:
            raise ConfigurationError(
                f"{protocol.display_name} dictates each window of upload {session.media_id}: it cannot be sent "
                "by segment range. Leave segments unset and send it from one task."
            )
        return await send_windows(protocol, session, source, progress=progress, checksum=checksum,
                                  checkpoint=checkpoint)
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
    ranges = RangeHasher(plan) if checksum and order and not whole_file else None
    held = set(hold)
    already = await _already_sent(protocol, session)
    for index in order:  # the server holds them, whichever try or task sent them
        if index in already:
            session.mark_stored(index)
    skip = held | session.stored_segments() | already
    first_alone = protocol.capabilities.opens_with_first_segment and not session.media_id
    if first_alone and order and order[0] != 0:
        raise ConfigurationError(
            f"{protocol.display_name} opens the upload with the first segment: send segment 0 before the others."
        )
    total = sum(plan.segment(i).length for i in order if i not in skip)
    done = 0
    slots = asyncio.Semaphore(max_in_flight)
    buffers: asyncio.Queue[bytearray] = asyncio.Queue()
    for _ in range(max_in_flight + 1):
        buffers.put_nowait(bytearray(plan.buffer_bytes))
    pending: set[asyncio.Task[None]] = set()
    failures: list[BaseException] = []
    started = time.monotonic()

    async def send(index: int, data: memoryview, buffer: bytearray) -> None:
        nonlocal done
        try:
            try:
                await protocol.append(session, plan.segment(index), data)
            finally:
                slots.release()
                buffers.put_nowait(buffer)
            session.mark_stored(index)
            if checkpoint is not None:
                checkpoint.save_session(session)
            done += len(data)
            if progress is not None:
                progress(done, total)
        except BaseException as e:  # whatever failed, no further segment may start
            failures.append(e)
            raise

    def settled(task: asyncio.Task[None]) -> None:
        pending.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here; the first failure is re-raised from ``failures``

    try:
        for index in order:
            if index in skip and digest is None and ranges is None:
                continue
            buffer = await buffers.get()
            # Off the event loop: a local path may be a network mount, an object store is remote.
            data = await asyncio.to_thread(_read, source, plan.segment(index), buffer, digest, ranges)
            if index in skip:  # read for the checksum only
                if keep is not None and index in held:
                    keep[index] = data  # finish() sends it; the pool gets a fresh buffer instead
                    buffer = bytearray(plan.buffer_bytes)
                buffers.put_nowait(buffer)
                continue
            await slots.acquire()
            if failures:
                slots.release()
                raise failures[0]
            task = asyncio.create_task(send(index, data, buffer), name=f"append-{index}")
            pending.add(task)
            task.add_done_callback(settled)
            del data, buffer
            if first_alone:  # its response names the remote upload the others go to
                await asyncio.gather(task)
                first_alone = False
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
    for record in ranges.records() if ranges is not None else ():
        add_range_digest(session, record)
    return session


def held_back(protocol: UploadProtocol, session: UploadSession) -> tuple[int, ...]:
    """The segments :func:`finish` sends rather than the append step (none where the server dictates windows)."""
    if protocol.capabilities.completes_with_last_segment and not session.windowed and session.segment_count > 1:
        return (session.segment_count - 1,)
    return ()


async def _already_sent(protocol: UploadProtocol, session: UploadSession) -> set[int]:
    if not (protocol.capabilities.reports_committed and session.media_id) or session.windowed \
            or session.media_id in protocol.opened:  # what this client sent is all there is: no round trip
        return set()
    have = await protocol.committed(session) or set()
    if have:
        log.info("%s already holds %d of %d segments of %s; sending the rest.", protocol.display_name,
                 len(have), session.segment_count, session.media_id)
    return have


async def finish(protocol: UploadProtocol, session: UploadSession, source: ChunkSource | None,
                 ready: Mapping[int, memoryview] | None = None, checkpoint: Checkpoint | None = None) -> UploadResult:
    """Finalize; for APIs that complete with the last segment, send it first (unless the server has it).

    ``ready`` holds segments already read (kept by :func:`send_segments`); others are read from ``source``.
    With a ``checkpoint``, the result is saved there: a retried task returns it instead of finalizing twice.
    When the session has range digests instead of a whole-file sha256 (a split upload), the result
    carries them, the held segment's included.
    """
    by_ranges = bool(session.range_digests) and not session.digests.get("sha256")
    for index in held_back(protocol, session):
        last = session.plan.segment(index)
        data = (ready or {}).get(index)
        sending = last.index not in await _already_sent(protocol, session)
        hashing = by_ranges and not covered(session, last)
        if data is None and (sending or hashing) and source is not None:
            data = await asyncio.to_thread(source.read_into, last.offset, memoryview(bytearray(last.length)))
        if sending:
            if data is None:
                raise ConfigurationError(f"Finalizing {session.media_id} sends the last segment: it needs the source.")
            await protocol.append(session, last, data)
            session.sent_bytes += last.length
            session.mark_stored(index)
        if hashing and data is not None:
            sha256 = await asyncio.to_thread(_sha256, data)
            add_range_digest(session, range_digest(session.plan, index, index + 1, sha256))
    result = await protocol.finalize(session)
    if by_ranges and not result.sha256:
        result.range_digests = [dict(r) for r in session.range_digests]
    if checkpoint is not None:
        checkpoint.save_result(result)
    return result


async def send_windows(protocol: UploadProtocol, session: UploadSession, source: ChunkSource, *,
                       progress: ProgressCallback | None = None, checksum: bool = True,
                       checkpoint: Checkpoint | None = None) -> UploadSession:
    """Send the windows the server dictates, one at a time, until it says it has the whole file.

    The protocol names each window (:meth:`~UploadProtocol.next_window`, from the server's last answer kept
    in the session); after each, ``session.committed_bytes`` becomes where the server's next window starts
    (the file's size once it has all) and the checkpoint is saved: a task killed and retried continues from
    what the server last said (a session handed over by XCom, older than this task's checkpoint of the same
    upload, takes the checkpoint's position). One buffer of ``chunk_size`` bytes holds every window (a larger window is
    refused): the next window is known only from the answer, so nothing is read ahead. Progress reports the
    server's position; ``sent_bytes`` counts every byte sent, a window asked again included.
    """
    plan = session.plan
    if not isinstance(plan, WindowPlan) or not protocol.capabilities.server_windows:
        raise ConfigurationError(
            f"Upload {session.media_id} has a {session.plan_kind!r} plan on {protocol.display_name}, which "
            f"{'dictates' if protocol.capabilities.server_windows else 'does not dictate'} windows: the session "
            "belongs to another connection. Pass the init task's output with its own connection."
        )
    if source.size != session.total_bytes:
        raise ConfigurationError(
            f"Source {source.url} is {source.size} bytes but the upload was opened for "
            f"{session.total_bytes}; the file changed since init. Start a new upload."
        )
    if checkpoint is not None and (earlier := checkpoint.session()) is not None and earlier.windowed \
            and (earlier.api, earlier.media_id) == (session.api, session.media_id):
        session.remote, session.committed_bytes = dict(earlier.remote), earlier.committed_bytes
    algorithms = (("sha256",) if checksum else ()) + protocol.digests
    digest = StreamingDigest(algorithms) if algorithms else None
    hashed = 0
    view = memoryview(bytearray(plan.buffer_bytes))
    base = session.committed_bytes
    total = session.total_bytes - base
    best = base
    stalled = sent = 0
    started = time.monotonic()
    window = await protocol.next_window(session)
    if base:
        log.info("%s holds %d of %d bytes of %s; sending the rest.", protocol.display_name, base,
                 session.total_bytes, session.media_id)
    try:
        while window is not None:
            plan.check(window, protocol.display_name)
            data, hashed = await asyncio.to_thread(_read_window, source, window, view, digest, hashed)
            await protocol.append(session, window, data)
            del data
            sent += window.length
            window = await protocol.next_window(session)
            position = session.total_bytes if window is None else window.offset
            session.committed_bytes = position
            if checkpoint is not None:
                checkpoint.save_session(session)
            if progress is not None:
                progress(max(0, position - base), total)
            stalled = 0 if position > best else stalled + 1
            best = max(best, position)
            if stalled > MAX_STALLED_WINDOWS:
                raise RetryExhausted(
                    f"{protocol.display_name} asked for bytes from {position} again {stalled} times in a row without "
                    f"taking more of upload {session.media_id}: giving up. Retry the task; it resumes from byte {best}."
                )
    finally:
        session.sent_bytes += sent
        session.transfer_seconds += time.monotonic() - started
    if digest is not None and hashed == session.total_bytes:
        session.digests = digest.hexdigests()
    return session


def _read_window(source: ChunkSource, window: Segment, view: memoryview, digest: StreamingDigest | None,
                 hashed: int) -> tuple[memoryview, int]:
    """Read ``window`` into ``view``; feed the digest the bytes past ``hashed`` (returned advanced).

    A resumed task first hashes, through the same buffer, the bytes an earlier try sent: the whole-file
    checksum still covers the file in order. Bytes of a window asked again are not hashed twice.
    """
    if digest is not None:
        while hashed < window.offset:
            n = min(len(view), window.offset - hashed)
            digest.update(source.read_into(hashed, view[:n]))
            hashed += n
    data = source.read_into(window.offset, view[: window.length])
    end = window.offset + window.length
    if digest is not None and window.offset <= hashed < end:
        digest.update(data[hashed - window.offset:])
        hashed = end
    return data, hashed


def _sha256(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_in_flight(max_in_flight: int) -> None:
    if max_in_flight < 1:
        raise ConfigurationError(f"max_in_flight must be at least 1, got {max_in_flight}.")


def _read(source: ChunkSource, segment: Segment, buffer: bytearray, digest: StreamingDigest | None,
          ranges: RangeHasher | None = None) -> memoryview:
    """Read one segment into ``buffer`` and hash it, in a worker thread (both release the GIL).

    Segments are read one at a time, in order, so the digests see the file in order.
    """
    data = source.read_into(segment.offset, memoryview(buffer)[: segment.length])
    if digest is not None:
        digest.update(data)
    if ranges is not None:
        ranges.update(segment, data)
    return data


async def open_upload(protocol: UploadProtocol, spec: UploadSpec, source: ChunkSource) -> UploadSession:
    """Open the remote upload; where the API opens it with the first segment, send that segment too."""
    session = await protocol.init(spec)
    if spec.options:  # kept (they are the user's, never secret) so an expired upload can be opened again
        session.remote["init_options"] = dict(spec.options)
    if protocol.capabilities.opens_with_first_segment and not session.media_id:
        first = session.plan.segment(0)
        buffer = bytearray(first.length)
        data = await asyncio.to_thread(source.read_into, first.offset, memoryview(buffer))
        await protocol.append(session, first, data)
        session.mark_stored(0)
        session.sent_bytes += first.length
    if session.media_id:
        protocol.opened.add(session.media_id)
    return session


async def upload(protocol: UploadProtocol, source: ChunkSource, spec: UploadSpec, *,
                 max_in_flight: int = 1, progress: ProgressCallback | None = None,
                 conn_id: str | None = None, checksum: bool = True, checkpoint: Checkpoint | None = None,
                 abort_on_failure: bool = True) -> UploadResult:
    """init, every segment, finalize: the whole upload in one call.

    With a ``checkpoint`` an earlier, interrupted call is continued: its result returned if it had
    finalized, else its remote upload resumed (never a second one opened). When the upload fails and
    ``abort_on_failure`` holds, what the API lets us abort is aborted: no garbage left behind.
    """
    _check_in_flight(max_in_flight)  # before init: a bad setting must not leave a remote upload behind
    session = None
    if checkpoint is not None:
        finished = checkpoint.result()
        if finished is not None:
            log.info("%s upload %s was finalized by an earlier try; nothing to send.", protocol.display_name,
                     finished.media_id)
            return finished
        session = await _resumable(protocol, checkpoint.session(), spec)
    if session is None:
        session = await open_upload(protocol, spec, source)
        session.conn_id = conn_id
        if checkpoint is not None:
            checkpoint.save_session(session)
        log.info("%s upload %s opened: %d bytes in %s", protocol.display_name, session.media_id,
                 session.total_bytes, session.layout())
    try:
        kept: dict[int, memoryview] = {}
        await send_segments(protocol, session, source, max_in_flight=max_in_flight, progress=progress,
                            checksum=checksum, hold=held_back(protocol, session), keep=kept, checkpoint=checkpoint)
        return await finish(protocol, session, source, kept, checkpoint)
    except BaseException:
        if abort_on_failure:
            await abort_unfinished(protocol, session, checkpoint)
        raise


async def _resumable(protocol: UploadProtocol, session: UploadSession | None,
                     spec: UploadSpec) -> UploadSession | None:
    """The checkpointed session to continue, or ``None`` to open a new upload."""
    if session is None:
        return None
    if session.api != protocol.api:
        log.info("Ignoring a checkpoint of a %s upload: this connection uploads to %s.", session.api,
                 protocol.display_name)
        return None
    if session.total_bytes != spec.total_bytes:
        log.warning("The source is %d bytes now, %d when an earlier try opened upload %s: starting a new upload.",
                    spec.total_bytes, session.total_bytes, session.media_id)
        await abort_unfinished(protocol, session)
        return None
    if session.expired():
        raise UploadExpired(
            f"The {protocol.display_name} upload {session.media_id} opened by an earlier try has expired on the "
            "server. Set restart_expired=true on the connection to start a new upload of the same file, or clear "
            "the task's state."
        )
    log.info("Resuming %s upload %s from an earlier try: %s already acknowledged.", protocol.display_name,
             session.media_id, session.progress_text())
    return session


async def abort_unfinished(protocol: UploadProtocol, session: UploadSession,
                           checkpoint: Checkpoint | None = None) -> bool:
    """Abort the remote upload where the API allows it, and say so; forget its checkpoint."""
    if not protocol.capabilities.abortable:
        log.warning("%s cannot abort upload %s: the platform discards unfinished uploads itself%s.",
                    protocol.display_name, session.media_id,
                    f" after {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(session.expires_at))}"
                    if session.expires_at else "")
        return False
    if not await _abort_quietly(protocol, session):
        return False
    log.warning("Deleted the unfinished %s upload %s.", protocol.display_name, session.media_id)
    if checkpoint is not None:
        checkpoint.clear()
    return True


async def _abort_quietly(protocol: UploadProtocol, session: UploadSession) -> bool:
    try:
        return await protocol.abort(session)
    except Exception as e:  # the original failure matters more than the clean-up's
        log.warning("Could not delete the unfinished upload %s: %s", session.media_id, e)
        return False
