"""Chunk readers over any fsspec filesystem: size, exact ranged reads, streaming checksums.

A :class:`ChunkSource` never holds more than the chunk asked for: every read is one ranged
read (``os.pread`` on local files, ``cat_file(path, start, end)`` elsewhere, one ranged GET on
object stores). This module imports nothing from Airflow; an Airflow ``ObjectStoragePath`` is
accepted by duck typing (it carries ``fs`` and ``path``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from airflow_provider_chunkup.errors import ChunkupError, ConfigurationError, SourceError, SourceMissing

SourceLike = Any
"""A local path, an ``os.PathLike``, any fsspec URL string, or an object with ``fs`` and ``path``."""


class ChunkSource:
    """Random access to one file, one bounded read at a time.

    :param source: local path, ``file://``, ``memory://``, ``s3://``... URL, or an
        ``ObjectStoragePath``/``UPath`` (anything with ``fs`` and ``path`` attributes).
    :param storage_options: passed to the fsspec filesystem (credentials, ``endpoint_url``...).
    :param fs: an already configured filesystem; ``source`` is then a path on it.
    """

    def __init__(self, source: SourceLike, storage_options: Mapping[str, Any] | None = None,
                 fs: fsspec.AbstractFileSystem | None = None) -> None:
        self.location = source_location(source)
        self.url = redact_url(self.location)
        self.fs, self.path = _resolve(source, storage_options, fs)
        self._size: int | None = None
        self._fd: int | None = None
        self._fd_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ChunkSource({self.url!r})"

    def __enter__(self) -> ChunkSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    @property
    def size(self) -> int:
        """Size in bytes, asked once."""
        if self._size is None:
            try:
                # One metadata request (stat, HEAD): never ``isdir``, which lists over HTTP by a full GET.
                info = self.fs.info(self.path)
            except Exception as e:
                raise self._failure(e, "opening") from e
            if info.get("type") == "directory":
                raise SourceError(f"Source {self.url} is a directory, not a file. Point source at a file in it.")
            if info.get("size") is None:
                raise SourceError(
                    f"Source {self.url} does not say how large it is (no Content-Length); chunked uploads "
                    "need the size up front."
                )
            self._size = int(info["size"])
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        """Exactly the bytes ``[offset, offset + length)``, clipped to the end of the file."""
        if offset < 0 or length < 0:
            raise ValueError("offset and length must be >= 0")
        expected = max(0, min(length, self.size - offset))
        if expected == 0:
            return b""
        try:
            if isinstance(self.fs, LocalFileSystem):
                data = os.pread(self._local_fd(), expected, offset)
            else:
                data = self.fs.cat_file(self.path, start=offset, end=offset + expected)
        except Exception as e:
            raise self._failure(e, "reading") from e
        if len(data) != expected:
            raise SourceError(
                f"Source {self.url} changed while it was being uploaded: expected {expected} bytes at "
                f"offset {offset}, read {len(data)}. Upload a file that is no longer being written."
            )
        return data

    def read_into(self, offset: int, buffer: memoryview) -> memoryview:
        """Fill ``buffer`` with the bytes at ``offset`` (less at the end of the file); return the filled part.

        Reusing buffers spares an allocation (and its page faults) per chunk; local files are read
        straight into the buffer.
        """
        expected = max(0, min(len(buffer), self.size - offset))
        if not isinstance(self.fs, LocalFileSystem):
            data = self.read(offset, expected)
            buffer[:expected] = data
            return buffer[:expected]
        filled = 0
        try:
            while filled < expected:
                n = os.preadv(self._local_fd(), [buffer[filled:expected]], offset + filled)
                if n == 0:
                    break
                filled += n
        except OSError as e:
            raise self._failure(e, "reading") from e
        if filled != expected:
            raise SourceError(
                f"Source {self.url} changed while it was being uploaded: expected {expected} bytes at "
                f"offset {offset}, read {filled}. Upload a file that is no longer being written."
            )
        return buffer[:expected]

    async def aread(self, offset: int, length: int) -> bytes:
        """:meth:`read` in a worker thread, so reading overlaps sending."""
        return await asyncio.to_thread(self.read, offset, length)

    def close(self) -> None:
        with self._fd_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _failure(self, error: Exception, step: str) -> Exception:
        """The clear error for what the store (or the local file system) answered; others pass unchanged."""
        if isinstance(error, (ChunkupError, ValueError, TypeError)) and not isinstance(error, UnicodeError):
            return error
        return source_failure(self.url, error, step, local=isinstance(self.fs, LocalFileSystem))

    def _local_fd(self) -> int:
        # One descriptor shared by all reads: pread is positionless, so threads can share it.
        with self._fd_lock:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDONLY)
            return self._fd


class StreamingDigest:
    """Whole-file checksums updated chunk by chunk, in file order: any ``hashlib`` algorithm, and ``crc32c``
    (Cloud Storage's; from ``google-crc32c``, which the ``[gcs]`` extra installs)."""

    def __init__(self, algorithms: Iterable[str] = ("sha256",)) -> None:
        self._hashes: dict[str, Any] = {name: _Crc32c() if name == "crc32c" else hashlib.new(name)
                                        for name in algorithms}
        self.bytes = 0

    def update(self, data: bytes) -> None:
        for h in self._hashes.values():
            h.update(data)
        self.bytes += len(data)

    def hexdigests(self) -> dict[str, str]:
        return {name: h.hexdigest() for name, h in self._hashes.items()}


class _Crc32c:
    """CRC32C with hashlib's ``update``/``hexdigest`` (big-endian, as Cloud Storage reports it in base64)."""

    def __init__(self) -> None:
        try:
            import google_crc32c
        except ImportError:
            raise ConfigurationError("The crc32c checksum needs google-crc32c: install "
                                     "airflow-provider-chunkup[gcs].") from None
        self._checksum = google_crc32c.Checksum()

    PIECE = 1 << 20

    def update(self, data: bytes | bytearray | memoryview) -> None:
        if isinstance(data, bytes):
            self._checksum.update(data)
            return
        view = memoryview(data)  # the C extension takes bytes only: copied a MiB at a time, never the whole chunk
        for start in range(0, len(view), self.PIECE):
            self._checksum.update(bytes(view[start:start + self.PIECE]))

    def hexdigest(self) -> str:
        return self._checksum.digest().hex()


def file_digest(source: SourceLike, algorithm: str = "sha256", chunk_size: int = 8 * 1024 * 1024,
                storage_options: Mapping[str, Any] | None = None) -> str:
    """Checksum of a whole source, read in bounded chunks."""
    digest = StreamingDigest((algorithm,))
    with ChunkSource(source, storage_options) as src:
        for offset in range(0, src.size, chunk_size):
            digest.update(src.read(offset, chunk_size))
    return digest.hexdigests()[algorithm]


#: Words in the errors of s3fs, gcsfs, adlfs and aiohttp that mean "denied", when no status code is at hand.
_DENIED_WORDS = ("forbidden", "accessdenied", "access denied", "authorizationfailure", "signaturedoesnotmatch",
                 "invalidaccesskeyid", "unauthorized", "authenticationfailed", "invalid credentials")


def source_failure(url: str, error: BaseException, step: str, *, local: bool = False) -> SourceError:
    """One clear :class:`SourceError` for a failed metadata request or read of ``url``.

    Object stores report the same causes in their own ways (``PermissionError``, an ``OSError`` with
    "Forbidden", an Azure ``HttpResponseError`` with ``status_code``, an aiohttp error with
    ``status``): this names the cause and the fix whichever library raised it.
    """
    status = _status_of(error)
    # Denied first: some libraries (fsspec's HTTP) report a 401/403 as FileNotFoundError, with the cause attached.
    if isinstance(error, PermissionError) or status in (401, 403) or _says_denied(error):
        if local:
            return SourceError(
                f"Source {url} cannot be read: permission denied. Grant read access to the worker's user."
            )
        return SourceError(
            f"Source {url} cannot be read: the store denied access ({_summary(error)}). Check the credentials of "
            "the source connection (source_conn_id) or storage_options, and that they may read this object."
        )
    if isinstance(error, FileNotFoundError) or status == 404:
        if step == "opening":
            return SourceMissing(
                f"Source {url} does not exist. Check the path or URL, and that the task producing it ran "
                "before this one."
            )
        return SourceMissing(f"Source {url} disappeared while it was being read. Upload a file that stays in place.")
    if status == 416 or "not satisfiable" in str(error).lower():
        return SourceError(
            f"Source {url} changed while it was being uploaded: it is now shorter than when the upload began. "
            "Upload an object that is no longer being written."
        )
    if isinstance(error, IsADirectoryError):
        return SourceError(f"Source {url} is a directory, not a file. Point source at a file in it.")
    return SourceError(
        f"Source {url} failed while {step}: {_summary(error)}. Check that the path or URL names a readable file "
        "and that its store is reachable."
    )


def _status_of(error: BaseException) -> int | None:
    """The HTTP status an fsspec implementation's error carries, here or in its cause."""
    seen: BaseException | None = error
    for _ in range(4):
        if seen is None:
            break
        for attribute in ("status_code", "status", "code"):
            value = getattr(seen, attribute, None)
            if isinstance(value, int) and 100 <= value <= 599:
                return value
        response = getattr(seen, "response", None)
        if isinstance(response, dict):  # botocore's ClientError
            value = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if isinstance(value, int):
                return value
        seen = seen.__cause__ or seen.__context__
    return None


def _says_denied(error: BaseException) -> bool:
    text = f"{type(error).__name__} {error} {error.__cause__ or ''}".lower()
    return any(word in text for word in _DENIED_WORDS)


def _summary(error: BaseException) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first[:200]}" if first else type(error).__name__


def source_location(source: SourceLike) -> str:
    """The source as a string that opens it again (in a later task): credentials included if it has any."""
    if hasattr(source, "fs") and hasattr(source, "path") and not isinstance(source, str):
        return str(source)
    return os.fspath(source) if isinstance(source, os.PathLike) else str(source)


def describe_source(source: SourceLike) -> str:
    """A printable, credential-free name for a source (for logs, errors and checkpoints)."""
    return redact_url(source_location(source))


def url_secrets(text: str) -> list[str]:
    """The parts of a URL that are credentials: a password in it, and its query (presigned URLs sign there)."""
    if "://" not in text:
        return []
    parts = urllib.parse.urlsplit(text)
    return [secret for secret in (parts.password, parts.query) if secret]


def redact_url(text: str) -> str:
    """``text`` with a URL's password and query replaced by ``***``."""
    if not url_secrets(text):
        return text
    parts = urllib.parse.urlsplit(text)
    netloc = parts.netloc
    if parts.password:
        netloc = f"{parts.username}:***@{netloc.rsplit('@', 1)[1]}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def _resolve(source: SourceLike, storage_options: Mapping[str, Any] | None,
             fs: fsspec.AbstractFileSystem | None) -> tuple[fsspec.AbstractFileSystem, str]:
    if fs is not None:
        return fs, os.fspath(source) if isinstance(source, os.PathLike) else str(source)
    if hasattr(source, "fs") and hasattr(source, "path") and not isinstance(source, (str, os.PathLike)):
        return source.fs, source.path
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str) or not source:
        raise ConfigurationError(
            f"Source must be a path, an fsspec URL or an ObjectStoragePath, got {source!r}."
        )
    try:
        return fsspec.core.url_to_fs(source, **dict(storage_options or {}))
    except (ValueError, ImportError) as e:
        scheme = source.split("://", 1)[0] if "://" in source else "file"
        raise ConfigurationError(
            f"No filesystem for {scheme}:// sources ({e}). Install the fsspec implementation for "
            f"{scheme!r} (for example s3fs, adlfs, gcsfs) or check the URL."
        ) from e
