"""On-disk byte storage shared by the emulated APIs.

Layout under the data directory::

    tmp/                          request bodies being received (one file per part)
    <api>/<upload_id>.segments/   committed segments, one file each, named by index
    <api>/<upload_id>.bin         the assembled upload

Segments are received into ``tmp/`` and moved into place with ``os.replace``, so a segment file
is always complete and a re-sent segment atomically replaces the earlier copy. Nothing here
reads a whole file into memory, and nothing fsyncs: this is a test server, speed matters more
than surviving a power cut.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

COPY_BLOCK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class AssembledFile:
    """The result of joining an upload's segments."""

    path: Path
    size: int
    sha256: str


class SpoolFile:
    """A temp file that receives one body part in pieces, up to ``limit`` bytes.

    Past the limit it stops writing (the caller keeps feeding it so the request can be drained)
    and reports ``overflowed``; the partial file is useless and gets discarded.
    """

    def __init__(self, path: Path, limit: int | None = None) -> None:
        self.path = path
        self.limit = limit
        self.size = 0
        self.overflowed = False
        #: The multipart part's field name and ``filename`` (None when it sent none).
        self.field_name = ""
        self.filename: str | None = None
        self._file: BinaryIO | None = open(path, "wb")  # noqa: SIM115 - closed in close()/discard()

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data``, or just count it once the limit is exceeded."""
        self.size += len(data)
        if self.overflowed or self._file is None:
            return
        if self.limit is not None and self.size > self.limit:
            self.overflowed = True
            self._file.close()
            self._file = None
            return
        self._file.write(data)

    def close(self) -> None:
        """Finish writing; the file stays on disk for the caller to commit or discard."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def discard(self) -> None:
        """Close and delete the file."""
        self.close()
        self.path.unlink(missing_ok=True)


class Assembler:
    """Appends segment files, in order, to one partial file while hashing them.

    Blocking file I/O: call ``add``/``finish``/``discard`` from a worker thread.
    """

    def __init__(self, partial: Path, final: Path) -> None:
        self.partial = partial
        self.final = final
        self.size = 0
        self._digest = hashlib.sha256()
        self._started = False

    def add(self, segment: Path) -> int:
        """Copy one segment to the end of the partial file; returns its size."""
        mode = "ab" if self._started else "wb"
        if not self._started:
            self.partial.parent.mkdir(parents=True, exist_ok=True)
            self._started = True
        buffer = bytearray(COPY_BLOCK_BYTES)
        view = memoryview(buffer)
        copied = 0
        with open(segment, "rb") as source, open(self.partial, mode) as out:
            while n := source.readinto(buffer):
                self._digest.update(view[:n])
                out.write(view[:n])
                copied += n
        self.size += copied
        return copied

    def finish(self) -> AssembledFile:
        """Move the partial file to the final path (an empty file if nothing was added)."""
        if not self._started:
            self.partial.parent.mkdir(parents=True, exist_ok=True)
            self.partial.write_bytes(b"")
        os.replace(self.partial, self.final)
        return AssembledFile(path=self.final, size=self.size, sha256=self._digest.hexdigest())

    def discard(self) -> None:
        self.partial.unlink(missing_ok=True)


class Storage:
    """Files of all emulated APIs under one data directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def spool(self, limit: int | None = None) -> SpoolFile:
        """Open a new temp file for an incoming body part."""
        return SpoolFile(self.tmp_dir / f"{uuid.uuid4().hex}.part", limit)

    def spool_bytes(self, data: bytes) -> SpoolFile:
        """Write already-decoded bytes (e.g. base64 media) to a closed temp file."""
        spool = self.spool()
        spool.write(data)
        spool.close()
        return spool

    def segments_dir(self, api: str, upload_id: str) -> Path:
        return self.root / api / f"{upload_id}.segments"

    def segment_path(self, api: str, upload_id: str, index: int) -> Path:
        return self.segments_dir(api, upload_id) / f"{index:06d}.bin"

    def final_path(self, api: str, upload_id: str) -> Path:
        return self.root / api / f"{upload_id}.bin"

    def commit_segment(self, spool: SpoolFile, api: str, upload_id: str, index: int) -> int:
        """Move a received part into place as segment ``index``; returns its size."""
        spool.close()
        target = self.segment_path(api, upload_id, index)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(spool.path, target)
        return spool.size

    def assembler(self, api: str, upload_id: str, suffix: str = ".assembling") -> Assembler:
        """An ``Assembler`` building ``<upload_id><suffix>``, renamed to the final path at the end."""
        final = self.final_path(api, upload_id)
        return Assembler(final.with_suffix(suffix), final)

    def assemble(self, api: str, upload_id: str, indexes: Iterable[int]) -> AssembledFile:
        """Join segments in ``indexes`` order into the final file, hashing while copying.

        Blocking (a 1 GiB upload takes a second or two): run it in a worker thread.
        """
        assembler = self.assembler(api, upload_id)
        for index in indexes:
            assembler.add(self.segment_path(api, upload_id, index))
        return assembler.finish()

    def discard_segments(self, api: str, upload_id: str) -> None:
        shutil.rmtree(self.segments_dir(api, upload_id), ignore_errors=True)

    def discard_upload(self, api: str, upload_id: str) -> None:
        """Remove every file of an upload: segments, partial assemblies, the final file."""
        self.discard_segments(api, upload_id)
        final = self.final_path(api, upload_id)
        for path in final.parent.glob(f"{upload_id}.*"):
            if path.is_file():
                path.unlink(missing_ok=True)

    @staticmethod
    def read_head(path: Path, size: int) -> bytes:
        """The first ``size`` bytes of a file (for sniffing image dimensions)."""
        with open(path, "rb") as f:
            return f.read(size)
