"""The chunk request's multipart body, read with as little per-request work as possible.

SelfCommunity chunks are at most 200 KB, so a chunk is kept in memory (no temp file to create,
read back and delete for every request) up to ``MEMORY_BYTES``; a larger one (stock
django-chunked-upload has no chunk limit) spills to a temp file, so memory stays bounded.
Bytes past the chunk limit are counted, not kept: such a chunk is refused whatever else is wrong.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from .forms import SMALL_FIELD_LIMIT, BodyError
from .storage import SpoolFile, Storage

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


class _Collector:
    """python-multipart callbacks: files in ``file_fields`` to ``ChunkPart``, other fields as text."""

    def __init__(self, storage: Storage, file_fields: Collection[str], limit: int | None) -> None:
        self.storage = storage
        self.file_fields = file_fields
        self.limit = limit
        self.form = ChunkForm()
        self.error: str | None = None
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._part: ChunkPart | None = None
        self._text: bytearray | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": lambda d, s, e: self._header_name.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self._headers = {}
        self._part = None
        self._text = None

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename", b"").decode("utf-8", "replace")
        if not filename:
            # Django puts a part without a file name in request.POST, never in request.FILES.
            self._text = bytearray()
        elif self._name in self.file_fields:
            # A repeated field: the last part wins, as with Django's ``request.FILES.get``.
            previous = self.form.files.pop(self._name, None)
            if previous is not None:
                previous.discard()
            self._part = ChunkPart(self.storage, self._name, filename, self.limit)
            self.form.files[self._name] = self._part
        # Any other file part is read past and dropped.

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part is not None:
            self._part.write(memoryview(data)[start:end])
        elif self._text is not None:
            if len(self._text) + end - start > SMALL_FIELD_LIMIT:
                self.error = f"form field {self._name!r} exceeds {SMALL_FIELD_LIMIT} bytes"
                self._text = None
                return
            self._text.extend(memoryview(data)[start:end])

    def on_part_end(self) -> None:
        if self._part is not None:
            self._part.close()
        elif self._text is not None:
            try:
                self.form.fields[self._name] = self._text.decode("utf-8")
            except UnicodeDecodeError:
                self.error = f"form field {self._name!r} is not valid UTF-8"


async def read_chunk_form(
    request: Request, storage: Storage, file_fields: Collection[str], limit: int | None
) -> ChunkForm:
    """Parse a multipart chunk request; raises ``BodyError`` for a malformed body."""
    _, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if not boundary:
        raise BodyError("multipart body without a boundary in Content-Type")
    collector = _Collector(storage, file_fields, limit)
    try:
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
            if collector.error:
                break
        else:
            parser.finalize()
    except (FormParserError, ValueError) as exc:
        collector.form.discard()
        raise BodyError(f"malformed multipart body: {exc}") from exc
    except BaseException:
        # Client gone or task cancelled: leave no temp files behind.
        collector.form.discard()
        raise
    if collector.error:
        collector.form.discard()
        raise BodyError(collector.error)
    return collector.form
