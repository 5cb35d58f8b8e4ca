"""The chunk request's multipart body, read with as little per-request work as possible.

SelfCommunity chunks are at most 200 KB, so a chunk is kept in memory (no temp file to create,
read back and delete for every request) up to ``MEMORY_BYTES``; a larger one (stock
django-chunked-upload has no chunk limit) spills to a temp file, so memory stays bounded.
Bytes past the chunk limit are counted, not kept: such a chunk is refused whatever else is wrong.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from starlette.requests import Request

from ..core.forms import PartCollector, PartSink, Route
from ..core.storage import SpoolFile, Storage

#: Largest chunk kept in memory; past it the chunk spills to a temp file.
MEMORY_BYTES = 1024 * 1024


class ChunkPart:
    """One uploaded file part: in memory, spilled to disk past ``MEMORY_BYTES``, or overflowed.

    ``limit`` is the chunk limit when the body was read; past it nothing more is kept
    (``overflowed``) but ``size`` still counts every byte, for the error message.
    """

    def __init__(self, storage: Storage, field_name: str, filename: str, limit: int | None) -> None:
        self.field_name = field_name
        self.filename = filename
        self.limit = limit
        self.size = 0
        self.overflowed = False
        self.buffer = bytearray()
        self.spool: SpoolFile | None = None
        self._storage = storage

    def write(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        if self.overflowed:
            return
        if self.limit is not None and self.size > self.limit:
            self.overflowed = True
            self.discard()
            return
        if self.spool is not None:
            self.spool.write(data)
        elif len(self.buffer) + len(data) > MEMORY_BYTES:
            self.spool = self._storage.spool()
            self.spool.write(self.buffer)
            self.spool.write(data)
            self.buffer = bytearray()
        else:
            self.buffer += data

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()

    def discard(self) -> None:
        """Drop the kept bytes (delete the temp file, if any)."""
        self.buffer = bytearray()
        if self.spool is not None:
            self.spool.discard()
            self.spool = None


@dataclass
class ChunkForm:
    """The chunk request's text fields, and its file parts named in ``file_fields``."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, ChunkPart] = field(default_factory=dict)

    def chunk(self, file_fields: Collection[str]) -> ChunkPart | None:
        """The chunk: the first of ``file_fields`` (in that order) that the request has a file in."""
        return next((self.files[name] for name in file_fields if name in self.files), None)

    def discard(self) -> None:
        for part in self.files.values():
            part.discard()


class _Collector(PartCollector[ChunkForm]):
    """Routes files in ``file_fields`` to ``ChunkPart``, other fields to text."""

    def __init__(self, storage: Storage, file_fields: Collection[str], limit: int | None) -> None:
        super().__init__(ChunkForm())
        self.storage = storage
        self.file_fields = file_fields
        self.limit = limit

    def route(self, name: str, filename: str | None) -> PartSink | Route:
        if not filename:
            # Django puts a part without a file name in request.POST, never in request.FILES.
            return Route.TEXT
        if name in self.file_fields:
            # A repeated field: the last part wins, as with Django's ``request.FILES.get``.
            previous = self.form.files.pop(name, None)
            if previous is not None:
                previous.discard()
            part = ChunkPart(self.storage, name, filename, self.limit)
            self.form.files[name] = part
            return part
        # Any other file part is read past and dropped.
        return Route.DROP


async def read_chunk_form(
    request: Request, storage: Storage, file_fields: Collection[str], limit: int | None
) -> ChunkForm:
    """Parse a multipart chunk request; raises ``BodyError`` for a malformed body."""
    return await _Collector(storage, file_fields, limit).read(request)
