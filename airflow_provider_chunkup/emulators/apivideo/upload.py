"""api.video source uploads: ``Content-Range`` parsing, the chunk rules, and in-order assembly.

A video's source arrives in one of three ways, fixed by its first accepted request:

- ``single``: no ``Content-Range``, the whole file in one request;
- ``part``: ``Content-Range: part N/M`` (``part N/*`` while the count is unknown), parts in any
  order and concurrently; complete once parts ``1..M`` are all there;
- ``bytes``: ``Content-Range: bytes from-to/total`` (inclusive), ranges that may not overlap;
  complete once ``[0, total)`` is covered.

Rules follow api.video's "progressive upload errors" docs; ``errors`` names them. Each
accepted piece is stored as its own file (keyed by part number, or by first byte), and
``PrefixAssembly`` copies the contiguous prefix into the final file while later pieces still
arrive, so completing an in-order upload costs a rename, not a pass over the whole file.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import anyio.to_thread

from ..core.storage import AssembledFile, Storage
from .config import ApiVideoEmulatorConfig
from .errors import ApiVideoError

STORAGE_AREA = "apivideo"
PART, BYTES, SINGLE = "part", "bytes", "single"
#: The spec's pattern for the header, anchored (``*``: total not known yet).
CONTENT_RANGE = re.compile(r"(?:bytes (?P<start>\d+)-(?P<end>\d+)|part (?P<part>\d+))/(?P<total>\d+|\*)")


@dataclass(frozen=True)
class ContentRange:
    """A parsed ``Content-Range``: ``part`` for part mode, ``start``/``end`` (inclusive) for bytes."""

    mode: str
    total: int | None
    part: int = 0
    start: int = 0
    end: int = 0

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def __str__(self) -> str:
        total = "*" if self.total is None else self.total
        return f"part {self.part}/{total}" if self.mode == PART else f"bytes {self.start}-{self.end}/{total}"


def parse_content_range(value: str | None) -> ContentRange | None:
    """The header as a ``ContentRange``; None without one (a single-request upload)."""
    if value is None:
        return None
    match = CONTENT_RANGE.fullmatch(value.strip())
    if match is None:
        raise ApiVideoError.content_range("video-content-range-malformed", f"Got {value!r}.")
    total = None if match["total"] == "*" else int(match["total"])
    if match["part"] is not None:
        return ContentRange(PART, total, part=int(match["part"]))
    return ContentRange(BYTES, total, start=int(match["start"]), end=int(match["end"]))


@dataclass
class SourceUpload:
    """What one video received of its source so far, and whether the next piece may join it.

    ``pieces`` maps a piece's key (part number; first byte in bytes mode; 0 for a single
    request) to its size. ``total`` is the part count or byte count once a request stated it.
    """

    mode: str | None = None
    pieces: dict[int, int] = field(default_factory=dict)
    total: int | None = None
    #: ``uploading`` -> ``assembling`` (the completing request joins the pieces) -> ``uploaded``
    state: str = "uploading"

    @property
    def received_bytes(self) -> int:
        return sum(self.pieces.values())

    @property
    def complete(self) -> bool:
        """Every piece is there (the file may still be being assembled)."""
        if self.mode == SINGLE:
            return bool(self.pieces)
        if self.total is None:
            return False
        if self.mode == PART:
            return len(self.pieces) == self.total  # keys are distinct and all within 1..total
        # Ranges never overlap and all lie below total, so covering [0, total) is a matter of size.
        return self.received_bytes == self.total

    def check(self, rng: ContentRange | None, size: int | None, config: ApiVideoEmulatorConfig) -> None:
        """Raise the ``ApiVideoError`` api.video gives for this piece, if any.

        With ``size=None`` only what the headers show is checked (before reading the body).
        """
        if self.state != "uploading":
            raise ApiVideoError("video-source-already-uploaded", name="file", detail="The video already has a source.")
        if size is not None:
            self._check_size(size, config)
        if rng is None:
            if self.pieces:
                raise ApiVideoError.content_range(
                    "video-content-range-already-initiated",
                    f"Send the remaining pieces with a Content-Range header ({self.mode} mode).",
                )
            return
        if self.mode is not None and rng.mode != self.mode:
            kind = f"video-content-range-started-with-{self.mode}"
            raise ApiVideoError.content_range(kind, f"Got {str(rng)!r}.")
        if rng.mode == PART:
            self._check_part(rng, size, config)
        else:
            self._check_bytes(rng, size, config)

    def _check_size(self, size: int, config: ApiVideoEmulatorConfig) -> None:
        if size == 0:
            raise ApiVideoError("uploaded-file-empty", name="file")
        if size > config.max_chunk_bytes:
            raise ApiVideoError(
                "uploaded-file-too-large", name="file",
                detail=f"A request may carry at most {config.max_chunk_bytes} bytes; send larger files in chunks.",
            )  # fmt: skip
        if self.received_bytes + size > config.max_total_bytes:
            raise ApiVideoError(
                "uploaded-file-too-large", name="file",
                detail=f"A video may have at most {config.max_total_bytes} bytes.",
            )  # fmt: skip

    def _check_part(self, rng: ContentRange, size: int | None, config: ApiVideoEmulatorConfig) -> None:
        error = ApiVideoError.content_range
        if rng.part == 0:
            raise error("video-content-range-by-part-part-zero")
        if rng.total == 0:
            raise error("video-content-range-by-part-total-parts-zero")
        if rng.total is not None and rng.total > config.max_parts:
            raise error("video-content-range-by-part-total-parts-too-high", f"At most {config.max_parts} parts.")
        if rng.part > config.max_parts:
            raise error("video-content-range-by-part-part-too-high-allowed", f"At most {config.max_parts} parts.")
        if rng.total is not None and self.total is not None and rng.total != self.total:
            raise error(
                "video-content-range-by-part-different-total-parts",
                f"This upload has {self.total} parts, got {str(rng)!r}.",
            )
        total = rng.total if rng.total is not None else self.total
        if total is not None and rng.part > total:
            raise error("video-content-range-by-part-part-too-high-total", f"This upload has {total} parts.")
        if rng.total is not None and self.pieces and rng.total < max(self.pieces):
            raise error("video-content-range-by-part-total-parts-too-low", f"Part {max(self.pieces)} was already sent.")
        if rng.part in self.pieces:
            raise error("video-content-range-by-part-part-already-sent", f"Part {rng.part} collides with a part sent.")
        is_last = total is not None and rng.part == total
        if size is not None and not is_last and size < config.min_chunk_bytes:
            raise ApiVideoError(
                "video-content-range-by-part-uploaded-file-too-small", name="file",
                detail=f"Part {rng.part} has {size} bytes; every part but the last needs at least "
                f"{config.min_chunk_bytes} (the last is part {total if total is not None else 'M of part N/M'}).",
            )  # fmt: skip

    def _check_bytes(self, rng: ContentRange, size: int | None, config: ApiVideoEmulatorConfig) -> None:
        error = ApiVideoError.content_range
        if rng.total == 0:
            raise error("video-content-range-by-bytes-total-bytes-zero")
        if rng.total is not None and rng.total > config.max_total_bytes:
            raise error("video-content-range-by-bytes-total-bytes-too-high", f"At most {config.max_total_bytes} bytes.")
        if rng.start > rng.end:
            raise error("video-content-range-by-bytes-from-byte-too-high", f"Got {str(rng)!r}.")
        if rng.end >= config.max_total_bytes:
            raise error("video-content-range-by-bytes-to-byte-too-high-allowed", f"At most {config.max_total_bytes}.")
        if rng.total is not None and self.total is not None and rng.total != self.total:
            raise error(
                "video-content-range-by-bytes-different-total-bytes",
                f"This upload has {self.total} bytes, got {str(rng)!r}.",
            )
        total = rng.total if rng.total is not None else self.total
        if total is not None and rng.end >= total:
            raise error(
                "video-content-range-by-bytes-to-byte-too-high-total",
                f"The last byte of {total} is {total - 1}, got {str(rng)!r}.",
            )
        if rng.total is not None and self.pieces:
            highest = max(start + n - 1 for start, n in self.pieces.items())
            if rng.total <= highest:
                raise error("video-content-range-by-bytes-total-bytes-too-low", f"Byte {highest} was already sent.")
        if rng.length > config.max_chunk_bytes:
            raise error("video-content-range-by-bytes-range-too-large", f"At most {config.max_chunk_bytes} bytes.")
        for start, n in self.pieces.items():
            if start <= rng.end and rng.start <= start + n - 1:
                raise error(
                    "video-content-range-by-bytes-range-overlap",
                    f"{str(rng)!r} overlaps bytes {start}-{start + n - 1}, already sent.",
                )
        if size is None:
            return
        if size != rng.length:
            raise error(
                "video-content-range-by-bytes-range-mismatch",
                f"The file has {size} bytes, {str(rng)!r} announces {rng.length}.",
            )
        is_last = total is not None and rng.end == total - 1
        if not is_last and size < config.min_chunk_bytes:
            raise error(
                "video-content-range-by-bytes-range-too-small",
                f"{str(rng)!r} has {size} bytes; every chunk but the last needs at least {config.min_chunk_bytes}.",
            )

    def add(self, rng: ContentRange | None, size: int) -> int:
        """Record a checked piece; returns its key."""
        if rng is None:
            self.mode, self.total = SINGLE, size
            key = 0
        else:
            self.mode = rng.mode
            if rng.total is not None:
                self.total = rng.total
            key = rng.part if rng.mode == PART else rng.start
        self.pieces[key] = size
        return key

    @property
    def first_key(self) -> int:
        return 1 if self.mode == PART else 0

    def successor(self, key: int, size: int) -> int:
        """The key of the piece that follows ``key`` in the file."""
        return key + 1 if self.mode == PART else key + size

    def received_ranges(self) -> list[tuple[int, int]]:
        """Inclusive byte ranges received, in file order.

        Exact in bytes and single mode. In part mode a part's offset is known only once every
        part before it arrived, so only the run from part 1 without a gap is listed.
        """
        ranges: list[tuple[int, int]] = []
        key, offset = self.first_key, 0
        if self.mode == BYTES:
            return [(start, start + n - 1) for start, n in sorted(self.pieces.items())]
        while key in self.pieces:
            size = self.pieces[key]
            ranges.append((offset, offset + size - 1))
            key, offset = self.successor(key, size), offset + size
        return ranges

    @property
    def filesize(self) -> int | None:
        """The source's size once known: the stated total in bytes mode, else the sum at the end."""
        if self.mode == BYTES:
            return self.total
        return self.received_bytes if self.complete else None


class PrefixAssembly:
    """Copies an upload's pieces into one file (hashing as it goes) as the in-order prefix grows.

    Pieces are never replaced on api.video (a re-sent one is refused), so the copy never has to
    be redone. Use it from the event loop: ``committed()`` after each stored piece,
    ``finish()`` once the upload is complete; the copying runs in worker threads.
    """

    def __init__(self, storage: Storage, video_id: str, first_key: int, successor: Callable[[int, int], int]) -> None:
        self._storage = storage
        self._video_id = video_id
        self._successor = successor
        self._assembler = storage.assembler(STORAGE_AREA, video_id)
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self.next_key = first_key
        self.cancelled = False

    def committed(self, pieces: Mapping[int, int]) -> None:
        """A piece was stored; copy from where the prefix ends if it is the next one."""
        if self.cancelled or self._error is not None or self.next_key not in pieces:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._copy_prefix(pieces))

    async def _copy_prefix(self, pieces: Mapping[int, int]) -> None:
        try:
            while not self.cancelled and self.next_key in pieces:
                size = pieces[self.next_key]
                path = self._storage.segment_path(STORAGE_AREA, self._video_id, self.next_key)
                await anyio.to_thread.run_sync(self._assembler.add, path)
                self.next_key = self._successor(self.next_key, size)
        except Exception as exc:  # surfaced by finish(); a stray task must not log it
            self._error = exc

    async def finish(self, pieces: Mapping[int, int]) -> AssembledFile:
        """Wait for the background copy, copy the rest, and move the file into place."""
        if self._task is not None:
            await self._task
        if self._error is not None:
            raise self._error
        keys: list[int] = []
        key = self.next_key
        while key in pieces:
            keys.append(key)
            key = self._successor(key, pieces[key])

        def copy_rest() -> AssembledFile:
            for k in keys:
                self._assembler.add(self._storage.segment_path(STORAGE_AREA, self._video_id, k))
            return self._assembler.finish()

        return await anyio.to_thread.run_sync(copy_rest)

    def cancel(self, cleanup: Callable[[], None]) -> None:
        """Stop copying; ``cleanup`` runs now and again once a copy in progress ends."""
        self.cancelled = True
        cleanup()
        if self._task is not None and not self._task.done():
            self._task.add_done_callback(lambda _: cleanup())
