"""What the checks use to drive one profile: :class:`Api`, the profile connected to its emulator."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator_idle import wait_until_idle

from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.protocols.base import UploadProtocol
from airflow_provider_chunkup.protocols.chunking import ChunkPlan, Plan, ShortTailPlan, plan_floor_merged
from airflow_provider_chunkup.protocols.session import UploadResult, UploadSession

from .profiles import ApiProfile, Connected, EmulatorControl, Stored, sha256


@dataclass(frozen=True)
class ChunkRequests:
    """The requests to a profile's chunk routes since the stats were last reset."""

    requests: int
    accepted: int
    """Answered 2xx: segments the server took (an offset probe or a refused chunk is not one)."""
    body_bytes: int


@dataclass
class Api:
    """One profile under test: its connection, the emulator's controls, files to upload."""

    profile: ApiProfile
    conn: Connected
    control: EmulatorControl
    emulator: Any
    tmp_path: Path
    probes_before: int = 0
    """The profile's status-query count when the stats were last reset (the emulator keeps counting past it)."""

    @property
    def chunk_size(self) -> int:
        return self.profile.chunk_size

    def hook(self) -> ChunkUploadHook:
        """A new hook on the profile's connection (a new task would make one)."""
        return self.profile.hook(self.conn.conn_id)

    def protocol(self) -> UploadProtocol:
        """The hook's protocol client, for what it declares (limits, digests, display name); already closed."""

        async def closed() -> UploadProtocol:
            async with self.hook().get_conn() as protocol:
                return protocol

        return asyncio.run(closed())

    def file(self, size: int, name: str | None = None) -> Path:
        """A file of ``size`` random bytes, named as the profile uploads (or ``name``)."""
        path = self.tmp_path / (name or self.profile.file_name)
        path.write_bytes(os.urandom(size))
        return path

    def plan(self, size: int) -> Plan:
        """How a file of ``size`` is cut: the last chunk shorter, the remainder in the last (TikTok's merged
        plan), or a short tail split off the last (api.video's parts)."""
        if self.profile.remainder_in_last:
            return plan_floor_merged(size, self.chunk_size)
        if self.profile.short_tail:
            return ShortTailPlan(size, self.chunk_size)
        return ChunkPlan(size, self.chunk_size)

    def segments(self, size: int) -> int:
        """How many chunk requests a file of ``size`` takes."""
        return self.plan(size).segment_count

    def recorded(self, session: UploadSession) -> set[int]:
        """The segments a session records as stored; where the server dictates windows, the windows below its
        position (the profiles set the emulator's windows to the chunk size)."""
        if session.windowed:
            return set(range(session.committed_bytes // self.chunk_size))
        return session.stored_segments()

    # -- the emulator ----------------------------------------------------------------------------------

    def settle(self) -> None:
        """Wait until the emulator answered and counted every request it received (a cancelled one included)."""
        wait_until_idle(self.emulator)

    def reset_stats(self) -> None:
        self.settle()
        self.control.reset_stats()
        self.probes_before = self._probes()

    def _probes(self) -> int:
        """Status queries so far, on APIs that ask them on the chunk route (Google's empty PUT, answered 308)."""
        stat = self.profile.probe_stat
        return int(self.control.stats().get(stat, 0)) if stat else 0

    def probes(self) -> int:
        """Status queries sent on the chunk route since the stats were last reset (Google's)."""
        self.settle()
        return self._probes() - self.probes_before

    def chunk_requests(self) -> ChunkRequests:
        self.settle()
        routes = self.control.stats()["routes"]
        mine = [routes[key] for key in self.profile.chunk_routes if key in routes]
        return ChunkRequests(
            requests=sum(r["requests"] for r in mine),
            accepted=sum(n for r in mine for status, n in r["statuses"].items()
                         if status.startswith(self.profile.accepted)) - (self._probes() - self.probes_before),
            body_bytes=sum(r["body_bytes"] for r in mine),
        )

    def api_requests(self) -> int:
        """Requests to the emulated APIs since the stats were reset (the control endpoints left out)."""
        self.settle()
        routes = self.control.stats()["routes"]
        return sum(r["requests"] for key, r in routes.items() if not key.split(" ", 1)[-1].startswith("/_emulator"))

    def remote_uploads(self) -> set[str]:
        return self.profile.remote_uploads(self.control)

    def stored(self, media_id: str) -> Stored:
        return self.profile.stored(self.control, media_id)

    def assert_byte_exact(self, result: UploadResult, path: Path) -> None:
        """The result and the emulator both hold exactly the file's bytes (the md5 too, where the API needs it)."""
        data = path.read_bytes()
        assert result.api == self.profile.hook.api
        assert result.size == len(data) and result.sha256 == sha256(data)
        assert result.md5 == (hashlib.md5(data).hexdigest() if "md5" in self.protocol().digests else None)
        assert self.stored(result.media_id) == Stored(len(data), sha256(data))
        json.dumps(result.to_dict())  # the XCom: JSON-safe
