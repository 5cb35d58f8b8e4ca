"""Assembling an upload in the background, while its segments still arrive.

Most clients send segments in order (or nearly: a few in flight). Copying and hashing each one
as soon as the contiguous prefix grows spreads the work over the upload, so FINALIZE of a 1 GiB
upload is a rename instead of a second or two of copying. Anything unusual (a segment replaced
after it was copied, an I/O error) voids the background copy, and FINALIZE falls back to
assembling from the segment files, which are kept until then for exactly this reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import anyio.to_thread

from .storage import AssembledFile, Storage


class BackgroundAssembly:
    """The in-order prefix of one upload's segments, copied into a partial file as it grows.

    Use it from the event loop: ``committed()`` after each stored segment, ``result()`` at
    finalize time.
    """

    def __init__(self, storage: Storage, api: str, upload_id: str) -> None:
        self._storage = storage
        self._api = api
        self._upload_id = upload_id
        self._assembler = storage.assembler(api, upload_id, suffix=".inorder")
        self._task: asyncio.Task[None] | None = None
        self._copying: int | None = None
        self.next_index = 0
        self.valid = True

    def committed(self, index: int, segments: Mapping[int, int]) -> None:
        """Segment ``index`` was stored (or replaced); ``segments`` is the live index -> size map."""
        if not self.valid:
            return
        if index < self.next_index or index == self._copying:
            self.valid = False  # bytes already copied were replaced
            return
        if index == self.next_index and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._copy_prefix(segments))

    async def _copy_prefix(self, segments: Mapping[int, int]) -> None:
        try:
            while self.valid and self.next_index in segments:
                self._copying = self.next_index
                path = self._storage.segment_path(self._api, self._upload_id, self.next_index)
                await anyio.to_thread.run_sync(self._assembler.add, path)
                self._copying = None
                if self.valid:
                    self.next_index += 1
        except Exception:
            self.valid = False
        finally:
            self._copying = None

    async def result(self, segment_count: int) -> AssembledFile | None:
        """Wait for the copy; the final file if it holds exactly segments ``0..segment_count-1``.

        Otherwise the partial file is discarded and the caller assembles from the segments.
        """
        if self._task is not None:
            await self._task
        if self.valid and self.next_index == segment_count:
            return await anyio.to_thread.run_sync(self._assembler.finish)
        await anyio.to_thread.run_sync(self._assembler.discard)
        return None
