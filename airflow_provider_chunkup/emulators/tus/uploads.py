"""tus uploads as the server keeps them, whatever front door created them.

An upload is one file on the shared storage (``tus/<id>.bin``) that grows by PATCH bodies written
at its offset. The body is streamed to the file in blocks (memory stays at one block per request),
and a running sha256 follows the committed bytes, so the sha256 of a finished upload needs no
second read. A body that breaks off keeps what arrived (the protocol asks servers to, so a client
resumes at whatever byte the server reports); a chunk refused after it was read (checksum mismatch,
past the length) is cut off again.

One PATCH per upload at a time: a second one gets **423 Locked** (tusd's answer), not 409, because
its offset cannot be judged while the first is still writing; 423 says "try again" (tus-js-client
and chunkup retry it), where 409 would say "your offset is wrong" before it is known.

Everything runs on the server's event loop; blocks of a body are written in a worker thread.
"""

from __future__ import annotations

import hashlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import anyio.to_thread
from starlette.requests import ClientDisconnect

from ..core.storage import COPY_BLOCK_BYTES, Storage
from .config import TusEmulatorConfig
from .headers import CHECKSUM_MISMATCH, Checksum, TusError, metadata_json

STORAGE_AREA = "tus"
PARTIAL, FINAL = "partial", "final"


class UploadGone(Exception):
    """No such upload for the protocol: never created, terminated (404) or expired (410)."""

    def __init__(self, upload_id: str, status: int = 404) -> None:
        super().__init__(upload_id)
        self.status = status


@dataclass
class TusUpload:
    """One upload: its file grows by each PATCH."""

    id: str
    path: Path
    created_at: float
    seq: int
    #: None while deferred (``Upload-Defer-Length: 1``).
    length: int | None
    metadata: dict[str, bytes | None] = field(default_factory=dict)
    #: ``Upload-Metadata`` as received, echoed by HEAD.
    metadata_header: str | None = None
    offset: int = 0
    #: None, ``partial`` or ``final`` (concatenation).
    concat: str | None = None
    #: A final upload's parts (ids, in order) and its ``Upload-Concat`` as received.
    parts: list[str] = field(default_factory=list)
    concat_header: str | None = None
    terminated_at: float | None = None
    #: Set by the control endpoint: the upload counts as expired from then on.
    expired_at: float | None = None
    #: When it expires if unfinished, set by a front door (Cloudflare's ``expiry`` metadata); None: the config's
    #: lifetime from its creation.
    expires: float | None = None
    patching: bool = False
    patches: int = 0
    #: Bytes kept from bodies that broke off.
    kept_from_broken: int = 0
    sha256: Any = field(default_factory=hashlib.sha256, repr=False)
    #: The front door that made it (``tus``, ``vimeo``, ``cloudflare_stream``), and what it attached.
    origin: str = "tus"
    extra: dict[str, Any] = field(default_factory=dict)
    forgotten: bool = False
    #: When the last byte arrived (``time.time()``); None while unfinished.
    completed_at: float | None = None

    @property
    def complete(self) -> bool:
        return self.length is not None and self.offset == self.length


#: A front door's own rule on one chunk (``upload``, its offset, the chunk's size); raises ``TusError`` to refuse it.
ChunkRule = Callable[[TusUpload, int, int], None]


class TusUploadStore:
    """Every tus upload of one front door; reads the live config on each call.

    A platform built on tus changes what the generic server does with three hooks: ``on_complete``
    (called once an upload has all its bytes: processing starts), ``keep_broken_bodies`` (False: a
    body that breaks off keeps nothing, the offset stays where the chunk began) and ``chunk_rule``
    (checked on the declared size before a byte is read, and again on the size read before it is kept).
    """

    def __init__(
        self, storage: Storage, config: Callable[[], TusEmulatorConfig], *,
        on_complete: Callable[[TusUpload], None] | None = None, keep_broken_bodies: bool = True,
        chunk_rule: ChunkRule | None = None,
    ) -> None:  # fmt: skip
        self.storage = storage
        self._config = config
        self.uploads: dict[str, TusUpload] = {}
        self.counts: dict[str, int] = {}
        self._seq = itertools.count()
        self.on_complete = on_complete
        self.keep_broken_bodies = keep_broken_bodies
        self.chunk_rule = chunk_rule

    @property
    def config(self) -> TusEmulatorConfig:
        return self._config()

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    # -- lifetime -------------------------------------------------------------------------------

    def expires_at(self, upload: TusUpload) -> float | None:
        """When an unfinished upload expires; None when it cannot (finished, or expiration off)."""
        if upload.complete or "expiration" not in self.config.extensions:
            return upload.expired_at
        expires = upload.expires if upload.expires is not None else upload.created_at + self.config.expiry_secs
        return expires if upload.expired_at is None else min(expires, upload.expired_at)

    def expired(self, upload: TusUpload) -> bool:
        expires = self.expires_at(upload)
        return expires is not None and expires <= time.time()

    def state(self, upload: TusUpload) -> str:
        if upload.terminated_at is not None:
            return "terminated"
        if upload.complete:
            return "complete"
        return "expired" if self.expired(upload) else "uploading"

    def find(self, upload_id: str) -> TusUpload:
        """Any upload the store holds, whatever its state (inspection)."""
        upload = self.uploads.get(upload_id)
        if upload is None:
            raise UploadGone(upload_id)
        return upload

    def get(self, upload_id: str) -> TusUpload:
        """A live upload, as the protocol sees it: 404 when unknown or terminated, 410 when expired."""
        upload = self.find(upload_id)
        if upload.terminated_at is not None:
            raise UploadGone(upload_id, 404)
        if self.expired(upload):
            raise UploadGone(upload_id, 410)
        return upload

    def expire(self, upload_id: str) -> TusUpload:
        upload = self.find(upload_id)
        upload.expired_at = time.time()
        return upload

    # -- creation -------------------------------------------------------------------------------

    def create(
        self, length: int | None, metadata: dict[str, bytes | None], metadata_header: str | None,
        concat: str | None = None, origin: str = "tus",
    ) -> TusUpload:  # fmt: skip
        """A new empty upload (its file exists from now on)."""
        if length is not None:
            self.check_size(length)
        upload_id = uuid.uuid4().hex
        path = self.storage.final_path(STORAGE_AREA, upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        upload = TusUpload(
            id=upload_id, path=path, created_at=time.time(), seq=next(self._seq), length=length,
            metadata=metadata, metadata_header=metadata_header, concat=concat, origin=origin,
        )  # fmt: skip
        self.uploads[upload_id] = upload
        self.count("tus_uploads_created")
        return upload

    def check_size(self, length: int) -> None:
        max_size = self.config.max_size
        if max_size is not None and length > max_size:
            raise TusError(413, f"Upload-Length {length} exceeds Tus-Max-Size {max_size}")

    async def concatenate(self, parts: list[TusUpload], metadata: dict[str, bytes | None],
                          metadata_header: str | None, concat_header: str) -> TusUpload:
        """A final upload made of finished partial ``parts``, in order, copied and hashed in a worker thread."""
        for part in parts:
            if part.concat != PARTIAL:
                raise TusError(400, f"Upload-Concat: upload {part.id} is not a partial upload")
            if not part.complete or part.patching:
                raise TusError(400, f"Upload-Concat: partial upload {part.id} is not finished")
        # Its length is known at once, so a HEAD during the copy shows length and offset 0.
        final = self.create(sum(part.offset for part in parts), metadata, metadata_header, concat=FINAL)
        final.parts, final.concat_header = [part.id for part in parts], concat_header
        final.patching = True  # nothing else touches it while it is assembled
        try:
            assembled = await anyio.to_thread.run_sync(self._assemble, final.path, [part.path for part in parts])
        except BaseException:
            self.forget(final)
            raise
        finally:
            final.patching = False
        final.length = final.offset = assembled.size
        final.sha256, final.completed_at = assembled.digest, time.time()
        self.count("tus_concatenated")
        return final

    @staticmethod
    def _assemble(target: Path, paths: list[Path]) -> _Assembled:
        """Copy ``paths`` in order into ``target``, hashing while copying (blocking)."""
        digest = hashlib.sha256()
        buffer = bytearray(COPY_BLOCK_BYTES)
        view = memoryview(buffer)
        size = 0
        with open(target, "wb") as out:
            for path in paths:
                with open(path, "rb") as source:
                    while n := source.readinto(buffer):
                        out.write(view[:n])
                        digest.update(view[:n])
                        size += n
        return _Assembled(size, digest)

    # -- PATCH ----------------------------------------------------------------------------------

    def check_chunk(self, upload: TusUpload, start: int, size: int) -> None:
        """The front door's chunk rule, if it has one (``TusError`` refuses the chunk)."""
        if self.chunk_rule is not None:
            self.chunk_rule(upload, start, size)

    def lock(self, upload: TusUpload) -> None:
        """Take the upload for one PATCH (or DELETE); 423 while another holds it."""
        if upload.patching:
            self.count("tus_locked")
            raise TusError(423, "Another request is writing to this upload; retry once it is done")
        upload.patching = True

    async def write(self, upload: TusUpload, body: AsyncIterator[bytes], checksum: Checksum | None) -> int:
        """Append a body at the upload's offset (held with ``lock``, released here); returns bytes committed.

        A body that breaks off keeps the bytes that arrived, unless a checksum was to verify them
        (then nothing is kept); ``ClientDisconnect`` goes on. Past the length, past ``max_chunk_bytes``
        or on a checksum mismatch the chunk is cut off again and refused (413, 460).
        """
        start = upload.offset
        max_size, max_chunk = self.config.max_size, self.config.max_chunk_bytes
        # A deferred upload may still not grow past Tus-Max-Size.
        end = upload.length if upload.length is not None else max_size
        limit = None if end is None else end - start
        hasher = upload.sha256.copy()
        check = checksum.hasher() if checksum else None
        out: BinaryIO = open(upload.path, "r+b")  # noqa: SIM115 - closed below
        written = 0
        pending = bytearray()
        try:
            out.seek(start)
            try:
                async for piece in body:
                    written += len(piece)
                    if max_chunk is not None and written > max_chunk:
                        raise TusError(413, f"The PATCH body exceeds the server's chunk limit ({max_chunk} bytes)")
                    if limit is not None and written > limit:
                        what = "Upload-Length" if upload.length is not None else "Tus-Max-Size"
                        raise TusError(413, f"The body goes past {what} ({end} bytes)")
                    pending += piece
                    if len(pending) >= COPY_BLOCK_BYTES:
                        await self._flush(out, pending, hasher, check)
                        pending = bytearray()
            except ClientDisconnect:
                await self._flush(out, pending, hasher, check)
                if check is None and self.keep_broken_bodies and not upload.forgotten:
                    kept = out.tell() - start
                    self._commit(upload, start + kept, hasher)
                    upload.kept_from_broken += kept
                    self.count("tus_broken_bodies")
                else:
                    out.truncate(start)
                    if check is None and not upload.forgotten:
                        self.count("tus_broken_bodies_discarded")
                raise
            await self._flush(out, pending, hasher, check)
            if check is not None and checksum is not None and check.digest() != checksum.digest:
                out.truncate(start)
                self.count("tus_checksum_mismatches")
                raise TusError(CHECKSUM_MISMATCH, "Checksum Mismatch: the chunk was discarded")
            if upload.forgotten:
                return 0
            self.check_chunk(upload, start, written)
            self._commit(upload, start + written, hasher)
            return written
        except TusError:
            out.truncate(start)
            raise
        finally:
            out.close()
            upload.patching = False
            if upload.forgotten:
                upload.path.unlink(missing_ok=True)

    @staticmethod
    async def _flush(out: BinaryIO, data: bytearray, hasher: Any, check: Any) -> None:
        if not data:
            return

        def write() -> None:
            out.write(data)
            hasher.update(data)
            if check is not None:
                check.update(data)

        await anyio.to_thread.run_sync(write)

    def _commit(self, upload: TusUpload, offset: int, hasher: Any) -> None:
        upload.offset, upload.sha256 = offset, hasher
        upload.patches += 1
        if upload.complete and upload.completed_at is None:
            upload.completed_at = time.time()
            if self.on_complete is not None:
                self.on_complete(upload)

    async def fill(self, upload: TusUpload, source: Path) -> None:
        """The whole of an empty upload from a file received another way (a platform's non-tus upload): copied and
        hashed in a worker thread; the upload is then complete (``on_complete`` runs)."""
        upload.patching = True
        try:
            assembled = await anyio.to_thread.run_sync(self._assemble, upload.path, [source])
        finally:
            upload.patching = False
        if upload.forgotten:
            upload.path.unlink(missing_ok=True)
            return
        upload.length = assembled.size
        self._commit(upload, assembled.size, assembled.digest)

    # -- termination ----------------------------------------------------------------------------

    def terminate(self, upload: TusUpload) -> None:
        """DELETE: the bytes go, the record stays (inspection shows it terminated; the protocol, 404)."""
        if upload.patching:
            self.count("tus_locked")
            raise TusError(423, "Another request is writing to this upload; retry once it is done")
        upload.terminated_at = time.time()
        self.storage.discard_upload(STORAGE_AREA, upload.id)
        self.count("tus_terminated")

    def forget(self, upload: TusUpload) -> None:
        upload.forgotten = True
        self.uploads.pop(upload.id, None)
        self.storage.discard_upload(STORAGE_AREA, upload.id)

    def forget_all(self) -> None:
        for upload in list(self.uploads.values()):
            self.forget(upload)
        self.counts.clear()

    # -- views ----------------------------------------------------------------------------------

    def inspect(self, upload: TusUpload, url: str) -> dict[str, Any]:
        """Everything a test wants to know about an upload (not a tus response)."""
        state = self.state(upload)
        return {
            "id": upload.id,
            "url": url,
            "origin": upload.origin,
            "state": state,
            "length": upload.length,
            "deferred_length": upload.length is None,
            "offset": upload.offset,
            "size": upload.offset if state != "terminated" else 0,
            "complete": upload.complete,
            "sha256": upload.sha256.hexdigest() if upload.complete and state != "terminated" else None,
            "metadata": metadata_json(upload.metadata),
            "metadata_header": upload.metadata_header,
            "concat": upload.concat,
            "parts": list(upload.parts),
            "patching": upload.patching,
            "patches": upload.patches,
            "kept_from_broken": upload.kept_from_broken,
            "created_at": upload.created_at,
            "expires_at": self.expires_at(upload),
            "expired": state == "expired",
            "terminated": state == "terminated",
            "terminated_at": upload.terminated_at,
        }

    def newest_first(self) -> list[TusUpload]:
        return sorted(self.uploads.values(), key=lambda u: u.seq, reverse=True)


@dataclass(frozen=True)
class _Assembled:
    size: int
    digest: Any
