"""Request body readers that keep memory bounded.

``read_multipart`` stream-parses ``multipart/form-data`` with python-multipart and writes the
parts named in ``spool_fields`` straight to temp files as they arrive, so a 5 MiB segment never
sits in memory; other (small) fields are kept as text. The other readers cap what they buffer.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar
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


class PartSink(Protocol):
    """Where a routed part's bytes go (``SpoolFile``, ``ChunkPart``)."""

    def write(self, data: bytes | memoryview) -> None: ...

    def close(self) -> None: ...

    def discard(self) -> None: ...


class CollectedForm(Protocol):
    """What a collector fills: text fields here, sinks wherever its ``route`` keeps them."""

    fields: dict[str, str]

    def discard(self) -> None: ...


FormT = TypeVar("FormT", bound=CollectedForm)


class Route(Enum):
    """What ``PartCollector.route`` does with a part it gives no sink."""

    TEXT = "text"  # kept as a small text field, up to SMALL_FIELD_LIMIT
    DROP = "drop"  # read past and dropped


class PartCollector(ABC, Generic[FormT]):
    """python-multipart callbacks shared by every form reader; ``route`` says where each part goes.

    A part routed to a sink streams straight into it, so only text fields (capped) are buffered.
    """

    def __init__(self, form: FormT) -> None:
        self.form = form
        self.error: str | None = None
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._sink: PartSink | None = None
        self._text: bytearray | None = None

    @abstractmethod
    def route(self, name: str, filename: str | None) -> PartSink | Route:
        """A sink for the part named ``name`` (``filename`` None when it sent none), or what to do instead."""

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
        self._sink = None
        self._text = None

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        route = self.route(self._name, None if filename is None else filename.decode("utf-8", "replace"))
        if route is Route.TEXT:
            self._text = bytearray()
        elif route is not Route.DROP:
            self._sink = route

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._sink is not None:
            self._sink.write(memoryview(data)[start:end])
        elif self._text is not None:
            if len(self._text) + end - start > SMALL_FIELD_LIMIT:
                self.error = f"form field {self._name!r} exceeds {SMALL_FIELD_LIMIT} bytes"
                self._text = None
                return
            self._text.extend(memoryview(data)[start:end])

    def on_part_end(self) -> None:
        if self._sink is not None:
            self._sink.close()
        elif self._text is not None:
            try:
                self.form.fields[self._name] = self._text.decode("utf-8")
            except UnicodeDecodeError:
                self.error = f"form field {self._name!r} is not valid UTF-8"

    async def read(self, request: Request) -> FormT:
        """Parse the request's multipart body into ``form``; raises ``BodyError`` for a malformed one."""
        _, options = parse_options_header(request.headers.get("content-type"))
        boundary = options.get(b"boundary")
        if not boundary:
            raise BodyError("multipart body without a boundary in Content-Type")
        try:
            parser = MultipartParser(boundary, self.callbacks())  # type: ignore[arg-type]
            async for chunk in request.stream():
                parser.write(chunk)
                if self.error:
                    break
            else:
                parser.finalize()
        except (FormParserError, ValueError) as exc:
            self.form.discard()
            raise BodyError(f"malformed multipart body: {exc}") from exc
        except BaseException:
            # Client gone (ClientDisconnect) or task cancelled: leave no temp files behind.
            self.form.discard()
            raise
        if self.error:
            self.form.discard()
            raise BodyError(self.error)
        return self.form


class _MultipartCollector(PartCollector[ReceivedForm]):
    """Routes each part to a spool file or a small text buffer."""

    def __init__(
        self, storage: Storage, spool_fields: Collection[str], spool_limit: int | None, spool_file_parts: bool = False
    ) -> None:
        super().__init__(ReceivedForm())
        self.storage = storage
        self.spool_fields = spool_fields
        self.spool_limit = spool_limit
        self.spool_file_parts = spool_file_parts

    def route(self, name: str, filename: str | None) -> PartSink | Route:
        if self.spool_file_parts and (filename is not None or name in self.spool_fields):
            # Kept side by side, so the caller can tell "no file" from "two files".
            spool = self.storage.spool(self.spool_limit)
            spool.field_name = name
            spool.filename = filename
            self.form.file_parts.append(spool)
            return spool
        if name in self.spool_fields:
            # A repeated field replaces the earlier part, like a repeated form key.
            previous = self.form.files.pop(name, None)
            if previous is not None:
                previous.discard()
            spool = self.storage.spool(self.spool_limit)
            self.form.files[name] = spool
            return spool
        return Route.TEXT


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
    return await _MultipartCollector(storage, spool_fields, spool_limit, spool_file_parts).read(request)
