"""A multipart/form-data body around one chunk: sent without copies, re-sendable, released at once.

httpx's own multipart support keeps the chunk inside the request object, which can outlive the
request in reference cycles until the garbage collector runs; with megabyte chunks that grew peak
memory by tens of chunks. This body hands the chunk to the transport as is and lets the caller drop
it (:meth:`MultipartBody.release`) the moment the request is answered.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping

PIECE = 256 * 1024
"""Bytes handed to the HTTP layer at a time. Over TLS each piece is copied twice on its way (h11 joins it,
the TLS layer encrypts it into a buffer and copies that out): at 1 MiB those copies made glibc grow and trim
its heap for every piece, so each one faulted in fresh pages (one connection: 520k minor faults and a quarter
more CPU per GiB sent). At 256 KiB the buffers are reused."""


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "%0D").replace("\n", "%0A")


class MultipartBody:
    """``fields`` as plain form fields, then ``data`` as the file part ``file_field``."""

    def __init__(self, fields: Mapping[str, str], file_field: str, data: bytes | bytearray | memoryview, *,
                 filename: str = "blob", content_type: str = "application/octet-stream") -> None:
        boundary = os.urandom(16).hex()
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        ]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(file_field)}"; '
                     f'filename="{_quote(filename)}"\r\nContent-Type: {content_type}\r\n\r\n')
        self._head = "".join(parts).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._data: bytes | bytearray | memoryview | None = data
        self.headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(self._head) + len(data) + len(self._tail)),
        }

    async def __aiter__(self) -> AsyncIterator[bytes | bytearray | memoryview]:
        if self._data is None:
            raise RuntimeError("the chunk of this body was already released")
        if len(self._data) <= PIECE:
            # Small chunks (SelfCommunity's 200 KB) go in one write: a copy costs less than the syscalls.
            yield b"".join((self._head, self._data, self._tail))
            return
        yield self._head
        # In pieces: the HTTP layer copies what it is given and the socket buffers a piece beyond its
        # high-water mark, so whole-chunk pieces would cost two more chunks of memory per request.
        view = memoryview(self._data)
        for start in range(0, len(view), PIECE):
            yield view[start:start + PIECE]
        yield self._tail

    def release(self) -> None:
        """Drop the chunk: the request is over (answered, or given up)."""
        self._data = None
