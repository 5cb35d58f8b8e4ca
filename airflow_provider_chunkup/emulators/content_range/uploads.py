"""Chunked uploads as django-chunked-upload keeps them, with SelfCommunity's limits on top.

An upload is one file that grows by appending: each chunk must start where the file ends
(``Offsets do not match`` otherwise, with the server's offset, which is how a client resumes).
A running md5 and sha256 follow the appended bytes, so neither a chunk nor the complete call
ever reads the whole file again. Refusals are ``ContentRangeError`` (a ``{"detail": ...}`` body)
or ``UploadNotFound`` (Django's HTML 404 page); ``content_range`` renders them.

Everything runs on the server's event loop. Checks and the append of a small chunk happen with
no ``await`` between them; a large chunk is appended in a worker thread under the upload's lock,
so a concurrent chunk for the same upload waits and then sees the new offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio.to_thread

from ..core.sniff import SNIFF_BYTES, image_size
from ..core.storage import COPY_BLOCK_BYTES, Storage
from .config import ContentRangeEmulatorConfig
from .forms import ChunkPart

STORAGE_AREA = "content_range"
#: django-chunked-upload's pattern (end inclusive), matched against the whole header.
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
#: ``type`` values of the complete call; the Media ``type`` when the call names none, by chunk field.
MEDIA_TYPES = ("image", "doc", "eimage")
DEFAULT_MEDIA_TYPE = {"image": "image", "document": "doc", "file": "doc"}
IMAGE_TYPES = frozenset({"image", "eimage"})
#: django-chunked-upload's statuses.
UPLOADING, COMPLETE, FAILED = "uploading", "complete", "failed"
#: A chunk this small is appended and hashed on the event loop (well under a millisecond): cheaper
#: than the hop to a worker thread and back, and per-request overhead is what this API is about.
INLINE_BYTES = 256 * 1024


class ContentRangeError(Exception):
    """A request django-chunked-upload (or SelfCommunity) refuses: ``{"detail": ..., **extra}``."""

    def __init__(self, detail: str, status: int = 400, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, **self.extra}

    @classmethod
    def too_large(cls, limit: int) -> ContentRangeError:
        return cls(f"Size of file exceeds the limit ({limit} bytes)")


class UploadNotFound(Exception):
    """``get_object_or_404`` found no upload (of this user) with that ``upload_id``."""


@dataclass(frozen=True)
class ChunkRange:
    """``Content-Range: bytes start-end/total``, end inclusive."""

    start: int
    end: int
    total: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_content_range(value: str | None, chunk_size: int, fail_if_no_header: bool) -> ChunkRange:
    """The header as django-chunked-upload reads it; no header means the chunk is the whole file."""
    if value is None:
        if fail_if_no_header:
            raise ContentRangeError("Error in request headers")
        return ChunkRange(0, chunk_size - 1, chunk_size)
    match = CONTENT_RANGE.match(value)
    if match is None:
        raise ContentRangeError("Error in request headers")
    start, end, total = map(int, match.groups())
    return ChunkRange(start, end, total)


def django_datetime(timestamp: float) -> str:
    """ISO 8601 as Django's JSON encoder writes it: milliseconds, ``Z`` for UTC."""
    text = datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def drf_datetime(timestamp: float) -> str:
    """ISO 8601 as Django REST framework renders a ``DateTimeField``: microseconds, ``Z``."""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class ChunkedUpload:
    """One upload: its file on disk grows by each accepted chunk."""

    upload_id: str
    owner: str
    field: str
    filename: str
    total: int
    path: Path
    created_at: float
    seq: int
    offset: int = 0
    chunks: int = 0
    status: str = UPLOADING
    completed_at: float | None = None
    media_id: int | None = None
    #: Set by the control endpoint: the upload counts as expired from then on.
    expired_at: float | None = None
    md5: Any = field(default_factory=hashlib.md5, repr=False)
    sha256: Any = field(default_factory=hashlib.sha256, repr=False)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    forgotten: bool = False


@dataclass
class Media:
    """A SelfCommunity Media object made by the complete call."""

    id: int
    upload_id: str
    type: str
    title: str
    added_at: float
    path: Path
    size: int
    width: int | None = None
    height: int | None = None


class UploadStore:
    """Every upload and media of one emulator; reads the live config on each call."""

    def __init__(self, storage: Storage, config: Callable[[], ContentRangeEmulatorConfig]) -> None:
        self.storage = storage
        self._config = config
        self._seq = itertools.count()
        self._media_ids = itertools.count(1)
        self.uploads: dict[str, ChunkedUpload] = {}
        self.media: dict[int, Media] = {}

    @property
    def config(self) -> ContentRangeEmulatorConfig:
        return self._config()

    # -- lifetime -------------------------------------------------------------------------------

    def expires_at(self, upload: ChunkedUpload) -> float:
        expires = upload.created_at + self.config.expiration_secs
        return expires if upload.expired_at is None else min(expires, upload.expired_at)

    def expired(self, upload: ChunkedUpload, now: float | None = None) -> bool:
        return self.expires_at(upload) <= (time.time() if now is None else now)

    def get(self, upload_id: str, owner: str | None = None) -> ChunkedUpload:
        """The upload, if ``owner`` (a token: a user) has it; any owner's for ``owner=None``."""
        upload = self.uploads.get(upload_id)
        if upload is None or (owner is not None and upload.owner != owner):
            raise UploadNotFound(upload_id)
        return upload

    def expire(self, upload_id: str) -> ChunkedUpload:
        upload = self.get(upload_id)
        upload.expired_at = time.time()
        return upload

    # -- chunks ---------------------------------------------------------------------------------

    async def receive(
        self, owner: str, upload_id: str | None, part: ChunkPart, content_range: str | None
    ) -> ChunkedUpload:
        """Check and append one chunk, in django-chunked-upload's order; returns the upload.

        A new upload exists only once its first chunk passed the checks, as in django (unsaved model).
        """
        upload = self.get(upload_id, owner) if upload_id else None
        async with upload.lock if upload is not None else contextlib.nullcontext():
            if upload is not None:
                self._check_open(upload)
            rng = parse_content_range(content_range, part.size, self.config.fail_if_no_header)
            self._check_chunk(upload, rng, part)
            if upload is None:
                upload = self._new_upload(owner, part, rng.total)
                # Listed before the append, so a reset during a threaded append finds it.
                self.uploads[upload.upload_id] = upload
                try:
                    await self._append(upload, part)
                except BaseException:
                    self.uploads.pop(upload.upload_id, None)
                    upload.path.unlink(missing_ok=True)
                    raise
            else:
                await self._append(upload, part)
        return upload

    def _check_open(self, upload: ChunkedUpload) -> None:
        if self.expired(upload):
            raise ContentRangeError("Upload has expired", status=410)
        if upload.status != UPLOADING:
            raise ContentRangeError(f'Upload has already been marked as "{upload.status}"')

    def _check_chunk(self, upload: ChunkedUpload | None, rng: ChunkRange, part: ChunkPart) -> None:
        config = self.config
        if config.max_bytes is not None and rng.total > config.max_bytes:
            raise ContentRangeError.too_large(config.max_bytes)
        field_name = part.field_name if upload is None else upload.field
        kind_limit = config.size_limits.get(field_name)
        if kind_limit is not None and rng.total > kind_limit:
            raise ContentRangeError.too_large(kind_limit)
        offset = 0 if upload is None else upload.offset
        if offset != rng.start:
            raise ContentRangeError("Offsets do not match", offset=offset)
        if part.size != rng.length:
            raise ContentRangeError("File size doesn't match headers")
        # The limit the body was read with: past it the bytes were not kept.
        if part.overflowed or (part.limit is not None and part.size > part.limit):
            raise ContentRangeError(f"Size of chunk exceeds the limit ({part.limit} bytes)")
        if upload is not None and rng.total != upload.total:
            raise ContentRangeError(f"Total size doesn't match the upload's ({upload.total} bytes)")
        if rng.end >= rng.total:
            raise ContentRangeError("Chunk ends past the end of the file")
        # Last, so that a probe for the offset gets it whatever field it uses.
        if upload is not None and part.field_name != upload.field:
            raise ContentRangeError(f"The chunk must be in the '{upload.field}' field, as the upload's first chunk was")

    def _new_upload(self, owner: str, part: ChunkPart, total: int) -> ChunkedUpload:
        upload_id = uuid.uuid4().hex
        path = self.storage.final_path(STORAGE_AREA, upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Django keeps the base name only (``UploadedFile`` sanitizes the client's file name).
        filename = part.filename.replace("\\", "/").rsplit("/", 1)[-1]
        return ChunkedUpload(
            upload_id=upload_id, owner=owner, field=part.field_name, filename=filename, total=total,
            path=path, created_at=time.time(), seq=next(self._seq),
        )  # fmt: skip

    async def _append(self, upload: ChunkedUpload, part: ChunkPart) -> None:
        """Append the chunk's bytes and hash them; on failure the file is cut back to the offset."""
        if part.spool is None and part.size <= INLINE_BYTES:
            md5, sha256 = _append_bytes(upload.path, upload.offset, part.buffer, upload.md5, upload.sha256)
        else:
            md5, sha256 = await anyio.to_thread.run_sync(
                _append_part, upload.path, upload.offset, part, upload.md5, upload.sha256
            )
            if upload.forgotten:  # reset while the copy ran
                upload.path.unlink(missing_ok=True)
                return
        upload.md5, upload.sha256 = md5, sha256
        upload.offset += part.size
        upload.chunks += 1

    # -- completion -----------------------------------------------------------------------------

    def complete(self, owner: str, upload_id: str, md5: str, media_type: str | None) -> Media:
        """The complete call, after its fields were checked: the new Media."""
        upload = self.get(upload_id, owner)
        if self.expired(upload):
            raise ContentRangeError("Upload has expired", status=410)
        if upload.status == COMPLETE:
            # Stock django returns (instead of raising) this error, so completes twice; not here.
            raise ContentRangeError("Upload has already been marked as complete")
        if upload.offset != upload.total:
            raise ContentRangeError("Upload is incomplete", offset=upload.offset)
        if md5.strip().lower() != upload.md5.hexdigest():
            # As django: the upload is failed (no more chunks), a right md5 may still complete it.
            upload.status = FAILED
            raise ContentRangeError("md5 checksum does not match")
        kind = media_type or DEFAULT_MEDIA_TYPE.get(upload.field, "doc")
        media = Media(
            id=next(self._media_ids), upload_id=upload.upload_id, type=kind, title=upload.filename,
            added_at=time.time(), path=upload.path, size=upload.offset,
        )  # fmt: skip
        if kind in IMAGE_TYPES:
            # One read of the head, once per upload (the page cache still has it).
            size = image_size(self.storage.read_head(upload.path, SNIFF_BYTES))
            if size is not None:
                media.width, media.height = size
        upload.status, upload.completed_at, upload.media_id = COMPLETE, media.added_at, media.id
        self.media[media.id] = media
        return media

    def get_media(self, media_id: str) -> Media:
        media = self.media.get(int(media_id)) if media_id.isdigit() else None
        if media is None:
            raise UploadNotFound(media_id)
        return media

    # -- views ----------------------------------------------------------------------------------

    def chunk_json(self, upload: ChunkedUpload) -> dict[str, Any]:
        """An accepted chunk's answer."""
        return {
            "upload_id": upload.upload_id,
            "offset": upload.offset,
            "expires": django_datetime(self.expires_at(upload)),
        }

    @staticmethod
    def media_json(media: Media, base_url: str) -> dict[str, Any]:
        """SelfCommunity's Media schema; the URLs point at the emulator itself."""
        url = f"{base_url}/_emulator/content-range/media/{media.id}/file"
        return {
            "id": media.id,
            "added_at": drf_datetime(media.added_at),
            "type": media.type,
            "title": media.title,
            "description": "",
            "url": url,
            # SelfCommunity shows a preview here; the emulator renders none, so: the file itself.
            "image": url,
            "image_width": media.width,
            "image_height": media.height,
            "order": 0,
            "embed": None,
        }

    def inspect(self, upload: ChunkedUpload) -> dict[str, Any]:
        """Everything a test wants to know about an upload (not a SelfCommunity response)."""
        return {
            "upload_id": upload.upload_id,
            "field": upload.field,
            "filename": upload.filename,
            "total": upload.total,
            "offset": upload.offset,
            "status": upload.status,
            "complete": upload.status == COMPLETE,
            "md5": upload.md5.hexdigest(),
            "sha256": upload.sha256.hexdigest(),
            "created_at": upload.created_at,
            "expires_at": self.expires_at(upload),
            "expired": self.expired(upload),
            "media_id": upload.media_id,
            "chunks": upload.chunks,
        }

    def inspect_media(self, media: Media, base_url: str) -> dict[str, Any]:
        return {**self.media_json(media, base_url), "upload_id": media.upload_id, "size": media.size}

    def listing(self) -> list[dict[str, Any]]:
        """Every upload, newest first."""
        return [self.inspect(u) for u in sorted(self.uploads.values(), key=lambda u: u.seq, reverse=True)]

    def forget_all(self) -> None:
        """Drop every upload, media and file."""
        for upload in self.uploads.values():
            upload.forgotten = True  # a copy still running removes its file when it ends
            upload.path.unlink(missing_ok=True)
        self.uploads.clear()
        self.media.clear()
        self._media_ids = itertools.count(1)


def _append_bytes(path: Path, offset: int, data: bytes | bytearray, md5: Any, sha256: Any) -> tuple[Any, Any]:
    """Write ``data`` at ``offset`` and return the hashes advanced by it (copies: committed by the caller)."""
    with open(path, "r+b" if offset else "wb") as out:
        try:
            out.seek(offset)
            out.write(data)
            out.truncate()
        except BaseException:
            out.truncate(offset)
            raise
    md5, sha256 = md5.copy(), sha256.copy()
    md5.update(data)
    sha256.update(data)
    return md5, sha256


def _append_part(path: Path, offset: int, part: ChunkPart, md5: Any, sha256: Any) -> tuple[Any, Any]:
    """``_append_bytes`` for a chunk of any size (in memory or spilled), in blocks; blocking."""
    if part.spool is None:
        return _append_bytes(path, offset, part.buffer, md5, sha256)
    md5, sha256 = md5.copy(), sha256.copy()
    buffer = bytearray(COPY_BLOCK_BYTES)
    view = memoryview(buffer)
    with open(part.spool.path, "rb") as source, open(path, "r+b" if offset else "wb") as out:
        try:
            out.seek(offset)
            while n := source.readinto(buffer):
                out.write(view[:n])
                md5.update(view[:n])
                sha256.update(view[:n])
            out.truncate()
        except BaseException:
            out.truncate(offset)
            raise
    return md5, sha256
