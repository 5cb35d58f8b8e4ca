"""Google's resumable upload sessions, as both front doors (YouTube, GCS) serve them on their session URIs.

A session is one file on the shared storage (``<api>/<upload_id>.bin``) that grows by chunks, ``PUT`` (or ``POST``)
to the session URI with ``Content-Range: bytes a-b/total``. What the notes (``google-resumable-youtube.md``) list:

- **308** while incomplete, ``Range: bytes=0-N`` = what is persisted, cumulative; **no Range** = nothing persisted.
- A misaligned middle chunk keeps only its 256 KiB-aligned prefix (``persist_partial``); a body that breaks off
  keeps the aligned prefix of what arrived.
- Bytes re-sent that the session already has are ignored; a chunk starting **past** the persisted offset is a
  **503** text/plain ("... exceeds already uploaded size ...") and nothing is kept.
- Status query: empty body with ``bytes */total`` or ``bytes */*``; ``bytes */total`` equal to what is persisted
  finishes an upload of unknown size (``bytes a-b/*`` chunks).
- The chunk reaching the total gets ``completion_status`` (200 GCS, 201 YouTube) and the resource the front door
  makes (``finish``); so do later status queries, how a lost final answer is recovered.
- **404** for an unknown, expired or cancelled session; **410** for a dead one (a refused finish, or killed).
- ``DELETE`` (GCS only): **499**, then 404.
- ``X-GUploader-No-308: yes``: a 308 goes out as 200 with ``X-HTTP-Status-Code-Override: 308``.

Bytes are written in blocks from a worker thread (memory: one block per request); sha256, MD5 and CRC32C follow
the persisted bytes (re-read from the file only when less than a chunk is kept).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import anyio.to_thread
import google_crc32c
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ..core.storage import COPY_BLOCK_BYTES, Storage
from .config import ALIGN, ResumableConfig
from .errors import GoogleError, json_response, text_response

OPEN, COMPLETE, DEAD, CANCELLED = "open", "complete", "dead", "cancelled"
CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$")
#: Sent by some clients: answer a 308 as 200 with this header naming the real status.
NO_308, STATUS_OVERRIDE = "x-guploader-no-308", "X-HTTP-Status-Code-Override"


class SessionGone(Exception):
    """The session URI answers 404 (unknown, expired, cancelled) or 410 (dead)."""

    def __init__(self, upload_id: str, status: int, why: str) -> None:
        super().__init__(f"upload session {upload_id}: {why}")
        self.status, self.why = status, why

    def response(self) -> Response:
        reason = "notFound" if self.status == 404 else "gone"
        return GoogleError(self.status, reason, f"The upload session {self.why}.").response()


@dataclass
class Hashes:
    """Running digests of the persisted bytes."""

    sha256: Any = field(default_factory=hashlib.sha256)
    md5: Any = field(default_factory=hashlib.md5)
    crc32c: int = 0

    def copy(self) -> Hashes:
        return Hashes(self.sha256.copy(), self.md5.copy(), self.crc32c)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self.sha256.update(data)
        self.md5.update(data)
        self.crc32c = google_crc32c.extend(self.crc32c, bytes(data))

    def md5_b64(self) -> str:
        return base64.b64encode(self.md5.digest()).decode()

    def crc32c_b64(self) -> str:
        return base64.b64encode(self.crc32c.to_bytes(4, "big")).decode()


@dataclass
class ResumableSession:
    """One resumable upload session."""

    id: str
    path: Path
    created_at: float
    seq: int
    #: From ``X-Upload-Content-Length`` or learnt from a ``Content-Range``; None while unknown.
    total: int | None
    content_type: str
    persisted: int = 0
    hashes: Hashes = field(default_factory=Hashes)
    state: str = OPEN
    expired_at: float | None = None
    completed_at: float | None = None
    #: Why it died (a refused finish, killed).
    dead_reason: str | None = None
    #: The resource answered on completion (and to later status queries).
    resource: dict[str, Any] | None = None
    writing: bool = False
    #: Requests carrying bytes, status queries, chunks refused for a gap.
    chunks: int = 0
    status_queries: int = 0
    gaps: int = 0
    #: Bytes re-sent that the session already had (ignored), bytes received but not kept.
    ignored_bytes: int = 0
    dropped_bytes: int = 0
    #: What the front door attached (the resource's metadata...).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.state == COMPLETE


#: The front door's finish: checks the whole upload and makes the resource (``GoogleError``: refused, and the
#: session dies).
Finisher = Callable[[ResumableSession, Request], Awaitable[dict[str, Any]]]


def align_down(offset: int) -> int:
    return offset - offset % ALIGN


class ResumableSessions:
    """Every session of one front door, and the protocol on its session URI; reads the live config on each call."""

    def __init__(self, storage: Storage, area: str, config: Callable[[], ResumableConfig],
                 roll: Callable[[float, str], bool], finish: Finisher, *, allow_cancel: bool) -> None:  # fmt: skip
        self.storage = storage
        self.area = area
        self._config = config
        #: ``FaultInjector.roll``; kinds ``<area>_short_persist``, ``<area>_no_range``, ``<area>_rate_limit_403``.
        self._roll = roll
        self.finish = finish
        self.allow_cancel = allow_cancel
        self.sessions: dict[str, ResumableSession] = {}
        self.counts: dict[str, int] = {}
        self._seq = itertools.count()

    @property
    def config(self) -> ResumableConfig:
        return self._config()

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    # -- lifetime -------------------------------------------------------------------------------

    def create(self, total: int | None, content_type: str, extra: dict[str, Any]) -> ResumableSession:
        upload_id = "ADPycd" + uuid.uuid4().hex + uuid.uuid4().hex[:12]
        path = self.storage.final_path(self.area, upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        session = ResumableSession(upload_id, path, time.time(), next(self._seq), total, content_type, extra=extra)
        self.sessions[upload_id] = session
        self.count("sessions")
        return session

    def expires_at(self, session: ResumableSession) -> float | None:
        if session.state != OPEN:
            return None
        expires = session.created_at + self.config.session_lifetime_secs
        return expires if session.expired_at is None else min(expires, session.expired_at)

    def state(self, session: ResumableSession) -> str:
        expires = self.expires_at(session)
        return "expired" if expires is not None and expires <= time.time() else session.state

    def find(self, upload_id: str) -> ResumableSession:
        """Any session held, whatever its state (inspection); ``SessionGone`` 404 when unknown."""
        session = self.sessions.get(upload_id)
        if session is None:
            raise SessionGone(upload_id, 404, "is not known here")
        return session

    def live(self, upload_id: str | None) -> ResumableSession:
        """The session as the protocol sees it: 404 unknown, expired or cancelled; 410 dead."""
        session = self.find(upload_id or "")
        state = self.state(session)
        if state == "expired":
            raise SessionGone(session.id, 404, "expired: start a new one")
        if state == CANCELLED:
            raise SessionGone(session.id, 404, "was cancelled")
        if state == DEAD:
            raise SessionGone(session.id, 410, f"is no longer usable ({session.dead_reason}): start a new one")
        return session

    def expire(self, session: ResumableSession) -> None:
        session.expired_at = time.time()

    def kill(self, session: ResumableSession, reason: str) -> None:
        """The session dies (410 from now on) and its bytes go."""
        session.state, session.dead_reason = DEAD, reason
        session.path.unlink(missing_ok=True)
        self.count("sessions_dead")

    def forget_all(self) -> None:
        for session in self.sessions.values():
            session.state = CANCELLED  # a request still writing drops what it has
            session.path.unlink(missing_ok=True)
        self.sessions.clear()
        self.counts.clear()

    def check_rate_limit(self) -> None:
        """A 403 ``rateLimitExceeded`` at ``rate_limit_403_rate`` (fault kind ``<area>_rate_limit_403``)."""
        if self._roll(self.config.rate_limit_403_rate, f"{self.area}_rate_limit_403"):
            raise GoogleError(403, "rateLimitExceeded", "Rate Limit Exceeded: slow down and retry with backoff.",
                              "usageLimits")  # fmt: skip

    # -- the session URI ------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """A request to a session URI: chunk, status query, or (GCS) cancel."""
        try:
            session = self.live(request.query_params.get("upload_id"))
        except SessionGone as exc:
            return exc.response()
        headers = {"X-GUploader-UploadID": session.id}
        if request.method == "DELETE":
            if not self.allow_cancel:
                return GoogleError(405, "methodNotAllowed", "An upload session cannot be cancelled here; it "
                                   "expires on its own.").response()  # fmt: skip
            session.state = CANCELLED
            session.path.unlink(missing_ok=True)
            self.count("sessions_cancelled")
            return text_response("Client Closed Request", 499, headers)
        parsed = self._content_range(request)
        if isinstance(parsed, Response):
            return parsed
        start, end, total = parsed
        if session.complete:
            self.count("answers_after_completion")
            return self._completed(session, headers)
        if total is not None:
            declared = session.total
            if declared is not None and total != declared:
                return text_response(f"Invalid request. The Content-Range total {total} differs from the upload's "
                                     f"size {declared}.", 400, headers)  # fmt: skip
            if total > self.config.max_size:
                return text_response(f"Invalid request. The upload's size {total} exceeds the limit "
                                     f"{self.config.max_size}.", 400, headers)  # fmt: skip
        if start is None:
            return await self._status_query(session, request, total, headers)
        assert end is not None
        if end >= self.config.max_size:
            return text_response(f"Invalid request. The Content-Range end {end} is past the upload size limit "
                                 f"{self.config.max_size}.", 400, headers)  # fmt: skip
        if total is not None and end >= total:
            return text_response(f"Invalid request. The Content-Range end {end} is past the upload's size {total}.",
                                 400, headers)  # fmt: skip
        try:
            self.check_rate_limit()
        except GoogleError as exc:
            exc.headers.update(headers)
            return exc.response()
        if session.writing:
            self.count("busy")
            return text_response("Another request is writing to this upload session: query its status, then go on.",
                                 503, headers)  # fmt: skip
        if start > session.persisted:
            session.gaps += 1
            self.count("gaps")
            return text_response(f"Invalid request. According to the Content-Range header, the upload offset is "
                                 f"{start} byte(s), which exceeds already uploaded size of {session.persisted} "
                                 "byte(s).", 503, headers)  # fmt: skip
        if total is not None:
            session.total = total
        return await self._chunk(session, request, start, end, headers)

    def _content_range(self, request: Request) -> tuple[int | None, int | None, int | None] | Response:
        header = request.headers.get("content-range")
        if header is None:  # the whole upload in one request
            text = request.headers.get("content-length") or "0"
            if not text.isdigit():
                return text_response("Invalid request. Without Content-Range the body is the whole upload: send its "
                                     "Content-Length.", 400)  # fmt: skip
            length = int(text)
            return (0, length - 1, length) if length else (None, None, 0)
        match = CONTENT_RANGE.match(header)
        if match is None:
            return text_response(f"Failed to parse Content-Range header {header!r}: expected 'bytes a-b/total', "
                                 "'bytes a-b/*', 'bytes */total' or 'bytes */*'.", 400)  # fmt: skip
        first, last, total_text = match.groups()
        total = None if total_text == "*" else int(total_text)
        if first is None:
            return None, None, total
        start, end = int(first), int(last)
        if end < start:
            return text_response(f"Invalid Content-Range {header!r}: the end is before the start.", 400)
        return start, end, total

    async def _status_query(self, session: ResumableSession, request: Request, total: int | None,
                            headers: dict[str, str]) -> Response:  # fmt: skip
        if await _has_body(request):
            return text_response("Invalid request. A status query ('bytes */...') must have an empty body.", 400,
                                 headers)  # fmt: skip
        session.status_queries += 1
        self.count("status_queries")
        if total is not None:
            if total < session.persisted:
                return text_response(f"Invalid request. The total {total} is less than the {session.persisted} "
                                     "byte(s) already uploaded.", 400, headers)  # fmt: skip
            session.total = total
            if total == session.persisted and not session.writing:
                return await self._finish(session, request, headers)
        return self._incomplete(session, request, headers, omit_range=False)

    async def _chunk(self, session: ResumableSession, request: Request, start: int, end: int,
                     headers: dict[str, str]) -> Response:  # fmt: skip
        session.writing = True
        session.chunks += 1
        self.count("chunks")
        expected = end - start + 1
        skip = session.persisted - start
        write_at = session.persisted
        hashes = session.hashes.copy()
        received = 0
        pending = bytearray()
        out: BinaryIO = open(session.path, "r+b")  # noqa: SIM115 - closed below
        try:
            out.seek(write_at)
            try:
                async for piece in request.stream():
                    if not piece:
                        continue
                    begin = max(0, skip - received)  # re-sent bytes the session has: ignored
                    received += len(piece)
                    if received > expected:
                        break
                    if begin < len(piece):
                        pending += piece[begin:]
                    if len(pending) >= COPY_BLOCK_BYTES:
                        await _flush(out, pending, hashes)
                        pending = bytearray()
            except ClientDisconnect:
                await _flush(out, pending, hashes)
                arrived = out.tell()
                await self._keep(session, out, write_at, align_down(arrived), arrived, hashes)
                session.ignored_bytes += min(skip, received)
                self.count("bytes_ignored", min(skip, received))
                self.count("broken_bodies")
                raise
            await _flush(out, pending, hashes)
            if received != expected:
                out.truncate(write_at)
                return text_response(f"Invalid request. The body has {received if received <= expected else 'more'}"
                                     f" byte(s) where Content-Range announces {expected}.", 400, headers)  # fmt: skip
            arrived = out.tell()
            ignored = min(skip, expected)
            session.ignored_bytes += ignored
            self.count("bytes_ignored", ignored)
            last = session.total is not None and end + 1 == session.total
            keep = arrived if last else self._middle_keep(write_at, arrived)
            await self._keep(session, out, write_at, keep, arrived, hashes)
        finally:
            out.close()
            session.writing = False
        if session.state != OPEN:  # cancelled or forgotten while writing
            session.path.unlink(missing_ok=True)
            return SessionGone(session.id, 404, "was cancelled").response()
        if session.total is not None and session.persisted == session.total:
            return await self._finish(session, request, headers)
        omit = self._roll(self.config.no_range_rate, f"{self.area}_no_range")
        return self._incomplete(session, request, headers, omit_range=omit)

    def _middle_keep(self, write_at: int, arrived: int) -> int:
        """Where a middle chunk's persisted bytes end: aligned (``persist_partial``), or less (a fault)."""
        keep = align_down(arrived) if self.config.persist_partial else arrived
        if arrived > write_at and self._roll(self.config.short_persist_rate, f"{self.area}_short_persist"):
            keep = align_down(write_at + (arrived - write_at) // 2)
        return max(keep, write_at)

    async def _keep(self, session: ResumableSession, out: BinaryIO, write_at: int, keep: int, arrived: int,
              hashes: Hashes) -> None:  # fmt: skip
        """Persist ``[write_at, keep)`` of the ``[write_at, arrived)`` just written (``hashes`` cover all of it)."""
        keep = max(keep, write_at)
        if keep < arrived:
            out.truncate(keep)
            session.dropped_bytes += arrived - keep
            self.count("bytes_dropped", arrived - keep)
            if keep > write_at:
                out.flush()
                hashes = session.hashes.copy()
                await anyio.to_thread.run_sync(_rehash, session.path, write_at, keep, hashes)
            else:
                hashes = session.hashes
        session.persisted, session.hashes = keep, hashes

    async def _finish(self, session: ResumableSession, request: Request, headers: dict[str, str]) -> Response:
        try:
            resource = await self.finish(session, request)
        except GoogleError as exc:
            self.kill(session, f"refused at completion: {exc.reason}")
            exc.headers.update(headers)
            return exc.response()
        session.state, session.resource, session.completed_at = COMPLETE, resource, time.time()
        self.count("completed")
        return self._completed(session, headers)

    def _completed(self, session: ResumableSession, headers: dict[str, str]) -> Response:
        return json_response(session.resource, self.config.completion_status, headers)

    def _incomplete(self, session: ResumableSession, request: Request, headers: dict[str, str],
                    omit_range: bool) -> Response:  # fmt: skip
        answer = dict(headers)
        if session.persisted and not omit_range:
            answer["Range"] = f"bytes=0-{session.persisted - 1}"
        if omit_range and session.persisted:
            self.count("ranges_omitted")
        if request.headers.get(NO_308, "").lower() == "yes":
            answer[STATUS_OVERRIDE] = "308"
            return Response(b"", 200, headers=answer)
        return Response(b"", 308, headers=answer)

    # -- views ----------------------------------------------------------------------------------

    def inspect(self, session: ResumableSession) -> dict[str, Any]:
        state = self.state(session)
        done = session.complete
        return {
            "upload_id": session.id, "state": state, "total": session.total, "content_type": session.content_type,
            "persisted": session.persisted, "chunks": session.chunks, "status_queries": session.status_queries,
            "gaps": session.gaps, "ignored_bytes": session.ignored_bytes, "dropped_bytes": session.dropped_bytes,
            "sha256": session.hashes.sha256.hexdigest() if done else None, "writing": session.writing,
            "created_at": session.created_at, "expires_at": self.expires_at(session),
            "completed_at": session.completed_at, "dead_reason": session.dead_reason,
            "resource_id": (session.resource or {}).get("id"),
        }  # fmt: skip

    def newest_first(self) -> list[ResumableSession]:
        return sorted(self.sessions.values(), key=lambda s: s.seq, reverse=True)


async def _has_body(request: Request) -> bool:
    """Whether a request carries any body byte (read no further than the first: the middleware drains the rest)."""
    async for piece in request.stream():
        if piece:
            return True
    return False


async def _flush(out: BinaryIO, data: bytearray, hashes: Hashes) -> None:
    if not data:
        return

    def write() -> None:
        out.write(data)
        hashes.update(data)

    await anyio.to_thread.run_sync(write)


def _rehash(path: Path, start: int, end: int, hashes: Hashes) -> None:
    """Add ``[start, end)`` of the file to ``hashes`` (blocking, block by block)."""
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            block = f.read(min(COPY_BLOCK_BYTES, left))
            if not block:
                break
            hashes.update(block)
            left -= len(block)
