"""Request body readers that keep memory bounded.

``read_multipart`` stream-parses ``multipart/form-data`` with python-multipart and writes the
parts named in ``spool_fields`` straight to temp files as they arrive, so a 5 MiB segment never
sits in memory; other (small) fields are kept as text. The other readers cap what they buffer.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from .storage import SpoolFile, Storage

#: Largest plain (non-spooled) multipart field or urlencoded/JSON body we buffer by default.
SMALL_FIELD_LIMIT = 64 * 1024


class BodyError(ValueError):
    """The request body is malformed or too large to buffer."""


@dataclass
class ReceivedForm:
    """Fields of a parsed form: small ones as text, large ones spooled to temp files."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, SpoolFile] = field(default_factory=dict)
    #: With ``spool_file_parts``: every part that was spooled, in order, repeated names included.
    file_parts: list[SpoolFile] = field(default_factory=list)

    def discard(self) -> None:
        """Delete spooled files nobody committed."""
        for spool in [*self.files.values(), *self.file_parts]:
            spool.discard()
        self.files.clear()
        self.file_parts.clear()

    def names(self) -> set[str]:
        return set(self.fields) | set(self.files)


def media_type_of(request: Request) -> str:
    """The request's content type without parameters, lower-cased (``""`` if absent)."""
    value, _ = parse_options_header(request.headers.get("content-type"))
    return value.decode("latin-1").lower()


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (after ``limit`` bytes) to buffer more."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(f"request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_urlencoded(request: Request, limit: int = SMALL_FIELD_LIMIT) -> list[tuple[str, str]]:
    """The body's fields in order (OAuth 1.0a signs them as sent, duplicates included)."""
    raw = await read_capped_body(request, limit)
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise BodyError("form body is not valid UTF-8") from exc


async def read_json(request: Request, limit: int) -> Any:
    raw = await read_capped_body(request, limit)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyError(f"body is not valid JSON: {exc}") from exc


class _MultipartCollector:
    """python-multipart callbacks that route each part to a spool file or a small buffer."""

    def __init__(
        self, storage: Storage, spool_fields: Collection[str], spool_limit: int | None, spool_file_parts: bool = False
    ) -> None:
        self.storage = storage
        self.spool_fields = spool_fields
        self.spool_limit = spool_limit
        self.spool_file_parts = spool_file_parts
        self.form = ReceivedForm()
        self.error: str | None = None
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._spool: SpoolFile | None = None
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
        self._spool = None
        self._text = None

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if self.spool_file_parts and (filename is not None or self._name in self.spool_fields):
            # Kept side by side, so the caller can tell "no file" from "two files".
            self._spool = self.storage.spool(self.spool_limit)
            self._spool.field_name = self._name
            self._spool.filename = None if filename is None else filename.decode("utf-8", "replace")
            self.form.file_parts.append(self._spool)
        elif self._name in self.spool_fields:
            # A repeated field replaces the earlier part, like a repeated form key.
            previous = self.form.files.pop(self._name, None)
            if previous is not None:
                previous.discard()
            self._spool = self.storage.spool(self.spool_limit)
            self.form.files[self._name] = self._spool
        else:
            self._text = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._spool is not None:
            self._spool.write(memoryview(data)[start:end])
        elif self._text is not None:
            if len(self._text) + end - start > SMALL_FIELD_LIMIT:
                self.error = f"form field {self._name!r} exceeds {SMALL_FIELD_LIMIT} bytes"
                self._text = None
                return
            self._text.extend(memoryview(data)[start:end])

    def on_part_end(self) -> None:
        if self._spool is not None:
            self._spool.close()
        elif self._text is not None:
            try:
                self.form.fields[self._name] = self._text.decode("utf-8")
            except UnicodeDecodeError:
                self.error = f"form field {self._name!r} is not valid UTF-8"


async def read_multipart(
    request: Request,
    storage: Storage,
    spool_fields: Collection[str],
    spool_limit: int | None = None,
    *,
    spool_file_parts: bool = False,
) -> ReceivedForm:
    """Parse a multipart body; parts named in ``spool_fields`` go to temp files.

    A spooled part larger than ``spool_limit`` is marked ``overflowed`` rather than failing
    here, so the caller can answer with its API's own "too large" error. ``spool_file_parts``
    also spools every part that has a ``filename``, whatever its name, into ``form.file_parts``
    (for APIs that take "the uploaded file", as api.video does).
    """
    _, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if not boundary:
        raise BodyError("multipart body without a boundary in Content-Type")
    collector = _MultipartCollector(storage, spool_fields, spool_limit, spool_file_parts)
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
        # Client gone (ClientDisconnect) or task cancelled: leave no temp files behind.
        collector.form.discard()
        raise
    if collector.error:
        collector.form.discard()
        raise BodyError(collector.error)
    return collector.form
